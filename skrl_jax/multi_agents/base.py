"""``MultiAgent``: skrl's multi-agent API (IPPO, MAPPO) over groups of single-agent on-policy functions.

skrl builds a multi-agent agent from dicts keyed by agent::

    IPPO(possible_agents=env.possible_agents, models={uid: {"policy": ..., "value": ...}},
         memories={uid: RandomMemory(...)}, observation_spaces=..., state_spaces=..., action_spaces=...,
         cfg=IPPO_CFG(...))                                        # skrl 2.x: keywords only
    IPPO(possible_agents, models, memories, observation_spaces, action_spaces, device, cfg)   # skrl 1.4

Agents given the same model instances form a group (``groups.group_agents``). Each group is one
single-agent ``PPO`` over its models, made for ``len(agents) * num_envs`` rows: one parameter
subtree and one forward pass over all of the group's agents (``functions.make_multi_agent_functions``).
This class is the host shell: it holds the one state (``Agent``'s driver) and speaks skrl's
dicts at its edge. ``act``, ``record_transition`` and ``post_interaction`` take and give dicts
keyed by agent; the metrics are logged per agent with skrl's tag suffix (``" (<agent>)"``).

Where it differs from skrl (deliberately):
- a configuration value may be a ``{agent: value}`` dict, as in skrl; agents that share their models
  share one optimizer, so their values must be equal;
- skrl 1.4.3's JAX IPPO/MAPPO leave the entropy loss out of the gradient; here it is in (as skrl
  2.x and the PyTorch backend);
- checkpoints hold the timestep, so a resumed run goes on from where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

from skrl_jax.agents.adapters import with_states
from skrl_jax.agents.base import Agent
from skrl_jax.agents.configs import PPO_CFG
from skrl_jax.agents.core import AgentFunctions
from skrl_jax.agents.ppo import PPO
from skrl_jax.core.spaces import compute_space_size
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.multi_agents.adapters import SkrlMultiAgentAPI
from skrl_jax.multi_agents.functions import make_multi_agent_functions
from skrl_jax.multi_agents.groups import group_agents, unstack_rows


class MultiAgent(SkrlMultiAgentAPI, Agent):
    """skrl's multi-agent agent API over one single-agent on-policy agent per group of agents.

    ``single_agent`` is the single-agent class each group runs (``PPO``); ``default_config`` (1.4's
    dict) and ``config_class`` (2.x's dataclass) are skrl's. ``state.learner`` / ``state.memory``
    are tuples with one entry per group (``groups`` names each group's agents).
    """

    single_agent: type = PPO
    single_agent_config: type = PPO_CFG
    records_privileged_states = True

    def __init__(
        self,
        possible_agents: Sequence[str],
        models: Mapping[str, Mapping[str, Any]],
        memories: Mapping[str, Any] | None = None,
        observation_spaces: Mapping[str, Any] | None = None,
        action_spaces: Mapping[str, Any] | None = None,
        device: Any = None,
        cfg: Any = None,
        shared_observation_spaces: Any = NOT_GIVEN,
        *,
        state_spaces: Mapping[str, Any] | None = NOT_GIVEN,
        memory: Any = NOT_GIVEN,
    ) -> None:
        """skrl 1.4's ``(possible_agents, models, memories, observation_spaces, action_spaces, device,
        cfg)`` or 2.x's keywords ``possible_agents, models, memories, observation_spaces,
        state_spaces, action_spaces, device, cfg`` (a ``*_CFG`` or a dict of its keys)."""
        name = type(self).__name__
        if memory is not NOT_GIVEN:
            raise TypeError(
                f"{name} takes memories= (a dict {{agent: memory}}), got memory=: skrl's multi-agent docs misspell it "
                "(skrl #429) and skrl's code refuses it too"
            )
        if shared_observation_spaces is not NOT_GIVEN:
            raise NotImplementedError(
                f"{name}: shared_observation_spaces (skrl 1.4's MAPPO, whose value model reads the shared state as its "
                "'states') is not supported in this version; build it the skrl 2.x way: MAPPO(possible_agents=..., "
                "models=..., memories=..., observation_spaces=..., state_spaces=..., action_spaces=..., cfg=MAPPO_CFG("
                "...)) with the value model built with state_space= (it reads inputs['states'])"
            )
        self.possible_agents = tuple(possible_agents)
        if not self.possible_agents:
            raise ValueError(f"{name}: possible_agents is empty")
        if not isinstance(models, Mapping):
            raise TypeError(f"{name}: models must be a dict {{agent: {{role: model}}}}, got {type(models).__name__}")
        unknown = [uid for uid in models if uid not in self.possible_agents]
        if unknown:
            raise KeyError(
                f"{name}: models has entries for {unknown}, which are not in possible_agents {list(self.possible_agents)}"
            )
        self.models = {uid: dict(models.get(uid, {})) for uid in self.possible_agents}
        self.observation_spaces = self._spaces(observation_spaces, "observation", "policy")
        self.action_spaces = self._spaces(action_spaces, "action", "policy")
        self.skrl_api = self._choose_api(cfg, state_spaces is not NOT_GIVEN)
        self.state_spaces = self._resolve_state_spaces(state_spaces)
        spaces = {"observation_spaces": self.observation_spaces, "action_spaces": self.action_spaces}
        spaces["state_spaces"] = self.state_spaces
        self.groups = group_agents(self.possible_agents, self.models, spaces)
        self.memories = self._memories(memories)
        self.memory = next(iter(self.memories.values()), None)  # the host driver records when there is one
        self.device = device
        config = self._resolve_multi_agent_config(cfg)
        self.cfg = {"experiment": config["experiment"]}
        self.group_agents = tuple(
            self._group_agent(
                group,
                config,
                {
                    "observation_space": self.observation_spaces[group.agents[0]],
                    "action_space": self.action_spaces[group.agents[0]],
                },
                self.state_spaces[group.agents[0]],
            )
            for group in self.groups
        )
        rollouts = {agent.config.rollouts for agent in self.group_agents}
        for uid, memory in self.memories.items():
            if memory.memory_size not in rollouts:
                raise ValueError(
                    f"{name}: memories[{uid!r}] holds {memory.memory_size} steps but cfg['rollouts'] is {rollouts.pop()}"
                )
        self.privileged_sizes = {
            uid: agent.privileged_size for group, agent in zip(self.groups, self.group_agents) for uid in group.agents
        }
        self.privileged_size = max(self.privileged_sizes.values())
        self._init_driver()

    # --- construction -----------------------------------------------------------------------

    def _spaces(self, spaces: Mapping[str, Any] | None, kind: str, role: str) -> dict[str, Any]:
        """``{agent: space}``: the given ones, else those the agent's ``role`` model was built for."""
        found = {}
        for uid in self.possible_agents:
            space = (spaces or {}).get(uid)
            if space is None and self.models[uid].get(role) is not None:
                space = getattr(self.models[uid][role], f"{kind}_space", None)
            if space is None:
                raise ValueError(f"{type(self).__name__}: no {kind} space for agent {uid!r} ({kind}_spaces={spaces})")
            found[uid] = space
        return found

    def _memories(self, memories: Any) -> dict[str, Any]:
        name = type(self).__name__
        if memories is None:
            return {}
        if not isinstance(memories, Mapping):
            raise TypeError(
                f"{name}: memories must be a dict {{agent: memory}} (skrl's keyword is memories=), got "
                f"{type(memories).__name__}"
            )
        missing = [uid for uid in self.possible_agents if memories.get(uid) is None]
        if missing:
            raise KeyError(f"{name}: memories has no memory for agent(s) {missing}")
        found = {uid: memories[uid] for uid in self.possible_agents}
        sizes = {uid: memory.num_envs for uid, memory in found.items()}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"{name}: every agent's memory must hold the same num_envs, got {sizes}")
        return found

    # --- the pure functions -------------------------------------------------------------------

    def make_functions(self, num_envs: int, timesteps: int = 0) -> AgentFunctions:
        """Each group's single-agent functions over ``len(agents) * num_envs`` rows, over dicts keyed by agent."""
        return make_multi_agent_functions(
            self.groups,
            [
                agent.make_functions(len(group.agents) * num_envs, timesteps)
                for group, agent in zip(self.groups, self.group_agents)
            ],
        )

    def example_observations(self) -> dict[str, Any]:
        return {
            uid: jnp.zeros(
                (
                    self.num_envs,
                    compute_space_size(self.observation_spaces[uid], occupied_size=True) + self.privileged_sizes[uid],
                ),
                jnp.float32,
            )
            for uid in self.possible_agents
        }

    # --- parameters -----------------------------------------------------------------------------

    def parameter_keys(self) -> dict[str, Any]:
        """Each group's models under ``"<first agent>_<model key>"`` (skrl's ``store_separately`` names)."""
        return {
            f"{group.agents[0]}_{key}": model
            for group, agent in zip(self.groups, self.group_agents)
            for key, model in agent.parameter_keys().items()
        }

    def held_params(self) -> dict[int, dict[str, Any]]:
        return {
            index: {key: model.params for key, model in agent.parameter_keys().items() if model.params is not None}
            for index, agent in enumerate(self.group_agents)
        }

    def _bind(self) -> None:
        """``model.params`` of every group's models reads this agent's state (the memories are not views:
        the rollout lives in ``state.memory``, one per group, agent-major)."""
        self._bound = True
        for index, agent in enumerate(self.group_agents):

            def write(key: str, params: Any, index: int = index) -> None:
                learners = list(self._state.learner)
                learners[index] = learners[index]._replace(params={**learners[index].params, key: params})
                self.state = self._state._replace(learner=tuple(learners))

            for key, model in agent.parameter_keys().items():
                model.bind_params(
                    lambda key=key, index=index: self._state.learner[index].params[key],
                    lambda value, key=key, write=write: write(key, value),
                )

    # --- skrl's dicts at the edge ----------------------------------------------------------------

    def act_results(self, extras: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``({agent: log_prob}, {agent: outputs})`` from each group's ``act`` extras."""
        log_prob, outputs = {}, {}
        for group, group_extras in zip(self.groups, extras):
            log_prob.update(unstack_rows(group_extras["log_prob"], group.agents))
            outputs.update(unstack_rows(group_extras.get("outputs", {}), group.agents))
        return log_prob, outputs

    def outputs_with_log_prob(self, outputs: Mapping[str, Any], log_prob: Mapping[str, Any]) -> dict[str, Any]:
        """skrl 2.x's multi-agent ``act`` outputs: ``{agent: outputs}``, each with its ``"log_prob"``."""
        return {uid: {**outputs[uid], "log_prob": log_prob[uid]} for uid in self.possible_agents}

    def with_privileged_states(self, observations: Any, states: Any, what: str = "act") -> Any:
        """``{agent: observations}``, each agent's privileged states (``{agent: state}``, skrl 2.x's
        ``env.state()``) after its observations when the agent was built with a state space."""
        name = type(self).__name__
        if not self.privileged_size:
            if states is not None and any(value is not None for value in dict(states).values()):
                raise ValueError(
                    f"{name}.{what}: got states (skrl 2.x's privileged states), but the agent was built without "
                    "state_spaces; build it with state_spaces=env.state_spaces to use them"
                )
            return observations
        if not isinstance(states, Mapping):
            raise ValueError(
                f"{name}.{what}: the agent was built with state_spaces and needs the states as {{agent: state}} "
                f"(env.state()), got {type(states).__name__}"
            )
        return {
            uid: with_states(
                observations[uid], states.get(uid), size, self.state_spaces[uid], f"{name}.{what}", f"states[{uid!r}]"
            )
            if (size := self.privileged_sizes[uid])
            else observations[uid]
            for uid in self.possible_agents
        }

    def track_episodes(self, rewards: Any, terminated: Any, truncated: Any, timestep: int) -> None:
        """skrl's episode statistics of a multi-agent run: the reward summed over the agents, an episode
        ended where the first agent's ended."""
        first = self.possible_agents[0]
        total = sum(np.asarray(rewards[uid], np.float32) for uid in self.possible_agents)
        self.logger.track_episodes(total, terminated[first], truncated[first], timestep)
