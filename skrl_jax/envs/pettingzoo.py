"""PettingZoo parallel environments behind skrl's multi-agent wrapper interface, as host (numpy) arrays.

Every output is a dict keyed by agent holding one row per environment (one environment here):
observations ``(1, observation_size)`` float32 in skrl's flat layout (``skrl_jax.core.spaces``: a
Box flattened, a Discrete observation as its index in one column, Dict / Tuple entries
concatenated), rewards ``(1, 1)`` float32, terminated / truncated ``(1, 1)`` bool.

PettingZoo drops an agent from its outputs once the agent has left the episode. The wrapper keeps
a row for every possible agent instead, so that the batch a multi-agent learner stacks keeps its
shape: an agent missing from the environment's output gets a zero observation, a zero reward,
``terminated=True`` and ``truncated=False``. ``agent_mask`` tells the real rows from the padded ones.

As in skrl, the wrapper does not reset by itself: an episode is over when ``agents`` is empty
(skrl's trainer then calls ``reset()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
from gymnasium import spaces

from skrl_jax import config as library_config
from skrl_jax.core.spaces import check_space, compute_space_size, flatten_sample

# the action spaces a flat (1, action_size) row can be turned back into
_ACTION_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def _flat_row(space: spaces.Space | None, value: Any) -> np.ndarray:
    """One sample of ``space`` as a ``(1, size)`` float32 row in skrl's flat layout."""
    if isinstance(space, (spaces.Dict, spaces.Tuple)):
        batch = jax.tree.map(lambda x: np.asarray(x)[None], value)
        return np.asarray(flatten_sample(space, batch), np.float32)
    return np.asarray(value, np.float32).reshape(1, -1)


def is_pettingzoo_env(env: Any) -> bool:
    """Whether ``env`` is a PettingZoo environment (parallel or AEC), without importing pettingzoo."""
    return any(cls.__module__.startswith("pettingzoo.") for cls in type(env).__mro__)


def check_parallel_env(env: Any) -> None:
    """Raise a ``TypeError`` unless ``env`` is a PettingZoo ``ParallelEnv`` (an AEC env is named as such)."""
    if not is_pettingzoo_env(env):
        raise TypeError(f"PettingZooWrapper expects a PettingZoo ParallelEnv, got {type(env).__name__}")
    from pettingzoo.utils.env import AECEnv, ParallelEnv

    if isinstance(env, AECEnv):
        raise TypeError(
            f"PettingZooWrapper expects a PettingZoo ParallelEnv, got the AEC environment {type(env).__name__} "
            f"({env}); create it with the environment module's parallel_env() (e.g. simple_spread_v3.parallel_env()) "
            "or convert it with pettingzoo.utils.conversions.aec_to_parallel(env)"
        )
    if not isinstance(env, ParallelEnv):
        raise TypeError(f"PettingZooWrapper expects a PettingZoo ParallelEnv, got {type(env).__name__}")


