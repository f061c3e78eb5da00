"""The pure pieces every on-policy agent (PPO, A2C, RPO) is made of.

``make_act`` and ``make_update`` build the two functions an agent needs, both pure and
jittable, both taking the same ``TrainState``:

- ``act(train_state, states, key, taken_actions=None) -> Step`` for the rollout (policy and
  value in one forward pass when the model is shared);
- ``update(train_state, rollout, key) -> (train_state, metrics)``: GAE, value / state
  standardisation, epochs of shuffled minibatches, the loss, gradient clipping, the optimizer
  step, KL early stop and the KL-adaptive learning rate.

The host agent calls them once per step and once per update; the compiled trainer calls the
same functions inside ``lax.scan``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from skrl_jax.agents.on_policy.gae import compute_gae
from skrl_jax.models import Model
from skrl_jax.resources.preprocessors import RunningStandardScaler, ScalerState, scaler_update
from skrl_jax.resources.schedulers import KLAdaptiveLR


class TrainState(NamedTuple):
    """Everything an update changes. ``params`` / ``opt_state`` have the key "policy" only
    when the policy and value share one model, "policy" and "value" otherwise."""

    params: dict[str, Any]
    opt_state: dict[str, Any]
    learning_rate: jax.Array
    state_scaler: ScalerState | None
    value_scaler: ScalerState | None
    updates: jax.Array


class Rollout(NamedTuple):
    """One rollout as recorded: raw (not standardised) states and values.

    ``states`` ``(T, N, observation_size)``, ``actions`` ``(T, N, action_size)``, the others
    ``(T, N, 1)``; ``next_states`` ``(N, observation_size)`` follows the last step.
    """

    states: jax.Array
    actions: jax.Array
    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    log_prob: jax.Array
    values: jax.Array
    next_states: jax.Array


class Step(NamedTuple):
    actions: jax.Array
    log_prob: jax.Array
    values: jax.Array
    outputs: dict[str, Any]


class Minibatch(NamedTuple):
    states: jax.Array
    actions: jax.Array
    log_prob: jax.Array
    values: jax.Array
    returns: jax.Array
    advantages: jax.Array


class Evaluation(NamedTuple):
    """What a loss sees of the models on a minibatch."""

    log_prob: jax.Array
    entropy: jax.Array | None
    values: jax.Array
    stddev: jax.Array


LossFunction = Callable[[Evaluation, Minibatch, Any], tuple[jax.Array, dict[str, jax.Array]]]


@dataclasses.dataclass(frozen=True)
class OnPolicyConfig:
    """The static settings of an update (taken from the agent's cfg)."""

    learning_epochs: int
    mini_batches: int
    discount_factor: float
    lambda_: float
    learning_rate: float
    grad_norm_clip: float
    kl_threshold: float
    entropy_loss_scale: float
    loss_settings: Any
    scheduler: Any = None
    state_preprocessor: RunningStandardScaler | None = None
    value_preprocessor: RunningStandardScaler | None = None
    alpha: float | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class ActorCritic:
    """The policy and value models; one model serves both roles when they are the same object."""

    policy: Model
    value: Model

    @property
    def shared(self) -> bool:
        return self.policy is self.value

    @property
    def names(self) -> tuple[str, ...]:
        return ("policy",) if self.shared else ("policy", "value")

    def evaluate(self, params: dict, inputs: dict, key: jax.Array, with_entropy: bool) -> tuple:
        """``((actions, log_prob, outputs), values)``: one joint forward pass for a shared model."""
        compute_key, sample_key = jax.random.split(key)
        inputs = {**inputs, "key": compute_key}
        if self.shared:
            outputs = self.policy.apply(params["policy"], inputs, ("policy", "value"))
            policy = self.policy.act_from_output(outputs["policy"], inputs, "policy", sample_key)
            values = self.policy.act_from_output(outputs["value"], inputs, "value")[0]
        else:
            policy = self.policy.act(inputs, "policy", params=params["policy"], key=sample_key)
            values = self.value.act(inputs, "value", params=params["value"])[0]
        entropy = self.policy.get_entropy(policy[2], "policy") if with_entropy else None
        return policy, values, entropy


def make_optimizer(grad_norm_clip: float) -> optax.GradientTransformation:
    """skrl's JAX Adam: global-norm clipping (when > 0) and Adam's scaling; the learning rate is applied apart."""
    adam = optax.scale_by_adam()
    return optax.chain(optax.clip_by_global_norm(grad_norm_clip), adam) if grad_norm_clip > 0 else adam


def init_train_state(models: ActorCritic, config: OnPolicyConfig, params: dict[str, Any] | None = None) -> TrainState:
    """A fresh train state over ``params`` (by default the parameters the models hold)."""
    params = params or (
        {"policy": models.policy.params}
        if models.shared
        else {"policy": models.policy.params, "value": models.value.params}
    )
    optimizer = make_optimizer(config.grad_norm_clip)
    return TrainState(
        params=params,
        opt_state={name: optimizer.init(tree) for name, tree in params.items()},
        learning_rate=jnp.asarray(config.learning_rate, jnp.float32),
        state_scaler=None if config.state_preprocessor is None else config.state_preprocessor.initial_state(),
        value_scaler=None if config.value_preprocessor is None else config.value_preprocessor.initial_state(),
        updates=jnp.zeros((), jnp.int32),
    )


def _standardize(preprocessor: RunningStandardScaler | None, state: ScalerState | None, x: jax.Array) -> jax.Array:
    return x if preprocessor is None else preprocessor.standardize(state, x)


def _inverse(preprocessor: RunningStandardScaler | None, state: ScalerState | None, x: jax.Array) -> jax.Array:
    return x if preprocessor is None else preprocessor.inverse(state, x)


def _model_inputs(config: OnPolicyConfig, states: jax.Array, **extra: jax.Array) -> dict:
    inputs = {"states": states, **extra}
    if config.alpha is not None:
        inputs["alpha"] = config.alpha
    return inputs


def make_act(models: ActorCritic, config: OnPolicyConfig) -> Callable[..., Step]:
    """``act(train_state, states, key, taken_actions=None) -> Step``, pure.

    ``states`` are raw ``(N, observation_size)``; values come back un-standardised, as skrl
    records them. With ``taken_actions`` the log-probability is of those actions.
    """

    def act(train_state: TrainState, states: jax.Array, key: jax.Array, taken_actions: jax.Array | None = None) -> Step:
        standardized = _standardize(config.state_preprocessor, train_state.state_scaler, states)
        extra = {} if taken_actions is None else {"taken_actions": taken_actions}
        (actions, log_prob, outputs), values, _ = models.evaluate(
            train_state.params, _model_inputs(config, standardized, **extra), key, with_entropy=False
        )
        actions = actions if taken_actions is None else taken_actions
        values = _inverse(config.value_preprocessor, train_state.value_scaler, values)
        return Step(actions, log_prob, values, outputs)

    return act


def _adapt_learning_rate(config: OnPolicyConfig, learning_rate: jax.Array, kl: jax.Array, epoch_count: jax.Array):
    if config.scheduler is None:
        return learning_rate
    if isinstance(config.scheduler, KLAdaptiveLR):
        return config.scheduler(epoch_count, learning_rate, kl)
    return config.learning_rate * config.scheduler(epoch_count)


def make_update(models: ActorCritic, config: OnPolicyConfig, loss_function: LossFunction) -> Callable:
    """``update(train_state, rollout, key) -> (train_state, metrics)``, pure.

    As skrl: the state preprocessor learns from each minibatch of the first epoch; with
    ``kl_threshold`` a minibatch whose KL exceeds it is not applied and ends its epoch; the
    KL-adaptive scheduler sees the mean KL of the minibatches an epoch processed. Unlike skrl
    1.4, which slices the memory in order, minibatches are drawn from a fresh permutation
    every epoch. ``metrics["nan_at"]`` is the index (epoch * mini_batches + minibatch) of the
    first non-finite loss, -1 if none (the caller decides what to do with the returned state;
    the agents keep the state from before the update and raise).
    """
    optimizer = make_optimizer(config.grad_norm_clip)
    act = make_act(models, config)
    with_entropy = bool(config.entropy_loss_scale)

    def loss(params, scaler_state, minibatch: Minibatch, key):
        states = _standardize(config.state_preprocessor, scaler_state, minibatch.states)
        inputs = _model_inputs(config, states, taken_actions=minibatch.actions)
        (_, log_prob, outputs), values, entropy = models.evaluate(params, inputs, key, with_entropy)
        stddev = outputs.get("stddev", jnp.full((1,), jnp.nan))
        evaluation = Evaluation(log_prob, entropy, values, stddev)
        total, aux = loss_function(evaluation, minibatch, config)
        return total, dict(aux, stddev=jnp.mean(stddev))

    def minibatch_step(carry, inputs):
        train_state, stopped, kl_sum, kl_count, nan_at, first_epoch = carry
        minibatch, key, index = inputs
        scaler_state = train_state.state_scaler
        if config.state_preprocessor is not None:
            updated = scaler_update(scaler_state, minibatch.states)
            scaler_state = jax.tree.map(
                lambda new, old: jnp.where(first_epoch & ~stopped, new, old), updated, scaler_state
            )
        (total, aux), grads = jax.value_and_grad(loss, has_aux=True)(train_state.params, scaler_state, minibatch, key)
        kl = aux["kl_divergence"]
        finite = jnp.isfinite(total)
        # masks only when the KL early stop can skip steps: selects on every leaf cost time
        stopping = bool(config.kl_threshold)
        over_kl = kl > config.kl_threshold if stopping else jnp.zeros((), bool)
        apply = ~stopped & ~over_kl if stopping else jnp.ones((), bool)
        params, opt_state = {}, {}
        for name in train_state.params:
            updates, new_opt_state = optimizer.update(
                grads[name], train_state.opt_state[name], train_state.params[name]
            )
            params[name] = jax.tree.map(
                lambda p, u: p - train_state.learning_rate * u, train_state.params[name], updates
            )
            opt_state[name] = new_opt_state
            if stopping:
                params[name] = jax.tree.map(
                    lambda new, old: jnp.where(apply, new, old), params[name], train_state.params[name]
                )
                opt_state[name] = jax.tree.map(
                    lambda new, old: jnp.where(apply, new, old), new_opt_state, train_state.opt_state[name]
                )
        train_state = train_state._replace(params=params, opt_state=opt_state, state_scaler=scaler_state)
        processed = ~stopped
        nan_at = jnp.where((nan_at < 0) & processed & ~finite, index, nan_at)
        carry = (
            train_state,
            stopped | over_kl,
            kl_sum + jnp.where(processed, kl, 0.0),
            kl_count + processed,
            nan_at,
            first_epoch,
        )
        applied_aux = {name: jnp.where(apply, value, 0.0) for name, value in aux.items()} if stopping else aux
        return carry, dict(applied_aux, applied=apply)

    def update(train_state: TrainState, rollout: Rollout, key: jax.Array) -> tuple[TrainState, dict[str, jax.Array]]:
        last_key, epochs_key = jax.random.split(key)
        last_values = act(train_state, rollout.next_states, last_key).values
        dones = rollout.terminated | rollout.truncated
        returns, advantages = compute_gae(
            rollout.rewards, dones, rollout.values, last_values, config.discount_factor, config.lambda_
        )
        values, value_scaler = rollout.values, train_state.value_scaler
        if config.value_preprocessor is not None:
            value_scaler = scaler_update(value_scaler, values)
            values = config.value_preprocessor.standardize(value_scaler, values)
            value_scaler = scaler_update(value_scaler, returns)
            returns = config.value_preprocessor.standardize(value_scaler, returns)
        train_state = train_state._replace(value_scaler=value_scaler)

        samples = Minibatch(rollout.states, rollout.actions, rollout.log_prob, values, returns, advantages)
        samples = jax.tree.map(lambda x: x.reshape(-1, x.shape[-1]), samples)
        batch_size = samples.states.shape[0]
        minibatch_size = batch_size // config.mini_batches

        def epoch_step(carry, inputs):
            train_state, nan_at = carry
            epoch, key = inputs
            permutation_key, minibatch_keys = jax.random.split(key)
            order = jax.random.permutation(permutation_key, batch_size)[: config.mini_batches * minibatch_size]
            minibatches = jax.tree.map(
                lambda x: x[order].reshape(config.mini_batches, minibatch_size, x.shape[-1]), samples
            )
            keys = jax.random.split(minibatch_keys, config.mini_batches)
            indices = epoch * config.mini_batches + jnp.arange(config.mini_batches)
            carry = (train_state, jnp.zeros((), bool), jnp.zeros(()), jnp.zeros(()), nan_at, epoch == 0)
            (train_state, _, kl_sum, kl_count, nan_at, _), per_minibatch = jax.lax.scan(
                minibatch_step, carry, (minibatches, keys, indices)
            )
            epoch_count = train_state.updates * config.learning_epochs + epoch
            kl = kl_sum / jnp.maximum(kl_count, 1.0)
            learning_rate = _adapt_learning_rate(config, train_state.learning_rate, kl, epoch_count)
            train_state = train_state._replace(learning_rate=jnp.asarray(learning_rate, jnp.float32))
            return (train_state, nan_at), dict(per_minibatch, epoch_kl=kl)

        epochs = jnp.arange(config.learning_epochs)
        (train_state, nan_at), history = jax.lax.scan(
            epoch_step,
            (train_state, -jnp.ones((), jnp.int32)),
            (epochs, jax.random.split(epochs_key, config.learning_epochs)),
        )
        steps = config.learning_epochs * config.mini_batches
        applied = history["applied"]
        last_applied = jnp.maximum(jnp.argmax(jnp.flip(applied.reshape(-1))), 0)
        metrics = {
            "policy_loss": history["policy_loss"].sum() / steps,
            "value_loss": history["value_loss"].sum() / steps,
            "entropy_loss": history["entropy_loss"].sum() / steps,
            "kl_divergence": history["epoch_kl"].mean(),
            "stddev": history["stddev"].reshape(-1)[steps - 1 - last_applied],
            "learning_rate": train_state.learning_rate,
            "minibatches_applied": applied.sum(),
            "nan_at": nan_at,
        }
        return train_state._replace(updates=train_state.updates + 1), metrics

    return update
