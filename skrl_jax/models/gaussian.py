"""GaussianMixin: a diagonal Gaussian policy, as skrl's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from skrl_jax.models.distributions import check_reduction, normal_entropy, normal_log_prob, normal_sample, reduce_last
from skrl_jax.models.mixin import Mixin, action_bounds, check_output_shape, require_action_space, unpack_output


class GaussianConfig(NamedTuple):
    clip_actions: bool
    actions_low: np.ndarray | None
    actions_high: np.ndarray | None
    clip_log_std: bool
    min_log_std: float
    max_log_std: float
    reduction: str


def clip_log_std(config: Any, log_std: jax.Array) -> jax.Array:
    return jnp.clip(log_std, config.min_log_std, config.max_log_std) if config.clip_log_std else log_std


def _broadcasts_into(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts against ``target`` without changing ``target``."""
    try:
        return jnp.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def check_log_std(model: Any, mean: jax.Array, log_std: Any, mixin: str, role: str) -> jax.Array:
    """``log_std`` of shape ``(num_actions,)``, ``(batch, num_actions)`` or anything else that broadcasts
    to ``mean_actions`` without changing its shape (else the actions would take the broadcast shape)."""
    log_std = jnp.asarray(log_std)
    if not _broadcasts_into(log_std.shape, mean.shape):
        raise ValueError(
            f"{type(model).__name__}.compute(inputs, role={role!r}) returned log_std of shape {log_std.shape} for "
            f"{mixin}, which does not fit mean_actions of shape {mean.shape}: expected ({mean.shape[-1]},) or "
            f"{mean.shape} (or a shape that broadcasts to it)"
        )
    return log_std


def check_continuous_taken_actions(
    model: Any, inputs: dict, mean: jax.Array, mixin: str, role: str
) -> jax.Array | None:
    """``inputs["taken_actions"]`` of mean_actions' shape (or one that broadcasts to it with the same
    last size), else None; a narrower array would broadcast into a log-probability of the wrong shape."""
    taken_actions = inputs.get("taken_actions")
    if taken_actions is None:
        return None
    taken_actions = jnp.asarray(taken_actions)
    shape = taken_actions.shape
    if not shape or shape[-1] != mean.shape[-1] or not _broadcasts_into(shape, mean.shape):
        raise ValueError(
            f"{mixin}: taken_actions for role {role!r} of {type(model).__name__} must have shape {mean.shape} "
            f"(batch x {mean.shape[-1]} actions for {model.action_space}), got {shape}"
        )
    return taken_actions


class GaussianMixin(Mixin):
    """Diagonal Gaussian over a Box action space (skrl's ``GaussianMixin``).

    ``compute(inputs, role)`` returns ``(mean_actions, log_std, outputs)``: ``mean_actions`` of
    shape ``(..., num_actions)`` and ``log_std`` broadcastable to it (often a parameter of
    shape ``(num_actions,)``).

    Args:
        clip_actions: clip sampled actions to the action space's bounds.
        clip_log_std: clip ``log_std`` to ``[min_log_std, max_log_std]``.
        min_log_std: lower bound of ``log_std``.
        max_log_std: upper bound of ``log_std``.
        reduction: how the per-dimension log-probabilities are reduced: "mean", "sum",
            "prod" or "none".
        role: the role this distribution serves.
    """

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        reduction: str = "sum",
        role: str = "",
    ) -> None:
        require_action_space(self, (spaces.Box,), "GaussianMixin")
        check_reduction(reduction, "GaussianMixin")
        low, high = action_bounds(self, clip_actions, "GaussianMixin")
        config = GaussianConfig(
            bool(clip_actions), low, high, bool(clip_log_std), float(min_log_std), float(max_log_std), reduction
        )
        self._register_role(GaussianMixin, role, config)

    def act(self, inputs: Any, role: str = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """``(actions, log_prob, outputs)``; ``outputs`` adds ``mean_actions``, ``log_std``, ``stddev``.

        ``actions``: ``(..., num_actions)``; ``log_prob``: ``(..., 1)`` (``(..., num_actions)``
        with ``reduction="none"``), of ``inputs["taken_actions"]`` when given, else of ``actions``.
        """
        return self._act_as(GaussianMixin, inputs, role, params, key)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """Per-dimension entropy, from ``act``'s outputs or a ``stddev`` array (skrl JAX's argument)."""
        return self._entropy_as(GaussianMixin, outputs, role)

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        mean, log_std, outputs = unpack_output(output, 3, "GaussianMixin", "(mean_actions, log_std, outputs)", role)
        config: GaussianConfig = spec.config
        check_output_shape(
            model, mean, model.num_actions, "mean_actions", "GaussianMixin", role, inputs, model.action_space
        )
        log_std = clip_log_std(config, check_log_std(model, mean, log_std, "GaussianMixin", role))
        taken_actions = check_continuous_taken_actions(model, inputs, mean, "GaussianMixin", role)
        actions = normal_sample(key, mean, log_std)
        if config.clip_actions:
            actions = jnp.clip(actions, config.actions_low, config.actions_high)
        if taken_actions is None:
            taken_actions = actions
        log_prob = reduce_last(normal_log_prob(taken_actions, mean, log_std), config.reduction)
        outputs = dict(outputs, mean_actions=mean, log_std=log_std, stddev=jnp.exp(log_std))
        return actions, log_prob, outputs

    @staticmethod
    def _entropy(model: Any, spec: Any, outputs: Any, role: str) -> jax.Array:
        if isinstance(outputs, Mapping):
            return normal_entropy(outputs["log_std"])
        return normal_entropy(jnp.log(outputs))
