"""Off-policy agents (SAC, DQN, DDQN) and their core: losses against hand computations, twin critics
on one trunk, polyak targets, the replay memory, both trainers, resume, and bad input."""

import chex
import flax.linen as nn
import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.core import Transition
from skrl_jax.agents.dqn import DDQN, DQN, double_q_target, epsilon, q_loss, q_target
from skrl_jax.agents.off_policy.functions import initial_params, polyak_targets, sample_batch
from skrl_jax.agents.sac import SAC, critic_loss, entropy_loss, policy_loss, soft_target
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory, memory_sample
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.models import CARTPOLE_ACTION, CARTPOLE_OBSERVATION, PENDULUM_ACTION, PENDULUM_OBSERVATION
from tests.test_models import count_primitive

QUIET = {"write_interval": 0, "checkpoint_interval": 0}


class Actor(GaussianMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, clip_actions=True, min_log_std=-5, max_log_std=2)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.relu, nn.Dense(self.num_actions)])
        self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))

    def compute(self, inputs, role):
        return 2 * nn.tanh(self.net(inputs["states"])), self.log_std, {}


class Trunk(nn.Module):
    """Reads states and actions: called with the inputs' own arrays, a joint pass computes it once."""

    @nn.compact
    def __call__(self, states, actions):
        x = nn.relu(nn.Dense(32)(jnp.concatenate([states, actions], axis=-1)))
        return nn.relu(nn.Dense(32)(x))


class TwinCritic(DeterministicMixin, Model):
    """Two Q-heads on one trunk: DeterministicMixin declared twice, one role each (the seed's rule)."""

    def __init__(self, observation_space, action_space, roles=("critic_1", "critic_2")):
        Model.__init__(self, observation_space, action_space)
        for role in roles:
            DeterministicMixin.__init__(self, role=role)

    def setup(self):
        self.trunk = Trunk()
        self.q1, self.q2 = nn.Dense(1), nn.Dense(1)

    def compute(self, inputs, role):
        features = self.trunk(inputs["states"], inputs["taken_actions"])
        return (self.q1(features) if role.endswith("1") else self.q2(features)), {}


class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        DeterministicMixin.__init__(self)

    def setup(self):
        self.trunk, self.q = Trunk(), nn.Dense(1)

    def compute(self, inputs, role):
        return self.q(self.trunk(inputs["states"], inputs["taken_actions"])), {}


class QNetwork(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        DeterministicMixin.__init__(self)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.relu, nn.Dense(self.action_space.n)])

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def sac_models(shared=True, observation_space=PENDULUM_OBSERVATION, action_space=PENDULUM_ACTION):
    policy = Actor(observation_space, action_space)
    if shared:
        critic, target = TwinCritic(observation_space, action_space), TwinCritic(observation_space, action_space)
        return {
            "policy": policy,
            "critic_1": critic,
            "critic_2": critic,
            "target_critic_1": target,
            "target_critic_2": target,
        }
    critics = {
        key: Critic(observation_space, action_space)
        for key in ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    }
    return {"policy": policy, **critics}


def dqn_models(observation_space=CARTPOLE_OBSERVATION, action_space=CARTPOLE_ACTION):
    return {
        "q_network": QNetwork(observation_space, action_space),
        "target_q_network": QNetwork(observation_space, action_space),
    }


def fill(functions, state, steps, num_envs, observation_size, seed=0):
    rng = np.random.default_rng(seed)
    for step in range(steps):
        observations = jnp.asarray(rng.normal(size=(num_envs, observation_size)), jnp.float32)
        actions, extras = functions.act(state, observations, jax.random.key(step), step)
        transition = Transition(
            observations,
            actions,
            jnp.asarray(rng.normal(size=(num_envs, 1)), jnp.float32),
            observations + 0.1,
            jnp.asarray(rng.random((num_envs, 1)) < 0.1),
            jnp.zeros((num_envs, 1), bool),
        )
        state = functions.record(state, transition, extras, step)
    return state


# --- the pure losses, against hand computations -------------------------------------------------------


