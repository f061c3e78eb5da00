"""PPO / A2C / RPO: configuration, sharing (one optimizer, summed gradient), purity, errors, learning."""

import chex
import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax import config
from skrl_jax.agents.a2c import A2C, A2C_DEFAULT_CONFIG
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.agents.rpo import RPO, RPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import SequentialTrainer
from tests.models import (
    CARTPOLE_ACTION,
    CARTPOLE_OBSERVATION,
    PENDULUM_ACTION,
    PENDULUM_OBSERVATION,
    CategoricalPolicy,
    CategoricalShared,
    SharedModel,
    Value,
)
from tests.test_resources_memories_envs import reference_gae

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


SCHEDULES = ("minibatch", "rollout")


def fill_memory(agent, rollouts, num_envs, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(rollouts):
        states = jnp.asarray(rng.normal(size=(num_envs, 3)), jnp.float32)
        actions, log_prob, _ = agent.act(states, 0, 1)
        agent.record_transition(
            states,
            actions,
            jnp.asarray(rng.normal(size=(num_envs, 1)), jnp.float32),
            states,
            jnp.asarray(rng.random((num_envs, 1)) < 0.2),
            jnp.zeros((num_envs, 1), bool),
            {},
            0,
            1,
        )


def pendulum_agent(shared=True, rollouts=4, num_envs=2, **cfg):
    policy = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    value = policy if shared else SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    agent = PPO(
        models={"policy": policy, "value": value},
        memory=RandomMemory(rollouts, num_envs),
        cfg={"rollouts": rollouts, **cfg},
    )
    agent.init()
    return agent


def test_default_config_is_skrls():
    assert PPO_DEFAULT_CONFIG["rollouts"] == 16 and PPO_DEFAULT_CONFIG["learning_epochs"] == 8
    assert PPO_DEFAULT_CONFIG["mini_batches"] == 2 and PPO_DEFAULT_CONFIG["grad_norm_clip"] == 0.5
    assert PPO_DEFAULT_CONFIG["value_loss_scale"] == 1.0 and PPO_DEFAULT_CONFIG["kl_threshold"] == 0
    assert RPO_DEFAULT_CONFIG["alpha"] == 0.5 and "value_clip" not in A2C_DEFAULT_CONFIG
    assert set(RPO_DEFAULT_CONFIG) == set(PPO_DEFAULT_CONFIG) | {"alpha"}


def test_shared_model_trains_one_tree_with_one_optimizer_on_the_summed_gradient():
    agent = pendulum_agent(
        shared=True, learning_epochs=1, mini_batches=1, grad_norm_clip=0, entropy_loss_scale=0.01, value_loss_scale=0.5
    )
    assert set(agent.state.learner.params) == {"policy"}
    fill_memory(agent, 4, 2)
    params = agent.policy.params
    tensors = {name: np.asarray(t).reshape(-1, t.shape[-1]) for name, t in agent.memory.state.tensors.items()}
    model = agent.policy
    last_values = np.asarray(model.apply(params, agent.state.memory.next_states, "value")[0])
    raw = {name: np.asarray(t) for name, t in agent.memory.state.tensors.items()}
    returns, advantages = reference_gae(
        raw["rewards"], raw["terminated"].astype(np.float32), raw["values"], last_values, 0.99, 0.95
    )
    returns, advantages = returns.reshape(-1, 1), advantages.reshape(-1, 1)

    def hand_loss(p):
        mean, log_std, _ = model.apply(p, tensors["states"], "policy")
        log_std = jnp.clip(log_std, -20, 2)
        log_prob = jnp.sum(
            -((tensors["actions"] - mean) ** 2) / (2 * jnp.exp(2 * log_std)) - log_std - LOG_SQRT_2PI, -1, keepdims=True
        )
        ratio = jnp.exp(log_prob - tensors["log_prob"])
        policy_loss = -jnp.mean(jnp.minimum(advantages * ratio, advantages * jnp.clip(ratio, 0.8, 1.2)))
        entropy_loss = -0.01 * jnp.mean(0.5 + LOG_SQRT_2PI + log_std)
        values = model.apply(p, tensors["states"], "value")[0]
        return policy_loss + entropy_loss + 0.5 * jnp.mean((returns - values) ** 2)

    gradient = jax.grad(hand_loss)(params)
    # Adam's first step moves each parameter by lr * g / (|g| + eps)
    expected = jax.tree.map(lambda p, g: p - 1e-3 * g / (jnp.abs(g) + 1e-8), params, gradient)
    agent.update(0, 1)
    chex.assert_trees_all_close(agent.policy.params["net"], expected["net"], atol=2e-6)
    chex.assert_trees_all_close(agent.policy.params, expected, atol=2e-6)
    assert agent.value.params is agent.policy.params


def test_separate_models_keep_two_optimizers():
    agent = pendulum_agent(shared=False)
    assert set(agent.state.learner.params) == {"policy", "value"}
    fill_memory(agent, 4, 2)
    before_policy, before_value = agent.policy.params, agent.value.params
    agent.update(0, 1)
    assert not np.allclose(agent.policy.params["mean_layer"]["kernel"], before_policy["mean_layer"]["kernel"])
    assert not np.allclose(agent.value.params["value_layer"]["kernel"], before_value["value_layer"]["kernel"])
    # the policy's value head gets no gradient: the value model is the other object
    chex.assert_trees_all_equal(agent.policy.params["value_layer"], before_policy["value_layer"])


def scaled_pendulum_agent(schedule, **cfg):
    return pendulum_agent(
        rollouts=8,
        state_preprocessor=RunningStandardScaler,
        state_preprocessor_kwargs={"size": 3},
        state_preprocessor_update=schedule,
        **cfg,
    )


def test_state_preprocessor_update_rollout_learns_once_from_the_whole_rollout_before_the_first_minibatch():
    # one epoch of one minibatch (the whole rollout): skrl's schedule and brax's see the same statistics
    whole = {schedule: scaled_pendulum_agent(schedule, learning_epochs=1, mini_batches=1) for schedule in SCHEDULES}
    for agent in whole.values():
        fill_memory(agent, 8, 2)
        agent.update(0, 1)
    chex.assert_trees_all_close(whole["rollout"].policy.params, whole["minibatch"].policy.params, atol=1e-6)

    split = {schedule: scaled_pendulum_agent(schedule, learning_epochs=2, mini_batches=4) for schedule in SCHEDULES}
    for agent in split.values():
        fill_memory(agent, 8, 2)
    recorded = np.asarray(split["rollout"].memory.state.tensors["states"], np.float64).reshape(-1, 3)
    for agent in split.values():
        agent.update(0, 1)
    # skrl's start (mean 0, variance 1, count 1) merged with the 16 recorded rows, by hand
    count = recorded.shape[0]
    mean = recorded.sum(0) / (1 + count)
    variance = (1.0 + recorded.var(0, ddof=1) * count + recorded.mean(0) ** 2 * count / (1 + count)) / (1 + count)
    scaler = split["rollout"].state.learner.state_scaler
    np.testing.assert_allclose(scaler.mean, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scaler.variance, variance, rtol=1e-5)
    assert float(scaler.count[0]) == float(split["minibatch"].state.learner.state_scaler.count[0]) == 1 + count
    # the first three minibatches were standardised with other statistics: the steps differ
    difference = jax.tree.map(
        lambda a, b: float(jnp.max(jnp.abs(a - b))), split["rollout"].policy.params, split["minibatch"].policy.params
    )
    assert max(jax.tree.leaves(difference)) > 1e-4


def test_state_preprocessor_update_takes_minibatch_or_rollout():
    with pytest.raises(
        ValueError, match=r"state_preprocessor_update'\] must be one of \['minibatch', 'rollout'\], got 'epoch'"
    ):
        pendulum_agent(state_preprocessor_update="epoch")
    assert (
        PPO_DEFAULT_CONFIG["state_preprocessor_update"]
        == A2C_DEFAULT_CONFIG["state_preprocessor_update"]
        == "minibatch"
    )


def test_update_is_pure_and_compiled_once():
    agent = pendulum_agent(
        learning_epochs=2,
        mini_batches=2,
        state_preprocessor=RunningStandardScaler,
        state_preprocessor_kwargs={"size": 3},
        learning_rate_scheduler=KLAdaptiveLR,
    )
    fill_memory(agent, 4, 2)
    update = jax.jit(chex.assert_max_traces(agent.functions.update, n=1))
    first = update(agent.state, jax.random.key(0), 3)
    again = update(agent.state, jax.random.key(0), 3)
    chex.assert_trees_all_equal(first, again)
    state = first[0]
    for seed in range(3):
        state, metrics = update(state, jax.random.key(seed), 7 + 4 * seed)
    learner = state.learner
    assert int(learner.updates) == 4 and float(learner.state_scaler.count[0]) > 1.0
    assert set(metrics) >= {"policy_loss", "value_loss", "kl_divergence", "learning_rate", "nan_at"}


def test_kl_threshold_stops_the_epoch():
    agent = pendulum_agent(learning_epochs=3, mini_batches=4, kl_threshold=1e-12, learning_rate=1e-2)
    fill_memory(agent, 4, 2)
    metrics = agent.update(0, 1)
    # the first minibatch of each epoch has KL 0 before any step of that epoch... only epoch 0's first step is applied
    assert 1 <= metrics["minibatches_applied"] < 12


def test_nan_in_the_loss_is_reported_with_the_timestep():
    agent = pendulum_agent()
    fill_memory(agent, 4, 2)
    tensors = dict(agent.memory.state.tensors)
    tensors["rewards"] = tensors["rewards"].at[1, 0, 0].set(jnp.nan)
    agent.memory.state = agent.memory.state._replace(tensors=tensors)
    before = agent.policy.params
    with pytest.raises(FloatingPointError, match="NaN/inf at timestep 123"):
        agent.update(123, 1000)
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(agent.policy.params))
    chex.assert_trees_all_equal(agent.policy.params, before)


