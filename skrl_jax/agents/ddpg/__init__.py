"""DDPG: ``DDPG``, skrl 1.4's ``DDPG_DEFAULT_CONFIG`` and skrl 2.x's ``DDPG_CFG``."""

from skrl_jax.agents.configs import DDPG_CFG
from skrl_jax.agents.ddpg.ddpg import DDPG, DDPG_DEFAULT_CONFIG, exploration_scale
from skrl_jax.agents.ddpg.losses import critic_loss, policy_loss, q_target

__all__ = ["DDPG", "DDPG_CFG", "DDPG_DEFAULT_CONFIG", "critic_loss", "exploration_scale", "policy_loss", "q_target"]
