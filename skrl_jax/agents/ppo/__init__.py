"""PPO: ``PPO`` and ``PPO_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.ppo.losses import ppo_loss
from skrl_jax.agents.ppo.ppo import PPO, PPO_DEFAULT_CONFIG

__all__ = ["PPO", "PPO_DEFAULT_CONFIG", "ppo_loss"]