def test_bad_configuration_is_refused_at_construction():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    with pytest.raises(KeyError, match="unknown PPO cfg key 'learning_rte'; did you mean 'learning_rate'"):
        PPO(models={"policy": model, "value": model}, cfg={"learning_rte": 1e-3})
    with pytest.raises(KeyError, match=r"unknown PPO\['experiment'\] cfg key 'directroy'"):
        PPO(models={"policy": model, "value": model}, cfg={"experiment": {"directroy": "runs"}})
    with pytest.raises(KeyError, match=r"missing \['value'\]"):
        PPO(models={"policy": model})
    value = Value(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    with pytest.raises(TypeError, match="needs a stochastic policy.*DeterministicMixin"):
        PPO(models={"policy": value, "value": value})
    cartpole = CategoricalShared(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
    with pytest.raises(ValueError, match="observation space"):
        PPO(models={"policy": cartpole, "value": cartpole}, observation_space=PENDULUM_OBSERVATION)
    agent = PPO(
        models={"policy": model, "value": model}, memory=RandomMemory(5, 3), cfg={"rollouts": 5, "mini_batches": 4}
    )
    with pytest.raises(ValueError, match="15 samples does not divide into mini_batches=4"):
        agent.init()
    with pytest.raises(KeyError, match="unknown SequentialTrainer cfg key 'timestep'"):
        SequentialTrainer(None, agent, cfg={"timestep": 10})


def test_acting_compiles_once_over_a_training_run():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    model = CategoricalShared(env.observation_space, env.action_space)
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 2), cfg={"rollouts": 8})
    trainer = SequentialTrainer(
        env,
        agent,
        cfg={"timesteps": 40, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False},
    )
    trainer.train()
    compiles = []

    def listener(event, duration, **kwargs):
        # lowering happens for every new program, also one the compilation cache then serves
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            compiles.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        trainer.train()
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    env.close()
    assert compiles == []
    assert agent.updates == 10


