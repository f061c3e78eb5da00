"""DQN and DDQN as pure functions: ``make_dqn(models, config) -> AgentFunctions`` over a frozen ``DQNConfig``.

Models: ``q_network`` and ``target_q_network``, each a ``DeterministicMixin`` model whose output
is one Q-value per action, ``(batch, num_actions)``. DDQN is the same functions with
``double=True``. The state is ``AgentState(learner=OffPolicyLearner, memory=MemoryState)``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.dqn.losses import double_q_target, q_loss, q_target
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
from skrl_jax.resources.preprocessors import scaler_update

DQN_METRIC_TAGS = {
    "q_network_loss": "Loss / Q-network loss",
    "target_max": "Target / Target (max)",
    "target_min": "Target / Target (min)",
    "target_mean": "Target / Target (mean)",
}


@dataclasses.dataclass(frozen=True, eq=False)
class DQNConfig:
    """DQN's and DDQN's settings, fixed when their functions are built (skrl's cfg keys).

    replay: the replay buffer, sampling, preprocessing and ``random_timesteps`` (``ReplayConfig``).
    discount_factor / polyak / learning_rate: skrl's keys (Adam on the Q-network).
    grad_norm_clip: global-norm clipping of the Q-network's gradients (0: none; skrl's DQN has no such key).
    update_interval: environment steps between two updates.
    target_update_interval: the target network moves toward the Q-network (``polyak``) at updates
        whose timestep is a multiple of it.
    epsilon: ``epsilon(timestep) -> float32 scalar``, the chance of a uniform action; None acts
        greedily (skrl 1.4's ``exploration`` with ``timesteps`` 0, skrl 2.x without a scheduler).
    double: DDQN's target (the Q-network picks the next action, the target network values it).
    """

    replay: ReplayConfig
    discount_factor: float = 0.99
    polyak: float = 0.005
    learning_rate: float = 1e-3
    grad_norm_clip: float = 0.0
    update_interval: int = 1
    target_update_interval: int = 10
    epsilon: Callable[[jax.Array], jax.Array] | None = None
    double: bool = False


def epsilon(timestep: jax.Array, initial: float, final: float, timesteps: int) -> jax.Array:
    """skrl's epsilon: ``final + (initial - final) * exp(-timestep / timesteps)``."""
    return final + (initial - final) * jnp.exp(-jnp.asarray(timestep, jnp.float32) / timesteps)


def decaying_epsilon(initial: float, final: float, timesteps: int) -> Callable[[jax.Array], jax.Array]:
    """skrl 1.4's schedule, ``epsilon(timestep)`` from ``initial`` toward ``final`` over ``timesteps``."""
    return lambda timestep: epsilon(timestep, initial, final, timesteps)


def q_values(
    models: ModelSet, config: DQNConfig, params: Mapping[str, Any], states: jax.Array, name: str = "q_network"
) -> jax.Array:
    """``(batch, num_actions)`` Q-values of ``models[name]`` at the (standardized) ``(batch, size)`` states."""
    values = models.act(params, {"states": states}, [name])[name][0]
    num_actions = int(config.replay.action_space.n)
    if values.shape[-1] != num_actions:
        raise ValueError(
            f"{'DDQN' if config.double else 'DQN'}: models[{name!r}] must output one Q-value per action, shape "
            f"(..., {num_actions}) for {config.replay.action_space}; got {values.shape}"
        )
    return values


def init_dqn(
    models: ModelSet,
    config: DQNConfig,
    optimizer: optax.GradientTransformation,
    key: jax.Array,
    params: Mapping[str, Any] | None = None,
) -> AgentState:
    """The first state: given or fresh parameters (the target a copy of the Q-network), an empty buffer."""
    params = initial_params(models, key, params)
    opt_states = {"q_network": optimizer.init(params[models.param_keys["q_network"]])}
    return first_state(config.replay, params, opt_states)


def dqn_act(
    models: ModelSet,
    config: DQNConfig,
    state: AgentState,
    observations: jax.Array,
    key: jax.Array,
    timestep: jax.Array,
    deterministic: bool = False,
) -> tuple[jax.Array, dict[str, Any]]:
    """``(num_envs, 1)`` int32 actions for ``(num_envs, size)`` observations: greedy, or uniform with
    probability ``epsilon(timestep)`` and always before ``random_timesteps``; the extras hold the
    Q-values and, when exploring, epsilon."""
    learner = state.learner
    values = q_values(models, config, learner.params, standardize(config.replay, learner.state_scaler, observations))
    greedy = jnp.argmax(values, axis=-1, keepdims=True).astype(jnp.int32)
    extras = {"outputs": {"q_values": values}}
    if deterministic or config.epsilon is None:
        return greedy, extras
    random_key, explore_key = jax.random.split(key)
    batch = observations.shape[0]
    random = random_actions(config.replay, random_key, batch)
    eps = config.epsilon(timestep)
    explore = (jax.random.uniform(explore_key, (batch, 1)) < eps) | (timestep < config.replay.random_timesteps)
    return jnp.where(explore, random, greedy), {**extras, "epsilon": eps}


def td_targets(
    models: ModelSet, config: DQNConfig, params: Mapping[str, Any], batch: Batch, next_states: jax.Array
) -> jax.Array:
    """``(batch, 1)`` targets, without gradient: DQN's max of the target network at the next states,
    or DDQN's target-network value of the Q-network's best next action."""
    next_target = q_values(models, config, params, next_states, "target_q_network")
    if config.double:
        next_q = q_values(models, config, params, next_states)
        return double_q_target(batch.rewards, batch.dones, next_q, next_target, config.discount_factor)
    return q_target(batch.rewards, batch.dones, next_target, config.discount_factor)


def move_target(models: ModelSet, config: DQNConfig, params: dict[str, Any], timestep: jax.Array) -> dict[str, Any]:
    """``params`` with the target network moved toward the Q-network (``polyak``) when ``timestep``
    is a multiple of ``target_update_interval``, else unchanged."""
    target_key = models.param_keys["target_q_network"]
    moved = polyak_targets(models, params, config.polyak)[target_key]
    due = timestep % config.target_update_interval == 0
    return {**params, target_key: jax.tree.map(lambda new, old: jnp.where(due, new, old), moved, params[target_key])}


def dqn_step(
    models: ModelSet,
    config: DQNConfig,
    optimizer: optax.GradientTransformation,
    learner: OffPolicyLearner,
    memory: Any,
    key: jax.Array,
    timestep: jax.Array,
) -> tuple[OffPolicyLearner, dict[str, jax.Array], jax.Array]:
    """One gradient step of the Q-network on ``batch_size`` samples, then the target's move:
    ``(learner, metrics, finite)``, metrics the loss and the targets' statistics (scalars)."""
    batch = sample_batch(config.replay, memory, key)
    scaler = learner.state_scaler
    if config.replay.state_preprocessor is not None:
        scaler = scaler_update(scaler_update(scaler, batch.states), batch.next_states)
    states = standardize(config.replay, scaler, batch.states)
    next_states = standardize(config.replay, scaler, batch.next_states)
    params = learner.params
    targets = td_targets(models, config, params, batch, next_states)
    q_key = models.param_keys["q_network"]

    def loss(q_params: Any) -> tuple[jax.Array, jax.Array]:
        return q_loss(q_values(models, config, {**params, q_key: q_params}, states), batch.actions, targets)

    q_params, opt_state, loss_value, _ = gradient_step(loss, optimizer, params[q_key], learner.opt_states["q_network"])
    learner = learner._replace(
        params=move_target(models, config, {**params, q_key: q_params}, timestep),
        opt_states={"q_network": opt_state},
        state_scaler=scaler,
        gradient_steps=learner.gradient_steps + 1,
    )
    metrics = {"q_network_loss": loss_value, **value_statistics("target", targets)}
    return learner, metrics, jnp.isfinite(loss_value)


def make_dqn(models: ModelSet, config: DQNConfig) -> AgentFunctions:
    """DQN's (DDQN's, with ``config.double``) pure functions over ``config.replay.num_envs`` environments.

    The update runs every ``update_interval`` steps from ``learning_starts`` and makes
    ``gradient_steps`` steps (``dqn_step``).
    """
    optimizer = make_optimizer(config.learning_rate, config.grad_norm_clip)

    def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
        return init_dqn(models, config, optimizer, key, params)

    def act(state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic=False):
        return dqn_act(models, config, state, observations, key, timestep, deterministic)

    def step(learner: OffPolicyLearner, memory: Any, key: jax.Array, timestep: jax.Array):
        return dqn_step(models, config, optimizer, learner, memory, key, timestep)

    return AgentFunctions(
        init=init,
        act=act,
        record=make_record(config.replay),
        update=repeat_gradient_steps(step, config.replay.gradient_steps),
        update_interval=config.update_interval,
        learning_starts=config.replay.learning_starts,
        metric_tags=DQN_METRIC_TAGS,
    )
