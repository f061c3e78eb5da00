"""TD3 / DDPG: the pure losses, the policy delay, polyak targets, exploration noise, both trainers, errors."""

import flax.linen as nn
import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.core import Transition
from skrl_jax.agents.ddpg import DDPG, DDPG_DEFAULT_CONFIG, exploration_scale
from skrl_jax.agents.ddpg import losses as ddpg_losses
from skrl_jax.agents.td3 import TD3, TD3_DEFAULT_CONFIG
from skrl_jax.agents.td3 import losses as td3_losses
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.resources.noises import GaussianNoise, OrnsteinUhlenbeckNoise
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.models import PENDULUM_ACTION, PENDULUM_OBSERVATION

# --- models: a 2 * tanh deterministic actor, a critic, twin critics on one trunk ----------------


class Actor(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.relu, nn.Dense(32), nn.relu, nn.Dense(self.num_actions)])

    def compute(self, inputs, role):
        return 2 * nn.tanh(self.net(inputs["states"])), {}  # Pendulum's actions are in [-2, 2]


class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)

    def setup(self):
        self.trunk = Trunk()
        self.q = nn.Dense(1)

    def compute(self, inputs, role):
        return self.q(self.trunk(inputs["states"], inputs["taken_actions"])), {}


class TwinCritic(DeterministicMixin, Model):
    """Both critics of TD3 in one model: one trunk, two heads (roles critic_1 and critic_2)."""

    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, role="critic_1")
        DeterministicMixin.__init__(self, role="critic_2")

    def setup(self):
        self.trunk = Trunk()
        self.q1 = nn.Dense(1)
        self.q2 = nn.Dense(1)

    def compute(self, inputs, role):
        x = self.trunk(inputs["states"], inputs["taken_actions"])
        return (self.q1(x) if role == "critic_1" else self.q2(x)), {}


class Trunk(nn.Module):
    @nn.compact
    def __call__(self, states, actions):
        x = jnp.concatenate([states, actions], -1)
        return nn.relu(nn.Dense(32)(nn.relu(nn.Dense(32)(x))))


def td3_models(observation_space=PENDULUM_OBSERVATION, action_space=PENDULUM_ACTION):
    critic, target = TwinCritic(observation_space, action_space), TwinCritic(observation_space, action_space)
    return {
        "policy": Actor(observation_space, action_space),
        "target_policy": Actor(observation_space, action_space),
        "critic_1": critic,
        "critic_2": critic,
        "target_critic_1": target,
        "target_critic_2": target,
    }


def ddpg_models(observation_space=PENDULUM_OBSERVATION, action_space=PENDULUM_ACTION):
    return {
        "policy": Actor(observation_space, action_space),
        "target_policy": Actor(observation_space, action_space),
        "critic": Critic(observation_space, action_space),
        "target_critic": Critic(observation_space, action_space),
    }


def filled(agent, transitions=16, num_envs=1, seed=0):
    """The agent's pure functions and a state whose replay memory holds random transitions."""
    agent.init()
    functions = agent.make_functions(num_envs=num_envs)
    state = functions.init(jax.random.key(seed))
    record = jax.jit(functions.record)
    rng = np.random.default_rng(seed)
    for timestep in range(transitions):
        transition = Transition(
            jnp.asarray(rng.normal(size=(num_envs, 3)), jnp.float32),
            jnp.asarray(rng.uniform(-2, 2, size=(num_envs, 1)), jnp.float32),
            jnp.asarray(rng.normal(size=(num_envs, 1)), jnp.float32),
            jnp.asarray(rng.normal(size=(num_envs, 3)), jnp.float32),
            jnp.asarray(rng.random((num_envs, 1)) < 0.2),
            jnp.zeros((num_envs, 1), bool),
        )
        state = record(state, transition, {}, timestep)
    return functions, state


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


# --- (a) the pure losses against hand-computed values --------------------------------------------


