"""GaussianMixin: a diagonal Gaussian policy, as skrl's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from skrl_jax.models.distributions import check_reduction, normal_entropy, normal_log_prob, normal_sample, reduce_last
from skrl_jax.models.mixin import Mixin, action_bounds, check_last_dim, require_action_space, unpack_output


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


def check_log_std(mean: jax.Array, log_std: Any, mixin: str, role: str) -> jax.Array:
    log_std = jnp.asarray(log_std)
    try:
        jnp.broadcast_shapes(mean.shape, log_std.shape)
    except ValueError:
        raise ValueError(
            f"{mixin}: log_std of shape {log_std.shape} for role {role!r} does not broadcast to mean_actions of shape {mean.shape}"
        ) from None
    return log_std


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
        check_last_dim(mean, model.num_actions, "mean_actions", "GaussianMixin", role, model.action_space)
        log_std = clip_log_std(config, check_log_std(mean, log_std, "GaussianMixin", role))
        actions = normal_sample(key, mean, log_std)
        if config.clip_actions:
            actions = jnp.clip(actions, config.actions_low, config.actions_high)
        taken_actions = inputs.get("taken_actions", actions)
        log_prob = reduce_last(normal_log_prob(taken_actions, mean, log_std), config.reduction)
        outputs = dict(outputs, mean_actions=mean, log_std=log_std, stddev=jnp.exp(log_std))
        return actions, log_prob, outputs

    @staticmethod
    def _entropy(model: Any, spec: Any, outputs: Any, role: str) -> jax.Array:
        if isinstance(outputs, Mapping):
            return normal_entropy(outputs["log_std"])
        return normal_entropy(jnp.log(outputs))
