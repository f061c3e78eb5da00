"""Multi-agent on-policy agents (IPPO, MAPPO) as the pure agent interface, over dicts keyed by agent.

Each ``AgentGroup`` (agents that share their models) runs the single-agent on-policy functions over
its agents' rows stacked agent-major: ``act`` stacks the group's observations, calls its
``AgentFunctions.act`` once, and splits the actions back per agent; ``record`` stacks the step the
same way; ``update`` updates each group. The state is one ``AgentState`` whose learner, memory and
carry are tuples with one entry per group, in the groups' order (so the host driver, which reads
``state.learner`` and ``state.memory`` apart, drives it as it drives one agent). A group of one is
single-agent PPO on that agent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp

from skrl_jax.agents.core import AgentFunctions, AgentState, Transition
from skrl_jax.multi_agents.groups import AgentGroup, stack_rows, unstack_rows


def _schedule(groups: Sequence[AgentGroup], functions: Sequence[AgentFunctions]) -> tuple[int, int]:
    intervals = {(f.update_interval, f.learning_starts) for f in functions}
    if len(intervals) != 1:
        found = {group.agents: (f.update_interval, f.learning_starts) for group, f in zip(groups, functions)}
        raise ValueError(
            f"every agent must update on the same schedule (rollouts, learning_starts), got {found}: the trainer "
            "steps all agents together"
        )
    return intervals.pop()


def make_multi_agent_functions(groups: Sequence[AgentGroup], functions: Sequence[AgentFunctions]) -> AgentFunctions:
    """The agent interface over ``{agent: array}`` dicts, from each group's single-agent functions
    (made for ``len(group.agents) * num_envs`` rows).

    ``act(state, observations, key, timestep, deterministic=False) -> ({agent: actions}, extras)``;
    ``record(state, transition, extras, timestep)`` with each field of ``transition`` a dict
    ``{agent: (num_envs, ...)}``; ``update`` returns each metric per agent as ``"<name> (<agent>)"``
    (skrl's multi-agent tag suffix).
    """
    groups, functions = tuple(groups), tuple(functions)
    update_interval, learning_starts = _schedule(groups, functions)

    def split(state: AgentState) -> tuple[AgentState, ...]:
        parts = [part if part is not None else (None,) * len(groups) for part in state]
        return tuple(AgentState(*fields) for fields in zip(*parts))

    def join(states: Sequence[AgentState]) -> AgentState:
        return AgentState(*(tuple(fields) for fields in zip(*states)))

    def init(key: jax.Array, params: Mapping[int, Any] | None = None) -> AgentState:
        """``params``: ``{group index: {model key: parameters}}`` to start from."""
        keys = jax.random.split(key, len(groups))
        return join([f.init(k, (params or {}).get(index)) for index, (f, k) in enumerate(zip(functions, keys))])

    def act(
        state: AgentState,
        observations: Mapping[str, jax.Array],
        key: jax.Array,
        timestep: jax.Array,
        deterministic: bool = False,
    ) -> tuple[dict[str, jax.Array], tuple[dict[str, Any], ...]]:
        actions, extras = {}, []
        for group, f, group_state, group_key in zip(
            groups, functions, split(state), jax.random.split(key, len(groups))
        ):
            rows, group_extras = f.act(
                group_state, stack_rows(observations, group.agents), group_key, timestep, deterministic
            )
            actions.update(unstack_rows(rows, group.agents))
            extras.append(group_extras)
        return actions, tuple(extras)

    def record(state: AgentState, transition: Transition, extras: Sequence[Any], timestep: jax.Array) -> AgentState:
        return join(
            [
                f.record(
                    group_state, Transition(*(stack_rows(field, group.agents) for field in transition)), e, timestep
                )
                for group, f, group_state, e in zip(groups, functions, split(state), extras)
            ]
        )

    def update(state: AgentState, key: jax.Array, timestep: jax.Array) -> tuple[AgentState, dict[str, jax.Array]]:
        states, metrics = [], {}
        for group, f, group_state, group_key in zip(
            groups, functions, split(state), jax.random.split(key, len(groups))
        ):
            group_state, group_metrics = f.update(group_state, group_key, timestep)
            states.append(group_state)
            nan_at = group_metrics.pop("nan_at")
            metrics["nan_at"] = (
                nan_at if "nan_at" not in metrics else jnp.where(metrics["nan_at"] >= 0, metrics["nan_at"], nan_at)
            )
            metrics.update({f"{name} ({uid})": value for name, value in group_metrics.items() for uid in group.agents})
        return join(states), metrics

    tags = {
        f"{name} ({uid})": f"{tag} ({uid})"
        for group, f in zip(groups, functions)
        for name, tag in f.metric_tags.items()
        for uid in group.agents
    }
    return AgentFunctions(
        init=init,
        act=act,
        record=record,
        update=update,
        update_interval=update_interval,
        learning_starts=learning_starts,
        metric_tags=tags,
        describe_gradient_step=functions[0].describe_gradient_step,
    )
