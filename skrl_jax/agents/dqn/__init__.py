"""DQN and DDQN: ``DQN``, ``DDQN``, skrl 1.4's ``DQN_DEFAULT_CONFIG``, ``DDQN_DEFAULT_CONFIG`` and skrl 2.x's
``DQN_CFG``, ``DDQN_CFG`` (skrl 2.x also imports DDQN from ``skrl_jax.agents.ddqn``)."""

from skrl_jax.agents.configs import DDQN_CFG, DQN_CFG
from skrl_jax.agents.dqn.dqn import DDQN, DDQN_DEFAULT_CONFIG, DQN, DQN_DEFAULT_CONFIG, epsilon
from skrl_jax.agents.dqn.losses import double_q_target, q_loss, q_target

__all__ = [
    "DDQN",
    "DDQN_CFG",
    "DDQN_DEFAULT_CONFIG",
    "DQN",
    "DQN_CFG",
    "DQN_DEFAULT_CONFIG",
    "double_q_target",
    "epsilon",
    "q_loss",
    "q_target",
]
