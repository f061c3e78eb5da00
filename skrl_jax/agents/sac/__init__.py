"""SAC: ``SAC``, skrl 1.4's ``SAC_DEFAULT_CONFIG`` and skrl 2.x's ``SAC_CFG``."""

from skrl_jax.agents.configs import SAC_CFG
from skrl_jax.agents.sac.losses import critic_loss, entropy_loss, policy_loss, soft_target
from skrl_jax.agents.sac.sac import SAC, SAC_DEFAULT_CONFIG

__all__ = ["SAC", "SAC_CFG", "SAC_DEFAULT_CONFIG", "critic_loss", "entropy_loss", "policy_loss", "soft_target"]
