"""Recurrent models (GRU / LSTM trunks, skrl's ``get_specification()["rnn"]``) and the *_RNN agents."""

import subprocess
import sys
from pathlib import Path

import chex
import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.a2c import A2C_RNN
from skrl_jax.agents.ppo import PPO, PPO_RNN
from skrl_jax.envs import hidden_velocity_cartpole, select_observation, wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import (
    GRU,
    LSTM,
    CategoricalHead,
    CategoricalMixin,
    DeterministicHead,
    DeterministicMixin,
    Model,
    RecurrentTrunk,
    shared_model,
)
from skrl_jax.trainers import CompiledTrainer

ROOT = Path(__file__).resolve().parents[1]
OBSERVATIONS = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
ACTIONS = gym.spaces.Discrete(2)
NO_LOGS = {"write_interval": 0, "checkpoint_interval": 0}


GRU_RUNS = []


class CountingGRU(GRU):
    def __call__(self, *args, **kwargs):
        GRU_RUNS.append(1)  # at trace time
        return super().__call__(*args, **kwargs)


class SharedGRU(CategoricalMixin, DeterministicMixin, Model):
    """skrl's torch RNN example, ported: one GRU read by both roles, hidden state in inputs["rnn"]."""

    def __init__(self, observation_space, action_space, device=None, num_envs=1, hidden_size=8, sequence_length=4):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")
        self.num_envs, self.hidden_size, self.sequence_length = num_envs, hidden_size, sequence_length
        self.gru_class = GRU

    def get_specification(self):
        return {"rnn": {"sequence_length": self.sequence_length, "sizes": [(1, self.num_envs, self.hidden_size)]}}

    def setup(self):
        self.gru = self.gru_class(self.hidden_size)
        self.policy_layer = nn.Dense(self.num_actions)
        self.value_layer = nn.Dense(1)

    def compute(self, inputs, role):
        features, hidden = self.gru(inputs["states"], inputs["rnn"][0], inputs.get("terminated"))
        layer = self.policy_layer if role == "policy" else self.value_layer
        return layer(features), {"rnn": [hidden]}


def gru_model(sequence_length=4, trunk=None):
    trunk = GRU(8) if trunk is None else trunk
    heads = {"policy": CategoricalHead(), "value": DeterministicHead()}
    return shared_model(OBSERVATIONS, ACTIONS, trunk, heads, sequence_length=sequence_length)


# --- the recurrent layers --------------------------------------------------------------------


@pytest.mark.parametrize("layer", [GRU(6, num_layers=2), LSTM(6, num_layers=2)], ids=["gru", "lstm"])
def test_a_sequence_equals_its_steps_one_by_one_and_restarts_where_an_episode_ends(layer):
    batch, length = 3, 7
    states = jax.random.normal(jax.random.key(0), (batch * length, 2))
    zeros = jnp.zeros((2, batch, 6))
    hidden = zeros if isinstance(layer, GRU) else (zeros, zeros)
    params = layer.init(jax.random.key(1), states, hidden)
    ended = np.zeros((batch, length), bool)
    ended[1, 2] = True  # sequence 1's episode ends at its step 2: step 3 starts from zeros
    outputs, final = layer.apply(params, states, hidden, jnp.asarray(ended.reshape(-1, 1)))
    outputs = outputs.reshape(batch, length, 6)

    # the same by hand, one step at a time (acting: rows = environments, sequence length 1)
    carry, expected = hidden, []
    rows = states.reshape(batch, length, 2)
    for t in range(length):
        step, carry = layer.apply(params, rows[:, t], carry)
        expected.append(step)
        carry = jax.tree.map(lambda h, t=t: jnp.where(ended[:, t][None, :, None], 0.0, h), carry)
    np.testing.assert_allclose(outputs, jnp.stack(expected, 1), rtol=1e-5, atol=1e-6)
    chex.assert_trees_all_close(final, carry, rtol=1e-5, atol=1e-6)

    # after the end, sequence 1 continues exactly as a fresh sequence of its remaining steps
    fresh = jax.tree.map(lambda h: h[:, :1], hidden)
    restarted, _ = layer.apply(params, rows[1, 3:], fresh)
    np.testing.assert_allclose(outputs[1, 3:], restarted, rtol=1e-5, atol=1e-6)
    assert not np.allclose(outputs[1, 3:], outputs[0, 3:])  # the restart did change something


