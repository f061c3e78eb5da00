"""RPO: ``RPO``, ``RPO_RNN``, skrl 1.4's ``RPO_DEFAULT_CONFIG`` and skrl 2.x's ``RPO_CFG``."""

from skrl_jax.agents.configs import RPO_CFG
from skrl_jax.agents.rpo.rpo import RPO, RPO_DEFAULT_CONFIG, RPO_RNN

__all__ = ["RPO", "RPO_CFG", "RPO_DEFAULT_CONFIG", "RPO_RNN"]