class RPOPolicy(GaussianMixin, DeterministicMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        self.net = nn.Dense(16)
        self.mean = nn.Dense(self.num_actions)
        self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))
        self.value = nn.Dense(1)

    def compute(self, inputs, role):
        features = nn.tanh(self.net(inputs["states"]))
        if role == "policy":
            mean = self.mean(features)
            alpha = inputs["alpha"]
            return mean + jax.random.uniform(inputs["key"], mean.shape, minval=-alpha, maxval=alpha), self.log_std, {}
        return self.value(features), {}


def test_rpo_passes_alpha_and_a_key_to_compute():
    model = RPOPolicy(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    agent = RPO(models={"policy": model, "value": model}, memory=RandomMemory(4, 2), cfg={"rollouts": 4, "alpha": 0.3})
    agent.init()
    fill_memory(agent, 4, 2)
    act = agent.functions.act
    _, extras_a = act(agent.state, jnp.zeros((2, 3)), jax.random.key(0), 0)
    _, extras_b = act(agent.state, jnp.zeros((2, 3)), jax.random.key(1), 0)
    shift = extras_a["outputs"]["mean_actions"] - extras_b["outputs"]["mean_actions"]
    assert 0 < float(jnp.abs(shift).max()) <= 0.6
    metrics = agent.update(0, 1)
    assert np.isfinite(metrics["policy_loss"])


def test_a2c_takes_one_pass_per_update():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    agent = A2C(
        models={"policy": model, "value": model}, memory=RandomMemory(4, 2), cfg={"rollouts": 4, "mini_batches": 2}
    )
    agent.init()
    fill_memory(agent, 4, 2)
    metrics = agent.update(0, 1)
    assert metrics["minibatches_applied"] == 2 and np.isfinite(metrics["value_loss"])


def train_cartpole(models, timesteps, seed=0):
    config.set_seed(seed)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=8, vectorization_mode="sync"))
    env.reset(seed=seed)
    cfg = {
        "rollouts": 64,
        "learning_epochs": 8,
        "mini_batches": 4,
        "learning_rate": 1e-3,
        "learning_rate_scheduler": KLAdaptiveLR,
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": env.observation_space},
        "value_preprocessor": RunningStandardScaler,
        "value_preprocessor_kwargs": {"size": 1},
    }
    agent = PPO(models=models, memory=RandomMemory(64, 8), cfg=cfg)
    SequentialTrainer(env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}).train()
    return agent