def test_default_configs_are_skrls():
    assert TD3_DEFAULT_CONFIG["policy_delay"] == 2 and TD3_DEFAULT_CONFIG["smooth_regularization_clip"] == 0.5
    assert TD3_DEFAULT_CONFIG["smooth_regularization_noise"] is None
    for defaults in (TD3_DEFAULT_CONFIG, DDPG_DEFAULT_CONFIG):
        assert defaults["exploration"] == {"noise": None, "initial_scale": 1.0, "final_scale": 1e-3, "timesteps": None}
        assert (defaults["batch_size"], defaults["polyak"], defaults["discount_factor"]) == (64, 0.005, 0.99)
        assert defaults["actor_learning_rate"] == defaults["critic_learning_rate"] == 1e-3


def test_ddpg_losses_by_hand():
    rewards, dones = np.array([[1.0], [0.5], [-1.0]]), np.array([[0.0], [1.0], [0.0]])
    target_q = np.array([[2.0], [3.0], [-4.0]])
    expected = np.array([[1.0 + 0.9 * 2.0], [0.5], [-1.0 + 0.9 * -4.0]])  # a done stops the bootstrap
    np.testing.assert_allclose(
        ddpg_losses.q_target(*(jnp.asarray(x, jnp.float32) for x in (rewards, dones, target_q)), 0.9), expected, 1e-6
    )
    q, targets = np.array([[1.0], [2.0], [3.0]]), np.array([[0.0], [2.0], [5.0]])
    np.testing.assert_allclose(ddpg_losses.critic_loss(jnp.asarray(q), jnp.asarray(targets)), (1 + 0 + 4) / 3, 1e-6)
    np.testing.assert_allclose(ddpg_losses.policy_loss(jnp.array([[1.0], [2.0], [-6.0]])), -(1 + 2 - 6) / 3, 1e-6)


def test_td3_losses_by_hand():
    rewards, dones = np.array([[1.0], [0.5]]), np.array([[0.0], [1.0]])
    q1, q2 = np.array([[2.0], [3.0]]), np.array([[1.5], [4.0]])
    expected = rewards + 0.99 * (1 - dones) * np.minimum(q1, q2)  # [[1 + 0.99 * 1.5], [0.5]]
    np.testing.assert_allclose(expected, [[2.485], [0.5]])
    f32 = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
    np.testing.assert_allclose(td3_losses.twin_target(f32(rewards), f32(dones), f32(q1), f32(q2), 0.99), expected, 1e-6)
    targets = np.array([[1.0], [1.0]])
    # skrl's sum of the two mean squared errors: mean(1, 4) + mean(0.25, 9)
    np.testing.assert_allclose(td3_losses.critic_loss(f32(q1), f32(q2), f32(targets)), 2.5 + 4.625, 1e-6)
    np.testing.assert_allclose(td3_losses.policy_loss(f32([[2.0], [-1.0]])), -0.5, 1e-6)
    actions, noises = np.array([[1.9, 0.0], [-1.0, 0.3]]), np.array([[0.3, -0.8], [0.2, 0.1]])
    # noise clipped to +-0.5, then the action to [-2, 2]: 1.9 + 0.3 -> 2.0, 0 - 0.5, -1 + 0.2, 0.3 + 0.1
    smoothed = td3_losses.smoothed_target_actions(f32(actions), f32(noises), 0.5, f32([-2, -2]), f32([2, 2]))
    np.testing.assert_allclose(smoothed, [[2.0, -0.5], [-0.8, 0.4]], 1e-6)


# --- (b) the policy delay -------------------------------------------------------------------------


def assert_polyak_moved(before, after, pairs, polyak):
    """Each target moved by exactly ``polyak * online + (1 - polyak) * target`` (skrl's soft update), bit for bit."""
    for target, online in pairs.items():
        expected = jax.tree.map(lambda t, o: polyak * o + (1.0 - polyak) * t, before[target], after[online])
        for got, want in zip(jax.tree.leaves(after[target]), jax.tree.leaves(expected)):
            np.testing.assert_array_equal(got, want)
        assert not same(after[target], after[online])


