"""The pure pieces SAC, TD3, DDPG, DQN and DDQN are built from, over a frozen ``ReplayConfig``.

The state is ``AgentState(learner=OffPolicyLearner, memory=MemoryState, carry=noise state or
None)``. ``record`` writes each transition into the replay ring buffer; ``update`` runs after
every step from ``learning_starts`` and makes ``gradient_steps`` steps, each on a uniform
sample of ``batch_size`` transitions. An algorithm is ``make_<algo>(models, config) ->
AgentFunctions`` with ``models`` a ``ModelSet`` and ``config`` its frozen config, which holds a
``ReplayConfig`` as ``replay``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp

from skrl_jax.agents.core import AgentState, Transition, shape_rewards
from skrl_jax.agents.off_policy.models import ModelSet, polyak_update
from skrl_jax.core.spaces import compute_space_size, sample_space
from skrl_jax.memories.random import MemoryState, memory_add, memory_init, memory_sample
from skrl_jax.resources.preprocessors import RunningStandardScaler, ScalerState

REPLAY_TENSORS = ("states", "actions", "rewards", "next_states", "terminated", "truncated")


@dataclasses.dataclass(frozen=True, eq=False)
class ReplayConfig:
    """What every off-policy agent's functions share, fixed when they are built.

    observation_space / action_space: the agent's spaces (Box actions are float32, Discrete int32).
    num_envs / memory_size: the replay buffer holds ``memory_size`` rows of ``num_envs`` transitions.
    batch_size / gradient_steps: each update makes ``gradient_steps`` steps on ``batch_size`` samples.
    learning_starts / random_timesteps: skrl's keys (no update before, uniform actions before).
    sample_with_replacement: replay sampling with replacement (skrl 1.4's ``RandomMemory``) or without (2.x's).
    bootstrap_at_truncation: a target stops at terminated only (skrl 2.x) or at terminated | truncated (1.4).
    rewards_shaper / timesteps: skrl's ``rewards_shaper(rewards, timestep, timesteps)`` and the run's total.
    state_preprocessor: the observations' ``RunningStandardScaler`` (None: used as they are).
    """

    observation_space: gymnasium.Space
    action_space: gymnasium.Space
    num_envs: int
    memory_size: int
    batch_size: int
    gradient_steps: int = 1
    learning_starts: int = 0
    random_timesteps: int = 0
    sample_with_replacement: bool = True
    bootstrap_at_truncation: bool = False
    rewards_shaper: Callable | None = None
    timesteps: int = 0
    state_preprocessor: RunningStandardScaler | None = None


class OffPolicyLearner(NamedTuple):
    """``params`` by stored model key (see ``ModelSet.param_keys``), one optax state per optimizer
    name ("policy", "critic", ...), algorithm scalars (e.g. SAC's log entropy coefficient), the
    state scaler and the number of gradient steps made."""

    params: dict[str, Any]
    opt_states: dict[str, Any]
    scalars: dict[str, jax.Array]
    state_scaler: ScalerState | None
    gradient_steps: jax.Array


class Batch(NamedTuple):
    """A sample of transitions, each ``(batch_size, size)``; ``dones`` is where a target stops
    (see ``ReplayConfig.bootstrap_at_truncation``)."""

    states: jax.Array
    actions: jax.Array
    rewards: jax.Array
    next_states: jax.Array
    dones: jax.Array


def replay_specs(observation_space: Any, action_space: Any) -> dict[str, tuple[int, Any]]:
    """The tensors of a replay memory: name -> (size, dtype)."""
    observation_size = compute_space_size(observation_space, occupied_size=True)
    sizes = {
        "states": observation_size,
        "actions": compute_space_size(action_space, occupied_size=True),
        "rewards": 1,
        "next_states": observation_size,
        "terminated": 1,
        "truncated": 1,
    }
    dtypes = {"terminated": jnp.bool_, "truncated": jnp.bool_}
    return {name: (size, dtypes.get(name, jnp.float32)) for name, size in sizes.items()}


def init_memory(config: ReplayConfig) -> MemoryState:
    """An empty replay buffer of ``memory_size`` rows of ``num_envs`` transitions."""
    return memory_init(config.memory_size, config.num_envs, replay_specs(config.observation_space, config.action_space))


def initial_scaler(config: ReplayConfig) -> ScalerState | None:
    preprocessor = config.state_preprocessor
    return None if preprocessor is None else preprocessor.initial_state()


def standardize(config: ReplayConfig, state: ScalerState | None, x: jax.Array) -> jax.Array:
    """``x`` standardized by the state preprocessor (unchanged without one)."""
    preprocessor = config.state_preprocessor
    return x if preprocessor is None else preprocessor.standardize(state, x)


def value_statistics(prefix: str, values: jax.Array) -> dict[str, jax.Array]:
    return {f"{prefix}_max": values.max(), f"{prefix}_min": values.min(), f"{prefix}_mean": values.mean()}


def polyak_targets(
    models: ModelSet, params: dict[str, Any], polyak: float | jax.Array, names: Sequence[str] | None = None
) -> dict[str, Any]:
    """``params`` with each target (of ``names``, all by default) moved toward its online model."""
    keys = models.param_keys
    # a target instance passed under two keys (twin targets) is stored, and moved, once
    pairs = {
        keys[target]: keys[online] for target, online in models.target_pairs.items() if names is None or target in names
    }
    params = dict(params)
    for target, online in pairs.items():
        params[target] = polyak_update(params[target], params[online], polyak)
    return params


def initial_params(models: ModelSet, key: jax.Array, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Given or fresh parameters of each stored model; targets start as copies of their online models."""
    fresh = models.init(key)
    params = {name: (params or {}).get(name, fresh[name]) for name in fresh}
    return polyak_targets(models, params, 1.0)


def first_state(
    config: ReplayConfig,
    params: dict[str, Any],
    opt_states: dict[str, Any],
    scalars: dict[str, jax.Array] | None = None,
    carry: Any = None,
) -> AgentState:
    """An algorithm's first state: its parameters and optimizer states, no gradient step made, a
    fresh scaler and an empty replay buffer."""
    learner = OffPolicyLearner(params, opt_states, scalars or {}, initial_scaler(config), jnp.zeros((), jnp.int32))
    return AgentState(learner, init_memory(config), carry)


def make_record(config: ReplayConfig) -> Callable[..., AgentState]:
    """``record(state, transition, extras, timestep)``: the (shaped) transition into the buffer;
    ``extras["carry"]`` (exploration noise) becomes the carry."""

    def record(state: AgentState, transition: Transition, extras: Mapping[str, Any], timestep: jax.Array):
        rewards = shape_rewards(transition, timestep, config.timesteps, config.rewards_shaper)
        row = {
            "states": transition.observations,
            "actions": transition.actions,
            "rewards": rewards,
            "next_states": transition.next_observations,
            "terminated": transition.terminated,
            "truncated": transition.truncated,
        }
        carry = extras.get("carry", state.carry)
        return state._replace(memory=memory_add(state.memory, row), carry=carry)

    return record


def sample_batch(config: ReplayConfig, memory: MemoryState, key: jax.Array) -> Batch:
    """``batch_size`` uniform samples of the buffer."""
    sample = memory_sample(memory, key, REPLAY_TENSORS, config.batch_size, config.sample_with_replacement)
    ends = sample["terminated"] if config.bootstrap_at_truncation else sample["terminated"] | sample["truncated"]
    return Batch(
        sample["states"], sample["actions"], sample["rewards"], sample["next_states"], ends.astype(jnp.float32)
    )


def random_actions(config: ReplayConfig, key: jax.Array, batch: int) -> jax.Array:
    """``(batch, action_size)`` uniform actions over the action space (skrl's ``random_timesteps``)."""
    actions = sample_space(config.action_space, key, (batch,))
    continuous = isinstance(config.action_space, gymnasium.spaces.Box)
    return jnp.reshape(actions, (batch, -1)).astype(jnp.float32 if continuous else jnp.int32)


def repeat_gradient_steps(
    step: Callable[..., tuple], gradient_steps: int
) -> Callable[..., tuple[AgentState, dict[str, jax.Array]]]:
    """``update(state, key, timestep)``: ``gradient_steps`` calls of ``step(learner, memory, key,
    timestep) -> (learner, metrics, finite)``; metrics are averaged over the steps, and ``nan_at``
    is the first step whose losses were not finite (-1 if none)."""

    def update(state: AgentState, key: jax.Array, timestep: jax.Array) -> tuple[AgentState, dict[str, jax.Array]]:
        if gradient_steps == 1:
            learner, metrics, finite = step(state.learner, state.memory, key, timestep)
            nan_at = jnp.where(finite, -1, 0).astype(jnp.int32)
            return state._replace(learner=learner), {**metrics, "nan_at": nan_at}

        def body(carry, inputs):
            learner, nan_at = carry
            step_key, index = inputs
            learner, metrics, finite = step(learner, state.memory, step_key, timestep)
            return (learner, jnp.where((nan_at < 0) & ~finite, index, nan_at)), metrics

        start = (state.learner, -jnp.ones((), jnp.int32))
        steps = (jax.random.split(key, gradient_steps), jnp.arange(gradient_steps, dtype=jnp.int32))
        (learner, nan_at), history = jax.lax.scan(body, start, steps)
        metrics = {name: values.mean() for name, values in history.items()}
        return state._replace(learner=learner), {**metrics, "nan_at": nan_at}

    return update
