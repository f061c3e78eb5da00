"""SAC as pure functions: ``make_sac(models, config) -> AgentFunctions`` over a frozen ``SACConfig``.

Models: ``policy`` (Gaussian), ``critic_1``, ``critic_2``, ``target_critic_1``, ``target_critic_2``.
Twin critics may be one model that declares ``DeterministicMixin`` twice (roles ``critic_1`` and
``critic_2``) passed under both critic keys, with a second instance under both target keys: its
parameters are stored once and its trunk computed once per pass. The policy may be that model too
(``GaussianMixin`` with role ``policy`` beside the critics): then its parameter subtrees fall in
``sharing.py``'s groups, the critics being the value side: ``"trunk"`` (the encoder the policy and
a critic both read), ``"policy"`` and ``"value"``. The critics' loss trains the encoder; the
actor's loss trains group ``"policy"``, the encoder only with ``actor_gradient_to_encoder``, and
never the critics' own subtrees.

The state is ``AgentState(learner=OffPolicyLearner, memory=MemoryState)``; the learner's scalar
``log_entropy_coefficient`` is ``log(alpha)``. Every update step makes, in order: the critics'
step on the soft targets, the actor's step against the updated critics, the entropy
coefficient's step, then the targets' move toward the critics (``polyak``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.gradients import apply_gradients, gradient_step, make_optimizer
from skrl_jax.agents.off_policy.functions import (
    Batch,
    OffPolicyLearner,
    ReplayConfig,
    first_state,
    initial_params,
    make_record,
    polyak_targets,
    random_actions,
    repeat_gradient_steps,
    sample_batch,
    standardize,
    value_statistics,
)
from skrl_jax.agents.off_policy.models import ModelSet
from skrl_jax.agents.sac.losses import critic_loss, entropy_loss, policy_loss, soft_target
from skrl_jax.agents.sharing import (
    DIAGNOSTIC_TAGS,
    UNUSED,
    group_of,
    stop_gradient_groups,
    trunk_diagnostics,
    trunk_mask,
    weight_trunk,
)
from skrl_jax.resources.preprocessors import scaler_update

CRITICS = ("critic_1", "critic_2")
TARGETS = ("target_critic_1", "target_critic_2")

SAC_METRIC_TAGS = {
    "policy_loss": "Loss / Policy loss",
    "critic_loss": "Loss / Critic loss",
    "q1_max": "Q-network / Q1 (max)",
    "q1_min": "Q-network / Q1 (min)",
    "q1_mean": "Q-network / Q1 (mean)",
    "q2_max": "Q-network / Q2 (max)",
    "q2_min": "Q-network / Q2 (min)",
    "q2_mean": "Q-network / Q2 (mean)",
    "target_max": "Target / Target (max)",
    "target_min": "Target / Target (min)",
    "target_mean": "Target / Target (mean)",
    "entropy_loss": "Loss / Entropy loss",
    "entropy_coefficient": "Coefficient / Entropy coefficient",
}


@dataclasses.dataclass(frozen=True, eq=False)
class SACConfig:
    """SAC's settings, fixed when its functions are built (skrl's cfg keys).

    replay: the replay buffer, sampling, preprocessing and ``random_timesteps`` (``ReplayConfig``).
    discount_factor / polyak: skrl's keys (the targets move by ``polyak`` after every step).
    actor_learning_rate / critic_learning_rate: Adam's, on the policy and on both critics (one optimizer).
    grad_norm_clip: global-norm clipping of the actor's and the critics' gradients (0: none).
    learn_entropy / entropy_learning_rate / initial_entropy_value: the entropy coefficient
        ``alpha``, learned from ``initial_entropy_value`` (Adam on ``log(alpha)``) or fixed there.
    target_entropy: the entropy ``alpha`` is tuned toward; None (skrl's default) resolves to
        ``-prod(action_space.shape)`` when the config is made, so it is a float afterwards.
    actor_gradient_to_encoder: with one model for the policy and the critics, whether the actor's
        loss trains the encoder they share too (False: only the critics' loss does, the DrQ /
        SAC-AE practice).
    sharing_diagnostics: that model's actor's and critics' gradients on the encoder compared, in
        the metrics (``sharing.trunk_diagnostics``; the actor's is measured even where not applied).
    """

    replay: ReplayConfig
    discount_factor: float = 0.99
    polyak: float = 0.005
    actor_learning_rate: float = 1e-3
    critic_learning_rate: float = 1e-3
    grad_norm_clip: float = 0.0
    learn_entropy: bool = True
    entropy_learning_rate: float = 1e-3
    initial_entropy_value: float = 0.2
    target_entropy: float | None = None
    actor_gradient_to_encoder: bool = False
    sharing_diagnostics: bool = False

    def __post_init__(self) -> None:
        if self.target_entropy is None:  # skrl's default: minus the number of action dimensions
            object.__setattr__(self, "target_entropy", -float(np.prod(self.replay.action_space.shape)))


class SACOptimizers(NamedTuple):
    """Adam on the policy, on both critics (one optimizer), and on ``log(alpha)``."""

    policy: optax.GradientTransformation
    critic: optax.GradientTransformation
    entropy: optax.GradientTransformation


def sac_optimizers(config: SACConfig) -> SACOptimizers:
    """The three Adam optimizers of ``config`` (the entropy's unclipped, as skrl's)."""
    return SACOptimizers(
        policy=make_optimizer(config.actor_learning_rate, config.grad_norm_clip),
        critic=make_optimizer(config.critic_learning_rate, config.grad_norm_clip),
        entropy=make_optimizer(config.entropy_learning_rate),
    )


def critic_keys(models: ModelSet) -> list[str]:
    """The parameter keys of the critics' models (one for twin critics in one model)."""
    return list(dict.fromkeys(models.param_keys[name] for name in CRITICS))


def policy_groups(models: ModelSet) -> dict[str, dict[str, str]] | None:
    """``{policy's parameter key: {top-level subtree: group}}`` when the policy is also a critic's
    model (``sharing.group_of`` with the critics as the value side), None when it is a model of its own."""
    policy_key = models.param_keys["policy"]
    if policy_key not in critic_keys(models):
        return None
    readers = models.models["policy"].parameter_roles()
    return {policy_key: {name: group_of(roles, "policy", CRITICS) for name, roles in readers.items()}}


def check_encoder_settings(
    groups: dict[str, dict[str, str]] | None, actor_gradient_to_encoder: bool, sharing_diagnostics: bool
) -> None:
    """A ``ValueError`` when the encoder settings ask for an encoder the models do not have
    (``groups``: ``policy_groups(models)``)."""
    for key, value in (
        ("actor_gradient_to_encoder", actor_gradient_to_encoder),
        ("sharing_diagnostics", sharing_diagnostics),
    ):
        if value and groups is None:
            raise ValueError(
                f"SAC: cfg[{key!r}]=True needs one model for the policy and the critics (an encoder they "
                "share); the policy here is a model of its own"
            )
    if sharing_diagnostics and not any(group == "trunk" for trees in groups.values() for group in trees.values()):
        raise ValueError(
            "SAC: cfg['sharing_diagnostics']=True needs an encoder, a parameter subtree the policy and the critics "
            "both read; this model's roles read none in common (check model.parameter_roles())"
        )


def actor_frozen_groups(config: SACConfig) -> frozenset[str]:
    """The groups the actor's loss gives no gradient: the critics' own subtrees and unread ones, and
    the encoder unless the actor trains it or the diagnostics measure the actor's gradient there."""
    measured = config.actor_gradient_to_encoder or config.sharing_diagnostics
    return frozenset({"value", UNUSED} if measured else {"value", UNUSED, "trunk"})


def init_sac(
    models: ModelSet,
    config: SACConfig,
    optimizers: SACOptimizers,
    key: jax.Array,
    params: Mapping[str, Any] | None = None,
) -> AgentState:
    """The first state: given or fresh parameters (targets copies of the critics), ``log(alpha)`` at
    ``log(initial_entropy_value)``, an empty buffer."""
    keys = models.param_keys
    params = initial_params(models, key, params)
    log_alpha = jnp.log(jnp.asarray(config.initial_entropy_value, jnp.float32))
    opt_states = {
        "policy": optimizers.policy.init(params[keys["policy"]]),
        "critic": optimizers.critic.init({name: params[name] for name in critic_keys(models)}),
        "entropy": optimizers.entropy.init(log_alpha),
    }
    return first_state(config.replay, params, opt_states, {"log_entropy_coefficient": log_alpha})


def sac_act(
    models: ModelSet,
    config: SACConfig,
    state: AgentState,
    observations: jax.Array,
    key: jax.Array,
    timestep: jax.Array,
    deterministic: bool = False,
) -> tuple[jax.Array, dict[str, Any]]:
    """``(num_envs, action_size)`` actions for ``(num_envs, size)`` observations: sampled from the
    policy (its mean when ``deterministic``), uniform before ``random_timesteps``; the extras hold
    the sample's ``log_prob`` and the policy's outputs."""
    learner = state.learner
    inputs = {"states": standardize(config.replay, learner.state_scaler, observations)}
    sample_key, random_key = jax.random.split(key)
    actions, log_prob, outputs = models.act(learner.params, inputs, ["policy"], sample_key)["policy"]
    extras = {"log_prob": log_prob, "outputs": outputs}
    if deterministic:
        return outputs["mean_actions"], extras
    if config.replay.random_timesteps:
        random = random_actions(config.replay, random_key, observations.shape[0])
        actions = jnp.where(timestep < config.replay.random_timesteps, random, actions)
    return actions, extras


def soft_targets(
    models: ModelSet,
    config: SACConfig,
    params: Mapping[str, Any],
    batch: Batch,
    next_states: jax.Array,
    alpha: jax.Array,
    key: jax.Array,
) -> jax.Array:
    """``(batch, 1)`` soft targets without gradient: the target critics at the next states and the
    policy's next actions (sampled with ``key``), less ``alpha`` times their log-probabilities."""
    next_actions, next_log_prob, _ = models.act(params, {"states": next_states}, ["policy"], key)["policy"]
    targets = models.act(params, {"states": next_states, "taken_actions": next_actions}, TARGETS)
    target_q1, target_q2 = targets[TARGETS[0]][0], targets[TARGETS[1]][0]
    return soft_target(batch.rewards, batch.dones, target_q1, target_q2, next_log_prob, alpha, config.discount_factor)


def critic_step(
    models: ModelSet,
    optimizer: optax.GradientTransformation,
    params: Mapping[str, Any],
    opt_state: Any,
    states: jax.Array,
    actions: jax.Array,
    targets: jax.Array,
) -> tuple[dict[str, Any], Any, jax.Array, tuple[jax.Array, jax.Array], dict[str, Any]]:
    """One step of both critics on the mean of their squared errors to ``targets`` ``(batch, 1)``
    at the ``(batch, size)`` states and taken actions.

    Returns:
        ``(critic_params, opt_state, loss, (q1, q2), grads)``: the critics' new parameters and raw
        gradients by parameter key, their ``(batch, 1)`` values before the step.
    """

    def loss(critic_params: dict[str, Any]) -> tuple[jax.Array, tuple[jax.Array, jax.Array]]:
        inputs = {"states": states, "taken_actions": actions}
        values = models.act({**params, **critic_params}, inputs, CRITICS)
        q1, q2 = values["critic_1"][0], values["critic_2"][0]
        return critic_loss(q1, q2, targets), (q1, q2)

    critic_params = {name: params[name] for name in critic_keys(models)}
    (loss_value, values), grads = jax.value_and_grad(loss, has_aux=True)(critic_params)
    critic_params, opt_state = apply_gradients(optimizer, grads, critic_params, opt_state)
    return critic_params, opt_state, loss_value, values, grads


def actor_step(
    models: ModelSet,
    config: SACConfig,
    optimizer: optax.GradientTransformation,
    groups: dict[str, dict[str, str]] | None,
    params: Mapping[str, Any],
    opt_state: Any,
    states: jax.Array,
    alpha: jax.Array,
    key: jax.Array,
    critic_grads: Mapping[str, Any],
) -> tuple[Any, Any, jax.Array, jax.Array, dict[str, jax.Array]]:
    """One step of the policy on ``mean(alpha * log pi(a|s) - min(Q1, Q2)(s, a))`` at the
    ``(batch, size)`` states, ``a`` sampled with ``key``; the critics (``params``, already stepped)
    get no gradient. ``groups``: ``policy_groups(models)``; ``critic_grads``: ``critic_step``'s.

    Returns:
        ``(policy_params, opt_state, loss, log_prob, diagnostics)``: ``log_prob`` ``(batch, 1)`` of
        the sampled actions; ``diagnostics`` the encoder's gradient metrics (empty without them).
    """
    policy_key = models.param_keys["policy"]
    frozen_critics = jax.lax.stop_gradient({name: params[name] for name in critic_keys(models)})
    frozen_groups = actor_frozen_groups(config)

    def loss(policy_params: dict[str, Any]) -> tuple[jax.Array, jax.Array]:
        if groups is not None:  # one model: the actor trains only its groups of it
            policy_params = stop_gradient_groups(groups, policy_params, frozen_groups)
        current = {**params, **frozen_critics, **policy_params}
        actions, log_prob, _ = models.act(current, {"states": states}, ["policy"], key)["policy"]
        values = models.act(current, {"states": states, "taken_actions": actions}, CRITICS)
        return policy_loss(log_prob, values["critic_1"][0], values["critic_2"][0], alpha), log_prob

    trees = {policy_key: params[policy_key]}
    (loss_value, log_prob), grads = jax.value_and_grad(loss, has_aux=True)(trees)
    diagnostics = {}
    if config.sharing_diagnostics:
        encoder = trunk_mask(groups, grads)
        actor_weight = float(config.actor_gradient_to_encoder)
        critics_on_policy = {policy_key: critic_grads[policy_key]}
        diagnostics = trunk_diagnostics(grads, critics_on_policy, encoder, trunk_policy_weight=actor_weight)
        grads = weight_trunk(grads, encoder, actor_weight)  # measured, applied only when asked
    policy_params, opt_state = apply_gradients(optimizer, grads[policy_key], params[policy_key], opt_state)
    return policy_params, opt_state, loss_value, log_prob, diagnostics


def entropy_step(
    config: SACConfig,
    optimizer: optax.GradientTransformation,
    log_alpha: jax.Array,
    opt_state: Any,
    log_prob: jax.Array,
) -> tuple[jax.Array, Any, jax.Array]:
    """One step of ``log(alpha)`` (scalar) on ``-mean(log_alpha * (log_prob + target_entropy))``,
    ``log_prob`` ``(batch, 1)``: ``(log_alpha, opt_state, loss)``."""

    def loss(log_alpha: jax.Array) -> tuple[jax.Array, None]:
        return entropy_loss(log_alpha, log_prob, config.target_entropy), None

    log_alpha, opt_state, loss_value, _ = gradient_step(loss, optimizer, log_alpha, opt_state)
    return log_alpha, opt_state, loss_value


def sac_step(
    models: ModelSet,
    config: SACConfig,
    optimizers: SACOptimizers,
    groups: dict[str, dict[str, str]] | None,
    learner: OffPolicyLearner,
    memory: Any,
    key: jax.Array,
) -> tuple[OffPolicyLearner, dict[str, jax.Array], jax.Array]:
    """One gradient step of the critics, the actor and alpha on ``batch_size`` samples, then the
    targets' move: ``(learner, metrics, finite)``, metrics scalars (``SAC_METRIC_TAGS``' names)."""
    sample_key, next_key, policy_key = jax.random.split(key, 3)
    batch = sample_batch(config.replay, memory, sample_key)
    scaler = learner.state_scaler
    if config.replay.state_preprocessor is not None:
        scaler = scaler_update(scaler, batch.states)
    states = standardize(config.replay, scaler, batch.states)
    next_states = standardize(config.replay, scaler, batch.next_states)
    params, opt_states = learner.params, dict(learner.opt_states)
    log_alpha = learner.scalars["log_entropy_coefficient"]
    alpha = jnp.exp(log_alpha)

    targets = soft_targets(models, config, params, batch, next_states, alpha, next_key)
    critic_params, opt_states["critic"], critic_value, (q1, q2), critic_grads = critic_step(
        models, optimizers.critic, params, opt_states["critic"], states, batch.actions, targets
    )
    params = {**params, **critic_params}
    policy_params, opt_states["policy"], policy_value, log_prob, diagnostics = actor_step(
        models, config, optimizers.policy, groups, params, opt_states["policy"], states, alpha, policy_key, critic_grads
    )
    params = {**params, models.param_keys["policy"]: policy_params}
    entropy_value = jnp.zeros(())
    if config.learn_entropy:
        log_alpha, opt_states["entropy"], entropy_value = entropy_step(
            config, optimizers.entropy, log_alpha, opt_states["entropy"], log_prob
        )
    params = polyak_targets(models, params, config.polyak)
    learner = OffPolicyLearner(
        params, opt_states, {"log_entropy_coefficient": log_alpha}, scaler, learner.gradient_steps + 1
    )
    metrics = {
        "policy_loss": policy_value,
        "critic_loss": critic_value,
        **value_statistics("q1", q1),
        **value_statistics("q2", q2),
        **value_statistics("target", targets),
        "entropy_loss": entropy_value,
        "entropy_coefficient": jnp.exp(log_alpha),
        **diagnostics,
    }
    finite = jnp.isfinite(critic_value) & jnp.isfinite(policy_value) & jnp.isfinite(entropy_value)
    return learner, metrics, finite


def sac_metric_tags(config: SACConfig) -> dict[str, str]:
    """Metric name -> TensorBoard tag: skrl's, without alpha's with a fixed alpha, plus the diagnostics'."""
    tags = dict(SAC_METRIC_TAGS, **(DIAGNOSTIC_TAGS if config.sharing_diagnostics else {}))
    if not config.learn_entropy:
        tags.pop("entropy_loss")
        tags.pop("entropy_coefficient")
    return tags


def make_sac(models: ModelSet, config: SACConfig) -> AgentFunctions:
    """SAC's pure functions over ``config.replay.num_envs`` environments.

    The update runs after every step from ``learning_starts`` and makes ``gradient_steps`` steps
    (``sac_step``). ``models`` holds the five keys (see the module's docstring).
    """
    optimizers = sac_optimizers(config)
    groups = policy_groups(models)
    check_encoder_settings(groups, config.actor_gradient_to_encoder, config.sharing_diagnostics)

    def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
        return init_sac(models, config, optimizers, key, params)

    def act(state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic=False):
        return sac_act(models, config, state, observations, key, timestep, deterministic)

    def step(learner: OffPolicyLearner, memory: Any, key: jax.Array, timestep: jax.Array):
        return sac_step(models, config, optimizers, groups, learner, memory, key)

    return AgentFunctions(
        init=init,
        act=act,
        record=make_record(config.replay),
        update=repeat_gradient_steps(step, config.replay.gradient_steps),
        update_interval=1,
        learning_starts=config.replay.learning_starts,
        metric_tags=sac_metric_tags(config),
    )
