"""PPO: ``PPO``, ``PPO_RNN``, skrl 1.4's ``PPO_DEFAULT_CONFIG`` and skrl 2.x's ``PPO_CFG``."""

from skrl_jax.agents.configs import PPO_CFG
from skrl_jax.agents.ppo.losses import ppo_loss
from skrl_jax.agents.ppo.ppo import PPO, PPO_DEFAULT_CONFIG, PPO_RNN

__all__ = ["PPO", "PPO_CFG", "PPO_DEFAULT_CONFIG", "PPO_RNN", "ppo_loss"]
