"""SAC: ``SAC`` and ``SAC_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.sac.losses import critic_loss, entropy_loss, policy_loss, soft_target
from skrl_jax.agents.sac.sac import SAC, SAC_DEFAULT_CONFIG

__all__ = ["SAC", "SAC_DEFAULT_CONFIG", "critic_loss", "entropy_loss", "policy_loss", "soft_target"]
