"""DDPG's pure losses (skrl's formulas), each on arrays of shape ``(batch, 1)``."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def q_target(rewards: jax.Array, dones: jax.Array, target_q: jax.Array, discount_factor: float) -> jax.Array:
    """``r + gamma * (1 - done) * Q'(s', pi'(s'))``, with no gradient."""
    return jax.lax.stop_gradient(rewards + discount_factor * (1.0 - dones) * target_q)


def critic_loss(q: jax.Array, targets: jax.Array) -> jax.Array:
    """The critic's mean squared error to the targets."""
    return jnp.mean(jnp.square(q - targets))


def policy_loss(q: jax.Array) -> jax.Array:
    """``-mean(Q(s, pi(s)))``: the policy climbs the critic."""
    return -jnp.mean(q)
