"""SAC's pure losses (skrl's formulas), each on arrays of shape ``(batch, 1)``."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def soft_target(
    rewards: jax.Array,
    dones: jax.Array,
    target_q1: jax.Array,
    target_q2: jax.Array,
    next_log_prob: jax.Array,
    entropy_coefficient: jax.Array,
    discount_factor: float,
) -> jax.Array:
    """``r + gamma * (1 - done) * (min(Q1', Q2') - alpha * log pi(a'|s'))``, with no gradient."""
    soft_q = jnp.minimum(target_q1, target_q2) - entropy_coefficient * next_log_prob
    return jax.lax.stop_gradient(rewards + discount_factor * (1.0 - dones) * soft_q)


def critic_loss(q1: jax.Array, q2: jax.Array, targets: jax.Array) -> jax.Array:
    """The mean of the two critics' mean squared errors (skrl's PyTorch SAC, one optimizer for both)."""
    return (jnp.mean(jnp.square(q1 - targets)) + jnp.mean(jnp.square(q2 - targets))) / 2.0


def policy_loss(log_prob: jax.Array, q1: jax.Array, q2: jax.Array, entropy_coefficient: jax.Array) -> jax.Array:
    """``mean(alpha * log pi(a|s) - min(Q1(s, a), Q2(s, a)))`` with ``a`` sampled (reparameterised)."""
    return jnp.mean(entropy_coefficient * log_prob - jnp.minimum(q1, q2))


def entropy_loss(log_entropy_coefficient: jax.Array, log_prob: jax.Array, target_entropy: float) -> jax.Array:
    """``-mean(log_alpha * (log pi + target_entropy))``; the log-probabilities carry no gradient."""
    return -jnp.mean(log_entropy_coefficient * jax.lax.stop_gradient(log_prob + target_entropy))
