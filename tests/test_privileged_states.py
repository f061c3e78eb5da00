"""skrl 2.x's privileged states in the on-policy agents (asymmetric actor-critic): what is recorded,
what the models get, the preprocessors, the host loop on an environment with a state, and the errors."""

import re
import runpy
import sys
from pathlib import Path

import flax.linen as nn
import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.a2c import A2C, A2C_CFG
from skrl_jax.agents.ppo import PPO, PPO_CFG
from skrl_jax.agents.sac import SAC
from skrl_jax.envs import privileged_state, wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.test_off_policy import sac_models

OBSERVATION = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
STATE = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
ACTION = gym.spaces.Discrete(2)


class Asymmetric(CategoricalMixin, DeterministicMixin, Model):
    """A policy on the observations; a value linear in the privileged state (no bias), on one model."""

    def __init__(self, observation_space, state_space, action_space, device=None):
        Model.__init__(
            self, observation_space=observation_space, state_space=state_space, action_space=action_space, device=device
        )
        CategoricalMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        self.trunk = nn.Dense(16)
        self.logits = nn.Dense(self.num_actions)
        self.critic = nn.Dense(1, use_bias=False)

    def compute(self, inputs, role):
        if role == "policy":
            return self.logits(nn.tanh(self.trunk(inputs["observations"]))), {}
        return self.critic(inputs["states"]), {}


def agent_with_states(cfg=None, num_envs=2, agent_class=PPO, memory=True):
    model = Asymmetric(OBSERVATION, STATE, ACTION)
    cfg = cfg or PPO_CFG(rollouts=8, mini_batches=2, learning_epochs=2)
    cfg.experiment.write_interval = cfg.experiment.checkpoint_interval = 0
    return agent_class(
        models={"policy": model, "value": model},
        memory=RandomMemory(memory_size=cfg.rollouts, num_envs=num_envs) if memory else None,
        observation_space=OBSERVATION,
        state_space=STATE,
        action_space=ACTION,
        cfg=cfg,
    )


def test_the_rollout_records_observations_and_states_and_the_value_reads_the_states():
    agent = agent_with_states()
    agent.init({"timesteps": 8})
    rng = np.random.default_rng(0)
    observations, states = rng.normal(size=(2, 2)).astype(np.float32), rng.normal(size=(2, 4)).astype(np.float32)
    actions, outputs = agent.act(observations, states, timestep=0, timesteps=8)
    assert actions.shape == (2, 1) and outputs["log_prob"].shape == (2, 1)
    flags = np.zeros((2, 1), bool)
    agent.record_transition(
        observations=observations,
        states=states,
        actions=actions,
        rewards=np.ones((2, 1), np.float32),
        next_observations=observations + 1,
        next_states=states + 1,
        terminated=flags,
        truncated=flags,
        infos={},
        timestep=0,
        timesteps=8,
    )
    tensors = agent.memory.state.tensors
    np.testing.assert_allclose(tensors["states"][0], np.concatenate([observations, states], -1))
    kernel = np.asarray(agent.state.learner.params["policy"]["critic"]["kernel"])
    np.testing.assert_allclose(tensors["values"][0], states @ kernel, rtol=1e-5, atol=1e-6)  # value = states @ w
    # the policy reads only the observations: other states, the same action probabilities
    again, other = agent.act(observations, states + 5.0, timestep=1, timesteps=8)
    logits = agent.models["policy"].apply(
        agent.state.learner.params["policy"], {"observations": observations, "states": states}, "policy"
    )[0]
    np.testing.assert_allclose(
        other["log_prob"], jnp.take_along_axis(jax.nn.log_softmax(logits), jnp.asarray(again), -1), rtol=1e-5
    )