def test_sac_losses_match_hand_computations():
    rewards, dones = np.array([[1.0], [0.5]]), np.array([[0.0], [1.0]])
    tq1, tq2, next_log_prob = np.array([[2.0], [3.0]]), np.array([[1.5], [4.0]]), np.array([[-1.0], [0.5]])
    # r + 0.9 * (1 - d) * (min(tq1, tq2) - 0.2 * logp')
    expected = np.array([[1.0 + 0.9 * (1.5 + 0.2)], [0.5]])
    targets = soft_target(rewards, dones, tq1, tq2, next_log_prob, 0.2, 0.9)
    np.testing.assert_allclose(targets, expected, rtol=1e-6)
    q1, q2 = np.array([[2.0], [1.0]]), np.array([[3.0], [0.0]])
    hand = (((2.0 - 2.53) ** 2 + (1.0 - 0.5) ** 2) / 2 + ((3.0 - 2.53) ** 2 + 0.25) / 2) / 2
    np.testing.assert_allclose(critic_loss(q1, q2, np.array([[2.53], [0.5]])), hand, rtol=1e-6)
    log_prob = np.array([[-1.0], [-2.0]])
    np.testing.assert_allclose(policy_loss(log_prob, q1, q2, 0.5), ((-0.5 - 2.0) + (-1.0 - 0.0)) / 2, rtol=1e-6)
    np.testing.assert_allclose(
        entropy_loss(np.log(0.2), log_prob, -1.0), -np.log(0.2) * ((-2.0) + (-3.0)) / 2, rtol=1e-6
    )
    assert jax.grad(lambda lp: entropy_loss(0.3, lp, -1.0))(jnp.ones((2, 1))).sum() == 0.0  # no gradient to log pi


def test_dqn_and_ddqn_targets_and_loss_match_hand_computations():
    rewards, dones = np.array([[1.0], [2.0]]), np.array([[0.0], [1.0]])
    next_q, next_target = np.array([[1.0, 5.0], [0.0, 1.0]]), np.array([[3.0, 2.0], [7.0, 9.0]])
    np.testing.assert_allclose(q_target(rewards, dones, next_target, 0.5), [[1.0 + 0.5 * 3.0], [2.0]])
    # DDQN: the online network picks action 1 in the first row, the target values it at 2.0
    np.testing.assert_allclose(double_q_target(rewards, dones, next_q, next_target, 0.5), [[1.0 + 0.5 * 2.0], [2.0]])
    loss, taken = q_loss(np.array([[1.0, 4.0], [2.0, 0.0]]), np.array([[1], [0]]), np.array([[3.0], [2.5]]))
    np.testing.assert_allclose(taken, [[4.0], [2.0]])
    np.testing.assert_allclose(loss, ((4.0 - 3.0) ** 2 + (2.0 - 2.5) ** 2) / 2)
    np.testing.assert_allclose(epsilon(1500, 1.0, 0.04, 1500), 0.04 + 0.96 * np.exp(-1.0), rtol=1e-6)


# --- twin critics on one trunk ---------------------------------------------------------------------


def test_twin_critics_on_one_trunk_compute_it_once_forward_and_backward():
    shared, separate = (
        SAC(models=sac_models(True), memory=RandomMemory(64)),
        SAC(models=sac_models(False), memory=RandomMemory(64)),
    )
    inputs = {"states": jnp.ones((5, 3)), "taken_actions": jnp.ones((5, 1))}

    def dots(agent):
        params = initial_params(agent.model_set, jax.random.key(0), None)

        def loss(p):
            values = agent.model_set.act(p, inputs, ("critic_1", "critic_2"))
            return values["critic_1"][0].sum() + values["critic_2"][0].sum()

        forward = count_primitive(jax.make_jaxpr(loss)(params), "dot_general")
        both = count_primitive(jax.make_jaxpr(jax.value_and_grad(loss))(params), "dot_general")
        return forward, both

    (shared_forward, shared_both), (separate_forward, separate_both) = dots(shared), dots(separate)
    assert separate_forward - shared_forward == 2  # the 2-layer trunk once instead of twice
    assert separate_both - shared_both == 2 + 3  # and its backward (the first layer needs no input gradient)
    params = initial_params(shared.model_set, jax.random.key(0), None)
    assert set(params) == {"policy", "critic_1", "target_critic_1"}  # each instance stored once
    assert shared.models["critic_1"].parameter_roles(params["critic_1"])["trunk"] == {"critic_1", "critic_2"}