@pytest.mark.parametrize("gradient_steps", [1, 2])
def test_td3_updates_the_policy_and_targets_every_policy_delay_critic_steps(gradient_steps):
    polyak = 0.25
    agent = TD3(
        models=td3_models(),
        memory=RandomMemory(16, 1),
        cfg={
            "batch_size": 4,
            "polyak": polyak,
            "policy_delay": 2,
            "gradient_steps": gradient_steps,
            "smooth_regularization_noise": GaussianNoise(0.0, 0.2),
        },
    )
    functions, state = filled(agent)
    initial = state.learner.params
    assert same(initial["target_policy"], initial["policy"]) and same(initial["target_critic_1"], initial["critic_1"])
    update = jax.jit(functions.update)
    for number in range(1, 5):
        before = state.learner.params
        state, metrics = update(state, jax.random.key(number), number)
        after = state.learner.params
        assert int(state.learner.gradient_steps) == number * gradient_steps
        for part in ("trunk", "q1", "q2"):  # the critics step every time, both heads of the shared model
            assert not same(before["critic_1"][part], after["critic_1"][part]), part
        policy_step = gradient_steps == 2 or number % 2 == 0
        for key in ("policy", "target_policy", "target_critic_1"):
            assert same(before[key], after[key]) != policy_step, (number, key)
        if policy_step:  # (c) the targets moved toward the online models of this step
            assert_polyak_moved(before, after, {"target_policy": "policy", "target_critic_1": "critic_1"}, polyak)
        assert np.isfinite(metrics["policy_loss"]) == policy_step
        assert np.isfinite(metrics["critic_loss"]) and int(metrics["nan_at"]) == -1


# --- (c) polyak targets ---------------------------------------------------------------------------


def test_ddpg_targets_move_by_polyak_after_every_gradient_step():
    polyak = 0.25
    agent = DDPG(models=ddpg_models(), memory=RandomMemory(16, 1), cfg={"batch_size": 4, "polyak": polyak})
    functions, state = filled(agent)
    pairs = {"target_policy": "policy", "target_critic": "critic"}
    update = jax.jit(functions.update)
    for number in range(3):
        before = state.learner.params
        state, metrics = update(state, jax.random.key(number), number)
        assert_polyak_moved(before, state.learner.params, pairs, polyak)
        assert np.isfinite(metrics["policy_loss"]) and np.isfinite(metrics["critic_loss"])


# --- (d) exploration noise ------------------------------------------------------------------------


def test_exploration_scale_is_skrls_linear_decay():
    initial, final, timesteps = 1.0, 1e-3, 1000
    for timestep in (0, 1, 250, 999, 1000):
        expected = (1 - timestep / timesteps) * (initial - final) + final
        np.testing.assert_allclose(exploration_scale(timestep, initial, final, timesteps), expected, rtol=1e-6)
    assert float(exploration_scale(1001, initial, final, timesteps)) == 0.0  # no noise after (skrl)
    assert float(exploration_scale(500, 0.5, 0.1, None)) == 0.5  # unknown length: no decay


def test_act_adds_the_decaying_noise_and_deterministic_act_none():
    timesteps, initial, final = 100, 1.0, 0.1
    cfg = {
        "exploration": {
            "noise": GaussianNoise(0.0, 0.05),
            "initial_scale": initial,
            "final_scale": final,
            "timesteps": timesteps,
        }
    }
    agent = DDPG(models=ddpg_models(), memory=RandomMemory(16, 4), cfg=cfg)
    agent.init()
    functions = agent.make_functions(num_envs=4)
    state = functions.init(jax.random.key(0))
    act = jax.jit(functions.act, static_argnames="deterministic")
    observations, key = jnp.zeros((4, 3)), jax.random.key(7)
    greedy, extras = act(state, observations, key, 0, deterministic=True)
    policy = agent.models["policy"].act({"states": observations}, "policy", params=state.learner.params["policy"])[0]
    np.testing.assert_array_equal(greedy, policy)  # the greedy action is the policy's output
    assert same(extras["carry"], state.carry)
    deviation = {t: np.asarray(act(state, observations, key, t)[0] - greedy) for t in (0, 25, 50, 100, 101)}
    assert np.abs(deviation[0]).min() > 0  # same key: the same noise, scaled
    for t in (25, 50, 100):
        scale = (1 - t / timesteps) * (initial - final) + final
        np.testing.assert_allclose(deviation[t], deviation[0] * scale / initial, rtol=1e-4, atol=1e-6)
    assert not deviation[101].any()  # after the exploration timesteps, no noise
    _, extras = act(state, observations, key, 101)
    assert not np.asarray(extras["carry"].applied).any()
    _, extras = act(state, observations, key, 0)
    np.testing.assert_allclose(extras["carry"].applied[2], deviation[0].mean(), rtol=1e-4, atol=1e-7)


