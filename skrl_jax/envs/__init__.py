"""Environment wrappers: gymnasium (host, numpy <-> jax) and pure-JAX environments (gymnax, brax, MuJoCo Playground)."""

from skrl_jax.envs.gymnasium import GymnasiumWrapper, wrap_env
from skrl_jax.envs.jax_env import EpisodeState, GymnaxWrapper, JaxEnv
from skrl_jax.envs.observation import (
    PrivilegedStateEnv,
    SelectGymnasiumObservation,
    SelectGymnaxObservation,
    hidden_velocity_cartpole,
    privileged_state,
    select_observation,
)
from skrl_jax.envs.physics import BraxWrapper, PlaygroundWrapper, load_playground_env

__all__ = [
    "BraxWrapper",
    "EpisodeState",
    "GymnasiumWrapper",
    "GymnaxWrapper",
    "JaxEnv",
    "PrivilegedStateEnv",
    "SelectGymnasiumObservation",
    "SelectGymnaxObservation",
    "PlaygroundWrapper",
    "hidden_velocity_cartpole",
    "load_playground_env",
    "privileged_state",
    "select_observation",
    "wrap_env",
]
