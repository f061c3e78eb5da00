"""TanhGaussianMixin: a diagonal Gaussian squashed by tanh into the action bounds (brax's policy form).

Not in skrl: brax's PPO and SAC policies (``NormalTanhDistribution``) sample ``u ~ N(loc, scale)``
and act ``tanh(u)``; here ``center + half_range * tanh(u)`` for a Box with bounds ``[low, high]``.
``compute`` returns ``(loc, scale_input, outputs)`` as a ``GaussianMixin`` returns ``(mean_actions,
log_std, outputs)``; ``scale="softplus"`` (brax's, the default) reads ``scale = softplus(scale_input)
+ min_scale``, state-dependent when ``compute`` makes it from the features; ``scale="exp"`` reads
``scale_input`` as a log standard deviation (clipped as a ``GaussianMixin`` clips it).

The log-probability has the change of variables: ``log N(u; loc, scale) - log(half_range * (1 -
tanh(u)**2))``, per dimension. The sampled action's is exact (``u`` is at hand, and ``act`` returns
it as ``outputs["samples"]``). An update re-scores stored samples exactly with
``inputs["taken_samples"]``: the on-policy agents record the samples, as brax does, rather than
the actions (``Mixin.records_samples``). For ``inputs["taken_actions"]`` ``u = atanh(y)`` with
``y`` kept within ``1 - 1e-6`` of the bounds: an action that float32 rounded onto a bound is read
as ``|u| = 7.25``.

The entropy has no closed form: as brax, it is estimated per dimension at a fresh sample
``u = loc + scale * eps`` (the Gaussian's entropy plus the log-Jacobian at ``u``), also when
``taken_actions`` are given, so that its gradient reaches ``loc`` and the scale through the
Jacobian; ``get_entropy`` returns that estimate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from skrl_jax.core.validation import Choice
from skrl_jax.models.distributions import check_reduction, normal_entropy, normal_log_prob, normal_sample, reduce_last
from skrl_jax.models.gaussian import check_continuous_taken_actions, checked_gaussian_output, clip_log_std
from skrl_jax.models.mixin import Mixin, action_bounds, require_action_space

SCALES = ("softplus", "exp")
BOUND_MARGIN = 1e-6


class TanhGaussianConfig(NamedTuple):
    center: np.ndarray
    half_range: np.ndarray
    scale: str
    min_scale: float
    clip_log_std: bool
    min_log_std: float
    max_log_std: float
    reduction: str


def log_one_minus_tanh_squared(u: jax.Array) -> jax.Array:
    """``log(1 - tanh(u)**2)``, written so that it stays finite where ``tanh(u)`` rounds to 1."""
    return 2.0 * (jnp.log(2.0) - u - jax.nn.softplus(-2.0 * u))


class TanhGaussianMixin(Mixin):
    """A tanh-squashed diagonal Gaussian over a bounded Box action space (brax's policy form).

    ``act``'s outputs hold ``samples``, the pre-squash ``u`` the log-probability is of;
    ``inputs["taken_samples"]`` re-scores such samples exactly (the on-policy agents record them),
    ``inputs["taken_actions"]`` re-scores actions by reading ``u`` back from them.

    Args:
        scale: "softplus" (``scale = softplus(scale_input) + min_scale``, brax's) or "exp"
            (``scale_input`` is a log standard deviation).
        min_scale: added to the softplus scale (brax: 0.001).
        clip_log_std: with ``scale="exp"``, as ``GaussianMixin``'s.
        min_log_std: with ``scale="exp"``, as ``GaussianMixin``'s.
        max_log_std: with ``scale="exp"``, as ``GaussianMixin``'s.
        reduction: how the per-dimension log-probabilities are reduced: "mean", "sum", "prod" or "none".
        role: the role this distribution serves.
    """

    records_samples = True

    def __init__(
        self,
        scale: str = "softplus",
        min_scale: float = 0.001,
        clip_log_std: bool = True,
        min_log_std: float = -20,
        max_log_std: float = 2,
        reduction: str = "sum",
        role: str = "",
    ) -> None:
        check_reduction(reduction, "TanhGaussianMixin")
        Choice(SCALES).check(scale, "TanhGaussianMixin: scale")
        if not min_scale >= 0:
            raise ValueError(f"TanhGaussianMixin: min_scale must be >= 0, got {min_scale!r}")
        require_action_space(self, (spaces.Box,), "TanhGaussianMixin")
        low, high = action_bounds(self, True, "TanhGaussianMixin")
        if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
            raise ValueError(
                f"TanhGaussianMixin squashes actions into the action space's bounds, but {self.action_space} has "
                "infinite bounds: give the Box finite low and high (e.g. -1 and 1)"
            )
        config = TanhGaussianConfig(
            (high + low) / 2,
            (high - low) / 2,
            scale,
            float(min_scale),
            bool(clip_log_std),
            float(min_log_std),
            float(max_log_std),
            reduction,
        )
        self._register_role(TanhGaussianMixin, role, config)

    def act(self, inputs: Any, role: str = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """``(actions, log_prob, outputs)``; ``outputs`` adds ``mean_actions`` (``center + half_range *
        tanh(loc)``, the greedy action), ``log_std`` and ``stddev`` (of the Gaussian before the squash)
        and ``entropy`` (the per-dimension estimate). Shapes as ``GaussianMixin.act``'s."""
        return self._act_as(TanhGaussianMixin, inputs, role, params, key)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """The per-dimension entropy estimate ``act`` put in its outputs."""
        return self._entropy_as(TanhGaussianMixin, outputs, role)

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        loc, scale_input, taken_actions, outputs = checked_gaussian_output(
            model, output, inputs, "TanhGaussianMixin", role, mean_name="loc"
        )
        config: TanhGaussianConfig = spec.config
        if config.scale == "softplus":
            log_std = jnp.log(jax.nn.softplus(scale_input) + config.min_scale)
        else:
            log_std = clip_log_std(config, scale_input)
        taken_samples = check_continuous_taken_actions(model, inputs, loc, "TanhGaussianMixin", role, "taken_samples")
        sample = normal_sample(key, loc, log_std)
        actions = config.center + config.half_range * jnp.tanh(sample)
        u = sample
        if taken_samples is not None:
            u = taken_samples
        elif taken_actions is not None:
            squashed = jnp.clip((taken_actions - config.center) / config.half_range, BOUND_MARGIN - 1, 1 - BOUND_MARGIN)
            u = jnp.arctanh(squashed)
        log_jacobian = jnp.log(config.half_range) + log_one_minus_tanh_squared(u)
        log_prob = reduce_last(normal_log_prob(u, loc, log_std) - log_jacobian, config.reduction)
        # At a fresh reparameterised sample, not at the taken action: its gradient then reaches loc and
        # the scale through the log-Jacobian too, so the bonus stops rewarding saturated actions (brax).
        sample_log_jacobian = jnp.log(config.half_range) + log_one_minus_tanh_squared(sample)
        entropy = normal_entropy(log_std) + sample_log_jacobian
        mean_actions = config.center + config.half_range * jnp.tanh(loc)
        outputs = dict(
            outputs, mean_actions=mean_actions, log_std=log_std, stddev=jnp.exp(log_std), entropy=entropy, samples=u
        )
        return actions, log_prob, outputs

    @staticmethod
    def _entropy(model: Any, spec: Any, outputs: Any, role: str) -> jax.Array:
        if not isinstance(outputs, Mapping) or "entropy" not in outputs:
            raise ValueError(
                f"TanhGaussianMixin.get_entropy (role {role!r}): expected the outputs act returned (with 'entropy'), "
                f"got {type(outputs).__name__}"
            )
        return outputs["entropy"]
