"""CategoricalMixin and MultiCategoricalMixin: discrete policies, as skrl's."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from skrl_jax.models.distributions import (
    categorical_entropy,
    categorical_log_prob,
    categorical_log_probs,
    categorical_sample,
    check_reduction,
    reduce_last,
    split_branches,
)
from skrl_jax.models.mixin import Mixin, check_output_shape, require_action_space, unpack_output


class CategoricalConfig(NamedTuple):
    unnormalized_log_prob: bool
    nvec: tuple[int, ...]
    reduction: str


def _net_output(outputs: Any) -> jax.Array:
    return outputs["net_output"] if isinstance(outputs, Mapping) else jnp.asarray(outputs)


def check_action_indices(model: Any, taken_actions: Any, nvec: tuple[int, ...], mixin: str, role: str) -> None:
    """Concrete ``taken_actions`` (``(..., branches)``) must be whole numbers in each branch's
    ``[0, n)``: skrl truncates floats and a gather would wrap around. Inside ``jit`` the values are
    not known; the log-probability of such an action is NaN there (see ``categorical_log_prob``)."""
    values = np.asarray(taken_actions)
    valid = (values >= 0) & (values < np.asarray(nvec)) & (values == np.floor(values))
    if valid.all():
        return
    index = tuple(int(i) for i in np.argwhere(~valid)[0])
    branch = f" for branch {index[-1]}" if len(nvec) > 1 else ""
    raise ValueError(
        f"{mixin}: taken_actions for role {role!r} of {type(model).__name__} must be whole action indices in "
        f"[0, {nvec[index[-1]]}){branch} ({model.action_space}), got {values[index].item()!r} at index {index}"
    )


def _check_taken_actions(
    model: Any, taken_actions: Any, batch_shape: tuple[int, ...], nvec: tuple[int, ...], mixin: str, role: str
) -> jax.Array:
    taken_actions = jnp.asarray(taken_actions)
    branches = len(nvec)
    expected = math.prod(batch_shape) * branches
    if taken_actions.size != expected:
        raise ValueError(
            f"{mixin}: taken_actions for role {role!r} of {type(model).__name__} must have shape "
            f"{(*batch_shape, branches)}, got {taken_actions.shape}"
        )
    if not (jnp.issubdtype(taken_actions.dtype, jnp.integer) or jnp.issubdtype(taken_actions.dtype, jnp.floating)):
        raise TypeError(
            f"{mixin}: taken_actions for role {role!r} of {type(model).__name__} must be action indices (integers), "
            f"got dtype {taken_actions.dtype}"
        )
    taken_actions = taken_actions.reshape(*batch_shape, branches)
    if not isinstance(taken_actions, jax.core.Tracer):
        check_action_indices(model, taken_actions, nvec, mixin, role)
    return taken_actions


def _check_concrete_taken_actions(model: Any, spec: Any, inputs: dict, role: str) -> None:
    """The value check of ``taken_actions`` before an eager call is compiled (inside, they are traced)."""
    taken_actions = inputs.get("taken_actions")
    nvec = spec.config.nvec
    if taken_actions is None or np.size(taken_actions) % len(nvec):
        return  # none, or a wrong shape that the traced call reports
    values = np.asarray(taken_actions)
    if np.issubdtype(values.dtype, np.number):
        check_action_indices(model, values.reshape(-1, len(nvec)), nvec, spec.mixin.__name__, role)


class CategoricalMixin(Mixin):
    """Categorical policy over a Discrete action space (skrl's ``CategoricalMixin``).

    ``compute(inputs, role)`` returns ``(net_output, outputs)`` with ``net_output`` of shape
    ``(..., n)``: logits when ``unnormalized_log_prob`` is True, else probabilities.
    """

    def __init__(self, unnormalized_log_prob: bool = True, role: str = "") -> None:
        require_action_space(self, (spaces.Discrete,), "CategoricalMixin")
        config = CategoricalConfig(bool(unnormalized_log_prob), (int(self.action_space.n),), "sum")
        self._register_role(CategoricalMixin, role, config)

    def act(self, inputs: Any, role: str = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """``(actions (..., 1) int32, log_prob (..., 1), outputs)``; ``outputs`` adds ``net_output``."""
        return self._act_as(CategoricalMixin, inputs, role, params, key)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """Entropy ``(...)``, from ``act``'s outputs or a ``net_output`` array."""
        return self._entropy_as(CategoricalMixin, outputs, role)

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        net_output, outputs = unpack_output(output, 2, "CategoricalMixin", "(net_output, outputs)", role)
        nvec = spec.config.nvec
        check_output_shape(
            model, net_output, nvec[0], "net_output", "CategoricalMixin", role, inputs, model.action_space
        )
        log_probs = categorical_log_probs(net_output, spec.config.unnormalized_log_prob)
        actions = categorical_sample(key, log_probs)
        taken_actions = inputs.get("taken_actions")
        if taken_actions is None:
            taken_actions = actions
        else:
            taken_actions = _check_taken_actions(
                model, taken_actions, log_probs.shape[:-1], nvec, "CategoricalMixin", role
            )
        log_prob = categorical_log_prob(log_probs, taken_actions)
        return actions, log_prob, dict(outputs, net_output=net_output)

    @staticmethod
    def _entropy(model: Any, spec: Any, outputs: Any, role: str) -> jax.Array:
        return categorical_entropy(categorical_log_probs(_net_output(outputs), spec.config.unnormalized_log_prob))

    _check_concrete_inputs = staticmethod(_check_concrete_taken_actions)


class MultiCategoricalMixin(Mixin):
    """One categorical per branch of a MultiDiscrete action space (skrl's ``MultiCategoricalMixin``).

    ``compute`` returns ``(net_output, outputs)`` with ``net_output`` of shape
    ``(..., sum(nvec))``, the branches' logits (or probabilities) side by side. Unlike skrl's
    JAX backend, which samples every branch with the same key, each branch gets its own key.
    """

    def __init__(self, unnormalized_log_prob: bool = True, reduction: str = "sum", role: str = "") -> None:
        require_action_space(self, (spaces.MultiDiscrete,), "MultiCategoricalMixin")
        check_reduction(reduction, "MultiCategoricalMixin")
        nvec = tuple(int(n) for n in self.action_space.nvec.reshape(-1))
        self._register_role(
            MultiCategoricalMixin, role, CategoricalConfig(bool(unnormalized_log_prob), nvec, reduction)
        )

    def act(self, inputs: Any, role: str = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """``(actions (..., branches) int32, log_prob (..., 1) or (..., branches) with "none", outputs)``."""
        return self._act_as(MultiCategoricalMixin, inputs, role, params, key)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """Branch entropies reduced as the log-probabilities: ``(..., 1)``, or ``(..., branches)`` with "none"."""
        return self._entropy_as(MultiCategoricalMixin, outputs, role)

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        net_output, outputs = unpack_output(output, 2, "MultiCategoricalMixin", "(net_output, outputs)", role)
        config: CategoricalConfig = spec.config
        check_output_shape(
            model, net_output, sum(config.nvec), "net_output", "MultiCategoricalMixin", role, inputs, model.action_space
        )
        log_probs = [
            categorical_log_probs(x, config.unnormalized_log_prob) for x in split_branches(net_output, config.nvec)
        ]
        keys = [None] * len(config.nvec) if key is None else jax.random.split(key, len(config.nvec))
        actions = jnp.concatenate([categorical_sample(k, lp) for k, lp in zip(keys, log_probs)], axis=-1)
        taken_actions = inputs.get("taken_actions")
        if taken_actions is None:
            taken_actions = actions
        else:
            taken_actions = _check_taken_actions(
                model, taken_actions, net_output.shape[:-1], config.nvec, "MultiCategoricalMixin", role
            )
        log_prob = jnp.concatenate(
            [categorical_log_prob(lp, taken_actions[..., i]) for i, lp in enumerate(log_probs)], axis=-1
        )
        return actions, reduce_last(log_prob, config.reduction), dict(outputs, net_output=net_output)

    _check_concrete_inputs = staticmethod(_check_concrete_taken_actions)

    @staticmethod
    def _entropy(model: Any, spec: Any, outputs: Any, role: str) -> jax.Array:
        config: CategoricalConfig = spec.config
        branches = split_branches(_net_output(outputs), config.nvec)
        entropies = jnp.stack(
            [categorical_entropy(categorical_log_probs(x, config.unnormalized_log_prob)) for x in branches], axis=-1
        )
        return reduce_last(entropies, config.reduction)
