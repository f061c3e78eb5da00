"""The agent interface: a new agent needs no trainer change; sharing, act overrides, the learning
rate in optax state, mixed precision, one place for the parameters, and refused cfg keys."""

from typing import Any, NamedTuple

import chex
import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.base import Agent, merge_config
from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.gradients import get_learning_rate, gradient_step, make_optimizer
from skrl_jax.agents.ppo import PPO
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.memories.random import memory_add, memory_init
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.models.greedy import greedy_actions
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.models import (
    CARTPOLE_ACTION,
    CARTPOLE_OBSERVATION,
    PENDULUM_ACTION,
    PENDULUM_OBSERVATION,
    CategoricalPolicy,
    SharedModel,
)
from tests.test_models import count_primitive

# --- a new agent, written against the interface only ------------------------------------------


class ReinforceLearner(NamedTuple):
    params: dict[str, Any]
    opt_state: Any


class Reinforce(Agent):
    """REINFORCE (Monte-Carlo policy gradient with normalised returns-to-go): a test agent that
    neither trainer knows about."""

    default_config = {"rollouts": 64, "discount_factor": 0.99, "learning_rate": 1e-2, "experiment": {}}

    def __init__(self, models, memory=None, cfg=None):
        cfg = merge_config(self.default_config, cfg, "Reinforce")
        policy = models["policy"]
        super().__init__(models, memory, policy.observation_space, policy.action_space, None, cfg)
        self.policy = policy

    def memory_specs(self):
        return {
            "states": (self.policy.observation_size, jnp.float32),
            "actions": (1, jnp.float32),
            "rewards": (1, jnp.float32),
            "dones": (1, jnp.bool_),
        }

    def make_functions(self, num_envs, timesteps=0):
        policy, rollouts, gamma = self.policy, self.cfg["rollouts"], self.cfg["discount_factor"]
        optimizer = make_optimizer(self.cfg["learning_rate"])
        specs = self.memory_specs()

        def init(key, params=None):
            params = dict(params or {})
            params.setdefault("policy", policy.init(key))
            learner = ReinforceLearner(params, optimizer.init(params))
            return AgentState(learner, memory_init(rollouts, num_envs, specs))

        def act(state, observations, key, timestep, deterministic=False):
            actions, log_prob, outputs = policy.act(
                observations, "policy", params=state.learner.params["policy"], key=key
            )
            if deterministic:
                actions = greedy_actions(policy, outputs)
            return actions, {"log_prob": log_prob}

        def record(state, transition, extras, timestep):
            row = {
                "states": transition.observations,
                "actions": transition.actions,
                "rewards": transition.rewards,
                "dones": transition.terminated | transition.truncated,
            }
            return state._replace(memory=memory_add(state.memory, row))

        def update(state, key, timestep):
            tensors = state.memory.tensors

            def backward(following, step):
                reward, done = step
                value = reward + gamma * following * (1.0 - done)
                return value, value

            _, returns = jax.lax.scan(
                backward,
                jnp.zeros_like(tensors["rewards"][0]),
                (tensors["rewards"], tensors["dones"].astype(jnp.float32)),
                reverse=True,
            )
            returns = (returns - returns.mean()) / (returns.std() + 1e-8)

            def loss(params):
                inputs = {"states": tensors["states"], "taken_actions": tensors["actions"]}
                _, log_prob, _ = policy.act(inputs, "policy", params=params["policy"], key=key)
                value = -jnp.mean(log_prob * returns)
                return value, {}

            learner = state.learner
            params, opt_state, value, _ = gradient_step(loss, optimizer, learner.params, learner.opt_state)
            metrics = {"policy_loss": value, "nan_at": jnp.where(jnp.isfinite(value), -1, 0)}
            return state._replace(learner=ReinforceLearner(params, opt_state)), metrics

        return AgentFunctions(
            init, act, record, update, update_interval=rollouts, metric_tags={"policy_loss": "Loss / Policy loss"}
        )


def test_a_new_agent_trains_under_the_host_loop_without_trainer_changes():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync"))
    policy = CategoricalPolicy(env.observation_space, env.action_space)
    agent = Reinforce(
        {"policy": policy}, memory=RandomMemory(16, 4), cfg={"rollouts": 16, "experiment": {"write_interval": 0}}
    )
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": 160, "headless": True, "disable_progressbar": True})
    before = policy.params
    trainer.train()
    assert agent.updates == 10 and agent.timestep == 160 and agent.episode_returns
    assert not np.allclose(policy.params["net"]["layers_0"]["kernel"], before["net"]["layers_0"]["kernel"])
    assert agent.tracking_data["Loss / Policy loss"]