def test_critics_that_read_actions_initialise_without_example_inputs():
    model = TwinCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    assert params["trunk"]["Dense_0"]["kernel"].shape == (3 + 1, 32)
    assert model.parameter_roles() == {"trunk": {"critic_1", "critic_2"}, "q1": {"critic_1"}, "q2": {"critic_2"}}


def test_polyak_moves_each_target_once_and_exactly():
    agent = SAC(models=sac_models(True), memory=RandomMemory(64), cfg={"polyak": 0.25})
    params = initial_params(agent.model_set, jax.random.key(0), None)
    chex.assert_trees_all_equal(params["target_critic_1"], params["critic_1"])  # targets start as copies
    params["critic_1"] = jax.tree.map(lambda x: x + 1.0, params["critic_1"])
    moved = polyak_targets(agent.model_set, params, 0.25)
    expected = jax.tree.map(lambda t, o: 0.25 * o + (1.0 - 0.25) * t, params["target_critic_1"], params["critic_1"])
    chex.assert_trees_all_equal(moved["target_critic_1"], expected)  # bitwise, and once for the twin keys
    chex.assert_trees_all_equal(moved["critic_1"], params["critic_1"])


# --- the replay memory ---------------------------------------------------------------------------


def test_the_replay_memory_is_one_copy_written_in_place_by_the_host_loop():
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"))
    memory = RandomMemory(500, num_envs=2)
    agent = SAC(models=sac_models(True), memory=memory, cfg={"learning_starts": 1000, "experiment": QUIET})
    SequentialTrainer(env, agent, cfg={"timesteps": 3, "headless": True, "disable_progressbar": True}).train()
    tensors = memory.state.tensors
    # states, next_states (3 floats), actions, rewards (1 float), terminated, truncated (1 byte) per transition
    assert sum(t.nbytes for t in tensors.values()) == 500 * 2 * (4 * (3 + 3 + 1 + 1) + 1 + 1)
    pointers = {name: t.unsafe_buffer_pointer() for name, t in tensors.items()}
    SequentialTrainer(env, agent, cfg={"timesteps": 5, "headless": True, "disable_progressbar": True}).train()
    assert {name: t.unsafe_buffer_pointer() for name, t in memory.state.tensors.items()} == pointers
    assert int(memory.state.index) == 8 and len(memory) == 16


def test_sampling_without_replacement_draws_distinct_filled_transitions():
    agent = SAC(
        models=sac_models(True),
        memory=RandomMemory(64, replacement=False),
        cfg={"batch_size": 20, "learning_starts": 20},
    )
    agent.init()
    functions = agent.make_functions(num_envs=1)
    state = fill(functions, agent.state, 30, 1, 3)
    batch = sample_batch(agent.replay_config(num_envs=1), state.memory, jax.random.key(3))
    recorded = np.asarray(state.memory.tensors["states"][:30, 0])
    rows = [int(np.argmin(np.abs(recorded - row).sum(-1))) for row in np.asarray(batch.states)]
    assert len(set(rows)) == 20 and max(rows) < 30

    # fewer filled than a batch: each filled transition, in random order, repeated to the batch's rows
    state = fill(functions, functions.init(jax.random.key(1)), 7, 1, 3)
    rows = np.asarray(memory_sample(state.memory, jax.random.key(4), ["states"], 20, replacement=False)["states"])
    recorded = np.asarray(state.memory.tensors["states"][:7, 0])
    rows = [int(np.argmin(np.abs(recorded - row).sum(-1))) for row in rows]
    assert sorted(rows[:7]) == list(range(7)) and rows == (rows[:7] * 3)[:20]


# --- both trainers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shared", [True, False])
def test_sac_trains_in_the_host_loop(shared):
    env = wrap_env(gym.make("Pendulum-v1"))
    models = sac_models(shared)
    agent = SAC(
        models=models, memory=RandomMemory(1000), cfg={"batch_size": 32, "learning_starts": 50, "experiment": QUIET}
    )
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": 120, "headless": True, "disable_progressbar": True})
    before = models["policy"].params  # the agent's state, which the model reads
    trainer.train()
    assert agent.updates == 70 and np.isfinite(agent.tracking_data["Loss / Critic loss"]).all()
    after = models["policy"].params
    assert not np.allclose(before["net"]["layers_0"]["kernel"], after["net"]["layers_0"]["kernel"])
    params = agent.state.learner.params
    online, target = jax.tree.leaves(params["critic_1"])[0], jax.tree.leaves(params["target_critic_1"])[0]
    assert not np.allclose(online, target) and np.abs(online - target).max() < 0.5  # the targets trail


