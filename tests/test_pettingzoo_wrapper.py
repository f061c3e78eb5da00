"""PettingZooWrapper: PettingZoo parallel environments behind skrl's multi-agent wrapper interface."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # mpe2 imports pygame

import numpy as np
import pytest
from gymnasium import spaces

pytest.importorskip("mpe2")

from mpe2 import simple_spread_v3  # noqa: E402
from pettingzoo import ParallelEnv  # noqa: E402

from skrl_jax import config  # noqa: E402
from skrl_jax.envs import PettingZooWrapper, wrap_env  # noqa: E402

AGENTS = ["agent_0", "agent_1", "agent_2"]


def spread(**kwargs):
    return simple_spread_v3.parallel_env(N=3, max_cycles=25, **kwargs)


def index_actions(step):
    """(1, 1) index rows, different per agent and per step."""
    return {agent: np.array([[(step + i) % 5]]) for i, agent in enumerate(AGENTS)}


def test_spaces_and_the_shapes_of_reset_and_step():
    env = wrap_env(spread())
    assert isinstance(env, PettingZooWrapper)
    assert (env.num_envs, env.num_agents, env.max_num_agents, env.device) == (1, 3, 3, None)
    assert env.agents == AGENTS and env.possible_agents == AGENTS
    assert env.observation_spaces == {agent: spaces.Box(-np.inf, np.inf, (18,), np.float32) for agent in AGENTS}
    assert env.action_spaces == {agent: spaces.Discrete(5) for agent in AGENTS}
    assert env.observation_space("agent_1") == spaces.Box(-np.inf, np.inf, (18,), np.float32)
    assert env.action_space("agent_1") == spaces.Discrete(5)
    state_space = spaces.Box(-np.inf, np.inf, (54,), np.float32)
    assert env.state_spaces == {agent: state_space for agent in AGENTS}
    assert env.state_space() == state_space and env.state_space("agent_2") == state_space
    with pytest.raises(KeyError, match=r"unknown agent 'agent_9'.*possible agents are \['agent_0'"):
        env.observation_space("agent_9")

    observations, infos = env.reset(seed=0)
    assert sorted(observations) == AGENTS and isinstance(infos, dict)
    for row in observations.values():
        assert isinstance(row, np.ndarray) and row.shape == (1, 18) and row.dtype == np.float32
    observations, rewards, terminated, truncated, infos = env.step(index_actions(0))
    for agent in AGENTS:
        assert observations[agent].shape == (1, 18) and observations[agent].dtype == np.float32
        assert rewards[agent].shape == (1, 1) and rewards[agent].dtype == np.float32
        assert terminated[agent].shape == (1, 1) and terminated[agent].dtype == bool
        assert truncated[agent].shape == (1, 1) and truncated[agent].dtype == bool
    assert env.agent_mask == {agent: np.ones((1, 1), bool) for agent in AGENTS}
    env.close()


def test_state_is_the_agents_observations_concatenated():
    env = PettingZooWrapper(spread())
    observations, _ = env.reset(seed=3)
    for step in range(3):
        state = env.state()
        assert sorted(state) == AGENTS
        concatenated = np.concatenate([observations[agent] for agent in AGENTS], axis=1)
        expected = np.asarray(env.env.unwrapped.state(), np.float32)[None]
        for agent in AGENTS:
            assert state[agent].shape == (1, 54) and state[agent].dtype == np.float32
            np.testing.assert_array_equal(state[agent], expected)
            np.testing.assert_array_equal(state[agent], concatenated)
        observations, *_ = env.step(index_actions(step))


def test_the_episode_ends_truncated_after_max_cycles_and_then_needs_a_reset():
    env = PettingZooWrapper(spread())
    env.reset(seed=1)
    for step in range(25):
        _, _, terminated, truncated, _ = env.step(index_actions(step))
        assert not any(terminated[agent].item() for agent in AGENTS)
        assert all(truncated[agent].item() == (step == 24) for agent in AGENTS), step
    assert env.agents == [] and env.num_agents == 0
    with pytest.raises(RuntimeError, match=r"episode is over.*call reset\(\)"):
        env.step(index_actions(0))
    env.reset()
    assert env.num_agents == 3


def test_index_actions_reach_the_environment_as_ints():
    raw, wrapped_env = spread(), spread()
    received = []
    step = wrapped_env.step

    def recording_step(actions):
        received.append(dict(actions))
        return step(actions)

    wrapped_env.step = recording_step
    env = PettingZooWrapper(wrapped_env)
    observations, _ = env.reset(seed=7)
    raw_observations, _ = raw.reset(seed=7)
    for step_index in range(6):
        for agent in AGENTS:
            np.testing.assert_array_equal(observations[agent][0], raw_observations[agent])
        actions = index_actions(step_index)
        observations, rewards, *_ = env.step(actions)
        raw_observations, raw_rewards, *_ = raw.step({agent: int(actions[agent][0, 0]) for agent in AGENTS})
        assert all(type(action) is int for action in received[-1].values()), received[-1]
        assert received[-1] == {agent: int(actions[agent][0, 0]) for agent in AGENTS}
        assert {agent: rewards[agent].item() for agent in AGENTS} == pytest.approx(raw_rewards)
    with pytest.raises(ValueError, match=r"agent 'agent_0': expected one index, shape \(1, 1\).*got shape \(1, 2\)"):
        env.step({agent: np.zeros((1, 2)) for agent in AGENTS})
    with pytest.raises(KeyError, match=r"missing for the alive agents \['agent_2'\]"):
        env.step({agent: np.zeros((1, 1)) for agent in AGENTS[:2]})


def test_continuous_actions_take_action_size_rows():
    raw = spread(continuous_actions=True)
    env = wrap_env(spread(continuous_actions=True))
    assert env.action_spaces == {agent: spaces.Box(0.0, 1.0, (5,), np.float32) for agent in AGENTS}
    observations, _ = env.reset(seed=2)
    raw.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(4):
        actions = {agent: rng.uniform(0, 1, (1, 5)) for agent in AGENTS}
        observations, *_ = env.step(actions)
        raw_observations, *_ = raw.step({agent: actions[agent][0].astype(np.float32) for agent in AGENTS})
        for agent in AGENTS:
            assert observations[agent].shape == (1, 18)
            np.testing.assert_array_equal(observations[agent][0], raw_observations[agent])
    with pytest.raises(ValueError, match=r"agent 'agent_0': expected an action of 5 values.*got shape \(1, 4\)"):
        env.step({agent: np.zeros((1, 4)) for agent in AGENTS})


def test_an_aec_environment_is_refused_with_the_way_to_a_parallel_one():
    with pytest.raises(TypeError, match=r"AEC environment.*parallel_env\(\).*aec_to_parallel"):
        wrap_env(simple_spread_v3.env(N=3))
    with pytest.raises(TypeError, match=r"AEC environment.*parallel_env\(\).*aec_to_parallel"):
        PettingZooWrapper(simple_spread_v3.env(N=3))
    with pytest.raises(TypeError, match=r"is a pettingzoo environment, not a gymnasium one"):
        wrap_env(spread(), wrapper="gymnasium")


def test_first_reset_takes_the_library_seed(monkeypatch):
    monkeypatch.setattr(config, "_seed", 11)
    monkeypatch.setattr(config, "_seed_was_set", True)
    first, _ = PettingZooWrapper(spread()).reset()
    second, _ = PettingZooWrapper(spread()).reset()
    raw, _ = spread().reset(seed=11)
    other, _ = spread().reset(seed=12)
    for agent in AGENTS:
        np.testing.assert_array_equal(first[agent], second[agent])
        np.testing.assert_array_equal(first[agent][0], raw[agent])
    assert not all(np.array_equal(first[agent][0], other[agent]) for agent in AGENTS)


class TwoAgents(ParallelEnv):
    """``runner`` (Box observation, Box action) plays 5 steps; ``quitter`` (Discrete observation and
    action) terminates at its 2nd step. Stepping an agent that is not alive is an error, as in PettingZoo."""

    metadata = {"name": "two_agents_v0"}

    def __init__(self):
        self.possible_agents = ["runner", "quitter"]
        self.agents = []
        self._spaces = {
            "runner": (spaces.Box(-1.0, 1.0, (2, 2), np.float32), spaces.Box(-1.0, 1.0, (3,), np.float32)),
            "quitter": (spaces.Discrete(4), spaces.Discrete(3)),
        }

    def observation_space(self, agent):
        return self._spaces[agent][0]

    def action_space(self, agent):
        return self._spaces[agent][1]

    def reset(self, seed=None, options=None):
        self.agents, self.t = list(self.possible_agents), 0
        return {"runner": np.zeros((2, 2), np.float32), "quitter": 0}, {agent: {} for agent in self.agents}

    def step(self, actions):
        assert sorted(actions) == sorted(self.agents), (actions, self.agents)
        assert type(actions.get("quitter", 0)) is int
        self.t += 1
        observations = {"runner": np.full((2, 2), actions["runner"][0] * self.t, np.float32)}
        rewards = {"runner": 1.0}
        terminated, truncated = {"runner": False}, {"runner": self.t == 5}
        if "quitter" in self.agents:
            observations["quitter"] = 3 - actions["quitter"]
            rewards["quitter"] = 2.0
            terminated["quitter"], truncated["quitter"] = self.t == 2, False
        infos = {agent: {} for agent in observations}
        self.agents = [agent for agent in self.agents if not (terminated[agent] or truncated[agent])]
        return observations, rewards, terminated, truncated, infos


def test_an_agent_that_leaves_keeps_padded_rows_and_a_discrete_observation_is_its_index():
    env = wrap_env(TwoAgents())
    assert env.state_spaces == {"runner": None, "quitter": None} and env.state_space() is None
    observations, _ = env.reset()
    assert observations["runner"].shape == (1, 4) and observations["quitter"].shape == (1, 1)
    actions = {"runner": np.array([[0.5, 0.0, 0.0]]), "quitter": np.array([[1]])}

    observations, rewards, terminated, truncated, _ = env.step(actions)
    np.testing.assert_array_equal(observations["quitter"], [[2.0]])  # the index 3 - 1, not a one-hot
    assert observations["quitter"].dtype == np.float32
    np.testing.assert_array_equal(observations["runner"], [[0.5] * 4])

    observations, rewards, terminated, truncated, _ = env.step(actions)  # quitter terminates here, a real row
    assert terminated["quitter"].item() and rewards["quitter"].item() == 2.0
    assert env.agent_mask == {"runner": np.ones((1, 1), bool), "quitter": np.ones((1, 1), bool)}
    assert env.agents == ["runner"] and env.num_agents == 1

    for step in (3, 4, 5):  # the quitter's action is ignored: the env asserts it gets none
        observations, rewards, terminated, truncated, _ = env.step(actions)
        assert (
            sorted(observations) == sorted(rewards) == sorted(terminated) == sorted(truncated) == ["quitter", "runner"]
        )
        np.testing.assert_array_equal(observations["quitter"], np.zeros((1, 1), np.float32))
        assert rewards["quitter"].item() == 0.0 and terminated["quitter"].item() and not truncated["quitter"].item()
        np.testing.assert_array_equal(observations["runner"], [[0.5 * step] * 4])
        assert rewards["runner"].item() == 1.0 and not terminated["runner"].item()
        assert truncated["runner"].item() == (step == 5)
        assert env.agent_mask == {"runner": np.ones((1, 1), bool), "quitter": np.zeros((1, 1), bool)}
    assert env.agents == []

    with pytest.raises(NotImplementedError, match=r"two_agents_v0 has no state\(\).*without a state_space"):
        env.state()
