"""Environment wrappers: gymnasium (host, numpy <-> jax), PettingZoo (host, numpy, multi-agent) and pure-JAX
environments (gymnax, brax, MuJoCo Playground; JaxMARL, multi-agent)."""

from skrl_jax.envs.gymnasium import GymnasiumWrapper, wrap_env
from skrl_jax.envs.jax_env import EpisodeState, GymnaxWrapper, JaxEnv
from skrl_jax.envs.multi_agent import AgentIDs, JaxMARLWrapper, MultiAgentJaxEnv, WorldState
from skrl_jax.envs.observation import (
    PrivilegedStateEnv,
    SelectGymnasiumObservation,
    SelectGymnaxObservation,
    hidden_velocity_cartpole,
    privileged_state,
    select_observation,
)
from skrl_jax.envs.pettingzoo import PettingZooWrapper
from skrl_jax.envs.physics import BraxWrapper, PlaygroundWrapper, load_playground_env

__all__ = [
    "AgentIDs",
    "BraxWrapper",
    "EpisodeState",
    "GymnasiumWrapper",
    "GymnaxWrapper",
    "JaxEnv",
    "JaxMARLWrapper",
    "MultiAgentJaxEnv",
    "PettingZooWrapper",
    "PrivilegedStateEnv",
    "SelectGymnasiumObservation",
    "SelectGymnaxObservation",
    "PlaygroundWrapper",
    "hidden_velocity_cartpole",
    "load_playground_env",
    "privileged_state",
    "select_observation",
    "WorldState",
    "wrap_env",
]
