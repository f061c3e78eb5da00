"""DDQN where skrl 2.x imports it (``skrl.agents.jax.ddqn``); skrl 1.4 imports it from ``dqn``."""

from skrl_jax.agents.configs import DDQN_CFG
from skrl_jax.agents.dqn.dqn import DDQN, DDQN_DEFAULT_CONFIG

__all__ = ["DDQN", "DDQN_CFG", "DDQN_DEFAULT_CONFIG"]
