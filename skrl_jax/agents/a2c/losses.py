"""A2C's loss: policy gradient with advantages, entropy bonus and value regression, as skrl."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from skrl_jax.agents.on_policy.update import Evaluation, Minibatch
from skrl_jax.agents.ppo.losses import summed_loss


def a2c_loss(evaluation: Evaluation, minibatch: Minibatch, config: Any) -> tuple[jax.Array, dict[str, jax.Array]]:
    policy_loss = -jnp.mean(minibatch.advantages * evaluation.log_prob)
    value_loss = jnp.mean(jnp.square(minibatch.returns - evaluation.values))
    return summed_loss(policy_loss, value_loss, evaluation, minibatch, config)
