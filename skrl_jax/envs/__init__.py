"""Environment wrappers: gymnasium (host, numpy <-> jax) and pure-JAX environments (gymnax, brax)."""

from skrl_jax.envs.gymnasium import GymnasiumWrapper, wrap_env
from skrl_jax.envs.jax_env import BraxWrapper, EpisodeState, GymnaxWrapper, JaxEnv
from skrl_jax.envs.observation import (
    SelectGymnasiumObservation,
    SelectGymnaxObservation,
    hidden_velocity_cartpole,
    select_observation,
)

__all__ = [
    "BraxWrapper",
    "EpisodeState",
    "GymnasiumWrapper",
    "GymnaxWrapper",
    "JaxEnv",
    "SelectGymnasiumObservation",
    "SelectGymnaxObservation",
    "hidden_velocity_cartpole",
    "select_observation",
    "wrap_env",
]
