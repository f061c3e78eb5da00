"""Environment wrappers: gymnasium (host, numpy <-> jax) and pure-JAX environments (gymnax, brax)."""

from skrl_jax.envs.gymnasium import GymnasiumWrapper, wrap_env
from skrl_jax.envs.jax_env import BraxWrapper, EpisodeState, GymnaxWrapper, JaxEnv
from skrl_jax.envs.observation import (
    PrivilegedStateEnv,
    SelectGymnasiumObservation,
    SelectGymnaxObservation,
    hidden_velocity_cartpole,
    privileged_state,
    select_observation,
)

__all__ = [
    "BraxWrapper",
    "EpisodeState",
    "GymnasiumWrapper",
    "GymnaxWrapper",
    "JaxEnv",
    "PrivilegedStateEnv",
    "SelectGymnasiumObservation",
    "SelectGymnaxObservation",
    "hidden_velocity_cartpole",
    "privileged_state",
    "select_observation",
    "wrap_env",
]
