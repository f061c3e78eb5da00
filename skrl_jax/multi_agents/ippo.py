"""IPPO: independent PPO per agent (skrl's ``IPPO``, ``IPPO_DEFAULT_CONFIG`` and ``IPPO_CFG``), with
agents that share model instances trained as one (``multi_agents/base.py``)."""

from __future__ import annotations

import copy
import dataclasses

from skrl_jax.agents.configs import PPO_CFG
from skrl_jax.agents.ppo import PPO_DEFAULT_CONFIG
from skrl_jax.multi_agents.base import MultiAgent

__all__ = ["IPPO", "IPPO_CFG", "IPPO_DEFAULT_CONFIG"]

# skrl 1.4's IPPO keys are PPO's (and so are this library's own PPO keys)
IPPO_DEFAULT_CONFIG = copy.deepcopy(PPO_DEFAULT_CONFIG)


@dataclasses.dataclass(kw_only=True)
class IPPO_CFG(PPO_CFG):  # noqa: N801 (skrl's name)
    """skrl 2.x's IPPO configuration: PPO_CFG's fields and defaults (skrl 2.x's are the same)."""


class IPPO(MultiAgent):
    """Independent PPO: each agent's (or group of sharing agents') policy and value learn from its own
    observations and rewards. skrl 1.4's positional constructor or 2.x's keywords (see ``MultiAgent``)."""

    default_config = IPPO_DEFAULT_CONFIG
    config_class = IPPO_CFG
