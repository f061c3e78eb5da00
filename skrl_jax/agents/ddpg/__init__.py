"""DDPG: ``DDPG``, skrl 1.4's ``DDPG_DEFAULT_CONFIG``, skrl 2.x's ``DDPG_CFG``, and its pure
``make_ddpg(models, DDPGConfig) -> AgentFunctions``."""

from skrl_jax.agents.configs import DDPG_CFG
from skrl_jax.agents.ddpg.ddpg import DDPG, DDPG_DEFAULT_CONFIG
from skrl_jax.agents.ddpg.functions import DDPGConfig, exploration_scale, make_ddpg
from skrl_jax.agents.ddpg.losses import critic_loss, policy_loss, q_target

__all__ = [
    "DDPG",
    "DDPG_CFG",
    "DDPG_DEFAULT_CONFIG",
    "DDPGConfig",
    "critic_loss",
    "exploration_scale",
    "make_ddpg",
    "policy_loss",
    "q_target",
]
