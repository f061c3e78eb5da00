"""A2C: ``A2C`` and ``A2C_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.a2c.a2c import A2C, A2C_DEFAULT_CONFIG, A2C_RNN
from skrl_jax.agents.a2c.losses import a2c_loss

__all__ = ["A2C", "A2C_DEFAULT_CONFIG", "A2C_RNN", "a2c_loss"]
