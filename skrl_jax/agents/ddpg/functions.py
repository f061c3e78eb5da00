"""DDPG as pure functions: ``make_ddpg(models, config) -> AgentFunctions`` over a frozen ``DDPGConfig``.

Models (a ``ModelSet``): ``policy`` and ``target_policy`` (deterministic), ``critic`` and
``target_critic``. The state is ``AgentState(learner=OffPolicyLearner, memory=MemoryState,
carry=ExplorationState or None)``: the exploration noise (skrl's ``cfg["exploration"]``) keeps
its state (Ornstein-Uhlenbeck's) in the carry, one per environment and action dimension. TD3
acts with the same ``make_act`` (its ``TD3Config`` is a ``DDPGConfig``) and steps its policy with
the same ``policy_step``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import optax

from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.ddpg.losses import critic_loss, policy_loss, q_target
from skrl_jax.agents.gradients import gradient_step, make_optimizer
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
from skrl_jax.core.spaces import compute_space_size
from skrl_jax.memories.random import MemoryState
from skrl_jax.resources.preprocessors import ScalerState, scaler_update

DDPG_METRIC_TAGS = {
    "policy_loss": "Loss / Policy loss",
    "critic_loss": "Loss / Critic loss",
    "q1_max": "Q-network / Q1 (max)",
    "q1_min": "Q-network / Q1 (min)",
    "q1_mean": "Q-network / Q1 (mean)",
    "target_max": "Target / Target (max)",
    "target_min": "Target / Target (min)",
    "target_mean": "Target / Target (mean)",
}

EXPLORATION_METRIC_TAGS = {
    "exploration_noise_max": "Exploration / Exploration noise (max)",
    "exploration_noise_min": "Exploration / Exploration noise (min)",
    "exploration_noise_mean": "Exploration / Exploration noise (mean)",
}


@dataclasses.dataclass(frozen=True, eq=False)
class DDPGConfig:
    """What DDPG's functions are built over (skrl's cfg keys, resolved).

    replay: the replay buffer, sampling and schedule every off-policy agent shares.
    discount_factor / polyak / actor_learning_rate / critic_learning_rate / grad_norm_clip: skrl's keys
        (``grad_norm_clip`` 0: no clipping).
    exploration_noise: skrl's noise (``initial_state(shape)`` and ``sample(state, key, shape)``); None: none.
    exploration_initial_scale / exploration_final_scale / exploration_timesteps: skrl 1.4's linear
        decay of the noise's scale (``exploration_scale``); ``exploration_timesteps`` None decays over
        the run's (``replay.timesteps``), and no noise is added after it.
    exploration_schedule: skrl 2.x's ``scale(timestep) -> float32 scalar`` (its ``exploration_scheduler``,
        see ``off_policy.schedule.compiled_schedule``), for the whole run; None: skrl 1.4's decay.
    """

    replay: ReplayConfig
    discount_factor: float = 0.99
    polyak: float = 0.005
    actor_learning_rate: float = 1e-3
    critic_learning_rate: float = 1e-3
    grad_norm_clip: float = 0.0
    exploration_noise: Any = None
    exploration_initial_scale: float = 1.0
    exploration_final_scale: float = 1e-3
    exploration_timesteps: int | None = None
    exploration_schedule: Callable[[jax.Array], jax.Array] | None = None


class ExplorationState(NamedTuple):
    """``AgentState.carry`` of DDPG and TD3 when there is an exploration noise.

    noise: the noise's state (``(num_envs, action_size)`` for Ornstein-Uhlenbeck, a placeholder
        for Gaussian noise).
    applied: ``(max, min, mean)`` of the (scaled) noise the last ``act`` added to the actions; 0
        once the exploration timesteps are over (skrl's "Exploration / Exploration noise" data).
    """

    noise: Any
    applied: jax.Array


def exploration_scale(
    timestep: jax.Array | int, initial_scale: float, final_scale: float, timesteps: int | None
) -> jax.Array:
    """skrl's exploration noise scale at ``timestep``.

    ``(1 - timestep / timesteps) * (initial_scale - final_scale) + final_scale`` while ``timestep
    <= timesteps``, and 0 after (skrl then adds no noise at all, not ``final_scale`` noise).
    ``timesteps`` is ``cfg["exploration"]["timesteps"]``, or the trainer's timesteps when that is
    None (as skrl); when neither is known (0 or None) the scale stays ``initial_scale``.
    """
    if not timesteps:
        return jnp.full((), initial_scale, jnp.float32)
    # (1 - t / T) as (T - t) / T: the integer difference is exact, so no cancellation near T
    remaining = (timesteps - jnp.asarray(timestep, jnp.int32)).astype(jnp.float32)
    scale = remaining / timesteps * (initial_scale - final_scale) + final_scale
    return jnp.where(remaining >= 0, scale, 0.0)


def unit_scale(timestep: jax.Array) -> jax.Array:
    """skrl 2.x's noise scale without an ``exploration_scheduler``: 1 at every timestep."""
    return jnp.ones((), jnp.float32)


def noise_scale(config: DDPGConfig, timestep: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``(scale, active)`` scalars at ``timestep``: the exploration noise's scale, and whether any
    noise is added (skrl 1.4 stops after its exploration timesteps; 2.x's schedule never stops)."""
    if config.exploration_schedule is not None:
        return config.exploration_schedule(timestep), jnp.ones((), bool)
    timesteps = config.exploration_timesteps
    timesteps = config.replay.timesteps if timesteps is None else timesteps
    scale = exploration_scale(timestep, config.exploration_initial_scale, config.exploration_final_scale, timesteps)
    return scale, (timestep <= timesteps) if timesteps else jnp.ones((), bool)


def box_bounds(space: gymnasium.spaces.Box) -> tuple[jax.Array, jax.Array]:
    """``(low, high)`` of a Box action space, each ``(action_size,)`` float32."""
    return tuple(jnp.asarray(np.asarray(bound, np.float32).reshape(-1)) for bound in (space.low, space.high))


def initial_exploration(config: DDPGConfig) -> ExplorationState | None:
    """The carry an agent starts from: the noise's initial state for ``(num_envs, action_size)``."""
    if config.exploration_noise is None:
        return None
    shape = (config.replay.num_envs, compute_space_size(config.replay.action_space, occupied_size=True))
    return ExplorationState(config.exploration_noise.initial_state(shape), jnp.zeros(3, jnp.float32))


def add_exploration_noise(
    config: DDPGConfig, carry: ExplorationState, actions: jax.Array, key: jax.Array, timestep: jax.Array
) -> tuple[jax.Array, ExplorationState]:
    """``actions`` ``(batch, action_size)`` plus the scaled noise, clipped to the action space's
    bounds (unchanged once the exploration timesteps are over), and the advanced carry."""
    noises, noise_state = config.exploration_noise.sample(carry.noise, key, actions.shape)
    scale, active = noise_scale(config, timestep)
    noises = scale * noises
    low, high = box_bounds(config.replay.action_space)
    actions = jnp.where(active, jnp.clip(actions + noises, low, high), actions)
    applied = jnp.where(active, jnp.stack([noises.max(), noises.min(), noises.mean()]), 0.0)
    return actions, ExplorationState(noise_state, applied.astype(jnp.float32))


def make_act(models: ModelSet, config: DDPGConfig) -> Callable[..., tuple[jax.Array, dict[str, Any]]]:
    """``act(state, observations, key, timestep, deterministic=False) -> (actions, extras)`` of a
    deterministic policy with skrl's exploration (DDPG and TD3).

    ``observations`` ``(batch, observation_size)`` -> actions ``(batch, action_size)``: the policy's;
    unless ``deterministic``, plus the exploration noise (``add_exploration_noise``), and uniform
    random actions before ``random_timesteps`` (the noise does not advance then, as skrl samples
    none). The new noise state goes to ``extras["carry"]``, which ``record`` stores.
    """
    replay, explores = config.replay, config.exploration_noise is not None

    def act(state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic=False):
        learner = state.learner
        inputs = {"states": standardize(replay, learner.state_scaler, observations)}
        actions, _, outputs = models.act(learner.params, inputs, ["policy"])["policy"]
        extras: dict[str, Any] = {"outputs": outputs, **({"carry": state.carry} if explores else {})}
        if deterministic:
            return actions, extras
        noise_key, random_key = jax.random.split(key)
        carry = state.carry
        if explores:
            actions, carry = add_exploration_noise(config, carry, actions, noise_key, timestep)
        if replay.random_timesteps:
            is_random = timestep < replay.random_timesteps
            actions = jnp.where(is_random, random_actions(replay, random_key, observations.shape[0]), actions)
            if explores:
                carry = jax.tree.map(lambda old, new: jnp.where(is_random, old, new), state.carry, carry)
        if explores:
            extras["carry"] = carry
        return actions, extras

    return act


def with_exploration_metrics(update: Callable[..., tuple]) -> Callable[..., tuple]:
    """``update`` that also reports the exploration noise of the last ``act`` (kept in the carry)."""

    def update_and_report(state: AgentState, key: jax.Array, timestep: jax.Array):
        state, metrics = update(state, key, timestep)
        applied = state.carry.applied
        names = ("exploration_noise_max", "exploration_noise_min", "exploration_noise_mean")
        return state, {**metrics, **{name: applied[index] for index, name in enumerate(names)}}

    return update_and_report


def optimizers(config: DDPGConfig) -> dict[str, optax.GradientTransformation]:
    """skrl's Adam for the policy and for the critic(s), by optimizer name."""
    return {
        "policy": make_optimizer(config.actor_learning_rate, config.grad_norm_clip),
        "critic": make_optimizer(config.critic_learning_rate, config.grad_norm_clip),
    }


def standardized_sample(
    replay: ReplayConfig, scaler: ScalerState | None, memory: MemoryState, key: jax.Array
) -> tuple[Batch, ScalerState | None]:
    """``batch_size`` samples whose states and next states are standardized by the scaler, itself
    first updated with the sampled states (as skrl's ``_update``), and that updated scaler."""
    batch = sample_batch(replay, memory, key)
    if replay.state_preprocessor is not None:
        scaler = scaler_update(scaler, batch.states)
    return batch._replace(
        states=standardize(replay, scaler, batch.states), next_states=standardize(replay, scaler, batch.next_states)
    ), scaler


def policy_step(
    models: ModelSet,
    optimizer: optax.GradientTransformation,
    params: dict[str, Any],
    opt_state: Any,
    states: jax.Array,
    critic: str,
) -> tuple[Any, Any, jax.Array, jax.Array]:
    """One step of the policy up ``critic``'s values (``-mean(Q(s, pi(s)))``), the critic held fixed.

    ``states`` ``(batch, observation_size)``; returns ``(policy params, opt_state, loss, Q(s, pi(s))
    (batch, 1))``.
    """
    keys = models.param_keys
    frozen = {**params, keys[critic]: jax.lax.stop_gradient(params[keys[critic]])}

    def actor_loss(policy_params):
        current = {**frozen, keys["policy"]: policy_params}
        actions = models.act(current, {"states": states}, ["policy"])["policy"][0]
        q = models.act(current, {"states": states, "taken_actions": actions}, [critic])[critic][0]
        return policy_loss(q), q

    return gradient_step(actor_loss, optimizer, params[keys["policy"]], opt_state)


def ddpg_targets(models: ModelSet, config: DDPGConfig, params: dict[str, Any], batch: Batch) -> jax.Array:
    """``(batch, 1)`` targets ``r + gamma * (1 - done) * Q'(s', pi'(s'))`` of standardized ``batch``."""
    next_states = batch.next_states
    next_actions = models.act(params, {"states": next_states}, ["target_policy"])["target_policy"][0]
    target_inputs = {"states": next_states, "taken_actions": next_actions}
    target_q = models.act(params, target_inputs, ["target_critic"])["target_critic"][0]
    return q_target(batch.rewards, batch.dones, target_q, config.discount_factor)


def critic_step(
    models: ModelSet,
    optimizer: optax.GradientTransformation,
    params: dict[str, Any],
    opt_state: Any,
    batch: Batch,
    targets: jax.Array,
) -> tuple[Any, Any, jax.Array]:
    """One step of the critic's mean squared error to ``targets`` ``(batch, 1)``: ``(critic
    params, opt_state, loss)``."""
    key = models.param_keys["critic"]

    def critics_loss(critic_params):
        current = {**params, key: critic_params}
        values = models.act(current, {"states": batch.states, "taken_actions": batch.actions}, ["critic"])
        return critic_loss(values["critic"][0], targets), None

    critic_params, opt_state, loss, _ = gradient_step(critics_loss, optimizer, params[key], opt_state)
    return critic_params, opt_state, loss


def ddpg_step(
    models: ModelSet,
    config: DDPGConfig,
    learner: OffPolicyLearner,
    memory: MemoryState,
    key: jax.Array,
    timestep: jax.Array,
) -> tuple[OffPolicyLearner, dict[str, jax.Array], jax.Array]:
    """One gradient step on a sample: the critic, then the policy on the updated critic, then the
    targets; ``(learner, metrics, finite)`` (see ``repeat_gradient_steps``)."""
    keys, optimizer = models.param_keys, optimizers(config)
    batch, scaler = standardized_sample(config.replay, learner.state_scaler, memory, key)
    params = learner.params
    targets = ddpg_targets(models, config, params, batch)
    critic_params, critic_opt, critic_value = critic_step(
        models, optimizer["critic"], params, learner.opt_states["critic"], batch, targets
    )
    params = {**params, keys["critic"]: critic_params}
    policy_params, policy_opt, policy_value, q = policy_step(
        models, optimizer["policy"], params, learner.opt_states["policy"], batch.states, "critic"
    )
    params = polyak_targets(models, {**params, keys["policy"]: policy_params}, config.polyak)
    opt_states = {"policy": policy_opt, "critic": critic_opt}
    learner = OffPolicyLearner(params, opt_states, learner.scalars, scaler, learner.gradient_steps + 1)
    metrics = {
        "policy_loss": policy_value,
        "critic_loss": critic_value,
        **value_statistics("q1", q),
        **value_statistics("target", targets),
    }
    return learner, metrics, jnp.isfinite(critic_value) & jnp.isfinite(policy_value)


def make_ddpg(models: ModelSet, config: DDPGConfig) -> AgentFunctions:
    """DDPG's pure functions (skrl's formulas): ``update`` makes ``gradient_steps`` ``ddpg_step``
    after every environment step from ``learning_starts``."""
    keys, optimizer = models.param_keys, optimizers(config)

    def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
        params = initial_params(models, key, params)
        opt_states = {name: optimizer[name].init(params[keys[name]]) for name in ("policy", "critic")}
        return first_state(config.replay, params, opt_states, carry=initial_exploration(config))

    update = repeat_gradient_steps(functools.partial(ddpg_step, models, config), config.replay.gradient_steps)
    explores = config.exploration_noise is not None
    return AgentFunctions(
        init=init,
        act=make_act(models, config),
        record=make_record(config.replay),
        update=with_exploration_metrics(update) if explores else update,
        update_interval=1,
        learning_starts=config.replay.learning_starts,
        metric_tags={**DDPG_METRIC_TAGS, **(EXPLORATION_METRIC_TAGS if explores else {})},
    )
