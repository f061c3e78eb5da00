"""A Model object does not change while it is called; what a call needs travels with the call.

- no attribute of the model is written by init, apply, act, joint calls or a compiled update;
- skrl's documented single-forward-pass model (``self._shared_output``) runs as written, its
  cache scoped to one call;
- a trunk fed an array built inside ``compute`` costs what a trunk fed the inputs' own arrays costs.
"""

import re

import flax.linen as nn
import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.ppo import PPO
from skrl_jax.agents.sac import SAC
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.models import PENDULUM_ACTION, PENDULUM_OBSERVATION
from tests.test_models import count_primitive


class SingleForwardPass(GaussianMixin, DeterministicMixin, Model):
    """skrl's "single forward pass" shared model (its docs' first shared model), torch -> flax only:
    the layers move to setup(), nn.Linear becomes nn.Dense."""

    def __init__(
        self,
        observation_space,
        action_space,
        device=None,
        clip_actions=False,
        clip_log_std=True,
        min_log_std=-20,
        max_log_std=2,
        reduction="sum",
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction, role="policy")
        DeterministicMixin.__init__(self, clip_actions, role="value")
        self._shared_output = None

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])
        self.mean_layer = nn.Dense(self.num_actions)
        self.log_std_parameter = self.param("log_std_parameter", nn.initializers.zeros, (self.num_actions,))
        self.value_layer = nn.Dense(1)

    def act(self, inputs, role):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role)
        elif role == "value":
            return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role):
        if role == "policy":
            self._shared_output = self.net(inputs["states"])
            return self.mean_layer(self._shared_output), self.log_std_parameter, {}
        elif role == "value":
            shared_output = self.net(inputs["states"]) if self._shared_output is None else self._shared_output
            self._shared_output = None
            return self.value_layer(shared_output), {}


class MultiForwardPass(SingleForwardPass):
    """The same layers, each role computing the trunk itself (skrl's other shared model)."""

    def compute(self, inputs, role):
        if role == "policy":
            return self.mean_layer(self.net(inputs["states"])), self.log_std_parameter, {}
        elif role == "value":
            return self.value_layer(self.net(inputs["states"])), {}


def watch_writes(model):
    """Record every attribute written on ``model`` from now on (its class swapped for a recording subclass)."""
    writes = []

    def __setattr__(self, name, value):
        writes.append(name)
        object.__setattr__(self, name, value)

    model.__class__ = type(f"Watched{type(model).__name__}", (type(model),), {"__setattr__": __setattr__})
    return writes


@pytest.mark.parametrize("model_class", [SingleForwardPass, MultiForwardPass])
def test_a_model_writes_no_attribute_while_it_is_called(model_class):
    model = model_class(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 2), cfg={"rollouts": 8})
    functions = agent.make_functions(num_envs=2)
    writes = watch_writes(model)
    key, observations = jax.random.key(0), jnp.ones((2, 3))

    params = model.init(key)
    model.apply(params, observations, "policy")
    model.apply(params, observations, ("policy", "value"))
    model.act(observations, "policy", params=params, key=key)
    model.act(observations, ("policy", "value"), params=params, key=key)
    jax.jit(lambda p, x, k: model.act(x, ("policy", "value"), params=p, key=k))(params, observations, key)
    jax.grad(lambda p: model.apply(p, observations, ("policy", "value"))["value"][0].sum())(params)
    jax.vmap(lambda x: model.act(x, "value", params=params)[0])(observations)

    state = functions.init(key)
    actions, extras = jax.jit(functions.act)(state, observations, key, 0)
    state, metrics = jax.jit(functions.update)(state, key, 7)
    assert writes == []

    model.params = params
    writes.clear()
    model.act(observations, "policy")  # the eager convenience path keeps one counter for its key
    assert writes == ["_eager_calls"]


