"""TD3: ``TD3``, skrl 1.4's ``TD3_DEFAULT_CONFIG``, skrl 2.x's ``TD3_CFG``, and its pure
``make_td3(models, TD3Config) -> AgentFunctions``."""

from skrl_jax.agents.configs import TD3_CFG
from skrl_jax.agents.td3.functions import TD3Config, make_td3
from skrl_jax.agents.td3.losses import critic_loss, policy_loss, smoothed_target_actions, twin_target
from skrl_jax.agents.td3.td3 import TD3, TD3_DEFAULT_CONFIG

__all__ = [
    "TD3",
    "TD3_CFG",
    "TD3_DEFAULT_CONFIG",
    "TD3Config",
    "critic_loss",
    "make_td3",
    "policy_loss",
    "smoothed_target_actions",
    "twin_target",
]