class PettingZooWrapper:
    """skrl-style multi-agent wrapper over a PettingZoo ``ParallelEnv`` (one environment, host arrays)."""

    def __init__(self, env: Any) -> None:
        check_parallel_env(env)
        self._env = env
        self.num_envs = 1
        self.device = None
        self._possible_agents = list(env.possible_agents)
        # PettingZoo deprecates the spaces dicts in favour of the per-agent methods, which must return
        # the same space for an agent every time, so they are read once here
        self._observation_spaces = {agent: env.observation_space(agent) for agent in self._possible_agents}
        self._action_spaces = {agent: env.action_space(agent) for agent in self._possible_agents}
        for agent in self._possible_agents:
            check_space(self._observation_spaces[agent], f"observation space of agent {agent!r}")
            space = self._action_spaces[agent]
            if not isinstance(space, _ACTION_SPACES):
                names = ", ".join(s.__name__ for s in _ACTION_SPACES)
                raise TypeError(
                    f"unsupported action space {space!r} of agent {agent!r} ({type(space).__name__}); expected one "
                    f"of: {names}"
                )
        self._state_space = getattr(env, "state_space", None)
        if self._state_space is not None:
            check_space(self._state_space, "state space")
        self._widths = {
            agent: compute_space_size(space, occupied_size=True) for agent, space in self._observation_spaces.items()
        }
        self._was_reset = False
        self._agent_mask = {agent: np.zeros((1, 1), bool) for agent in self._possible_agents}

    @property
    def env(self) -> Any:
        return self._env

    def __getattr__(self, name: str) -> Any:
        if name == "_env":  # not set yet (e.g. while unpickling): forwarding would recurse
            raise AttributeError(name)
        return getattr(self._env, name)

    # agents and spaces

    @property
    def agents(self) -> list[str]:
        """The agents alive in the episode, a copy (PettingZoo changes its own list while stepping).

        Before the first reset, an environment that has no ``agents`` yet (``aec_to_parallel``'s
        wrapper sets them at reset) gives the possible agents, as its unwrapped environment does."""
        return list(getattr(self._env, "agents", self._possible_agents))

    @property
    def possible_agents(self) -> list[str]:
        """Every agent the environment can have; the keys of every dict the wrapper returns."""
        return list(self._possible_agents)

    @property
    def num_agents(self) -> int:
        """Number of agents alive in the episode (0 once it is over)."""
        return len(self.agents)

    @property
    def max_num_agents(self) -> int:
        return len(self._possible_agents)

    @property
    def observation_spaces(self) -> dict[str, spaces.Space]:
        return dict(self._observation_spaces)

    @property
    def action_spaces(self) -> dict[str, spaces.Space]:
        return dict(self._action_spaces)

    @property
    def state_spaces(self) -> dict[str, spaces.Space | None]:
        """skrl 2.x's privileged state space per agent: the environment's global ``state_space`` for
        every possible agent, or None for each when the environment has none."""
        return {agent: self._state_space for agent in self._possible_agents}

    def observation_space(self, agent: str) -> spaces.Space:
        return self._observation_spaces[self._known(agent)]

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_spaces[self._known(agent)]

    def state_space(self, agent: str | None = None) -> spaces.Space | None:
        """The state space of ``agent`` (skrl 2.x's method); without an agent, the environment's single
        global state space. None when the environment has no ``state_space``."""
        if agent is not None:
            self._known(agent)
        return self._state_space

    @property
    def agent_mask(self) -> dict[str, np.ndarray]:
        """Which rows of the latest ``reset()`` / ``step()`` came from the environment: ``{agent: (1, 1)
        bool}``, False for an agent the environment left out (departed, or not yet in the episode),
        whose row is padding. A learner should not learn from the masked-out rows."""
        return {agent: mask.copy() for agent, mask in self._agent_mask.items()}

    def _known(self, agent: str) -> str:
        if agent not in self._observation_spaces:
            raise KeyError(f"unknown agent {agent!r}; the environment's possible agents are {self._possible_agents}")
        return agent

    # conversions

    def _observation_row(self, agent: str, observation: Any) -> np.ndarray:
        space = self._observation_spaces[agent]
        row = _flat_row(space, observation)
        if row.shape != (1, self._widths[agent]):
            raise ValueError(
                f"agent {agent!r}: the environment returned an observation of {row.shape[1]} values for the space "
                f"{space}, which takes {self._widths[agent]}"
            )
        return row

    def _observation_rows(self, observations: Mapping[str, Any]) -> dict[str, np.ndarray]:
        unknown = sorted(set(observations) - set(self._possible_agents))
        if unknown:
            raise ValueError(
                f"the environment returned observations for {unknown}, which are not among its possible agents "
                f"{self._possible_agents}"
            )
        return {
            agent: self._observation_row(agent, observations[agent])
            if agent in observations
            else np.zeros((1, self._widths[agent]), np.float32)
            for agent in self._possible_agents
        }

    def _env_action(self, agent: str, action: Any) -> Any:
        """One agent's action row, ``(1, action_size)`` or ``(1, 1)`` for a Discrete space, as the
        environment takes it: a Python int for a Discrete space, an array of the space's shape and
        dtype otherwise."""
        space = self._action_spaces[agent]
        array = np.asarray(action)
        if isinstance(space, spaces.Discrete):
            if array.size != 1:
                raise ValueError(
                    f"agent {agent!r}: expected one index, shape (1, 1), for the {space} action, got shape {array.shape}"
                )
            return int(array.reshape(()))
        shape = space.nvec.shape if isinstance(space, spaces.MultiDiscrete) else space.shape
        if array.size != int(np.prod(shape)):
            raise ValueError(
                f"agent {agent!r}: expected an action of {int(np.prod(shape))} values, shape (1, "
                f"{int(np.prod(shape))}), for the {space} action, got shape {array.shape}"
            )
        return array.reshape(shape).astype(space.dtype)

    # interaction

    def reset(self, seed: int | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start an episode; the first reset takes ``skrl_jax.config.set_seed``'s seed when none is given,
        later ones without a seed continue the environment's random stream.

        Returns:
            ``({agent: (1, observation_size) float32}, infos)`` with a row for every possible agent
            (zeros for one the environment did not start with, see ``agent_mask``) and the
            environment's infos as it returned them.
        """
        if seed is None and not self._was_reset:
            seed = library_config.get_seed()
        self._was_reset = True
        observations, infos = self._env.reset(seed=seed)
        self._agent_mask = {agent: np.full((1, 1), agent in observations) for agent in self._possible_agents}
        return self._observation_rows(observations), infos

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]
    ]:
        """Step every alive agent at once.

        Args:
            actions: ``{agent: action}`` with each action ``(1, action_size)`` (Box, MultiDiscrete,
                MultiBinary) or ``(1, 1)`` (Discrete, the index). Every alive agent needs one; those
                of agents no longer alive are ignored, so actions for all possible agents can be given.

        Returns:
            ``(observations, rewards, terminated, truncated, infos)``: dicts over every possible agent
            of ``(1, observation_size)`` float32, ``(1, 1)`` float32, ``(1, 1)`` bool and ``(1, 1)``
            bool, and the environment's infos as it returned them. An agent the environment left
            out of this step (it left the episode earlier) has a zero observation and reward,
            ``terminated=True`` and ``truncated=False``; ``agent_mask`` marks those rows False.
        """
        if not self._was_reset:
            raise RuntimeError("PettingZooWrapper.step() was called before reset(); call reset() first")
        alive = list(self._env.agents)
        if not alive:
            raise RuntimeError("the episode is over (no agent is alive): call reset() before stepping again")
        if not isinstance(actions, Mapping):
            raise TypeError(f"step expects a dict of actions keyed by agent, got {type(actions).__name__}")
        missing = [agent for agent in alive if agent not in actions]
        unknown = sorted(set(actions) - set(self._possible_agents))
        if missing or unknown:
            raise KeyError(
                f"step: actions are missing for the alive agents {missing} and given for unknown agents {unknown}; "
                f"expected a key for each alive agent {alive} (possible agents: {self._possible_agents})"
            )
        observations, rewards, terminated, truncated, infos = self._env.step(
            {agent: self._env_action(agent, actions[agent]) for agent in alive}
        )
        present = {agent: agent in observations for agent in self._possible_agents}
        self._agent_mask = {agent: np.full((1, 1), present[agent]) for agent in self._possible_agents}
        return (
            self._observation_rows(observations),
            {
                agent: np.asarray(rewards.get(agent, 0.0) if present[agent] else 0.0, np.float32).reshape(1, 1)
                for agent in self._possible_agents
            },
            {
                agent: np.full((1, 1), bool(terminated.get(agent, False)) if present[agent] else True)
                for agent in self._possible_agents
            },
            {
                agent: np.full((1, 1), bool(truncated.get(agent, False)) and present[agent])
                for agent in self._possible_agents
            },
            infos,
        )

    def state(self) -> dict[str, np.ndarray]:
        """skrl 2.x's privileged state: the environment's global ``state()`` flattened, ``(1, state_size)``
        float32, the same array for every possible agent."""
        message = (
            f"the environment {self._env} has no state(); its state_space is {self._state_space}: build the models "
            "without a state_space and do not ask for states"
        )
        if not callable(getattr(self._env, "state", None)):
            raise NotImplementedError(message)
        try:
            state = self._env.state()
        except NotImplementedError as error:  # PettingZoo's base classes raise it for an env without a state
            raise NotImplementedError(f"{message} ({error})") from error
        row = _flat_row(self._state_space, state)
        return {agent: row for agent in self._possible_agents}

    def render(self, *args: Any, **kwargs: Any) -> Any:
        return self._env.render(*args, **kwargs)

    def close(self) -> None:
        self._env.close()
