"""A2C's loss: policy gradient with advantages, entropy bonus and value regression, as skrl."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from skrl_jax.agents.on_policy.update import Evaluation, Minibatch
from skrl_jax.agents.ppo.losses import entropy_loss, kl_divergence


def a2c_loss(evaluation: Evaluation, minibatch: Minibatch, config: Any) -> tuple[jax.Array, dict[str, jax.Array]]:
    policy_loss = -jnp.mean(minibatch.advantages * evaluation.log_prob)
    value_loss = jnp.mean(jnp.square(minibatch.returns - evaluation.values))
    entropy = entropy_loss(evaluation, config.entropy_loss_scale)
    aux = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy_loss": entropy,
        "kl_divergence": kl_divergence(evaluation.log_prob, minibatch.log_prob),
    }
    return policy_loss + entropy + value_loss, aux