def test_hidden_states_of_the_wrong_shape_get_clear_errors():
    layer = GRU(6)
    states = jnp.zeros((8, 2))
    params = layer.init(jax.random.key(0), states, jnp.zeros((1, 2, 6)))
    with pytest.raises(ValueError, match=r"\(num_layers, batch, hidden_size\) = \(1, 'batch', 6\), got \(1, 2, 5\)"):
        layer.apply(params, states, jnp.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match="holds 3 sequence"):
        layer.apply(params, states, jnp.zeros((1, 3, 6)))
    with pytest.raises(ValueError, match="one flag per row"):
        layer.apply(params, states, jnp.zeros((1, 2, 6)), jnp.zeros((5, 1), bool))
    with pytest.raises(ValueError, match=r"LSTM: the hidden state must be \(h, c\)"):
        LSTM(6).init(jax.random.key(0), states, jnp.zeros((1, 2, 6)))


# --- recurrent models --------------------------------------------------------------------------


def test_a_shared_recurrent_model_holds_its_trunk_once_and_runs_it_once_per_joint_pass():
    model = SharedGRU(OBSERVATIONS, ACTIONS)
    params = model.init(jax.random.key(0))
    assert set(params) == {"gru", "policy_layer", "value_layer"}
    assert model.parameter_roles()["gru"] == {"policy", "value"}
    inputs = {"states": jnp.ones((6, 2)), "rnn": model.rnn_initial_states(3), "terminated": jnp.zeros((6, 1), bool)}
    GRU_RUNS.clear()
    model.gru_class = CountingGRU
    both = jax.jit(lambda p: model.act(inputs, ("policy", "value"), params=p, key=jax.random.key(1)))(params)
    assert len(GRU_RUNS) == 1
    assert both["policy"][0].shape == (6, 1) and both["value"][0].shape == (6, 1)
    assert both["policy"][2]["rnn"][0].shape == (1, 3, 8)
    alone = model.apply(params, inputs, "value")
    np.testing.assert_allclose(both["value"][0], alone[0], rtol=1e-6)


def test_recurrent_inputs_missing_or_mismatched_get_clear_errors():
    model = gru_model()
    params = model.init(jax.random.key(0))
    with pytest.raises(KeyError, match=r"is recurrent .* inputs needs 'rnn'.*\(1, batch, 8\)"):
        model.apply(params, {"states": jnp.ones((4, 2))}, "policy")
    with pytest.raises(ValueError, match=r"expected hidden state\(s\) of shape \(1, batch, 8\).*got \[\(1, 4, 3\)\]"):
        model.apply(params, {"states": jnp.ones((4, 2)), "rnn": [jnp.zeros((1, 4, 3))]}, "policy")
    with pytest.raises(ValueError, match="multiple of the hidden states' batch \\(3\\).*got 4 rows"):
        model.apply(params, {"states": jnp.ones((4, 2)), "rnn": model.rnn_initial_states(3)}, "policy")
    with pytest.raises(ValueError, match="a list of 1 hidden state"):
        model.apply(params, {"states": jnp.ones((4, 2)), "rnn": model.rnn_initial_states(4) * 2}, "policy")
    with pytest.raises(ValueError, match="needs sequence_length"):
        shared_model(OBSERVATIONS, ACTIONS, GRU(8), {"policy": CategoricalHead()})

    class Malformed(SharedGRU):
        def get_specification(self):
            return {"rnn": {"sizes": [(1, 8)]}}

    with pytest.raises(ValueError, match=r"get_specification\(\)\['rnn'\] must be"):
        Malformed(OBSERVATIONS, ACTIONS).init(jax.random.key(0))


# --- the agents --------------------------------------------------------------------------------


def ppo_cfg(**changes):
    return {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, "experiment": NO_LOGS, **changes}


def test_recurrent_and_feed_forward_models_go_to_their_own_agents():
    recurrent = gru_model()
    with pytest.raises(TypeError, match="use PPO_RNN"):
        PPO(models={"policy": recurrent, "value": recurrent}, cfg=ppo_cfg())
    feed_forward = shared_model(
        OBSERVATIONS, ACTIONS, nn.Dense(8), {"policy": CategoricalHead(), "value": DeterministicHead()}
    )
    with pytest.raises(TypeError, match="use PPO for them"):
        PPO_RNN(models={"policy": feed_forward, "value": feed_forward}, cfg=ppo_cfg())