@pytest.mark.parametrize("agent_class", [PPO, A2C])
def test_the_host_loop_trains_an_asymmetric_actor_critic_with_both_preprocessors(agent_class):
    env = privileged_state(wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync")), [0, 2])
    cfg_class = PPO_CFG if agent_class is PPO else A2C_CFG
    cfg = cfg_class(rollouts=8, mini_batches=2)
    cfg.observation_preprocessor, cfg.observation_preprocessor_kwargs = RunningStandardScaler, {"size": OBSERVATION}
    cfg.state_preprocessor, cfg.state_preprocessor_kwargs = RunningStandardScaler, {"size": STATE}
    agent = agent_with_states(cfg, agent_class=agent_class)
    before = agent.models["policy"].init(jax.random.key(0))
    SequentialTrainer(
        env=env, agents=agent, cfg={"timesteps": 32, "headless": True, "disable_progressbar": True}
    ).train()
    learner = agent.state.learner
    observation_scaler, state_scaler = learner.state_scaler
    # each part's running mean is the mean of that part of what was recorded, from skrl's (0, 1, count 1) start
    recorded = np.asarray(agent.memory.state.tensors["states"]).reshape(-1, 6)
    assert observation_scaler.mean.shape == (2,) and state_scaler.mean.shape == (4,)
    assert float(state_scaler.count[0]) == 1 + 4 * recorded.shape[0]  # 4 rollouts of 16 rows
    assert (recorded[:, 2:].std(0) > 0).all()  # the states recorded: the full CartPole state, varying
    assert not np.array_equal(learner.params["policy"]["critic"]["kernel"], before["critic"]["kernel"])
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(learner.params))


def test_privileged_state_env_splits_the_observation():
    inner = wrap_env(gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="sync"))
    env = privileged_state(inner, [2, 0])
    assert env.observation_space.shape == (2,) and env.state_space == inner.observation_space and env.num_envs == 3
    observations, _ = env.reset(seed=1)
    np.testing.assert_array_equal(observations, np.asarray(env.state())[:, [2, 0]])
    seen_an_end = False
    for _ in range(30):
        observations, _, terminated, truncated, infos = env.step(np.zeros(3, np.int64))
        np.testing.assert_array_equal(observations, np.asarray(env.state())[:, [2, 0]])
        ended = np.asarray(terminated | truncated).reshape(-1)
        for index in np.flatnonzero(ended):
            assert np.asarray(infos["final_observation"][index]).shape == (2,)
            seen_an_end = True
    assert seen_an_end  # pushing one way ends CartPole's episodes within 30 steps
    with pytest.raises(ValueError, match="index 4 is out of range"):
        privileged_state(inner, [0, 4])
    with pytest.raises(TypeError, match="wrap_env-wrapped gymnasium environment"):
        privileged_state(gym.make("CartPole-v1"), [0])


def test_privileged_states_errors_name_what_is_missing():
    agent = agent_with_states()
    agent.init({"timesteps": 8})
    observations = np.zeros((2, 2), np.float32)
    with pytest.raises(ValueError, match=r"needs the privileged states \(env.state\(\)\), got None"):
        agent.act(observations, None, timestep=0, timesteps=8)
    with pytest.raises(ValueError, match=r"expected states \(privileged\) of shape \(2, 4\).*got \(2, 3\)"):
        agent.act(observations, np.zeros((2, 3)), timestep=0, timesteps=8)
    with pytest.raises(NotImplementedError, match="SAC yet \\(PPO, A2C and RPO take them\\)"):
        SAC(models=sac_models(True), memory=RandomMemory(64), state_space=STATE)
    plain = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    cartpole_positions = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
    model = Asymmetric(cartpole_positions, STATE, ACTION)
    cfg = PPO_CFG(rollouts=8, mini_batches=2)
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 2), state_space=STATE, cfg=cfg)
    with pytest.raises(ValueError, match="the environment has no state_space"):
        SequentialTrainer(env=plain, agents=agent, cfg={"timesteps": 8})
    gymnax_env = wrap_env(gymnax.make("CartPole-v1"))
    with pytest.raises(NotImplementedError, match="only the SequentialTrainer passes"):
        CompiledTrainer(gymnax_env, agent, cfg={"timesteps": 16, "num_envs": 2})


@pytest.mark.parametrize("value", ["full", "observations"])
def test_the_asymmetric_example_runs_briefly_and_ends_with_its_readme_measure(value, capsys, monkeypatch):
    script = Path(__file__).resolve().parents[1] / "examples" / "asymmetric_cartpole.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--value", value, "--timesteps", "300"])
    runpy.run_path(str(script), run_name="__main__")
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"mean return of the last 20 episodes: \d+\.\d", last)
