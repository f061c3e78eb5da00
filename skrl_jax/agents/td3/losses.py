"""TD3's pure losses (skrl's formulas), each on arrays of shape ``(batch, 1)`` (actions ``(batch, action_size)``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def smoothed_target_actions(
    actions: jax.Array, noises: jax.Array, noise_clip: float, low: jax.Array, high: jax.Array
) -> jax.Array:
    """Target policy smoothing: ``clip(a' + clip(noise, -c, c), low, high)``."""
    return jnp.clip(actions + jnp.clip(noises, -noise_clip, noise_clip), low, high)


def twin_target(
    rewards: jax.Array, dones: jax.Array, target_q1: jax.Array, target_q2: jax.Array, discount_factor: float
) -> jax.Array:
    """``r + gamma * (1 - done) * min(Q1'(s', a'), Q2'(s', a'))``, with no gradient."""
    return jax.lax.stop_gradient(rewards + discount_factor * (1.0 - dones) * jnp.minimum(target_q1, target_q2))


def critic_loss(q1: jax.Array, q2: jax.Array, targets: jax.Array) -> jax.Array:
    """The sum of the two critics' mean squared errors (skrl's PyTorch TD3, one optimizer for both)."""
    return jnp.mean(jnp.square(q1 - targets)) + jnp.mean(jnp.square(q2 - targets))


def policy_loss(q1: jax.Array) -> jax.Array:
    """``-mean(Q1(s, pi(s)))``: the policy climbs the first critic only."""
    return -jnp.mean(q1)