def test_sequences_must_divide_the_rollout_and_the_minibatches():
    env = wrap_env(hidden_velocity_cartpole("gymnax"))
    model = gru_model(sequence_length=5)
    agent = PPO_RNN(models={"policy": model, "value": model}, cfg=ppo_cfg())
    with pytest.raises(ValueError, match=r"sequence_length 5 .* does not divide cfg\['rollouts'\]=16"):
        CompiledTrainer(env, agent, cfg={"timesteps": 32, "num_envs": 2})
    model = gru_model(sequence_length=16)
    agent = PPO_RNN(models={"policy": model, "value": model}, cfg=ppo_cfg(mini_batches=4))
    with pytest.raises(ValueError, match="holds 2 sequences of 16 steps, which do not divide into mini_batches=4"):
        CompiledTrainer(env, agent, cfg={"timesteps": 32, "num_envs": 2})


def replayed_kl(agent_class, model, **cfg):
    """The KL of the update's minibatches against the rollout, with a learning rate of 0: the
    parameters never move, so any KL comes from replaying the sequences wrongly (order, initial
    hidden states, resets at episode ends inside them)."""
    env = wrap_env(hidden_velocity_cartpole("gymnax"))
    agent = agent_class(models={"policy": model, "value": model}, cfg=ppo_cfg(learning_rate=0.0, **cfg))
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 4, "disable_progressbar": True})
    _, metrics = jax.jit(trainer.make_train())(jax.random.key(3))
    return np.asarray(metrics["kl_divergence"]), np.asarray(metrics["episodes"]), metrics


def test_sequence_minibatches_replay_the_rollout_exactly():
    # 4 envs x 16 steps in sequences of 4: 16 sequences, 4 minibatches of 4, with CartPole episodes
    # (a random policy's last ~20 steps) ending inside them
    kl, episodes, metrics = replayed_kl(PPO_RNN, gru_model(sequence_length=4), mini_batches=4, sharing_diagnostics=True)
    assert episodes.sum() > 0
    np.testing.assert_allclose(kl, 0.0, atol=1e-6)
    # the trunk diagnostics see the GRU as the trunk both roles read
    assert np.all(np.isfinite(metrics["trunk_gradient_cosine"]))


def test_replaying_without_the_stored_hidden_states_would_be_seen():
    # the check above can fail: a layer that replays every training sequence from zeros instead of
    # its stored initial hidden state (acting is unchanged) gives a KL > 0 at the same learning rate 0
    class ReplayFromZeros(GRU):
        def __call__(self, states, hidden, terminated=None):
            if terminated is not None:  # only the update passes the episode ends
                hidden = jnp.zeros_like(hidden)
            return super().__call__(states, hidden, terminated)

    kl, _, _ = replayed_kl(PPO_RNN, gru_model(sequence_length=4, trunk=ReplayFromZeros(8)), mini_batches=4)
    assert kl.max() > 1e-4


def test_the_host_loop_stores_the_hidden_state_each_step_acted_from_and_resets_it_at_episode_ends():
    positions = [lambda env: select_observation(env, [0, 2])]  # cart position and pole angle
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=3, vectorization_mode="sync", wrappers=positions))
    model = SharedGRU(env.observation_space, env.action_space, num_envs=3)
    memory = RandomMemory(memory_size=16, num_envs=3)
    agent = PPO_RNN(models={"policy": model, "value": model}, memory=memory, cfg=ppo_cfg())
    agent.init()
    observations, _ = env.reset(seed=0)
    expected_hidden, ends = [], []
    for timestep in range(15):
        before = agent.state.carry["policy"][0]
        actions, _, outputs = agent.act(observations, timestep, 16)
        next_observations, rewards, terminated, truncated, infos = env.step(actions)
        agent.record_transition(
            observations, actions, rewards, next_observations, terminated, truncated, infos, timestep, 16
        )
        expected_hidden.append(np.asarray(before))
        finished = np.asarray(terminated | truncated).reshape(-1)
        ends.append(finished)
        carried = np.asarray(agent.state.carry["policy"][0])
        np.testing.assert_allclose(carried[:, ~finished], np.asarray(outputs["rnn"][0])[:, ~finished], rtol=1e-6)
        assert np.all(carried[:, finished] == 0.0)
        observations = next_observations
    stored = memory.get_tensor_by_name("rnn_policy_0")[:15]  # (steps, envs, num_layers * hidden)
    np.testing.assert_allclose(
        stored, np.stack([h.transpose(1, 0, 2).reshape(3, -1) for h in expected_hidden]), rtol=1e-6
    )
    assert np.any(np.stack(ends)), "no episode ended: the reset was not exercised"
    agent.post_interaction(15, 16)  # the update runs on the sequences
    assert agent.updates == 1


