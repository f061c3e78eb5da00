"""skrl's multi-agent API at the edge: 1.4's and 2.x's constructors and configurations.

``SkrlMultiAgentAPI`` is what ``MultiAgent`` adds on top of its host driver: it picks the API the
agent is built with, turns the cfg (1.4's dict, or 2.x's ``IPPO_CFG`` / ``MAPPO_CFG``) into one dict,
takes each group's values out of skrl's per-agent ``{agent: value}`` form, and builds each group's
single-agent agent the same API's way. Nothing below it asks which API was used.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from skrl_jax.agents.adapters import merge_config
from skrl_jax.agents.configs import AgentCfg, make_cfg
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.multi_agents.groups import AgentGroup


def value_for_group(key: str, value: Any, group: AgentGroup, possible_agents: Sequence[str], owner: str) -> Any:
    """A configuration value for a group: ``value``, or, when it is a ``{agent: value}`` dict (skrl's
    per-agent form), the group's agents' one value (equal across them: they share one optimizer)."""
    if not (isinstance(value, Mapping) and value and set(value) <= set(possible_agents)) or key == "experiment":
        return value
    missing = [uid for uid in group.agents if uid not in value]
    if missing:
        raise KeyError(f"{owner}: cfg[{key!r}] is given per agent ({sorted(value)}) but not for {missing}")
    values = [value[uid] for uid in group.agents]
    if any(entry != values[0] for entry in values[1:]):
        raise ValueError(
            f"{owner}: agents {list(group.agents)} share their models, so they are trained by one optimizer with one "
            f"cfg[{key!r}], got {dict(zip(group.agents, values))}"
        )
    return values[0]


class SkrlMultiAgentAPI:
    """skrl 1.4's and 2.x's multi-agent constructor and configuration, for ``MultiAgent``."""

    default_config: Mapping[str, Any] = {}  # skrl 1.4's dict
    config_class: type | None = None  # skrl 2.x's dataclass
    single_agent: type  # the single-agent class each group runs
    single_agent_config: type  # its 2.x configuration class
    possible_agents: tuple[str, ...]
    models: dict[str, dict[str, Any]]

    def _choose_api(self, cfg: Any, state_spaces_given: bool) -> str:
        """skrl 2.x's API for a ``*_CFG``, ``state_spaces=`` or models built the 2.x way; 1.4's otherwise."""
        name = type(self).__name__
        models = [model for roles in self.models.values() for model in roles.values() if model is not None]
        two = any(getattr(model, "skrl_api", "1.4") == "2.x" for model in models)
        if isinstance(cfg, AgentCfg) or state_spaces_given or two:
            if cfg is not None and not isinstance(cfg, (Mapping, self.config_class)):
                raise TypeError(
                    f"{name}: cfg must be a {self.config_class.__name__} or a dict of its keys, got {type(cfg).__name__}"
                )
            return "2.x"
        if cfg is not None and not isinstance(cfg, Mapping):
            raise TypeError(f"{name}: cfg must be a dict of skrl 1.4's keys, got {type(cfg).__name__}")
        return "1.4"

    def _resolve_state_spaces(self, state_spaces: Any) -> dict[str, Any]:
        """``{agent: state space or None}`` (skrl 1.4's agents take none)."""
        if self.skrl_api == "1.4" or state_spaces in (None, NOT_GIVEN):
            return dict.fromkeys(self.possible_agents)
        return {uid: state_spaces.get(uid) for uid in self.possible_agents}

    def _resolve_multi_agent_config(self, cfg: Any) -> dict[str, Any]:
        """skrl's configuration as one dict of 1.4's keys (1.4) or of the ``*_CFG``'s fields (2.x)."""
        name = type(self).__name__
        if self.skrl_api == "1.4":
            return merge_config(self.default_config, cfg, name)
        if not isinstance(cfg, AgentCfg):
            cfg = make_cfg(self.config_class, cfg or {}, name)
        values = {field.name: getattr(cfg, field.name) for field in dataclasses.fields(cfg)}
        experiment = values["experiment"]
        values["experiment"] = (
            dataclasses.asdict(experiment) if dataclasses.is_dataclass(experiment) else dict(experiment)
        )
        return values

    def _group_agent(
        self, group: AgentGroup, config: Mapping[str, Any], spaces: Mapping[str, Any], state_space: Any
    ) -> Any:
        """The single-agent agent that trains ``group``, built the same API's way with the group's values."""
        name = type(self).__name__
        values = {
            key: value_for_group(key, value, group, self.possible_agents, name)
            for key, value in config.items()
            if key != "experiment"
        }
        if self.skrl_api == "2.x":
            cfg = self.single_agent_config(**values)
            return self.single_agent(models=dict(group.models), **spaces, state_space=state_space, cfg=cfg)
        return self.single_agent(models=dict(group.models), **spaces, cfg=values)