def test_a_model_keeps_its_attributes_when_compute_sets_one():
    model = SingleForwardPass(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    model.apply(params, jnp.ones((2, 3)), ("policy", "value"))
    assert model._shared_output is None  # set on the module bound for that call, not on the model


def reference_outputs(params, observations):
    reference = MultiForwardPass(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    return reference.apply(params, observations, "policy"), reference.apply(params, observations, "value")


def test_skrls_single_forward_pass_model_computes_what_the_multi_pass_model_computes():
    model = SingleForwardPass(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    assert set(params) == {"net", "mean_layer", "log_std_parameter", "value_layer"}
    observations = jax.random.normal(jax.random.key(1), (5, 3))
    policy, value = reference_outputs(params, observations)
    both = model.apply(params, observations, ("policy", "value"))
    np.testing.assert_allclose(both["policy"][0], policy[0], rtol=1e-6)
    np.testing.assert_allclose(both["value"][0], value[0], rtol=1e-6)
    actions, log_prob, outputs = model.act(observations, "policy", params=params, key=jax.random.key(2))
    assert actions.shape == (5, 1) and log_prob.shape == (5, 1)
    np.testing.assert_allclose(outputs["mean_actions"], policy[0], rtol=1e-6)


def test_the_single_forward_pass_cache_never_reaches_another_call():
    """Each call gets its own cache: a value computed on other observations after a policy call (or a
    joint call) is the value of its own observations, eagerly, under jit, and within one traced function."""
    model = SingleForwardPass(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    first = jax.random.normal(jax.random.key(1), (4, 3))
    second = jax.random.normal(jax.random.key(2), (4, 3))
    _, expected_value = reference_outputs(params, second)

    model.apply(params, first, "policy")
    np.testing.assert_allclose(model.apply(params, second, "value")[0], expected_value[0], rtol=1e-6)
    model.apply(params, first, ("policy", "value"))
    np.testing.assert_allclose(model.apply(params, second, "value")[0], expected_value[0], rtol=1e-6)

    def policy_then_value(p, a, b):
        model.apply(p, a, "policy")
        return model.apply(p, b, "value")[0]

    np.testing.assert_allclose(jax.jit(policy_then_value)(params, first, second), expected_value[0], rtol=1e-6)
    values = model.act(second, "value", params=params)[0]
    np.testing.assert_allclose(values, expected_value[0], rtol=1e-6)
    assert not np.allclose(reference_outputs(params, first)[1][0], expected_value[0])  # the inputs differ


def joint_and_apart_dots(model, params, observations):
    def joint(p):
        both = model.apply(p, observations, ("policy", "value"))
        return both["policy"][0].sum() + both["value"][0].sum()

    def apart(p):
        return model.apply(p, observations, "policy")[0].sum() + model.apply(p, observations, "value")[0].sum()

    return tuple(
        count_primitive(jax.make_jaxpr(function)(params), "dot_general")
        for function in (joint, apart, jax.grad(joint), jax.grad(apart))
    )


def test_the_single_forward_pass_model_costs_what_the_multi_pass_model_costs():
    single = SingleForwardPass(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    multi = MultiForwardPass(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = single.init(jax.random.key(0))
    observations = jnp.ones((5, 3))
    single_dots, multi_dots = (
        joint_and_apart_dots(single, params, observations),
        joint_and_apart_dots(multi, params, observations),
    )
    assert single_dots == multi_dots
    joint, apart, joint_grad, apart_grad = multi_dots
    assert (joint, apart) == (4, 6)  # trunk 2 + heads 2; apart the trunk runs twice
    assert joint_grad < apart_grad


def test_the_single_forward_pass_model_trains_with_one_trunk_in_both_trainers():
    def update_dots(model_class):
        model = model_class(PENDULUM_OBSERVATION, PENDULUM_ACTION)
        agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 2), cfg={"rollouts": 8})
        functions = agent.make_functions(num_envs=2)
        state = functions.init(jax.random.key(0))
        return count_primitive(jax.make_jaxpr(functions.update)(state, jax.random.key(1), 7), "dot_general")

    assert update_dots(SingleForwardPass) == update_dots(MultiForwardPass)

    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"))
    model = SingleForwardPass(env.observation_space, env.action_space)
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(16, 2), cfg={"rollouts": 16})
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": 48, "headless": True, "disable_progressbar": True})
    before = jax.tree.map(np.asarray, model.params) if model.params is not None else None
    trainer.train()
    assert agent.updates == 3
    after = model.params
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(after))
    if before is not None:
        assert not np.allclose(before["net"]["layers_0"]["kernel"], after["net"]["layers_0"]["kernel"])

    env = wrap_env(gymnax.make("Pendulum-v1"))
    model = SingleForwardPass(env.observation_space, env.action_space)
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(16, 4), cfg={"rollouts": 16})
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 4, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    params = runner.agent_state.learner.params["policy"]  # one tree for both keys
    assert jax.tree.structure(params) == jax.tree.structure(model.init(jax.random.key(0)))
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(params))
    assert np.isfinite(metrics["policy_loss"]).all() and np.isfinite(metrics["value_loss"]).all()


