"""Agents that share parameters, and their observations as one batch of rows.

skrl states sharing across agents by passing one model instance under several agents' keys::

    models = {uid: {"policy": policy, "value": value} for uid in env.possible_agents}

Agents whose models are the same instances form one ``AgentGroup``: one parameter subtree and one
forward pass over ``len(agents) * num_envs`` rows, stacked agent-major (the first agent's
environments, then the next agent's: JaxMARL's order), not a Python loop over agents. Agents with
models of their own are groups of one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class AgentGroup(NamedTuple):
    """Agents that share their models: ``models`` is the first agent's ``{role: model}``."""

    agents: tuple[str, ...]
    models: Mapping[str, Any]


def group_agents(
    possible_agents: Sequence[str],
    models: Mapping[str, Mapping[str, Any]],
    spaces: Mapping[str, Mapping[str, Any]],
) -> tuple[AgentGroup, ...]:
    """The groups of ``possible_agents`` by model instance, in the agents' order.

    Args:
        possible_agents: the agents' names.
        models: ``{agent: {role: model}}``, skrl's multi-agent ``models``.
        spaces: ``{kind: {agent: space}}`` (e.g. ``{"observation_spaces": ..., "action_spaces": ...}``):
            agents that share a model must have equal spaces of every kind.

    Raises:
        KeyError: an agent has no models.
        ValueError: agents share one of their models but not all of them, or agents that share
            their models have different spaces (the message names them).
    """
    missing = [uid for uid in possible_agents if uid not in models]
    if missing:
        raise KeyError(f"models has no entry for agent(s) {missing}: expected one {{role: model}} dict per agent")
    members: dict[tuple, list[str]] = {}
    for uid in possible_agents:
        signature = tuple(sorted((role, id(model)) for role, model in models[uid].items()))
        members.setdefault(signature, []).append(uid)
    owner: dict[int, tuple[str, str]] = {}
    for agents in members.values():
        for role, model in models[agents[0]].items():
            first = owner.setdefault(id(model), (agents[0], role))
            if first[0] not in agents:
                raise ValueError(
                    f"models[{agents[0]!r}][{role!r}] is also models[{first[0]!r}][{first[1]!r}], but the two agents' other "
                    f"models differ: agents that share a model must share all of their models "
                    f"(models[{agents[0]!r}] = {dict(models[agents[0]])}, models[{first[0]!r}] = {dict(models[first[0]])})"
                )
    for agents in members.values():
        for kind, by_agent in spaces.items():
            found = {uid: by_agent[uid] for uid in agents}
            if any(space != found[agents[0]] for space in found.values()):
                raise ValueError(
                    f"agents {agents} share their models, so their {kind} must be equal, got {found}: give the agents "
                    "whose spaces differ models of their own"
                )
    return tuple(AgentGroup(tuple(agents), models[agents[0]]) for agents in members.values())


def stack_rows(per_agent: Mapping[str, Any], agents: Sequence[str]) -> Any:
    """``{agent: pytree of (N, ...)}`` -> one pytree of ``(len(agents) * N, ...)``, agent-major."""
    return jax.tree.map(lambda *leaves: jnp.concatenate(leaves, axis=0), *[per_agent[uid] for uid in agents])


def unstack_rows(rows: Any, agents: Sequence[str]) -> dict[str, Any]:
    """The inverse of ``stack_rows``: ``{agent: pytree of (N, ...)}``."""
    by_agent = jax.tree.map(lambda leaf: leaf.reshape(len(agents), -1, *leaf.shape[1:]), rows)
    return {uid: jax.tree.map(lambda leaf, index=index: leaf[index], by_agent) for index, uid in enumerate(agents)}
