"""``ModelSet``: an agent's models by cfg key, with every shared instance's parameters stored once.

Off-policy agents pass one model under several keys: a twin-critic model under ``critic_1`` and
``critic_2`` (roles ``critic_1`` / ``critic_2``), a second instance of it under both target keys.
``ModelSet.act`` groups the keys asked for by model instance and runs one joint pass per
instance, so a trunk the roles share is computed once, forward and backward.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import jax

from skrl_jax.models import Model
from skrl_jax.models.base import act_triple


def role_of(name: str) -> str:
    """The role a key is called with: a target model is a copy of its online model's class, so
    ``target_critic_1`` calls role ``critic_1``."""
    return name.removeprefix("target_")


@dataclasses.dataclass(frozen=True, eq=False)
class ModelSet:
    """The models of an agent by cfg key (``None`` entries are left out)."""

    models: Mapping[str, Model]

    @property
    def param_keys(self) -> dict[str, str]:
        """cfg key -> the key its parameters are stored under (the first key of the same instance)."""
        first: dict[int, str] = {}
        return {name: first.setdefault(id(model), name) for name, model in self.models.items()}

    @property
    def stored(self) -> dict[str, Model]:
        """Each distinct model under its parameter key."""
        return {name: self.models[name] for name in dict.fromkeys(self.param_keys.values())}

    @property
    def target_pairs(self) -> dict[str, str]:
        """Target key -> online key, for the targets given (``target_critic_1`` -> ``critic_1``)."""
        return {key: role_of(key) for key in self.models if key.startswith("target_")}

    def init(self, key: jax.Array, names: Sequence[str] | None = None) -> dict[str, Any]:
        """Fresh parameters of the distinct models among ``names`` (all by default), pure."""
        stored = self.stored if names is None else {self.param_keys[n]: self.models[n] for n in names}
        keys = jax.random.split(key, len(stored))
        return {name: model.init(sub) for (name, model), sub in zip(stored.items(), keys)}

    def act(
        self,
        params: Mapping[str, Any],
        inputs: Mapping[str, Any],
        names: Sequence[str],
        key: jax.Array | None = None,
        compute_dtype: Any = None,
    ) -> dict[str, tuple]:
        """``{name: (actions, log_prob, outputs)}`` for the keys ``names``, one joint pass per instance."""
        groups: dict[str, list[str]] = {}
        for name in names:
            groups.setdefault(self.param_keys[name], []).append(name)
        results: dict[str, tuple] = {}
        for index, (stored_key, members) in enumerate(groups.items()):
            model = self.models[stored_key]
            group_key = None if key is None else jax.random.fold_in(key, index)
            roles = tuple(role_of(name) for name in members)
            outputs = model.joint_act(
                inputs, roles, params=params[stored_key], key=group_key, compute_dtype=compute_dtype
            )
            results.update({name: act_triple(outputs[role]) for name, role in zip(members, roles)})
        return results


def polyak_update(target: Any, online: Any, polyak: float) -> Any:
    """``polyak * online + (1 - polyak) * target`` on every leaf (skrl's soft update; 1 copies)."""
    if polyak == 1.0:
        return jax.tree.map(lambda online_leaf: online_leaf, online)
    return jax.tree.map(lambda t, o: polyak * o + (1.0 - polyak) * t, target, online)