def test_ornstein_uhlenbeck_state_lives_in_the_carry():
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.1, base_scale=1.0)
    agent = TD3(
        models=td3_models(),
        memory=RandomMemory(32, 2),
        cfg={"random_timesteps": 5, "exploration": {"noise": noise}, "smooth_regularization_noise": noise},
    )
    agent.init()
    functions = agent.make_functions(num_envs=2, timesteps=1000)
    state = functions.init(jax.random.key(0))
    assert state.carry.noise.shape == (2, 1) and not np.asarray(state.carry.noise).any()
    assert state.learner.scalars["smooth_noise"].shape == (64, 1)
    observations = jnp.zeros((2, 3))
    _, extras = functions.act(state, observations, jax.random.key(1), 3)  # random timesteps: no noise drawn
    assert same(extras["carry"], state.carry)
    actions, extras = functions.act(state, observations, jax.random.key(1), 5)
    assert np.asarray(extras["carry"].noise).all()
    flags = jnp.zeros((2, 1), bool)
    transition = Transition(observations, actions, jnp.zeros((2, 1)), observations, flags, flags)
    recorded = functions.record(state, transition, extras, 5)
    assert same(recorded.carry, extras["carry"])
    _, again = functions.act(recorded, observations, jax.random.key(2), 6)
    normal = np.asarray((again["carry"].noise - 0.85 * recorded.carry.noise) / 0.1)  # state - theta state + sigma N
    assert np.abs(normal).max() < 5


# --- (e) the host loop on gymnasium Pendulum, (f) CompiledTrainer on gymnax Pendulum ---------------


@pytest.mark.parametrize("algorithm", ["TD3", "DDPG"])
def test_host_loop_on_pendulum_trains_the_policy(algorithm):
    env = wrap_env(gym.make("Pendulum-v1"))
    cfg = {
        "batch_size": 32,
        "learning_starts": 100,
        "random_timesteps": 50,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    if algorithm == "TD3":
        models = td3_models(env.observation_space, env.action_space)  # twin critics: one shared model
        cfg.update(exploration={"noise": GaussianNoise(0.0, 0.1)}, smooth_regularization_noise=GaussianNoise(0, 0.2))
        agent = TD3(models=models, memory=RandomMemory(1000, 1), cfg=cfg)
    else:
        models = ddpg_models(env.observation_space, env.action_space)
        cfg.update(exploration={"noise": OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.1, base_scale=1.0)})
        agent = DDPG(models=models, memory=RandomMemory(1000, 1), cfg=cfg)
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": 300, "headless": True, "disable_progressbar": True})
    initial = agent.state.learner.params["policy"]
    trainer.train()
    assert agent.updates == 200 and len(agent.episode_returns) == 1
    assert not same(initial, agent.state.learner.params["policy"])
    data = agent.tracking_data
    for tag in ("Loss / Policy loss", "Loss / Critic loss", "Target / Target (mean)", "Q-network / Q1 (max)"):
        assert np.isfinite(data[tag]).all() and data[tag], tag
    assert len(data["Loss / Policy loss"]) == (100 if algorithm == "TD3" else 200)  # TD3: every second step
    assert len(data["Exploration / Exploration noise (mean)"]) == 200


