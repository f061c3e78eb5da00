"""Environment wrappers: gymnasium (host, numpy <-> jax) and pure-JAX environments (gymnax)."""

from skrl_jax.envs.gymnasium import GymnasiumWrapper, wrap_env
from skrl_jax.envs.jax_env import EpisodeState, GymnaxWrapper, JaxEnv

__all__ = ["EpisodeState", "GymnasiumWrapper", "GymnaxWrapper", "JaxEnv", "wrap_env"]