def test_a_new_agent_learns_under_the_compiled_trainer_without_trainer_changes():
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    policy = CategoricalPolicy(env.observation_space, env.action_space)
    agent = Reinforce({"policy": policy}, cfg={"rollouts": 128})
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 128 * 60, "num_envs": 8, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    returns = metrics["episode_return"]
    assert np.nanmean(returns[:5]) < 40 and np.nanmean(returns[-5:]) > 100, (returns[:5], returns[-5:])
    chex.assert_trees_all_equal(policy.params, runner.agent_state.learner.params["policy"])


# --- the user's act, and the trunk once ----------------------------------------------------------


class ShiftedValue(GaussianMixin, DeterministicMixin, Model):
    """A model whose act override changes what the value role returns (visible in training)."""

    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        import flax.linen as nn

        self.net = nn.Dense(8)
        self.mean = nn.Dense(self.num_actions)
        self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))
        self.value = nn.Dense(1)

    def act(self, inputs, role, **kwargs):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role, **kwargs)
        values, log_prob, outputs = DeterministicMixin.act(self, inputs, role, **kwargs)
        return values + 100.0, log_prob, outputs

    def compute(self, inputs, role):
        features = self.net(inputs["states"])
        if role == "policy":
            return self.mean(features), self.log_std, {}
        return self.value(features), {}


@pytest.mark.parametrize("shared", [True, False])
def test_a_users_act_override_is_honoured_for_shared_and_separate_models(shared):
    policy = ShiftedValue(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    value = policy if shared else ShiftedValue(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    agent = PPO(models={"policy": policy, "value": value}, memory=RandomMemory(4, 2), cfg={"rollouts": 4})
    agent.init()
    observations = jnp.ones((2, 3))
    _, extras = agent.functions.act(agent.state, observations, jax.random.key(0), 0)
    expected = value.apply(value.params, observations, "value")[0] + 100.0
    np.testing.assert_allclose(extras["values"], expected, rtol=1e-6)


def count_dots(function, *args):
    return count_primitive(jax.make_jaxpr(function)(*args), "dot_general")


def test_the_shared_trunk_is_computed_once_in_acting_and_in_each_minibatch():
    """The seed's model (act overridden) with a 2-layer trunk: against two instances, a shared one
    saves the trunk's 2 forward matmuls when acting, and 2 + 3 (forward, backward) per minibatch."""

    def agent(shared):
        policy = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
        value = policy if shared else SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
        ppo = PPO(models={"policy": policy, "value": value}, cfg={"rollouts": 4, "mini_batches": 1})
        ppo.init()
        return ppo.make_functions(num_envs=2), ppo.state

    (shared, shared_state), (separate, separate_state) = agent(True), agent(False)
    key, observations = jax.random.key(0), jnp.zeros((2, 3))
    assert (
        count_dots(separate.act, separate_state, observations, key, 0)
        - count_dots(shared.act, shared_state, observations, key, 0)
        == 2
    )
    # the update: the last values (forward, 2 saved) and one minibatch (forward 2 + backward 3 saved)
    assert count_dots(separate.update, separate_state, key, 3) - count_dots(shared.update, shared_state, key, 3) == 7


# --- the learning rate in optax state, mixed precision, one place for the parameters ---------------


def fill(agent, steps, num_envs, seed=0):
    rng = np.random.default_rng(seed)
    for step in range(steps):
        states = jnp.asarray(rng.normal(size=(num_envs, 3)), jnp.float32)
        actions, _, _ = agent.act(states, step, steps)
        rewards = jnp.asarray(rng.normal(size=(num_envs, 1)), jnp.float32)
        done = jnp.asarray(rng.random((num_envs, 1)) < 0.2)
        agent.record_transition(states, actions, rewards, states, done, jnp.zeros_like(done), {}, step, steps)


def test_the_kl_adaptive_learning_rate_lives_in_the_optimizer_state():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    cfg = {"rollouts": 8, "learning_rate": 1e-3, "learning_rate_scheduler": KLAdaptiveLR, "learning_epochs": 4}
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 4), cfg=cfg)
    agent.init()
    assert float(get_learning_rate(agent.state.learner.opt_state)) == pytest.approx(1e-3)
    fill(agent, 8, 4)
    metrics = agent.update(7, 8)
    learning_rate = float(get_learning_rate(agent.state.learner.opt_state))
    assert learning_rate == pytest.approx(metrics["learning_rate"]) and learning_rate != pytest.approx(1e-3)
    # the KL-adaptive rule moves by factors of 1.5 per epoch
    assert np.round(np.log(learning_rate / 1e-3) / np.log(1.5), 4) in {-4, -3, -2, -1, 1, 2, 3, 4}