def test_a2c_rnn_and_an_lstm_trunk_with_a_separate_feed_forward_value_train_compiled_and_vmapped():
    env = wrap_env(hidden_velocity_cartpole("gymnax"))
    trunk = RecurrentTrunk(LSTM(8), before=nn.Dense(8), after=nn.relu)
    policy = shared_model(
        env.observation_space, env.action_space, trunk, {"policy": CategoricalHead()}, sequence_length=8
    )
    value = shared_model(env.observation_space, env.action_space, nn.Dense(8), {"value": DeterministicHead()})
    agent = A2C_RNN(
        models={"policy": policy, "value": value}, cfg={"rollouts": 16, "mini_batches": 2, "experiment": NO_LOGS}
    )
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 2, "disable_progressbar": True})
    keys = jax.random.split(jax.random.key(0), 2)
    runners, metrics = jax.jit(jax.vmap(trainer.make_train()))(keys)
    assert set(runners.agent_state.carry) == {"policy"}
    assert [h.shape for h in runners.agent_state.carry["policy"]] == [(2, 1, 2, 8), (2, 1, 2, 8)]
    assert np.all(np.isfinite(metrics["policy_loss"]))
    alone, _ = jax.jit(trainer.make_train())(keys[1])
    chex.assert_trees_all_close(
        jax.tree.map(lambda x: x[1], runners.agent_state.learner.params),
        alone.agent_state.learner.params,
        rtol=1e-4,
        atol=1e-5,
    )
    greedy = jax.jit(trainer.make_evaluate(num_episodes=3, max_steps=50))(alone.agent_state, jax.random.key(1))
    assert greedy.shape == (3,) and np.all(greedy >= 1)


RESUME_SCRIPT = """
import sys, jax, numpy as np, flax.linen as nn
from skrl_jax.agents.ppo import PPO_RNN
from skrl_jax.envs import hidden_velocity_cartpole, select_observation, wrap_env
from skrl_jax.models import GRU, CategoricalHead, DeterministicHead, RecurrentTrunk, shared_model
from skrl_jax.trainers import CompiledTrainer

mode, folder = sys.argv[1], sys.argv[2]
env = wrap_env(hidden_velocity_cartpole("gymnax"))
model = shared_model(env.observation_space, env.action_space, RecurrentTrunk(GRU(8), before=nn.Dense(8)),
                     {"policy": CategoricalHead(), "value": DeterministicHead()}, sequence_length=8)
agent = PPO_RNN(models={"policy": model, "value": model}, cfg={"rollouts": 16, "mini_batches": 2,
                "experiment": {"directory": folder, "experiment_name": mode, "checkpoint_interval": 0, "write_interval": 0}})
trainer = CompiledTrainer(env, agent, cfg={"timesteps": 16 * 4, "num_envs": 2, "updates_per_chunk": 2, "disable_progressbar": True})
if mode == "first-process":  # the whole run, then its first half saved
    runner, _ = trainer.train(jax.random.key(0))
    np.savez(folder + "/whole.npz", *[np.asarray(x) for x in jax.tree.leaves(runner.agent_state)])
    runner, _ = trainer.run_chunk(jax.jit(trainer.init)(jax.random.key(0)))
    trainer.save(folder + "/half.ckpt", runner)
    sys.exit(0)
runner, _ = trainer.train(runner=trainer.load(folder + "/half.ckpt"))
np.savez(folder + f"/{mode}.npz", *[np.asarray(x) for x in jax.tree.leaves(runner.agent_state)])
"""


def test_a_compiled_recurrent_run_resumed_in_a_new_process_is_bitwise_identical(tmp_path):
    for mode in ("first-process", "second-half"):
        subprocess.run([sys.executable, "-c", RESUME_SCRIPT, mode, str(tmp_path)], check=True, cwd=ROOT)
    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "second-half.npz")
    assert len(whole.files) == len(resumed.files) > 0  # parameters, optimizer, memory and the hidden states
    for name in whole.files:
        np.testing.assert_array_equal(whole[name], resumed[name])
