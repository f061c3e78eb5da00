"""A Model object does not change while it is called; what a call needs travels with the call.

- no attribute of the model is written by init, apply, act, joint calls or a compiled update;
- skrl's documented single-forward-pass model (``self._shared_output``) runs as written, its
  cache scoped to one call;
- a trunk fed an array built inside ``compute`` costs what a trunk fed the inputs' own arrays costs.
"""

import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks.joint_pass_dots import compiled_update_dots
from skrl_jax.agents.ppo import PPO
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.models import PENDULUM_ACTION, PENDULUM_OBSERVATION, SharedModel
from tests.test_models import count_primitive


class SingleForwardPass(SharedModel):
    """skrl's "single forward pass" shared model (its docs' first shared model), torch -> flax only: the
    seed's layers (SharedModel's setup), ``act`` and ``compute`` as skrl writes them, the trunk's output
    kept in ``self._shared_output`` for the value branch."""

    def __init__(self, observation_space, action_space, device=None, **kwargs):
        SharedModel.__init__(self, observation_space, action_space, device, **kwargs)
        self._shared_output = None

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


MultiForwardPass = SharedModel  # the seed's model: each role computes the trunk itself


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
    model.apply(params, jnp.ones((2, 3)), "policy")  # the policy branch leaves the trunk's output set
    assert model._shared_output is None  # on the module bound for that call, not on the model


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
    trainer.train()
    assert agent.updates == 3
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(model.params))
    assert np.any(model.params["log_std_parameter"] != 0.0)  # initialised to zeros: the updates moved it

    env = wrap_env(gymnax.make("Pendulum-v1"))
    model = SingleForwardPass(env.observation_space, env.action_space)
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(16, 4), cfg={"rollouts": 16})
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 4, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    params = runner.agent_state.learner.params["policy"]  # one tree for both keys
    assert jax.tree.structure(params) == jax.tree.structure(model.init(jax.random.key(0)))
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(params))
    assert np.any(params["log_std_parameter"] != 0.0)
    assert np.isfinite(metrics["policy_loss"]).all() and np.isfinite(metrics["value_loss"]).all()


# --- a trunk fed an array built in compute ---------------------------------------------------------


def test_a_trunk_fed_a_concatenation_costs_what_a_trunk_fed_the_inputs_costs():
    """Dots in the optimized HLO of SAC's compiled update (three joint passes of the twin critics:
    targets, critics' loss, actor's loss; benchmarks/joint_pass_dots.py prints them beside the count
    without the merge): concatenate([states, actions]) built in compute costs what the inputs' own
    arrays cost."""
    assert compiled_update_dots() == compiled_update_dots(inputs_own_arrays=True)
