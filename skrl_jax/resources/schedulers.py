"""KLAdaptiveLR: skrl's KL-adaptive learning rate, as a pure function of (lr, kl)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

__all__ = ["KLAdaptiveLR"]


@dataclasses.dataclass(frozen=True)
class KLAdaptiveLR:
    """Divide the learning rate by ``lr_factor`` when the KL divergence exceeds
    ``kl_threshold * kl_factor``, multiply it when the KL is below ``kl_threshold / kl_factor``,
    within ``[min_lr, max_lr]`` (skrl's ``KLAdaptiveLR`` arguments and defaults).

    ``scheduler(count, lr, kl)`` returns the new learning rate; it is pure and jit-safe.
    """

    kl_threshold: float = 0.008
    min_lr: float = 1e-6
    max_lr: float = 1e-2
    kl_factor: float = 2.0
    lr_factor: float = 1.5

    def __call__(self, count: jax.Array | int, lr: jax.Array | float | None = None, kl: jax.Array | None = None):
        if lr is None:
            return 1.0
        if kl is None:
            return lr
        decreased = jnp.maximum(lr / self.lr_factor, self.min_lr)
        increased = jnp.minimum(lr * self.lr_factor, self.max_lr)
        return jnp.where(
            kl > self.kl_threshold * self.kl_factor,
            decreased,
            jnp.where(kl < self.kl_threshold / self.kl_factor, increased, lr),
        )


kl_adaptive = KLAdaptiveLR