@pytest.mark.parametrize("agent_class", [DQN, DDQN])
def test_dqn_and_ddqn_train_in_the_host_loop(agent_class):
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    cfg = {"batch_size": 16, "learning_starts": 20, "update_interval": 2, "experiment": QUIET}
    agent = agent_class(models=dqn_models(), memory=RandomMemory(200, 2), cfg=cfg)
    SequentialTrainer(env, agent, cfg={"timesteps": 60, "headless": True, "disable_progressbar": True}).train()
    assert agent.updates == 20 and agent.tracking_data["Loss / Q-network loss"]


def compiled_sac(folder=None, timesteps=64, updates_per_chunk=None):
    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    experiment = {**QUIET, "directory": str(folder), "experiment_name": "sac"} if folder else QUIET
    cfg = {"batch_size": 16, "learning_starts": 16, "experiment": experiment}
    agent = SAC(models=sac_models(True), memory=RandomMemory(200, 2), cfg=cfg)
    trainer_cfg = {
        "timesteps": timesteps,
        "num_envs": 2,
        "disable_progressbar": True,
        "updates_per_chunk": updates_per_chunk,
    }
    return CompiledTrainer(env, agent, cfg=trainer_cfg)


def test_sac_trains_compiled_with_learning_starts_and_vmapped_seeds():
    trainer = compiled_sac()
    runners, metrics = jax.jit(jax.vmap(trainer.make_train()))(jax.random.split(jax.random.key(0), 2))
    losses = np.asarray(metrics["critic_loss"])
    assert losses.shape == (2, 64) and np.isnan(losses[:, :16]).all() and np.isfinite(losses[:, 16:]).all()
    assert int(runners.agent_state.memory.index[0]) == 64 and not jnp.allclose(
        *runners.agent_state.learner.params["critic_1"]["q1"]["kernel"]
    )


def test_dqn_trains_compiled():
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    agent = DQN(
        models=dqn_models(),
        memory=RandomMemory(100, 4),
        cfg={"batch_size": 16, "learning_starts": 8, "experiment": QUIET},
    )
    _, metrics = CompiledTrainer(env, agent, cfg={"timesteps": 40, "num_envs": 4, "disable_progressbar": True}).train(
        jax.random.key(0)
    )
    assert np.isfinite(metrics["q_network_loss"][8:]).all() and np.isnan(metrics["q_network_loss"][:8]).all()


def test_a_compiled_sac_run_resumes_bit_for_bit_with_its_replay_buffer(tmp_path):
    whole_trainer = compiled_sac(tmp_path / "whole", timesteps=48, updates_per_chunk=24)
    whole, _ = whole_trainer.train(jax.random.key(1))
    halves = compiled_sac(tmp_path / "halves", timesteps=48, updates_per_chunk=24)
    runner, _ = halves.run_chunk(jax.jit(halves.init)(jax.random.key(1)))
    halves.save(tmp_path / "half.ckpt", runner)
    restored = halves.load(tmp_path / "half.ckpt")
    chex.assert_trees_all_equal(restored.agent_state.memory, runner.agent_state.memory)
    resumed, _ = halves.train(runner=restored)
    chex.assert_trees_all_equal(resumed.agent_state, whole.agent_state)


# --- bad input, refused before anything is traced ---------------------------------------------------------