def dot_dtypes(closed_jaxpr):
    found = []
    for equation in closed_jaxpr.jaxpr.eqns:
        if equation.primitive.name == "dot_general":
            found.append(equation.invars[0].aval.dtype)
        for param in equation.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                if hasattr(sub, "jaxpr") and hasattr(sub, "consts"):
                    found += dot_dtypes(sub)
                elif hasattr(sub, "eqns"):
                    found += dot_dtypes(jax.extend.core.ClosedJaxpr(sub, ()))
    return found


def test_mixed_precision_computes_in_bfloat16_on_float32_parameters():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    agent = PPO(
        models={"policy": model, "value": model},
        memory=RandomMemory(8, 4),
        cfg={"rollouts": 8, "mixed_precision": True},
    )
    agent.init()
    jaxpr = jax.make_jaxpr(agent.functions.update)(agent.state, jax.random.key(0), 7)
    assert set(dot_dtypes(jaxpr)) == {jnp.dtype(jnp.bfloat16)}
    fill(agent, 8, 4)
    before = model.params
    metrics = agent.update(7, 8)
    assert np.isfinite(metrics["policy_loss"]) and np.isfinite(metrics["value_loss"])
    assert {leaf.dtype for leaf in jax.tree.leaves(model.params)} == {jnp.dtype(jnp.float32)}
    assert not np.allclose(model.params["net"]["layers_0"]["kernel"], before["net"]["layers_0"]["kernel"])
    _, log_prob, outputs = agent.act(jnp.zeros((4, 3)), 8, 16)
    assert log_prob.dtype == jnp.float32 and outputs["mean_actions"].dtype == jnp.float32


def test_models_and_memory_read_the_agents_state():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    memory = RandomMemory(4, 2)
    agent = PPO(models={"policy": model, "value": model}, memory=memory, cfg={"rollouts": 4})
    agent.init()
    fill(agent, 4, 2)
    agent.update(3, 4)
    assert model.params is agent.state.learner.params["policy"] and memory.state is agent.state.memory.rollout
    zeros = jax.tree.map(jnp.zeros_like, model.params)
    model.params = zeros  # assigning through the model changes the agent's parameters
    chex.assert_trees_all_equal(agent.state.learner.params["policy"], zeros)
    assert float(np.abs(np.asarray(memory.state.tensors["states"])).sum()) > 0


# --- cfg keys: implemented or refused -----------------------------------------------------------


def test_wandb_is_refused_with_the_reason():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    with pytest.raises(NotImplementedError, match=r"cfg\['experiment'\]\['wandb'\]=True is not supported.*wandb sync"):
        PPO(models={"policy": model, "value": model}, cfg={"experiment": {"wandb": True}})


class InfoEnv(gym.Env):
    """CartPole that reports a scalar ``infos["episode"]["shaped"]`` at each step."""

    def __init__(self):
        self.env = gym.make("CartPole-v1")
        self.observation_space, self.action_space = self.env.observation_space, self.env.action_space

    def reset(self, *, seed=None, options=None):
        return self.env.reset(seed=seed)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        return observation, reward, terminated, truncated, {"episode": {"shaped": 2.5, "vector": np.ones(3)}}


def test_environment_info_scalars_are_tracked_as_skrl_does():
    env = wrap_env(InfoEnv())
    policy = CategoricalPolicy(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
    agent = Reinforce(
        {"policy": policy}, memory=RandomMemory(8, 1), cfg={"rollouts": 8, "experiment": {"write_interval": 0}}
    )
    SequentialTrainer(env, agent, cfg={"timesteps": 8, "headless": True, "disable_progressbar": True}).train()
    assert agent.tracking_data["Info / shaped"] == [2.5] * 8 and "Info / vector" not in agent.tracking_data
