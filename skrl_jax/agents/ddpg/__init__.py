"""DDPG: ``DDPG`` and ``DDPG_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.ddpg.ddpg import DDPG, DDPG_DEFAULT_CONFIG, exploration_scale
from skrl_jax.agents.ddpg.losses import critic_loss, policy_loss, q_target

__all__ = ["DDPG", "DDPG_DEFAULT_CONFIG", "critic_loss", "exploration_scale", "policy_loss", "q_target"]
