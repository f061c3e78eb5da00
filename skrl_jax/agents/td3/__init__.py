"""TD3: ``TD3`` and ``TD3_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.td3.losses import critic_loss, policy_loss, smoothed_target_actions, twin_target
from skrl_jax.agents.td3.td3 import TD3, TD3_DEFAULT_CONFIG

__all__ = ["TD3", "TD3_DEFAULT_CONFIG", "critic_loss", "policy_loss", "smoothed_target_actions", "twin_target"]
