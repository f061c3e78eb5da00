"""skrl_jax: skrl's models, agents and trainers in JAX/Flax, with explicit parameter sharing."""

__version__ = "0.1.0"

import logging

from skrl_jax import config

logger = logging.getLogger("skrl_jax")  # skrl's `from skrl import logger`

__all__ = ["config", "logger"]
