"""MultivariateGaussianMixin: skrl's multivariate Gaussian policy (diagonal scale)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.models.distributions import normal_entropy, normal_log_prob, normal_sample
from skrl_jax.models.gaussian import checked_gaussian_output, clip_log_std, clip_mean, gaussian_config
from skrl_jax.models.mixin import Mixin


def _log_scale(squared_scale: bool, log_std: jax.Array) -> jax.Array:
    """The log standard deviation of each action: skrl 1.4's ``scale_tril = diag(exp(log_std) ** 2)``
    (``squared_scale``) makes it ``2 * log_std``; skrl 2.x's ``diag(exp(log_std))`` makes it ``log_std``."""
    return 2.0 * log_std if squared_scale else log_std


class MultivariateGaussianMixin(Mixin):
    """skrl's ``MultivariateGaussianMixin``: ``compute`` returns ``(mean_actions, log_std, outputs)``.

    skrl 1.4 builds the distribution with ``scale_tril = diag(exp(log_std) ** 2)``, so each
    action's standard deviation is ``exp(2 * log_std)``; this port keeps that formula (and
    reports it as ``outputs["stddev"]``) so that skrl-trained parameters mean the same. skrl 2.x
    uses ``diag(exp(log_std))``, and so does a 2.x model here. ``squared_scale`` chooses either.
    ``log_prob`` is the joint log-density, shape ``(..., 1)``; the entropy has shape ``(...)``.

    Args:
        clip_actions: clip sampled actions to the action space's bounds.
        clip_log_std: clip ``log_std`` to ``[min_log_std, max_log_std]``.
        min_log_std: lower bound of ``log_std``.
        max_log_std: upper bound of ``log_std``.
        role: the role this distribution serves.
        clip_mean_actions: clip ``mean_actions`` to the bounds before sampling (skrl 2.x's).
        squared_scale: True: skrl 1.4's ``scale_tril = diag(exp(log_std) ** 2)`` (standard deviation
            ``exp(2 * log_std)``); False: skrl 2.x's ``diag(exp(log_std))`` (standard deviation
            ``exp(log_std)``); None (default): the convention of the API the model is built with
            (``model.conventions.multivariate_squared_scale``), e.g. False to run a 1.4-style model
            with skrl 2.x's distribution.
    """

    def __init__(
        self,
        clip_actions: bool = False,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        role: str = "",
        clip_mean_actions: bool = False,
        squared_scale: bool | None = None,
    ) -> None:
        mixin = "MultivariateGaussianMixin"
        config = gaussian_config(
            self, mixin, clip_actions, clip_mean_actions, clip_log_std, min_log_std, max_log_std, "sum"
        )
        if squared_scale is None:
            squared_scale = self.conventions.multivariate_squared_scale
        elif not isinstance(squared_scale, (bool, np.bool_)):
            raise TypeError(f"{mixin}: squared_scale must be True, False or None, got {squared_scale!r}")
        self._register_role(MultivariateGaussianMixin, role, config._replace(squared_scale=bool(squared_scale)))

    def act(self, inputs: Any, role: str = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """``(actions (..., num_actions), log_prob (..., 1), outputs)``; outputs add ``mean_actions``, ``log_std``, ``stddev``."""
        return self._act_as(MultivariateGaussianMixin, inputs, role, params, key)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """Joint entropy ``(...)``, from ``act``'s outputs."""
        return self._entropy_as(MultivariateGaussianMixin, outputs, role)

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        mixin = "MultivariateGaussianMixin"
        mean, log_std, taken_actions, outputs = checked_gaussian_output(model, output, inputs, mixin, role)
        mean = clip_mean(spec.config, mean)
        log_std = clip_log_std(spec.config, log_std)
        log_scale = _log_scale(spec.config.squared_scale, log_std)
        actions = normal_sample(key, mean, log_scale)
        if spec.config.clip_actions:
            actions = jnp.clip(actions, spec.config.actions_low, spec.config.actions_high)
        if taken_actions is None:
            taken_actions = actions
        log_prob = jnp.sum(normal_log_prob(taken_actions, mean, log_scale), axis=-1, keepdims=True)
        outputs = dict(outputs, mean_actions=mean, log_std=log_std, stddev=jnp.exp(log_scale))
        return actions, log_prob, outputs

    @staticmethod
    def _entropy(model: Any, spec: Any, outputs: Any, role: str) -> jax.Array:
        if not isinstance(outputs, Mapping):
            raise TypeError("MultivariateGaussianMixin.get_entropy takes the outputs dict returned by act")
        log_scale = jnp.broadcast_to(
            _log_scale(spec.config.squared_scale, outputs["log_std"]), outputs["mean_actions"].shape
        )
        return jnp.sum(normal_entropy(log_scale), axis=-1)