def test_compiled_trainer_on_gymnax_pendulum_runs_td3():
    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    agent = TD3(
        models=td3_models(env.observation_space, env.action_space),
        memory=RandomMemory(64, 2),
        cfg={
            "batch_size": 16,
            "learning_starts": 16,
            "exploration": {"noise": GaussianNoise(0.0, 0.1)},
            "smooth_regularization_noise": GaussianNoise(0.0, 0.2),
            "experiment": {"write_interval": 0, "checkpoint_interval": 0},
        },
    )
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 2, "disable_progressbar": True})
    initial = trainer.init(jax.random.key(0)).agent_state.learner.params["policy"]  # where train(key 0) starts
    _, metrics = trainer.train(jax.random.key(0))
    updated = np.arange(64) >= 16
    for name in ("critic_loss", "q1_mean", "q2_mean", "target_mean", "exploration_noise_mean"):
        assert np.isfinite(metrics[name][updated]).all() and np.isnan(metrics[name][~updated]).all(), name
    policy_loss = metrics["policy_loss"][updated]
    assert np.isfinite(policy_loss[1::2]).all() and np.isnan(policy_loss[::2]).all()  # updates 2, 4, ... of the policy
    assert not same(initial, agent.state.learner.params["policy"])


# --- (g) bad input --------------------------------------------------------------------------------


class UntraceableCritic(Critic):
    def compute(self, inputs, role):
        raise AssertionError("traced")


@pytest.mark.parametrize("algorithm", ["TD3", "DDPG"])
def test_discrete_actions_are_refused_before_tracing(algorithm):
    discrete = gym.spaces.Discrete(3)
    critic = UntraceableCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    policy = Actor(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    if algorithm == "TD3":
        keys = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
        agent_class = TD3
    else:
        keys = ("critic", "target_critic")
        agent_class = DDPG
    models = {
        "policy": policy,
        "target_policy": Actor(PENDULUM_OBSERVATION, PENDULUM_ACTION),
        **dict.fromkeys(keys, critic),
    }
    with pytest.raises(TypeError, match="continuous"):
        agent_class(models=models, memory=RandomMemory(8, 1), action_space=discrete)


def test_a_stochastic_policy_and_a_scheduler_are_refused():
    class Gaussian(GaussianMixin, Model):
        def __init__(self, observation_space, action_space, device=None):
            Model.__init__(self, observation_space, action_space, device)
            GaussianMixin.__init__(self)

        def setup(self):
            self.net = nn.Dense(self.num_actions)
            self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))

        def compute(self, inputs, role):
            return self.net(inputs["states"]), self.log_std, {}

    models = ddpg_models()
    models["policy"] = Gaussian(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    models["target_policy"] = Gaussian(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    with pytest.raises(TypeError, match="deterministic"):
        DDPG(models=models, memory=RandomMemory(8, 1))
    with pytest.warns(UserWarning, match="smooth regularization"):  # skrl's warning
        TD3(models=td3_models(), memory=RandomMemory(8, 1))
    with pytest.raises(NotImplementedError, match="scheduler"):
        DDPG(models=ddpg_models(), memory=RandomMemory(8, 1), cfg={"learning_rate_scheduler": object})


def test_compiled_trainer_on_gymnax_pendulum_runs_ddpg_with_ornstein_uhlenbeck_noise():
    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.1, base_scale=1.0)
    agent = DDPG(
        models=ddpg_models(env.observation_space, env.action_space),
        memory=RandomMemory(64, 2),
        cfg={
            "batch_size": 16,
            "learning_starts": 16,
            "exploration": {"noise": noise},
            "experiment": {"write_interval": 0},
        },
    )
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 48, "num_envs": 2, "disable_progressbar": True})
    initial = trainer.init(jax.random.key(0)).agent_state.learner.params["policy"]  # where train(key 0) starts
    runner, metrics = trainer.train(jax.random.key(0))
    assert np.isfinite(metrics["critic_loss"][16:]).all() and np.isfinite(metrics["policy_loss"][16:]).all()
    assert not same(initial, agent.state.learner.params["policy"])
    carry = jax.tree.leaves(runner.agent_state.carry)
    assert carry and any(np.abs(np.asarray(leaf)).sum() > 0 for leaf in carry)  # the noise state advanced
