"""DQN and DDQN: ``DQN``, ``DDQN``, skrl 1.4's ``DQN_DEFAULT_CONFIG``, ``DDQN_DEFAULT_CONFIG``, skrl 2.x's
``DQN_CFG``, ``DDQN_CFG`` (skrl 2.x also imports DDQN from ``skrl_jax.agents.ddqn``) and the pure
``make_dqn(models, DQNConfig) -> AgentFunctions`` they are built on."""

from skrl_jax.agents.configs import DDQN_CFG, DQN_CFG
from skrl_jax.agents.dqn.dqn import DDQN, DDQN_DEFAULT_CONFIG, DQN, DQN_DEFAULT_CONFIG
from skrl_jax.agents.dqn.functions import DQNConfig, epsilon, make_dqn
from skrl_jax.agents.dqn.losses import double_q_target, q_loss, q_target

__all__ = [
    "DDQN",
    "DDQN_CFG",
    "DDQN_DEFAULT_CONFIG",
    "DQN",
    "DQNConfig",
    "DQN_CFG",
    "DQN_DEFAULT_CONFIG",
    "double_q_target",
    "epsilon",
    "make_dqn",
    "q_loss",
    "q_target",
]