# --- a trunk fed an array built in compute ---------------------------------------------------------


class Trunk(nn.Module):
    """Reads ``[states, actions]``: given both arrays it concatenates them itself."""

    @nn.compact
    def __call__(self, states, actions=None):
        x = states if actions is None else jnp.concatenate([states, actions], axis=-1)
        return nn.relu(nn.Dense(64)(nn.relu(nn.Dense(64)(x))))


class ConcatenatingTwinCritic(DeterministicMixin, Model):
    """Twin Q-heads on one trunk that ``compute`` feeds a fresh ``concatenate`` per role (or, with
    ``inputs_own_arrays``, the inputs' own arrays, which the trunk concatenates)."""

    def __init__(self, observation_space, action_space, inputs_own_arrays=False):
        Model.__init__(self, observation_space, action_space)
        DeterministicMixin.__init__(self, role="critic_1")
        DeterministicMixin.__init__(self, role="critic_2")
        self.inputs_own_arrays = inputs_own_arrays

    def setup(self):
        self.trunk = Trunk()
        self.q1, self.q2 = nn.Dense(1), nn.Dense(1)

    def compute(self, inputs, role):
        if self.inputs_own_arrays:
            features = self.trunk(inputs["states"], inputs["taken_actions"])
        else:
            features = self.trunk(jnp.concatenate([inputs["states"], inputs["taken_actions"]], axis=-1))
        return (self.q1 if role == "critic_1" else self.q2)(features), {}


class Actor(GaussianMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, clip_actions=True)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.relu, nn.Dense(self.num_actions)])
        self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))

    def compute(self, inputs, role):
        return self.net(inputs["states"]), self.log_std, {}


def compiled_update_dots(**critic_kwargs):
    critic = ConcatenatingTwinCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION, **critic_kwargs)
    target = ConcatenatingTwinCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION, **critic_kwargs)
    models = {
        "policy": Actor(PENDULUM_OBSERVATION, PENDULUM_ACTION),
        "critic_1": critic,
        "critic_2": critic,
        "target_critic_1": target,
        "target_critic_2": target,
    }
    agent = SAC(models=models, memory=RandomMemory(64), cfg={"batch_size": 16, "learning_starts": 0})
    functions = agent.make_functions(num_envs=1)
    state = functions.init(jax.random.key(0))
    hlo = jax.jit(functions.update).lower(state, jax.random.key(1), 10).compile().as_text()
    return len(re.findall(r"= \S+ dot\(", hlo))


def test_a_trunk_fed_a_concatenation_costs_what_a_trunk_fed_the_inputs_costs():
    """Dots in the optimized HLO of SAC's compiled update (three joint passes of the twin critics:
    targets, critics' loss, actor's loss): concatenate([states, actions]) built in compute costs what
    the inputs' own arrays cost."""
    assert compiled_update_dots() == compiled_update_dots(inputs_own_arrays=True)
