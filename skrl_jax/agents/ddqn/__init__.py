"""DDQN where skrl 2.x imports it (``skrl.agents.jax.ddqn``); skrl 1.4 imports it from ``dqn``. Its pure
functions are DQN's: ``make_dqn`` over a ``DQNConfig`` with ``double=True``."""

from skrl_jax.agents.configs import DDQN_CFG
from skrl_jax.agents.dqn.dqn import DDQN, DDQN_DEFAULT_CONFIG
from skrl_jax.agents.dqn.functions import DQNConfig, make_dqn

__all__ = ["DDQN", "DDQN_CFG", "DDQN_DEFAULT_CONFIG", "DQNConfig", "make_dqn"]