@pytest.mark.parametrize("shared", [True, False])
def test_shared_and_separate_models_both_learn_cartpole(shared):
    if shared:
        model = CategoricalShared(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
        models = {"policy": model, "value": model}
    else:
        models = {
            "policy": CategoricalPolicy(CARTPOLE_OBSERVATION, CARTPOLE_ACTION),
            "value": Value(CARTPOLE_OBSERVATION, CARTPOLE_ACTION),
        }
    agent = train_cartpole(models, timesteps=3000)  # 24,000 environment steps
    first, last = np.mean(agent.episode_returns[:20]), np.mean(agent.episode_returns[-20:])
    assert first < 40 and last > 100, (first, last)  # seeds 0-3 end at 146-500 (shared) and 318-473 (separate)


def test_random_timesteps_sample_the_action_space_and_score_them():
    model = CategoricalShared(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
    agent = PPO(
        models={"policy": model, "value": model},
        memory=RandomMemory(4, 64),
        cfg={"rollouts": 4, "random_timesteps": 10},
    )
    agent.init()
    params = model.params
    model.params = {**params, "logits": {**params["logits"], "bias": jnp.array([20.0, -20.0])}}  # always picks 0
    assert agent.state.learner.params["policy"] is model.params  # one place holds the parameters
    states = jnp.zeros((64, 4))
    assert not np.asarray(agent.act(states, 10, 100)[0]).any()
    actions, log_prob, outputs = agent.act(states, 3, 100)
    assert 10 < int(np.asarray(actions).sum()) < 54  # uniform over the space, whatever the policy says
    expected = jnp.take_along_axis(jax.nn.log_softmax(outputs["net_output"]), actions.astype(jnp.int32), axis=-1)
    np.testing.assert_allclose(log_prob, expected, rtol=1e-5)


def test_sequential_trainer_eval_uses_the_mean_action_and_learns_nothing():
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"))
    model = SharedModel(env.observation_space, env.action_space)
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(4, 2), cfg={"rollouts": 4})
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": 210, "headless": True, "disable_progressbar": True})
    before = agent.policy.params
    trainer.eval()
    chex.assert_trees_all_equal(agent.policy.params, before)
    assert agent.updates == 0 and len(agent.episode_returns) == 2
