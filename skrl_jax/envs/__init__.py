"""Environment wrappers: gymnasium (host, numpy <-> jax)."""

from skrl_jax.envs.gymnasium import GymnasiumWrapper, wrap_env

__all__ = ["GymnasiumWrapper", "wrap_env"]