def test_bad_input_is_refused_with_a_clear_error():
    with pytest.raises(KeyError, match=r"missing \['target_critic_1', 'target_critic_2'\]"):
        models = sac_models(True)
        SAC(models={key: models[key] for key in ("policy", "critic_1", "critic_2")}, memory=RandomMemory(64))
    renamed = TwinCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION, roles=("q_a", "q_b"))
    with pytest.raises(
        ValueError, match=r"models\['critic_1'\] declares roles \['q_a', 'q_b'\], none of them 'critic_1'"
    ):
        SAC(models={**sac_models(True), "critic_1": renamed, "critic_2": renamed}, memory=RandomMemory(64))
    with pytest.raises(ValueError, match="DeterministicMixin is used more than once"):
        TwinCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION, roles=("", ""))
    with pytest.raises(TypeError, match=r"SAC needs a continuous \(Box\) action space, got Discrete\(2\)"):
        SAC(models=sac_models(True), memory=RandomMemory(64), action_space=CARTPOLE_ACTION)
    with pytest.raises(TypeError, match=r"DQN needs a Discrete action space, got Box"):
        DQN(models=dqn_models(), memory=RandomMemory(64), action_space=PENDULUM_ACTION)
    different = {**sac_models(True), "target_critic_1": Critic(PENDULUM_OBSERVATION, PENDULUM_ACTION)}
    with pytest.raises(
        TypeError, match=r"models\['target_critic_1'\] is a Critic but models\['critic_1'\] is a TwinCritic"
    ):
        SAC(models=different, memory=RandomMemory(64))
    wide = QNetwork(gym.spaces.Box(-1, 1, (5,)), CARTPOLE_ACTION)
    with pytest.raises(ValueError, match=r"models\['target_q_network'\] was built for Box"):
        DQN(
            models={"q_network": QNetwork(CARTPOLE_OBSERVATION, CARTPOLE_ACTION), "target_q_network": wide},
            memory=RandomMemory(64),
        )
    agent = SAC(
        models=sac_models(True),
        memory=RandomMemory(64, replacement=False),
        cfg={"batch_size": 100, "learning_starts": 10},
    )
    with pytest.raises(ValueError, match=r"batch_size=100 is larger than the memory \(64 transitions\)"):
        agent.init()
    with pytest.raises(ValueError, match="learns from a replay memory"):
        SAC(models=sac_models(True)).init()


class ActorCriticsOnOneEncoder(GaussianMixin, DeterministicMixin, Model):
    """The policy and both critics on one encoder of the states (the DrQ / SAC-AE layout)."""

    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, clip_actions=True, role="policy")
        DeterministicMixin.__init__(self, role="critic_1")
        DeterministicMixin.__init__(self, role="critic_2")

    def setup(self):
        self.encoder = nn.Dense(16)
        self.mean = nn.Dense(self.num_actions)
        self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))
        self.q1, self.q2 = nn.Dense(1), nn.Dense(1)

    def compute(self, inputs, role):
        features = nn.relu(self.encoder(inputs["states"]))
        if role == "policy":
            return nn.tanh(self.mean(features)), self.log_std, {}
        pair = jnp.concatenate([features, inputs["taken_actions"]], axis=-1)
        return (self.q1(pair) if role == "critic_1" else self.q2(pair)), {}


def test_actor_and_critics_on_one_encoder_the_critic_loss_trains_it_the_actor_loss_does_not():
    model = ActorCriticsOnOneEncoder(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    target = ActorCriticsOnOneEncoder(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    roles = model.parameter_roles()
    assert roles["encoder"] == {"policy", "critic_1", "critic_2"} and roles["mean"] == {"policy"}
    models = {
        "policy": model,
        "critic_1": model,
        "critic_2": model,
        "target_critic_1": target,
        "target_critic_2": target,
    }

    def one_update(critic_learning_rate):
        cfg = {"batch_size": 8, "critic_learning_rate": critic_learning_rate, "learn_entropy": False}
        agent = SAC(models=models, memory=RandomMemory(32), cfg=cfg)
        agent.init()
        functions = agent.make_functions(num_envs=1)
        state = fill(functions, agent.state, 16, 1, 3)
        after, metrics = functions.update(state, jax.random.key(1), 16)
        assert int(metrics["nan_at"]) == -1 and set(after.learner.params) == {"policy", "target_critic_1"}
        return state.learner.params["policy"], after.learner.params["policy"]

    before, after = one_update(critic_learning_rate=0.0)  # only the actor's loss moves anything
    chex.assert_trees_all_equal(after["encoder"], before["encoder"])
    chex.assert_trees_all_equal(after["q1"], before["q1"])
    assert not np.allclose(after["mean"]["kernel"], before["mean"]["kernel"])
    before, after = one_update(critic_learning_rate=1e-2)  # the critics' loss trains the encoder
    assert not np.allclose(after["encoder"]["kernel"], before["encoder"]["kernel"])
