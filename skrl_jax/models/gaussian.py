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
    actions_low: np.ndarray | None  # the Box bounds when clip_actions or clip_mean_actions
    actions_high: np.ndarray | None
    clip_log_std: bool
    min_log_std: float
    max_log_std: float
    reduction: str
    clip_mean_actions: bool = False
    squared_scale: bool = False  # MultivariateGaussianMixin only: skrl 1.4's scale_tril = diag(exp(log_std) ** 2)


def gaussian_config(
    model: Any,
    mixin: str,
    clip_actions: bool,
    clip_mean_actions: bool,
    clip_log_std: bool,
    min_log_std: float,
    max_log_std: float,
    reduction: str,
) -> GaussianConfig:
    """The settings of a Gaussian role, the action bounds read once when anything clips to them."""
    require_action_space(model, (spaces.Box,), mixin)
    low, high = action_bounds(model, bool(clip_actions or clip_mean_actions), mixin)
    return GaussianConfig(
        bool(clip_actions),
        low,
        high,
        bool(clip_log_std),
        float(min_log_std),
        float(max_log_std),
        reduction,
        bool(clip_mean_actions),
    )


def unpack_gaussian_output(model: Any, output: Any, mixin: str, role: str) -> tuple[Any, Any, dict]:
    """``(mean_actions, log_std, outputs)`` from ``compute``: skrl 1.4's triple, or 2.x's
    ``mean_actions, {"log_std": ..., ...}`` for a model with ``conventions.log_std_in_outputs`` (a 2.x model)."""
    if not model.conventions.log_std_in_outputs:
        if isinstance(output, tuple) and len(output) == 2 and isinstance(output[1], Mapping) and "log_std" in output[1]:
            raise ValueError(
                f'{mixin}: compute(inputs, role={role!r}) returned skrl 2.x\'s mean_actions, {{"log_std": ...}} but '
                f"{type(model).__name__} is a skrl 1.4 model, whose compute returns (mean_actions, log_std, outputs): "
                "build it the 2.x way (Model.__init__(self, observation_space=..., state_space=..., action_space=...))"
            )
        return unpack_output(output, 3, mixin, "(mean_actions, log_std, outputs) (skrl 1.4)", role)
    mean, outputs = unpack_output(output, 2, mixin, 'mean_actions, {"log_std": log_std, ...} (skrl 2.x)', role)
    if not isinstance(outputs, Mapping) or "log_std" not in outputs:
        got = f"a dict with keys {sorted(outputs)}" if isinstance(outputs, Mapping) else type(outputs).__name__
        raise ValueError(
            f'{mixin}: compute(inputs, role={role!r}) must return mean_actions, {{"log_std": log_std, ...}} '
            f"(skrl 2.x), got {got} as the second item"
        )
    outputs = dict(outputs)
    return mean, outputs.pop("log_std"), outputs


def clip_mean(config: GaussianConfig, mean: jax.Array) -> jax.Array:
    if config.clip_mean_actions:
        return jnp.clip(mean, config.actions_low, config.actions_high)
    return mean


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
    model: Any, inputs: dict, mean: jax.Array, mixin: str, role: str, name: str = "taken_actions"
) -> jax.Array | None:
    """``inputs[name]`` of mean_actions' shape (or one that broadcasts to it with the same last
    size), else None; a narrower array would broadcast into a log-probability of the wrong shape."""
    taken_actions = inputs.get(name)
    if taken_actions is None:
        return None
    taken_actions = jnp.asarray(taken_actions)
    shape = taken_actions.shape
    if not shape or shape[-1] != mean.shape[-1] or not _broadcasts_into(shape, mean.shape):
        raise ValueError(
            f"{mixin}: {name} for role {role!r} of {type(model).__name__} must have shape {mean.shape} "
            f"(batch x {mean.shape[-1]} actions for {model.action_space}), got {shape}"
        )
    return taken_actions


def checked_gaussian_output(
    model: Any, output: Any, inputs: dict, mixin: str, role: str, mean_name: str = "mean_actions"
) -> tuple[jax.Array, jax.Array, jax.Array | None, dict]:
    """``(mean, log_std, taken_actions or None, outputs)`` of a Gaussian ``compute`` output, each
    checked against the action space and the others (what every Gaussian mixin reads first)."""
    mean, log_std, outputs = unpack_gaussian_output(model, output, mixin, role)
    check_output_shape(model, mean, model.num_actions, mean_name, mixin, role, inputs, model.action_space)
    log_std = check_log_std(model, mean, log_std, mixin, role)
    taken_actions = check_continuous_taken_actions(model, inputs, mean, mixin, role)
    return mean, log_std, taken_actions, outputs


class GaussianMixin(Mixin):
    """Diagonal Gaussian over a Box action space (skrl's ``GaussianMixin``).

    ``compute(inputs, role)`` returns ``(mean_actions, log_std, outputs)``: ``mean_actions`` of
    shape ``(..., num_actions)`` and ``log_std`` broadcastable to it (often a parameter of
    shape ``(num_actions,)``).

    A skrl 2.x model's ``compute`` (``model.conventions.log_std_in_outputs``) returns
    ``mean_actions, {"log_std": log_std, ...}`` instead.

    Args:
        clip_actions: clip sampled actions to the action space's bounds.
        clip_mean_actions: clip ``mean_actions`` to the bounds before sampling (skrl 2.x's).
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
        clip_mean_actions: bool = False,
    ) -> None:
        check_reduction(reduction, "GaussianMixin")
        config = gaussian_config(
            self, "GaussianMixin", clip_actions, clip_mean_actions, clip_log_std, min_log_std, max_log_std, reduction
        )
        self._register_role(GaussianMixin, role, config)

    def act(self, inputs: Any, role: str = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """``(actions, log_prob, outputs)``; ``outputs`` adds ``mean_actions``, ``log_std``, ``stddev``
        (a 2.x model: ``(actions, outputs)``, ``outputs["log_prob"]`` too).

        ``actions``: ``(..., num_actions)``; ``log_prob``: ``(..., 1)`` (``(..., num_actions)``
        with ``reduction="none"``), of ``inputs["taken_actions"]`` when given, else of ``actions``.
        """
        return self._act_as(GaussianMixin, inputs, role, params, key)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """Per-dimension entropy, from ``act``'s outputs or a ``stddev`` array (skrl JAX's argument)."""
        return self._entropy_as(GaussianMixin, outputs, role)

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        mean, log_std, taken_actions, outputs = checked_gaussian_output(model, output, inputs, "GaussianMixin", role)
        config: GaussianConfig = spec.config
        mean = clip_mean(config, mean)
        log_std = clip_log_std(config, log_std)
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
