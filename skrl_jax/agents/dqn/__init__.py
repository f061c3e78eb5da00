"""DQN and DDQN: ``DQN``, ``DDQN``, ``DQN_DEFAULT_CONFIG``, ``DDQN_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.dqn.dqn import DDQN, DDQN_DEFAULT_CONFIG, DQN, DQN_DEFAULT_CONFIG, epsilon
from skrl_jax.agents.dqn.losses import double_q_target, q_loss, q_target

__all__ = [
    "DDQN",
    "DDQN_DEFAULT_CONFIG",
    "DQN",
    "DQN_DEFAULT_CONFIG",
    "double_q_target",
    "epsilon",
    "q_loss",
    "q_target",
]
