"""The pure math every on-policy agent (PPO, A2C, RPO and their ``_RNN`` forms) is made of.

Read top to bottom, as one update of PureJaxRL / Brax reads:

- what the agent holds (``OnPolicyLearner``, ``Rollout``, ``Minibatch``, ``OnPolicyConfig``,
  ``ActorCritic``) and how its observations are standardised;
- act: ``act_step`` (actions, log-probability and value in one forward pass, one joint pass for
  a shared model); ``make_act(models, config)`` binds it;
- the update, ``update_learner`` (``make_update(models, config, loss)`` binds it), in its order:
  1. GAE (``compute_gae``, ``gae_samples``): returns and advantages, value standardisation;
  2. minibatches (``sampling_units``, ``minibatch_order``, ``split_minibatches``);
  3. the gradient step (``make_gradients``, ``minibatch_step``): the loss, clipping, Adam with the
     learning rate from optax state, the KL early stop;
  4. epochs (``epoch_step``: the KL-adaptive learning rate) and the metrics (``update_metrics``).

``on_policy/functions.py`` wires them into the agent interface (init / act / record / update).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from skrl_jax.agents.gradients import apply_gradients, get_learning_rate, make_optimizer, set_learning_rate
from skrl_jax.agents.sharing import (
    DIAGNOSTIC_TAGS,
    combine_gradients,
    group_labels,
    group_of,
    role_gradients,
    trunk_diagnostics,
    trunk_mask,
)
from skrl_jax.models import Model
from skrl_jax.models.base import act_triple
from skrl_jax.resources.preprocessors import RunningStandardScaler, ScalerState, scaler_update
from skrl_jax.resources.schedulers import KLAdaptiveLR

# --- what an on-policy agent holds ------------------------------------------------------------


class OnPolicyLearner(NamedTuple):
    """Everything an update changes. ``params`` has the key "policy" only when the policy and
    value share one model, "policy" and "value" otherwise; ``opt_state`` is one optimizer's over
    all of it, with its learning rate."""

    params: dict[str, Any]
    opt_state: Any
    state_scaler: ScalerState | None
    value_scaler: ScalerState | None
    updates: jax.Array


class Rollout(NamedTuple):
    """One rollout as recorded: raw (not standardised) states and values.

    ``states`` ``(T, N, observation_size)``, ``actions`` ``(T, N, action_size)``, the others
    ``(T, N, 1)``; ``next_states`` ``(N, observation_size)`` follows the last step. With
    recurrent models, ``rnn`` holds each model's hidden states before every step (``{model key:
    [(T, N, num_layers, hidden_size), ...]}``) and ``next_rnn`` the ones ``next_states`` meets
    (``{model key: [(num_layers, N, hidden_size), ...]}``).
    """

    states: jax.Array
    actions: jax.Array
    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    log_prob: jax.Array
    values: jax.Array
    next_states: jax.Array
    rnn: Any = None
    next_rnn: Any = None


class Step(NamedTuple):
    actions: jax.Array
    log_prob: jax.Array
    values: jax.Array
    outputs: dict[str, Any]
    rnn: Any = None  # recurrent models: the hidden states after this step, {model key: [...]}


class AdvantageInputs(NamedTuple):
    """What ``recompute_advantages`` reads of each environment's rollout (one sequence of ``T``
    steps): ``rewards`` (as shaped), ``terminated``, ``truncated`` ``(S, T, 1)`` and ``next_states``
    ``(S, observation_size)``, the state after its last step."""

    rewards: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    next_states: jax.Array


class Minibatch(NamedTuple):
    """Rows of a rollout (``(B, ...)``). For recurrent models the rows are ``B / L`` whole
    sequences of ``L`` steps one after another, ``dones`` (``terminated | truncated``, ``(B, 1)``)
    marks the episode ends inside them and ``rnn`` holds each sequence's hidden states at its
    first step (``{model key: [(num_layers, B / L, hidden_size), ...]}``). With
    ``recompute_advantages`` the rows are ``B / T`` whole rollouts of ``T`` steps and ``gae`` holds
    what the returns and advantages are recomputed from (``returns`` and ``advantages`` are then
    placeholders)."""

    states: jax.Array
    actions: jax.Array
    log_prob: jax.Array
    values: jax.Array
    returns: jax.Array
    advantages: jax.Array
    dones: jax.Array | None = None
    rnn: Any = None
    gae: AdvantageInputs | None = None


class Evaluation(NamedTuple):
    """What a loss sees of the models on a minibatch."""

    log_prob: jax.Array
    entropy: jax.Array | None
    values: jax.Array
    stddev: jax.Array


LossFunction = Callable[[Evaluation, Minibatch, Any], tuple[jax.Array, dict[str, jax.Array]]]


@dataclasses.dataclass(frozen=True)
class OnPolicyConfig:
    """The static settings of an on-policy agent (taken from its cfg)."""

    rollouts: int
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
    random_timesteps: int = 0
    learning_starts: int = 0
    rewards_shaper: Callable | None = None
    time_limit_bootstrap: bool = False
    mixed_precision: bool = False
    shuffle_minibatches: bool = True
    # brax's PPO: GAE recomputed at every minibatch (whole environment rollouts) from the current
    # value model, truncated steps masked, advantages standardised per minibatch
    recompute_advantages: bool = False
    # when the state scalers learn: "minibatch" (skrl: from each minibatch of the first epoch) or
    # "rollout" (brax's PPO: from the whole rollout, once, before the first epoch)
    state_preprocessor_update: str = "minibatch"
    learning_rate_scales: tuple[tuple[str, float], ...] = ()
    trunk_value_weight: float | None = None
    sharing_diagnostics: bool = False
    # skrl 2.x's privileged states: their size; the "states" the agent records are then
    # concatenate([observations, privileged states], -1), and the models get them apart
    privileged_size: int = 0
    # skrl 2.x's state_preprocessor (the privileged states'); with it, learner.state_scaler is the
    # pair (observations' scaler state or None, privileged states' scaler state)
    privileged_preprocessor: RunningStandardScaler | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class ActorCritic:
    """The policy and value models; one model serves both roles when they are the same object.

    ``compute_dtype`` (e.g. ``jnp.bfloat16``) runs the forward passes in that dtype on float32
    parameters (skrl's ``mixed_precision``).
    """

    policy: Model
    value: Model
    compute_dtype: Any = None
    extra_inputs: Mapping[str, Any] | None = None  # what compute reads besides the states (RPO's alpha)

    @property
    def shared(self) -> bool:
        return self.policy is self.value

    @property
    def names(self) -> tuple[str, ...]:
        return ("policy",) if self.shared else ("policy", "value")

    @functools.cached_property
    def parameter_groups(self) -> dict[str, dict[str, str]]:
        """``{model key: {top-level subtree: group}}``: ``"trunk"`` for a subtree both roles of a shared
        model read (``parameter_roles()``), ``"policy"`` / ``"value"`` for one role's own."""
        if self.shared:
            readers = self.policy.parameter_roles(inputs=self.extra_inputs)
            return {"policy": {name: group_of(roles) for name, roles in readers.items()}}
        shapes = jax.eval_shape(lambda key: self.init(key, self.extra_inputs), jax.random.key(0))
        return {model: {name: model for name in shapes[model]} for model in self.names}

    def model(self, name: str) -> Model:
        """The model under the key ``name`` ("policy" or "value")."""
        return self.policy if name == "policy" else self.value

    @functools.cached_property
    def recurrent_names(self) -> tuple[str, ...]:
        """The model keys (of ``names``) whose model is recurrent (``get_specification()["rnn"]``)."""
        return tuple(name for name in self.names if self.model(name).recurrent_sizes())

    @property
    def sequence_length(self) -> int:
        """The length of the training sequences: the policy's ``sequence_length`` (the value's when
        only the value is recurrent), as skrl's PPO_RNN reads it; 1 for feed-forward models."""
        return self.model(self.recurrent_names[0]).rnn_sequence_length() if self.recurrent_names else 1

    def initial_carry(self, num_envs: int) -> dict[str, list[jax.Array]] | None:
        """Zero hidden states of every recurrent model for ``num_envs`` environments (None if none is)."""
        if not self.recurrent_names:
            return None
        return {name: self.model(name).rnn_initial_states(num_envs) for name in self.recurrent_names}

    def trunk_mask(self, params: dict[str, Any]) -> dict[str, Any]:
        """``params`` with True on the trunk's leaves."""
        return trunk_mask(self.parameter_groups, params)

    def init(self, key: jax.Array, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Fresh parameters of each model from ``key`` (pure)."""
        policy_key, value_key = jax.random.split(key)
        params = {"policy": self.policy.init(policy_key, inputs)}
        if not self.shared:
            params["value"] = self.value.init(value_key, inputs)
        return params

    @property
    def records_samples(self) -> bool:
        """Whether the rollout records the policy's samples (``outputs["samples"]``) rather than its
        actions, and the update re-scores them as ``inputs["taken_samples"]`` (``Mixin.records_samples``)."""
        return self.policy._spec_for("policy").mixin.records_samples

    def values(self, params: dict, inputs: dict, key: jax.Array) -> jax.Array:
        """The value model's values ``(B, 1)`` of ``inputs`` (feed-forward models), the policy not run."""
        name = "policy" if self.shared else "value"
        value = self.value.joint_act(
            {**inputs, "key": key}, ("value",), params=params[name], key=None, compute_dtype=self.compute_dtype
        )["value"]
        return act_triple(value)[0]

    def evaluate(self, params: dict, inputs: dict, key: jax.Array, with_entropy: bool, rnn: Any = None) -> tuple:
        """``((actions, log_prob, outputs), values, entropy, next_rnn)`` through each model's own
        ``act``: one joint forward pass for a shared model. ``rnn`` (``{model key: [hidden, ...]}``)
        is each recurrent model's ``inputs["rnn"]``; ``next_rnn`` is what they return in
        ``outputs["rnn"]`` (None for feed-forward models)."""
        compute_key, sample_key = jax.random.split(key)
        inputs = {**inputs, "key": compute_key}
        dtype = self.compute_dtype

        def inputs_of(name: str) -> dict:
            return {**inputs, "rnn": rnn[name]} if rnn is not None and name in rnn else inputs

        if self.shared:
            both = self.policy.joint_act(
                inputs_of("policy"), ("policy", "value"), params=params["policy"], key=sample_key, compute_dtype=dtype
            )
            policy, value = act_triple(both["policy"]), act_triple(both["value"])
        else:
            policy = self.policy.joint_act(
                inputs_of("policy"), ("policy",), params=params["policy"], key=sample_key, compute_dtype=dtype
            )["policy"]
            value = self.value.joint_act(
                inputs_of("value"), ("value",), params=params["value"], key=None, compute_dtype=dtype
            )["value"]
            policy, value = act_triple(policy), act_triple(value)
        entropy = self.policy.get_entropy(policy[2], "policy") if with_entropy else None
        next_rnn = None
        if self.recurrent_names:
            outputs = {"policy": policy[2], "value": value[2]}
            next_rnn = {name: self._returned_rnn(name, outputs[name]) for name in self.recurrent_names}
        return policy, value[0], entropy, next_rnn

    def _returned_rnn(self, name: str, outputs: Any) -> list[jax.Array]:
        model = self.model(name)
        returned = outputs.get("rnn") if isinstance(outputs, Mapping) else None
        if returned is None or len(returned) != len(model.recurrent_sizes()):
            raise ValueError(
                f"{type(model).__name__} is recurrent but its compute(inputs, role={name!r}) returned "
                f"{'no' if returned is None else len(returned)} hidden state(s) in outputs['rnn']; return the "
                f"{len(model.recurrent_sizes())} new hidden state(s) there, e.g. {{'rnn': [hidden]}}"
            )
        return list(returned)


# --- the learner and the observations it standardises -----------------------------------------


def make_on_policy_optimizer(models: ActorCritic, config: OnPolicyConfig):
    # One Adam over every entry of ``params``, clipped by their joint norm, as skrl's PyTorch backend
    # (separate models: one optimizer over both models' parameters). skrl's JAX backend gives each
    # model its own optimizer and clipping norm, which changes every step's scale.
    if not config.learning_rate_scales:
        return make_optimizer(config.learning_rate, config.grad_norm_clip)
    return make_optimizer(
        config.learning_rate,
        config.grad_norm_clip,
        group_labels=functools.partial(group_labels, models.parameter_groups),
        group_scales=dict(config.learning_rate_scales),
    )


def init_learner(models: ActorCritic, config: OnPolicyConfig, params: dict[str, Any]) -> OnPolicyLearner:
    """A fresh learner over ``params`` (a dict with the entries of ``models.names``)."""
    return OnPolicyLearner(
        params=params,
        opt_state=make_on_policy_optimizer(models, config).init(params),
        state_scaler=_initial_scalers(config),
        value_scaler=None if config.value_preprocessor is None else config.value_preprocessor.initial_state(),
        updates=jnp.zeros((), jnp.int32),
    )


def _inverse(preprocessor: RunningStandardScaler | None, state: ScalerState | None, x: jax.Array) -> jax.Array:
    return x if preprocessor is None else preprocessor.inverse(state, x)


def split_privileged(config: OnPolicyConfig, states: jax.Array) -> tuple[jax.Array, jax.Array | None]:
    """``(observations, privileged states or None)`` of what the agent records (see ``privileged_size``)."""
    if not config.privileged_size:
        return states, None
    return states[..., : -config.privileged_size], states[..., -config.privileged_size :]


def _initial_scalers(config: OnPolicyConfig) -> Any:
    """``learner.state_scaler``: the observations' scaler state (or None), paired with the privileged
    states' one when they have a preprocessor."""
    observations = None if config.state_preprocessor is None else config.state_preprocessor.initial_state()
    if config.privileged_preprocessor is None:
        return observations
    return observations, config.privileged_preprocessor.initial_state()


def _scaler_parts(config: OnPolicyConfig, scalers: Any) -> tuple[Any, Any]:
    return scalers if config.privileged_preprocessor is not None else (scalers, None)


def _has_state_scalers(config: OnPolicyConfig) -> bool:
    return config.state_preprocessor is not None or config.privileged_preprocessor is not None


def _standardize_observations(config: OnPolicyConfig, scalers: Any, states: jax.Array) -> jax.Array:
    """The recorded states standardised: the observations by the state preprocessor (skrl 1.4's name;
    2.x's observation preprocessor), the privileged states by 2.x's state preprocessor."""
    if not _has_state_scalers(config):
        return states
    observations, privileged = split_privileged(config, states)
    observation_scaler, privileged_scaler = _scaler_parts(config, scalers)
    if config.state_preprocessor is not None:
        observations = config.state_preprocessor.standardize(observation_scaler, observations)
    if config.privileged_preprocessor is not None:
        privileged = config.privileged_preprocessor.standardize(privileged_scaler, privileged)
    return observations if privileged is None else jnp.concatenate([observations, privileged], -1)


def _update_scalers(config: OnPolicyConfig, scalers: Any, states: jax.Array) -> Any:
    """The scaler states after merging a batch of recorded states (each part by its own scaler)."""
    observations, privileged = split_privileged(config, states)
    observation_scaler, privileged_scaler = _scaler_parts(config, scalers)
    if observation_scaler is not None:
        observation_scaler = scaler_update(observation_scaler, observations)
    if config.privileged_preprocessor is None:
        return observation_scaler
    return observation_scaler, scaler_update(privileged_scaler, privileged)


def _model_inputs(config: OnPolicyConfig, states: jax.Array, **extra: jax.Array) -> dict:
    observations, privileged = split_privileged(config, states)
    inputs = {"states": observations, **extra}
    if privileged is not None:
        inputs["privileged_states"] = privileged
    if config.alpha is not None:
        inputs["alpha"] = config.alpha
    return inputs


# --- act --------------------------------------------------------------------------------------


def act_step(
    models: ActorCritic,
    config: OnPolicyConfig,
    learner: OnPolicyLearner,
    states: jax.Array,
    key: jax.Array,
    taken_actions: jax.Array | None = None,
    rnn: Any = None,
) -> Step:
    """Actions, log-probabilities and values of raw ``states`` ``(N, observation_size)``, pure.

    Values come back un-standardised, as skrl records them. With ``taken_actions`` the
    log-probability is of those actions. ``rnn`` is the recurrent models' hidden states
    (``ActorCritic.initial_carry``); ``Step.rnn`` the next ones.
    """
    standardized = _standardize_observations(config, learner.state_scaler, states)
    extra = {} if taken_actions is None else {"taken_actions": taken_actions}
    (actions, log_prob, outputs), values, _, next_rnn = models.evaluate(
        learner.params, _model_inputs(config, standardized, **extra), key, with_entropy=False, rnn=rnn
    )
    actions = actions if taken_actions is None else taken_actions
    values = _inverse(config.value_preprocessor, learner.value_scaler, values)
    return Step(actions, log_prob, values, outputs, next_rnn)


def make_act(models: ActorCritic, config: OnPolicyConfig) -> Callable[..., Step]:
    """``act(learner, states, key, taken_actions=None, rnn=None) -> Step``: ``act_step`` over these."""
    return functools.partial(act_step, models, config)


# --- the update, 1: GAE -----------------------------------------------------------------------


def compute_gae(
    rewards: jax.Array,
    dones: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    discount_factor: float = 0.99,
    lambda_coefficient: float = 0.95,
) -> tuple[jax.Array, jax.Array]:
    """skrl's GAE: returns and normalised advantages, by a reverse ``lax.scan`` (so compile time
    does not grow with the rollout length).

    Args:
        rewards, dones, values: ``(rollouts, num_envs, 1)``; ``dones`` is terminated | truncated.
        next_values: ``(num_envs, 1)``, the value of the state after the last step.

    Returns:
        ``returns = advantages + values`` and the advantages standardised over the whole
        rollout (``(a - mean) / (std + 1e-8)``, the sample std (n - 1) as skrl's PyTorch backend;
        skrl's JAX backend divides by the population std), both
        ``(rollouts, num_envs, 1)``.
    """
    not_dones = 1.0 - dones.astype(values.dtype)
    following_values = jnp.concatenate([values[1:], next_values[None]], axis=0)

    def backward(advantage, step):
        reward, value, next_value, not_done = step
        advantage = reward - value + discount_factor * not_done * (next_value + lambda_coefficient * advantage)
        return advantage, advantage

    _, advantages = jax.lax.scan(
        backward, jnp.zeros_like(next_values), (rewards, values, following_values, not_dones), reverse=True
    )
    returns = advantages + values
    return returns, (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)


def masked_gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    terminated: jax.Array,
    truncated: jax.Array,
    discount_factor: float,
    lambda_coefficient: float,
) -> tuple[jax.Array, jax.Array]:
    """brax's PPO estimate: ``(value targets, advantages)``, both ``(T, S, 1)``, not standardised.

    ``rewards``, ``values``, ``terminated``, ``truncated`` ``(T, S, 1)``; ``next_values`` ``(S, 1)``
    follows the last step. A truncated step (a time limit) is masked out: its TD error and
    advantage are 0 and the trace stops there, so the return is neither cut to 0 nor
    bootstrapped from the next episode's first state. The targets are the lambda-returns; an
    advantage is ``r + discount * target' - value`` with the next step's target.
    """
    kept = 1.0 - truncated.astype(values.dtype)
    alive = 1.0 - (terminated.astype(bool) & ~truncated.astype(bool)).astype(values.dtype)
    following = jnp.concatenate([values[1:], next_values[None]], axis=0)
    deltas = (rewards + discount_factor * alive * following - values) * kept

    def backward(trace, step):
        delta, alive, kept = step
        trace = delta + discount_factor * alive * kept * lambda_coefficient * trace
        return trace, trace

    _, differences = jax.lax.scan(backward, jnp.zeros_like(next_values), (deltas, alive, kept), reverse=True)
    targets = differences + values
    following_targets = jnp.concatenate([targets[1:], next_values[None]], axis=0)
    advantages = (rewards + discount_factor * alive * following_targets - values) * kept
    return targets, advantages


def recomputed_advantages(
    models: ActorCritic,
    config: OnPolicyConfig,
    params: dict,
    scaler_state: Any,
    minibatch: Minibatch,
    values: jax.Array,
    key: jax.Array,
) -> Minibatch:
    """``minibatch`` with its returns and advantages recomputed by ``masked_gae`` from ``values``
    ``(S * T, 1)``, the current value model's on its rows, and the values of each rollout's
    ``next_states``; the advantages standardised over the minibatch (brax's PPO). No gradient
    flows through either."""
    gae = minibatch.gae
    sequences, steps = gae.rewards.shape[:2]
    next_states = _standardize_observations(config, scaler_state, gae.next_states)
    next_values = models.values(params, _model_inputs(config, next_states), key)

    def time_major(x: jax.Array) -> jax.Array:
        return jnp.swapaxes(x.reshape(sequences, steps, -1), 0, 1)

    targets, advantages = masked_gae(
        time_major(gae.rewards),
        time_major(values),
        next_values,
        time_major(gae.terminated),
        time_major(gae.truncated),
        config.discount_factor,
        config.lambda_,
    )
    rows = lambda x: jax.lax.stop_gradient(jnp.swapaxes(x, 0, 1).reshape(sequences * steps, -1))  # noqa: E731
    advantages = rows(advantages)
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    return minibatch._replace(returns=rows(targets), advantages=advantages)


def gae_samples(
    models: ActorCritic, config: OnPolicyConfig, learner: OnPolicyLearner, rollout: Rollout, key: jax.Array
) -> tuple[OnPolicyLearner, Minibatch]:
    """The rollout as training samples, ``(T, N, ...)`` each: returns and advantages by GAE from the
    value of ``rollout.next_states`` (drawn with ``key``), and with a value preprocessor the values
    and returns standardised by it after it learns from each (skrl's order). The learner comes back
    with that preprocessor's new state."""
    last_values = act_step(models, config, learner, rollout.next_states, key, rnn=rollout.next_rnn).values
    dones = rollout.terminated | rollout.truncated
    returns, advantages = compute_gae(
        rollout.rewards, dones, rollout.values, last_values, config.discount_factor, config.lambda_
    )
    values, value_scaler = rollout.values, learner.value_scaler
    if config.value_preprocessor is not None:
        value_scaler = scaler_update(value_scaler, values)
        values = config.value_preprocessor.standardize(value_scaler, values)
        value_scaler = scaler_update(value_scaler, returns)
        returns = config.value_preprocessor.standardize(value_scaler, returns)
    samples = Minibatch(rollout.states, rollout.actions, rollout.log_prob, values, returns, advantages)
    return learner._replace(value_scaler=value_scaler), samples


# --- the update, 2: minibatches ---------------------------------------------------------------


def sampling_units(samples: Minibatch, rollout: Rollout, sequence_length: int) -> Minibatch:
    """What minibatches are drawn from: rows ``(T * N, size)`` (feed-forward, ``sequence_length``
    0), or whole sequences (recurrent): ``(N * T / L, L, size)`` per environment in time order
    (skrl's sequence order: environment after environment), with ``dones`` and the hidden states
    at each sequence's first step (``rnn``: ``(N * T / L, num_layers, hidden_size)``)."""
    if not sequence_length:
        return jax.tree.map(lambda x: x.reshape(-1, x.shape[-1]), samples)
    length = sequence_length

    def sequences(x: jax.Array) -> jax.Array:  # (T, N, ...) -> (N * T / L, L, ...)
        steps, envs = x.shape[:2]
        return jnp.swapaxes(x, 0, 1).reshape(envs * (steps // length), length, *x.shape[2:])

    def first_steps(x: jax.Array) -> jax.Array:  # (T, N, layers, hidden) -> (N * T / L, layers, hidden)
        return jnp.swapaxes(x[::length], 0, 1).reshape(-1, *x.shape[2:])

    units = jax.tree.map(sequences, samples._replace(dones=rollout.terminated | rollout.truncated))
    return units._replace(rnn=jax.tree.map(first_steps, rollout.rnn))


def rollout_units(samples: Minibatch, rollout: Rollout) -> Minibatch:
    """``recompute_advantages``' units: each environment's whole rollout, ``(N, T, size)``, with the
    ``AdvantageInputs`` the advantages are recomputed from."""
    per_environment = lambda x: jnp.swapaxes(x, 0, 1)  # noqa: E731
    gae = AdvantageInputs(
        per_environment(rollout.rewards),
        per_environment(rollout.terminated),
        per_environment(rollout.truncated),
        rollout.next_states,
    )
    return jax.tree.map(per_environment, samples)._replace(gae=gae)


def split_minibatches(units: Minibatch, order: jax.Array, mini_batches: int) -> Minibatch:
    """``units[order]`` as ``mini_batches`` minibatches (a leading axis): rows ``(B, size)``, and for
    sequences the hidden states laid out as ``inputs["rnn"]`` wants them, ``(num_layers, B / L, hidden)``,
    and the ``AdvantageInputs`` per sequence."""
    per = order.shape[0] // mini_batches
    selected = jax.tree.map(lambda x: x[order].reshape(mini_batches, per, *x.shape[1:]), units)
    if units.rnn is None and units.gae is None:
        return selected
    # sequences (recurrent, or whole rollouts for recompute_advantages): rows (mini_batches, per * L,
    # size); the hidden states as inputs["rnn"] wants them, the advantage inputs kept per sequence
    rows = jax.tree.map(lambda x: x.reshape(mini_batches, -1, x.shape[-1]), selected._replace(rnn=None, gae=None))
    rnn = None if units.rnn is None else jax.tree.map(lambda x: jnp.swapaxes(x, 1, 2), selected.rnn)
    return rows._replace(rnn=rnn, gae=selected.gae)


def minibatch_order(config: OnPolicyConfig, unit_count: int, key: jax.Array) -> jax.Array:
    """The units one epoch takes, ``(mini_batches * (unit_count // mini_batches),)`` indices: a fresh
    permutation from ``key`` with ``shuffle_minibatches``, else consecutive slices of the memory,
    the same every epoch (skrl 1.4's order)."""
    taken = config.mini_batches * (unit_count // config.mini_batches)
    if config.shuffle_minibatches:
        return shuffled_indices(key, unit_count)[:taken]
    return jnp.arange(taken)


def shuffled_indices(key: jax.Array, count: int) -> jax.Array:
    """A uniformly random permutation of ``arange(count)``: the indices sorted by 32-bit random keys.

    One sort, where ``jax.random.permutation`` sorts twice (its second round only reorders ties,
    which 32-bit keys have with probability about ``count**2 / 2**33``: 0.4% of the permutations of
    6,144 units, and then a tie keeps its two units in index order). Sorting is most of what a
    shuffle costs on a CPU, so one sort instead of two.
    """
    return jax.lax.sort_key_val(jax.random.bits(key, (count,), jnp.uint32), jnp.arange(count))[1]


# --- the update, 3: the gradient step ---------------------------------------------------------


def make_gradients(models: ActorCritic, config: OnPolicyConfig, loss_function: LossFunction) -> Callable:
    """``gradients(params, scaler_state, minibatch, key) -> (grads, loss, aux)``, pure: the gradient
    one minibatch step applies, before clipping.

    ``minibatch`` holds raw states (standardised here with ``scaler_state``). With
    ``trunk_value_weight`` or ``sharing_diagnostics`` the policy's (policy + entropy) and the value's
    losses are differentiated apart from one forward pass (``sharing.role_gradients``), the value's
    gradient is weighted at the trunk, and ``aux`` gains the trunk diagnostics.
    """
    with_entropy = bool(config.entropy_loss_scale)
    by_role = config.trunk_value_weight is not None or config.sharing_diagnostics
    trunk_weight = 1.0 if config.trunk_value_weight is None else config.trunk_value_weight

    def loss(params, scaler_state, minibatch: Minibatch, key):
        states = _standardize_observations(config, scaler_state, minibatch.states)
        sequences = {} if minibatch.dones is None else {"terminated": minibatch.dones}
        taken = {"taken_samples" if models.records_samples else "taken_actions": minibatch.actions}
        inputs = _model_inputs(config, states, **taken, **sequences)
        (_, log_prob, outputs), values, entropy, _ = models.evaluate(params, inputs, key, with_entropy, minibatch.rnn)
        if minibatch.gae is not None:
            minibatch = recomputed_advantages(models, config, params, scaler_state, minibatch, values, key)
        stddev = outputs.get("stddev", jnp.full((1,), jnp.nan))
        evaluation = Evaluation(log_prob, entropy, values, stddev)
        total, aux = loss_function(evaluation, minibatch, config)
        return total, dict(aux, stddev=jnp.mean(stddev))

    def role_parts(aux):
        return aux["policy_loss"] + aux["entropy_loss"], aux["value_loss"]

    def gradients(params, scaler_state, minibatch: Minibatch, key: jax.Array):
        if not by_role:
            (total, aux), grads = jax.value_and_grad(loss, has_aux=True)(params, scaler_state, minibatch, key)
            return grads, total, aux
        policy_grads, value_grads, total, aux = role_gradients(loss, role_parts, params, scaler_state, minibatch, key)
        trunk = models.trunk_mask(params)
        if config.sharing_diagnostics:
            aux = {**aux, **trunk_diagnostics(policy_grads, value_grads, trunk, trunk_weight)}
        return combine_gradients(policy_grads, value_grads, trunk, trunk_weight), total, aux

    return gradients


class EpochProgress(NamedTuple):
    """What one epoch's minibatches carry from one to the next."""

    learner: OnPolicyLearner
    stopped: jax.Array  # the KL early stop ended the epoch
    kl_sum: jax.Array  # over the minibatches processed (those before the stop and the one that stopped)
    kl_count: jax.Array
    nan_at: jax.Array  # the first gradient step whose loss was not finite, -1 if none
    first_epoch: jax.Array


def learned_state_scalers(config: OnPolicyConfig, progress: EpochProgress, states: jax.Array) -> Any:
    """The state scalers a minibatch of raw ``states`` ``(B, size)`` is standardised with: as skrl,
    they learn from each minibatch of the first epoch until a KL early stop (with
    ``state_preprocessor_update="rollout"`` they learnt before the epochs, and are kept)."""
    scaler_state = progress.learner.state_scaler
    if not _has_state_scalers(config) or config.state_preprocessor_update == "rollout":
        return scaler_state
    updated = _update_scalers(config, scaler_state, states)
    learning = progress.first_epoch & ~progress.stopped
    return jax.tree.map(lambda new, old: jnp.where(learning, new, old), updated, scaler_state)


def minibatch_step(
    models: ActorCritic,
    config: OnPolicyConfig,
    loss_function: LossFunction,
    progress: EpochProgress,
    inputs: tuple[Minibatch, jax.Array, jax.Array],
) -> tuple[EpochProgress, dict[str, jax.Array]]:
    """One gradient step on ``inputs = (minibatch, key, index)``, pure (the body of an epoch's scan).

    With ``kl_threshold`` a minibatch whose KL exceeds it is not applied and ends its epoch (its
    loss terms read 0). Returns the progress and the step's loss terms with ``applied``.
    """
    minibatch, key, index = inputs
    learner = progress.learner
    scaler_state = learned_state_scalers(config, progress, minibatch.states)
    grads, total, aux = make_gradients(models, config, loss_function)(learner.params, scaler_state, minibatch, key)
    optimizer = make_on_policy_optimizer(models, config)
    params, opt_state = apply_gradients(optimizer, grads, learner.params, learner.opt_state)
    kl = aux["kl_divergence"]
    # masks only when the KL early stop can skip steps: selects on every leaf cost time
    stopping = bool(config.kl_threshold)
    over_kl = kl > config.kl_threshold if stopping else jnp.zeros((), bool)
    apply = ~progress.stopped & ~over_kl if stopping else jnp.ones((), bool)
    if stopping:
        keep = lambda new, old: jnp.where(apply, new, old)  # noqa: E731
        params = jax.tree.map(keep, params, learner.params)
        opt_state = jax.tree.map(keep, opt_state, learner.opt_state)
        aux = {name: jnp.where(apply, value, 0.0) for name, value in aux.items()}
    processed = ~progress.stopped
    progress = EpochProgress(
        learner=learner._replace(params=params, opt_state=opt_state, state_scaler=scaler_state),
        stopped=progress.stopped | over_kl,
        kl_sum=progress.kl_sum + jnp.where(processed, kl, 0.0),
        kl_count=progress.kl_count + processed,
        nan_at=jnp.where((progress.nan_at < 0) & processed & ~jnp.isfinite(total), index, progress.nan_at),
        first_epoch=progress.first_epoch,
    )
    return progress, dict(aux, applied=apply)


# --- the update, 4: epochs and metrics --------------------------------------------------------


def _adapt_learning_rate(config: OnPolicyConfig, learning_rate: jax.Array, kl: jax.Array, epoch_count: jax.Array):
    if config.scheduler is None:
        return learning_rate
    if isinstance(config.scheduler, KLAdaptiveLR):
        return config.scheduler(epoch_count, learning_rate, kl)
    return config.learning_rate * config.scheduler(epoch_count)


def epoch_step(
    models: ActorCritic,
    config: OnPolicyConfig,
    loss_function: LossFunction,
    units: Minibatch,
    carry: tuple[OnPolicyLearner, jax.Array],
    inputs: tuple[jax.Array, jax.Array],
) -> tuple[tuple[OnPolicyLearner, jax.Array], dict[str, jax.Array]]:
    """One epoch over ``units`` (``sampling_units``), pure (the body of the update's scan):
    ``carry = (learner, nan_at)``, ``inputs = (epoch, key)``. The scheduler then sets the learning
    rate (the KL-adaptive one from the mean KL of the minibatches the epoch processed). Returns
    each minibatch's loss terms ``(mini_batches,)`` and the epoch's ``epoch_kl``."""
    learner, nan_at = carry
    epoch, key = inputs
    order_key, minibatch_key = jax.random.split(key)
    order = minibatch_order(config, units.states.shape[0], order_key)
    minibatches = split_minibatches(units, order, config.mini_batches)
    keys = jax.random.split(minibatch_key, config.mini_batches)
    indices = epoch * config.mini_batches + jnp.arange(config.mini_batches)
    progress = EpochProgress(learner, jnp.zeros((), bool), jnp.zeros(()), jnp.zeros(()), nan_at, epoch == 0)
    progress, per_minibatch = jax.lax.scan(
        functools.partial(minibatch_step, models, config, loss_function), progress, (minibatches, keys, indices)
    )
    learner = progress.learner
    kl = progress.kl_sum / jnp.maximum(progress.kl_count, 1.0)
    if config.scheduler is not None:
        epoch_count = learner.updates * config.learning_epochs + epoch
        learning_rate = _adapt_learning_rate(config, get_learning_rate(learner.opt_state), kl, epoch_count)
        learner = learner._replace(opt_state=set_learning_rate(learner.opt_state, learning_rate))
    return (learner, progress.nan_at), dict(per_minibatch, epoch_kl=kl)


def update_metrics(
    config: OnPolicyConfig, learner: OnPolicyLearner, nan_at: jax.Array, history: dict[str, jax.Array]
) -> dict[str, jax.Array]:
    """The update's metrics from ``history`` (``(learning_epochs, mini_batches)`` per entry, as
    ``epoch_step`` returns them): skrl's means over every gradient step, the mean epoch KL, the
    stddev of the last step applied; with ``sharing_diagnostics`` those means over the steps applied."""
    steps = config.learning_epochs * config.mini_batches
    applied = history["applied"]
    last_applied = jnp.maximum(jnp.argmax(jnp.flip(applied.reshape(-1))), 0)
    metrics = {
        "policy_loss": history["policy_loss"].sum() / steps,
        "value_loss": history["value_loss"].sum() / steps,
        "entropy_loss": history["entropy_loss"].sum() / steps,
        "kl_divergence": history["epoch_kl"].mean(),
        "stddev": history["stddev"].reshape(-1)[steps - 1 - last_applied],
        "learning_rate": get_learning_rate(learner.opt_state),
        "minibatches_applied": applied.sum(),
        "nan_at": nan_at,
    }
    if config.sharing_diagnostics:
        count = jnp.maximum(applied.sum(), 1)
        metrics.update({name: history[name].sum() / count for name in DIAGNOSTIC_TAGS})
    return metrics


def update_learner(
    models: ActorCritic,
    config: OnPolicyConfig,
    loss_function: LossFunction,
    learner: OnPolicyLearner,
    rollout: Rollout,
    key: jax.Array,
) -> tuple[OnPolicyLearner, dict[str, jax.Array]]:
    """One on-policy update on ``rollout``, pure: GAE, then ``learning_epochs`` epochs of
    ``mini_batches`` gradient steps.

    As skrl: the state preprocessor learns from each minibatch of the first epoch (with
    ``state_preprocessor_update="rollout"``, brax's PPO: from the whole rollout before it); with
    ``kl_threshold`` a minibatch whose KL exceeds it is not applied and ends its epoch; the
    KL-adaptive scheduler sees the mean KL of the minibatches an epoch processed. With
    ``shuffle_minibatches`` (the default) minibatches are drawn from a fresh permutation every
    epoch; without it they are consecutive slices of the memory, as skrl 1.4 takes them.
    ``metrics["nan_at"]`` is the index (epoch * mini_batches + minibatch) of the first non-finite
    loss, -1 if none.
    """
    last_key, epochs_key = jax.random.split(key)
    learner, samples = gae_samples(models, config, learner, rollout, last_key)
    if config.state_preprocessor_update == "rollout" and _has_state_scalers(config):
        learner = learner._replace(state_scaler=_update_scalers(config, learner.state_scaler, rollout.states))
    if config.recompute_advantages:
        units = rollout_units(samples, rollout)
    else:
        units = sampling_units(samples, rollout, models.sequence_length if models.recurrent_names else 0)
    (learner, nan_at), history = jax.lax.scan(
        functools.partial(epoch_step, models, config, loss_function, units),
        (learner, -jnp.ones((), jnp.int32)),
        (jnp.arange(config.learning_epochs), jax.random.split(epochs_key, config.learning_epochs)),
    )
    metrics = update_metrics(config, learner, nan_at, history)
    return learner._replace(updates=learner.updates + 1), metrics


def make_update(models: ActorCritic, config: OnPolicyConfig, loss_function: LossFunction) -> Callable:
    """``update(learner, rollout, key) -> (learner, metrics)``: ``update_learner`` over these."""
    return functools.partial(update_learner, models, config, loss_function)
