"""The compiled calls an agent's host loop makes, and the checks of what the host hands them.

A step of ``SequentialTrainer`` is one compiled call: the transition recorded at the previous
step is written, then the agent acts (``step_act``); an update writes the last transition first
(``step_update``). The memory is donated: written in place, not copied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax import config as library_config
from skrl_jax.agents.core import AgentFunctions, AgentState, Transition
from skrl_jax.core.validation import raise_if_not_finite


class HostCalls(NamedTuple):
    """``act(learner, carry, observations, key, timestep, deterministic)``, ``record(memory, carry,
    pending)``, ``step_act(learner, memory, carry, pending, observations, key, timestep)``,
    ``step_update(learner, memory, carry, pending, key, timestep)``, all jitted; ``nothing_pending``
    is a pending record of the shapes a real one has, marked as nothing (timestep -1), so the first
    step runs the same compiled call as every other."""

    act: Any
    record: Any
    step_act: Any
    step_update: Any
    nothing_pending: tuple


def compile_host_calls(functions: AgentFunctions, state: AgentState, observations: Any) -> HostCalls:
    """The host loop's compiled calls over ``functions`` (``state`` and ``observations``, an example
    of what ``act`` takes: ``(num_envs, observation_size)``, or a dict of them keyed by agent, give
    the shapes)."""

    def act(learner, carry, observations, key, timestep, deterministic=False):
        state = AgentState(learner, None, carry)  # acting reads only the learner and the carry
        return functions.act(state, observations, jax.random.fold_in(key, timestep), timestep, deterministic)

    def record(memory, carry, pending):
        # recording never reads the learner; a pending timestep < 0 is the placeholder of "nothing yet"
        transition, extras, recorded_at = pending

        def write(memory, carry):
            state = functions.record(AgentState(None, memory, carry), transition, extras, recorded_at)
            return state.memory, state.carry

        return jax.lax.cond(recorded_at >= 0, write, lambda memory, carry: (memory, carry), memory, carry)

    def step_act(learner, memory, carry, pending, observations, key, timestep):
        memory, carry = record(memory, carry, pending)
        return memory, carry, act(learner, carry, observations, key, timestep)

    def step_update(learner, memory, carry, pending, key, timestep):
        memory, carry = record(memory, carry, pending)
        return functions.update(AgentState(learner, memory, carry), jax.random.fold_in(key, timestep), timestep)

    actions, extras = jax.eval_shape(functions.act, state, observations, jax.random.key(0), jnp.zeros((), jnp.int32))
    zeros = lambda shape: jnp.zeros(shape.shape, shape.dtype)  # noqa: E731
    # one reward and flag per row of each observation array
    rewards = jax.tree.map(lambda x: jnp.zeros((x.shape[0], 1), jnp.float32), observations)
    flags = jax.tree.map(lambda x: jnp.zeros((x.shape[0], 1), bool), observations)
    transition = Transition(observations, jax.tree.map(zeros, actions), rewards, observations, flags, flags)
    return HostCalls(
        act=jax.jit(act, static_argnames="deterministic"),
        record=jax.jit(record, donate_argnums=0),
        step_act=jax.jit(step_act, donate_argnums=1),
        step_update=jax.jit(step_update, donate_argnums=1),
        nothing_pending=(transition, jax.tree.map(zeros, extras), -1),
    )


def check_host_arrays(agent: Any, timestep: int, records: bool = True, **arrays: Any) -> None:
    """What the host loop hands over, checked before it reaches a compiled call: one row per
    environment the memory was made for when it is recorded (a reshape error inside jit
    otherwise) and, with ``skrl_jax.config.set_debug_nans(True)``, finite values. A multi-agent
    agent's arrays are dicts keyed by agent, each checked the same way."""
    name = type(agent).__name__
    num_envs = agent.num_envs
    entries = [
        (f"{what}[{uid!r}]", array) if isinstance(values, Mapping) else (what, values)
        for what, values in arrays.items()
        for uid, array in (values.items() if isinstance(values, Mapping) else [(None, values)])
    ]
    if records and agent.memory is not None and num_envs is not None:
        for what, values in entries:
            shape = tuple(getattr(values, "shape", np.shape(values)))
            rows = math.prod(shape) if what.startswith("rewards") else math.prod(shape[:-1])
            if rows != num_envs:
                raise ValueError(
                    f"{name}: the {what} at timestep {timestep} hold {rows} environments (shape {shape}) but the "
                    f"memory was made for num_envs={num_envs}: create it as RandomMemory(memory_size, "
                    f"num_envs={rows}) to match the environment (env.num_envs)"
                )
    if library_config.debug_nans():
        for what, values in entries:
            raise_if_not_finite(values, what, f"{name} at timestep {timestep}")
