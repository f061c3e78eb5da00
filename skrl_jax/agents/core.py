"""The pure agent interface both trainers drive.

An agent is four pure functions over one state pytree, plus the static facts a trainer needs
to schedule them (the model is optax's ``GradientTransformation``: a NamedTuple of pure
functions, with the state a pytree the caller holds)::

    functions = agent.make_functions(num_envs)         # AgentFunctions
    state = functions.init(key)                        # AgentState
    actions, extras = functions.act(state, observations, key, timestep)
    state = functions.record(state, transition, extras, timestep)
    if functions.update_due(timestep):                 # every update_interval steps, from learning_starts
        state, metrics = functions.update(state, key, timestep)

``SequentialTrainer`` calls them through the agent's skrl methods (``act`` /
``record_transition`` / ``post_interaction``) over gymnasium environments; ``CompiledTrainer``
calls them inside ``lax.scan`` over pure-JAX environments. Neither knows what an agent keeps in
its state: a new agent is a new ``make_functions``, and no trainer changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class AgentState(NamedTuple):
    """Everything an agent's functions read and write; a pytree (``vmap`` it over seeds).

    learner: what ``update`` changes: parameters, optimizer states, target parameters, scaler
        statistics, counters.
    memory: what ``record`` writes: the rollout or replay buffer.
    carry: per-environment state that ``act`` reads and ``record`` advances (a recurrent hidden
        state); ``None`` for feed-forward agents.
    """

    learner: Any
    memory: Any
    carry: Any = None


class Transition(NamedTuple):
    """One step of ``num_envs`` environments, as the trainer saw it.

    ``observations`` / ``next_observations`` ``(num_envs, observation_size)`` (the next one is
    the last observation of an episode that ended at this step), ``actions`` ``(num_envs,
    action_size)``, ``rewards`` ``(num_envs, 1)`` float, ``terminated`` / ``truncated``
    ``(num_envs, 1)`` bool.
    """

    observations: jax.Array
    actions: jax.Array
    rewards: jax.Array
    next_observations: jax.Array
    terminated: jax.Array
    truncated: jax.Array


class AgentFunctions(NamedTuple):
    """The pure functions of an agent and the facts a trainer schedules them by.

    init: ``init(key, params=None) -> AgentState``; ``params`` maps model names to parameters
        to start from (fresh ones are drawn from ``key`` otherwise).
    act: ``act(state, observations, key, timestep, deterministic=False) -> (actions, extras)``;
        ``extras`` is a dict (``log_prob``, ``values``, ``outputs``, ...) that ``record`` gets
        back; ``deterministic`` (static) asks for the greedy action, for evaluation.
    record: ``record(state, transition, extras, timestep) -> state``; it reads and changes only
        ``state.memory`` and ``state.carry``: the host loop passes the state without its learner
        (``None``) and writes the buffer in place.
    update: ``update(state, key, timestep) -> (state, metrics)``; ``metrics`` is a dict of
        scalars and always has ``nan_at``: the index of the first gradient step whose loss was
        not finite, -1 if none (the caller decides what to do with the returned state).
    update_interval: environment steps between two updates (``rollouts`` on-policy, 1 off-policy).
    learning_starts: no update before this timestep.
    metric_tags: metric name -> TensorBoard tag (skrl's), for the metrics worth logging.
    describe_gradient_step: turns a ``nan_at`` index into words ("epoch 1, minibatch 3").
    init_carry: recurrent agents: ``init_carry(num_envs) -> carry``, the state an episode starts
        from (zero hidden states); None for feed-forward agents.
    next_carry: ``next_carry(carry, extras, finished) -> carry``: the carry after a step, from
        what ``act`` returned, reset where ``finished`` ``(num_envs, 1)``; what ``record`` does to
        the carry, for loops that do not record (evaluation).
    """

    init: Callable[..., AgentState]
    act: Callable[..., tuple[jax.Array, dict[str, Any]]]
    record: Callable[..., AgentState]
    update: Callable[..., tuple[AgentState, dict[str, jax.Array]]]
    update_interval: int
    learning_starts: int = 0
    metric_tags: Mapping[str, str] = {}
    describe_gradient_step: Callable[[int], str] = "gradient step {}".format
    init_carry: Callable[[int], Any] | None = None
    next_carry: Callable[..., Any] = lambda carry, extras, finished: carry

    def update_due(self, timestep: int | jax.Array) -> bool | jax.Array:
        """Whether the update follows the step numbered ``timestep`` (0-based), as skrl schedules it."""
        return ((timestep + 1) % self.update_interval == 0) & (timestep >= self.learning_starts)


def shape_rewards(
    transition: Transition,
    timestep: jax.Array | int,
    timesteps: int,
    rewards_shaper: Callable | None = None,
    discount_factor: float = 0.99,
    bootstrap_values: jax.Array | None = None,
) -> jax.Array:
    """The rewards an agent learns from: skrl's ``rewards_shaper(rewards, timestep, timesteps)``,
    then, when ``bootstrap_values`` are given (``time_limit_bootstrap``), ``+ discount_factor *
    values * truncated``."""
    rewards = transition.rewards
    if rewards_shaper is not None:
        rewards = rewards_shaper(rewards, timestep, timesteps)
    if bootstrap_values is not None:
        rewards = rewards + discount_factor * bootstrap_values * transition.truncated
    return rewards


def finite_tree(tree: Any) -> jax.Array:
    """Whether every floating leaf of ``tree`` is finite (a scalar bool)."""
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.floating)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.ones((), bool)
