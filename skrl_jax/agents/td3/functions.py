"""TD3 as pure functions: ``make_td3(models, config) -> AgentFunctions`` over a frozen ``TD3Config``.

Models (a ``ModelSet``): ``policy`` and ``target_policy`` (deterministic), ``critic_1``,
``critic_2``, ``target_critic_1``, ``target_critic_2``. Twin critics may be one model that
declares ``DeterministicMixin`` twice (roles ``critic_1`` and ``critic_2``) passed under both
critic keys, with a second instance under both target keys: its parameters are stored once and
its trunk computed once per pass. Acting, exploration and the policy's step are DDPG's
(``ddpg/functions.py``); the state is DDPG's, with the smoothing noise's state (an
Ornstein-Uhlenbeck noise's) in ``learner.scalars["smooth_noise"]``, one per sampled transition.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.ddpg.functions import (
    DDPG_METRIC_TAGS,
    EXPLORATION_METRIC_TAGS,
    DDPGConfig,
    box_bounds,
    initial_exploration,
    make_act,
    optimizers,
    policy_step,
    standardized_sample,
    with_exploration_metrics,
)
from skrl_jax.agents.gradients import gradient_step
from skrl_jax.agents.off_policy.functions import (
    Batch,
    OffPolicyLearner,
    first_state,
    initial_params,
    make_record,
    polyak_targets,
    repeat_gradient_steps,
    value_statistics,
)
from skrl_jax.agents.off_policy.models import ModelSet
from skrl_jax.agents.td3.losses import critic_loss, smoothed_target_actions, twin_target
from skrl_jax.core.spaces import compute_space_size
from skrl_jax.memories.random import MemoryState

CRITICS = ("critic_1", "critic_2")
TARGETS = ("target_critic_1", "target_critic_2")

# DDPG's metrics and the second critic's values
TD3_METRIC_TAGS = {
    **DDPG_METRIC_TAGS,
    "q2_max": "Q-network / Q2 (max)",
    "q2_min": "Q-network / Q2 (min)",
    "q2_mean": "Q-network / Q2 (mean)",
}


@dataclasses.dataclass(frozen=True, eq=False)
class TD3Config(DDPGConfig):
    """What TD3's functions are built over: DDPG's settings (``DDPGConfig``) and skrl's TD3 keys.

    policy_delay: the policy and every target are updated after every ``policy_delay``-th critic step.
    smooth_regularization_noise: the target policy smoothing noise (skrl's noise; None: no smoothing).
    smooth_regularization_clip: the smoothing noise is clipped to ``[-clip, clip]``.
    """

    policy_delay: int = 2
    smooth_regularization_noise: Any = None
    smooth_regularization_clip: float = 0.5


def critic_param_keys(models: ModelSet) -> list[str]:
    """The stored keys of the twin critics (one when a single model serves both)."""
    keys = models.param_keys
    return list(dict.fromkeys(keys[name] for name in CRITICS))


def smoothed_twin_targets(
    models: ModelSet, config: TD3Config, params: dict[str, Any], scalars: dict[str, Any], batch: Batch, key: jax.Array
) -> tuple[jax.Array, dict[str, Any]]:
    """``(batch, 1)`` targets ``r + gamma * (1 - done) * min(Q1'(s', a'), Q2'(s', a'))`` of
    standardized ``batch``, ``a'`` the target policy's smoothed actions; and ``scalars`` with the
    smoothing noise's new state."""
    next_states = batch.next_states
    next_actions = models.act(params, {"states": next_states}, ["target_policy"])["target_policy"][0]
    noise = config.smooth_regularization_noise
    if noise is not None:
        noises, smooth_state = noise.sample(scalars["smooth_noise"], key, next_actions.shape)
        scalars = {**scalars, "smooth_noise": smooth_state}
        low, high = box_bounds(config.replay.action_space)
        next_actions = smoothed_target_actions(next_actions, noises, config.smooth_regularization_clip, low, high)
    targets = models.act(params, {"states": next_states, "taken_actions": next_actions}, TARGETS)
    values = twin_target(
        batch.rewards, batch.dones, targets[TARGETS[0]][0], targets[TARGETS[1]][0], config.discount_factor
    )
    return values, scalars


def twin_critic_step(
    models: ModelSet,
    optimizer: optax.GradientTransformation,
    params: dict[str, Any],
    opt_state: Any,
    batch: Batch,
    targets: jax.Array,
) -> tuple[dict[str, Any], Any, jax.Array, tuple[jax.Array, jax.Array]]:
    """One step of both critics on the sum of their mean squared errors to ``targets`` ``(batch,
    1)``, one optimizer for both: ``(critic params by stored key, opt_state, loss, (Q1, Q2))``."""

    def critics_loss(critic_params):
        inputs = {"states": batch.states, "taken_actions": batch.actions}
        values = models.act({**params, **critic_params}, inputs, CRITICS)
        q1, q2 = values["critic_1"][0], values["critic_2"][0]
        return critic_loss(q1, q2, targets), (q1, q2)

    critic_params = {name: params[name] for name in critic_param_keys(models)}
    return gradient_step(critics_loss, optimizer, critic_params, opt_state)


def delayed_policy_step(
    models: ModelSet,
    config: TD3Config,
    params: dict[str, Any],
    opt_state: Any,
    states: jax.Array,
    delayed: jax.Array,
) -> tuple[dict[str, Any], Any, jax.Array]:
    """When ``delayed``: a policy step up the first critic (``policy_step``), then every target
    moved toward its online model; else nothing, and a NaN loss. ``(params, opt_state, loss)``."""
    optimizer = optimizers(config)["policy"]

    def policy_and_targets(operand):
        params, opt_state = operand
        policy_params, opt_state, loss, _ = policy_step(models, optimizer, params, opt_state, states, "critic_1")
        params = polyak_targets(models, {**params, models.param_keys["policy"]: policy_params}, config.polyak)
        return params, opt_state, loss

    def no_step(operand):
        params, opt_state = operand
        return params, opt_state, jnp.full((), jnp.nan, jnp.float32)

    return jax.lax.cond(delayed, policy_and_targets, no_step, (params, opt_state))


def td3_step(
    models: ModelSet,
    config: TD3Config,
    learner: OffPolicyLearner,
    memory: MemoryState,
    key: jax.Array,
    timestep: jax.Array,
) -> tuple[OffPolicyLearner, dict[str, jax.Array], jax.Array]:
    """One gradient step on a sample: both critics, then (every ``policy_delay``-th step, counted
    by ``learner.gradient_steps``) the policy and the targets; ``(learner, metrics, finite)``.

    The policy loss is reported as a sum and a count (``policy_loss_sum``, ``policy_steps``), so
    that an update of several gradient steps averages the policy steps only (``with_policy_loss``).
    """
    sample_key, smooth_key = jax.random.split(key)
    batch, scaler = standardized_sample(config.replay, learner.state_scaler, memory, sample_key)
    targets, scalars = smoothed_twin_targets(models, config, learner.params, learner.scalars, batch, smooth_key)
    critic_params, critic_opt, critic_value, (q1, q2) = twin_critic_step(
        models, optimizers(config)["critic"], learner.params, learner.opt_states["critic"], batch, targets
    )
    delayed = (learner.gradient_steps + 1) % config.policy_delay == 0
    params, policy_opt, policy_value = delayed_policy_step(
        models, config, {**learner.params, **critic_params}, learner.opt_states["policy"], batch.states, delayed
    )
    opt_states = {"policy": policy_opt, "critic": critic_opt}
    learner = OffPolicyLearner(params, opt_states, scalars, scaler, learner.gradient_steps + 1)
    metrics = {
        "policy_loss_sum": jnp.where(delayed, policy_value, 0.0),
        "policy_steps": delayed.astype(jnp.float32),
        "critic_loss": critic_value,
        **value_statistics("q1", q1),
        **value_statistics("q2", q2),
        **value_statistics("target", targets),
    }
    return learner, metrics, jnp.isfinite(critic_value) & (~delayed | jnp.isfinite(policy_value))


def with_policy_loss(update: Callable[..., tuple]) -> Callable[..., tuple]:
    """``update`` whose metrics report ``policy_loss``, the mean over its policy steps (NaN, so not
    logged, in an update without one), instead of ``td3_step``'s sum and count."""

    def update_and_average(state: AgentState, key: jax.Array, timestep: jax.Array):
        state, metrics = update(state, key, timestep)
        total, count = metrics.pop("policy_loss_sum"), metrics.pop("policy_steps")
        metrics["policy_loss"] = jnp.where(count > 0, total / jnp.maximum(count, 1e-12), jnp.nan)
        return state, metrics

    return update_and_average


def make_td3(models: ModelSet, config: TD3Config) -> AgentFunctions:
    """TD3's pure functions (skrl's PyTorch TD3's formulas): ``update`` makes ``gradient_steps``
    ``td3_step`` after every environment step from ``learning_starts``."""
    keys, optimizer = models.param_keys, optimizers(config)
    noise = config.smooth_regularization_noise
    smooth_shape = (config.replay.batch_size, compute_space_size(config.replay.action_space, occupied_size=True))

    def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
        params = initial_params(models, key, params)
        opt_states = {
            "policy": optimizer["policy"].init(params[keys["policy"]]),
            "critic": optimizer["critic"].init({name: params[name] for name in critic_param_keys(models)}),
        }
        scalars = {} if noise is None else {"smooth_noise": noise.initial_state(smooth_shape)}
        return first_state(config.replay, params, opt_states, scalars, initial_exploration(config))

    update = repeat_gradient_steps(functools.partial(td3_step, models, config), config.replay.gradient_steps)
    update = with_policy_loss(update)
    explores = config.exploration_noise is not None
    return AgentFunctions(
        init=init,
        act=make_act(models, config),
        record=make_record(config.replay),
        update=with_exploration_metrics(update) if explores else update,
        update_interval=1,
        learning_starts=config.replay.learning_starts,
        metric_tags={**TD3_METRIC_TAGS, **(EXPLORATION_METRIC_TAGS if explores else {})},
    )
