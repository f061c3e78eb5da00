"""A2C: ``A2C``, ``A2C_RNN``, skrl 1.4's ``A2C_DEFAULT_CONFIG`` and skrl 2.x's ``A2C_CFG``."""

from skrl_jax.agents.a2c.a2c import A2C, A2C_DEFAULT_CONFIG, A2C_RNN
from skrl_jax.agents.a2c.losses import a2c_loss
from skrl_jax.agents.configs import A2C_CFG

__all__ = ["A2C", "A2C_CFG", "A2C_DEFAULT_CONFIG", "A2C_RNN", "a2c_loss"]
