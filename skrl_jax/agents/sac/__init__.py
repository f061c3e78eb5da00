"""SAC: ``SAC``, skrl 1.4's ``SAC_DEFAULT_CONFIG``, skrl 2.x's ``SAC_CFG`` and the pure ``make_sac``
over a ``SACConfig``."""

from skrl_jax.agents.configs import SAC_CFG
from skrl_jax.agents.sac.functions import SACConfig, make_sac
from skrl_jax.agents.sac.losses import critic_loss, entropy_loss, policy_loss, soft_target
from skrl_jax.agents.sac.sac import SAC, SAC_DEFAULT_CONFIG

__all__ = [
    "SAC",
    "SAC_CFG",
    "SAC_DEFAULT_CONFIG",
    "SACConfig",
    "critic_loss",
    "entropy_loss",
    "make_sac",
    "policy_loss",
    "soft_target",
]
