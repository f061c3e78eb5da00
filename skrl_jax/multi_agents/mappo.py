"""MAPPO: PPO per agent with a centralised value (skrl's ``MAPPO``, ``MAPPO_DEFAULT_CONFIG`` and ``MAPPO_CFG``).

As in skrl 2.x, MAPPO is IPPO whose value model reads the environment's global state: the agent
is built with ``state_spaces`` and every model gets ``inputs["states"]`` (``env.state()``, per
agent) beside ``inputs["observations"]``; the value model reads the states, the policy the
observations. ``cfg.state_preprocessor`` standardises the states.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from skrl_jax.agents.configs import PPO_CFG
from skrl_jax.agents.ppo import PPO_DEFAULT_CONFIG
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.multi_agents.base import MultiAgent

__all__ = ["MAPPO", "MAPPO_CFG", "MAPPO_DEFAULT_CONFIG"]

# skrl 1.4's MAPPO keys: PPO's, and the shared state's preprocessor
MAPPO_DEFAULT_CONFIG = {
    **copy.deepcopy(PPO_DEFAULT_CONFIG),
    "shared_state_preprocessor": None,
    "shared_state_preprocessor_kwargs": {},
}


@dataclasses.dataclass(kw_only=True)
class MAPPO_CFG(PPO_CFG):  # noqa: N801 (skrl's name)
    """skrl 2.x's MAPPO configuration: PPO_CFG's fields and defaults (skrl 2.x's are the same);
    ``state_preprocessor`` is the global state's preprocessor."""


class MAPPO(MultiAgent):
    """Multi-agent PPO with a centralised value, built the skrl 2.x way (``state_spaces=``)."""

    default_config = MAPPO_DEFAULT_CONFIG
    config_class = MAPPO_CFG

    def __init__(self, *args: Any, state_spaces: Any = NOT_GIVEN, **kwargs: Any) -> None:
        if state_spaces is NOT_GIVEN or state_spaces is None:
            raise ValueError(
                "MAPPO needs state_spaces={agent: space} (the global state its value reads, e.g. env.state_spaces), "
                "built the skrl 2.x way: MAPPO(possible_agents=..., models=..., memories=..., observation_spaces=..., "
                "state_spaces=..., action_spaces=..., cfg=MAPPO_CFG(...)); skrl 1.4's shared_observation_spaces form "
                "is not supported in this version"
            )
        super().__init__(*args, state_spaces=state_spaces, **kwargs)
        for group in self.groups:
            value = group.models.get("value")
            if self.state_spaces[group.agents[0]] is not None and getattr(value, "state_space", None) is None:
                raise ValueError(
                    f"MAPPO: agent(s) {list(group.agents)} have a state space but their value model was built without "
                    "one, so it cannot read the global state: build it with state_space=env.state_spaces[agent] (skrl "
                    "2.x's Model.__init__) and read inputs['states'] in its compute"
                )
