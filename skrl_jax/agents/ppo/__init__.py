"""PPO: ``PPO``, ``PPO_RNN`` and ``PPO_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.ppo.losses import ppo_loss
from skrl_jax.agents.ppo.ppo import PPO, PPO_DEFAULT_CONFIG, PPO_RNN

__all__ = ["PPO", "PPO_DEFAULT_CONFIG", "PPO_RNN", "ppo_loss"]
