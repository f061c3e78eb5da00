"""skrl 2.x's model API beside 1.4's: the seed's shared model in 2.x style keeps the model contract,
privileged states (asymmetric actor-critic), 2.x's compute / act forms, and errors across the APIs."""

import math

import chex
import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks._examples import load_example
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model, MultivariateGaussianMixin
from tests.models import PENDULUM_ACTION, PENDULUM_OBSERVATION, SharedModel
from tests.test_models import count_primitive

SharedModel2 = load_example("shared_model_skrl2").SharedModel
PRIVILEGED = gym.spaces.Box(low=-1.0, high=1.0, shape=(5,), dtype=np.float32)


def observations(batch=5, seed=1):
    return jax.random.normal(jax.random.key(seed), (batch, 3))


@pytest.fixture(scope="module")
def model2():
    model = SharedModel2(PENDULUM_OBSERVATION, None, PENDULUM_ACTION, None)
    return model, model.init(jax.random.key(0))


def test_a_model_built_with_state_space_is_a_2x_model_and_a_1x_one_is_unchanged(model2):
    model, params = model2
    assert model.skrl_api == "2.x" and model.num_states == 0
    old = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    assert old.skrl_api == "1.4"
    result = old.act({"states": observations()}, "policy", params=old.init(jax.random.key(0)), key=jax.random.key(1))
    assert len(result) == 3
    actions, outputs = model.act({"observations": observations()}, role="policy", params=params, key=jax.random.key(1))
    assert actions.shape == (5, 1)
    assert sorted(outputs) == ["log_prob", "log_std", "mean_actions", "stddev"]
    values, value_outputs = model.act({"observations": observations(), "states": None}, role="value", params=params)
    assert values.shape == (5, 1) and "log_prob" not in value_outputs


def test_2x_log_prob_is_the_gaussian_density_of_the_computed_mean_and_log_std(model2):
    model, params = model2
    obs = observations()
    mean, extra = model.apply(params, {"observations": obs}, "policy")
    taken = jnp.full((5, 1), 0.3)
    _, outputs = model.act({"observations": obs, "taken_actions": taken}, role="policy", params=params)
    log_std = extra["log_std"]
    expected = -((taken - mean) ** 2) / (2 * jnp.exp(2 * log_std)) - log_std - 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(outputs["log_prob"], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs["mean_actions"], mean)


def test_the_2x_act_override_without_params_and_key_stays_pure_under_jit_and_grad(model2):
    model, params = model2
    obs = observations()

    def log_prob(p, o, key):  # of given actions: a sample's own log-prob does not depend on the mean
        return model.act({"observations": o, "taken_actions": o[:, :1]}, role="policy", params=p, key=key)[1][
            "log_prob"
        ]

    eager = log_prob(params, obs, jax.random.key(3))
    chex.assert_trees_all_close(jax.jit(log_prob)(params, obs, jax.random.key(3)), eager)
    grads = jax.grad(lambda p: log_prob(p, obs, jax.random.key(3)).sum())(params)
    assert float(jnp.abs(grads["net"]["layers_0"]["kernel"]).sum()) > 0
    # the same key gives the same sample; another key another
    first = model.act({"observations": obs}, role="policy", params=params, key=jax.random.key(3))[0]
    again = model.act({"observations": obs}, role="policy", params=params, key=jax.random.key(3))[0]
    other = model.act({"observations": obs}, role="policy", params=params, key=jax.random.key(4))[0]
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_the_2x_shared_model_has_its_trunk_once_in_params_and_once_in_a_joint_pass(model2):
    model, params = model2
    assert list(params["net"]) == ["layers_0", "layers_2"] and "net" in params
    assert {name for name, roles in model.parameter_roles(params).items() if set(roles) == {"policy", "value"}} == {
        "net"
    }
    obs = observations()

    def separate(p):
        return (
            model.apply(p, {"observations": obs}, "policy")[0].sum()
            + model.apply(p, {"observations": obs}, "value")[0].sum()
        )

    def joint(p):
        outputs = model.apply(p, {"observations": obs}, ("policy", "value"))
        return outputs["policy"][0].sum() + outputs["value"][0].sum()

    assert count_primitive(jax.make_jaxpr(joint)(params), "dot_general") == 4  # trunk 2 + heads 2
    assert count_primitive(jax.make_jaxpr(separate)(params), "dot_general") == 6
    chex.assert_trees_all_close(jax.grad(separate)(params), jax.grad(joint)(params), rtol=1e-5, atol=1e-6)
    both = model.joint_act({"observations": obs}, ("policy", "value"), params=params, key=jax.random.key(2))
    assert len(both["policy"]) == 2 and "log_prob" in both["policy"][1]


def test_the_same_layers_give_the_same_outputs_in_either_api():
    old = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    new = SharedModel2(PENDULUM_OBSERVATION, None, PENDULUM_ACTION, None)
    params = old.init(jax.random.key(0))
    new_params = new.init(jax.random.key(0))
    assert jax.tree.map(jnp.shape, params) == jax.tree.map(jnp.shape, new_params)
    obs, taken = observations(), jnp.full((5, 1), -0.2)
    actions, log_prob, outputs = old.act({"states": obs, "taken_actions": taken}, "policy", params=params)
    new_actions, new_outputs = new.act({"observations": obs, "taken_actions": taken}, role="policy", params=params)
    np.testing.assert_allclose(new_outputs["log_prob"], log_prob, rtol=1e-6)
    np.testing.assert_allclose(new_outputs["mean_actions"], outputs["mean_actions"], rtol=1e-6)


class Asymmetric(GaussianMixin, DeterministicMixin, Model):
    """A policy on the observations and a value that also reads the privileged state."""

    def __init__(self, observation_space, state_space, action_space, value_trunk_on_states=False):
        Model.__init__(self, observation_space=observation_space, state_space=state_space, action_space=action_space)
        GaussianMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")
        self.value_trunk_on_states = value_trunk_on_states

    def setup(self):
        self.net = nn.Sequential([nn.Dense(16), nn.tanh])
        self.mean_layer = nn.Dense(self.num_actions)
        self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))
        self.value_layer = nn.Dense(1)
        self.state_layer = nn.Dense(16)

    def compute(self, inputs, role):
        if role == "policy":
            return self.mean_layer(self.net(inputs["observations"])), {"log_std": self.log_std}
        if self.value_trunk_on_states:  # the trunk fed the privileged state instead: another input
            features = self.net(self.state_layer(inputs["states"])[..., :3])
        else:
            features = jnp.concatenate([self.net(inputs["observations"]), self.state_layer(inputs["states"])], -1)
        return self.value_layer(features), {}


def test_asymmetric_actor_critic_reads_privileged_states_and_shares_only_what_has_the_same_input():
    obs = observations()
    privileged = jax.random.normal(jax.random.key(7), (5, 5))
    inputs = {"observations": obs, "states": privileged}
    for on_states, trunk_runs in ((False, 1), (True, 2)):
        model = Asymmetric(PENDULUM_OBSERVATION, PRIVILEGED, PENDULUM_ACTION, value_trunk_on_states=on_states)
        params = model.init(jax.random.key(0))
        assert params["state_layer"]["kernel"].shape == (5, 16)
        joint = jax.make_jaxpr(lambda p, model=model: model.apply(p, inputs, ("policy", "value")))(params)
        # dot_generals: trunk (once per distinct input) + mean head + state layer + value head
        assert count_primitive(joint, "dot_general") == trunk_runs + 3
        outputs = model.apply(params, inputs, ("policy", "value"))
        chex.assert_trees_all_close(outputs["value"], model.apply(params, inputs, "value"))
        changed = model.apply(params, {**inputs, "states": privileged + 1.0}, ("policy", "value"))
        chex.assert_trees_all_close(changed["policy"], outputs["policy"])  # the policy never reads them
        assert not np.allclose(changed["value"][0], outputs["value"][0])


def test_privileged_states_of_the_wrong_shape_or_for_a_model_without_a_state_space_are_refused(model2):
    model = Asymmetric(PENDULUM_OBSERVATION, PRIVILEGED, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    with pytest.raises(ValueError, match=r"expected states \(privileged\) of shape \(5, 5\).*got shape \(5, 4\)"):
        model.apply(params, {"observations": observations(), "states": jnp.zeros((5, 4))}, "value")
    no_states, no_states_params = model2
    with pytest.raises(ValueError, match="built with state_space=None"):
        no_states.apply(no_states_params, {"observations": observations(), "states": jnp.zeros((5, 5))}, "value")


def test_each_api_names_the_other_when_given_its_inputs_or_compute_form(model2):
    model, params = model2
    old = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    old_params = old.init(jax.random.key(0))
    with pytest.raises(KeyError, match=r"skrl 1.4 model, whose observations are inputs\['states'\]"):
        old.apply(old_params, {"observations": observations()}, "policy")

    class OldCompute(SharedModel2):
        def compute(self, inputs, role):
            if role == "policy":
                return self.mean_layer(self.net(inputs["observations"])), self.log_std_parameter, {}
            return self.value_layer(self.net(inputs["observations"])), {}

    wrong = OldCompute(PENDULUM_OBSERVATION, None, PENDULUM_ACTION, None)
    with pytest.raises(ValueError, match=r'must return mean_actions, \{"log_std": log_std, ...\} \(skrl 2.x\)'):
        wrong.act({"observations": observations()}, role="policy", params=params, key=jax.random.key(0))

    class NewCompute(SharedModel):
        def compute(self, inputs, role):
            if role == "policy":
                return self.mean_layer(self.net(inputs["states"])), {"log_std": self.log_std_parameter}
            return self.value_layer(self.net(inputs["states"])), {}

    with pytest.raises(ValueError, match="returned skrl 2.x's mean_actions.*is a skrl 1.4 model"):
        NewCompute(PENDULUM_OBSERVATION, PENDULUM_ACTION).act(
            {"states": observations()}, "policy", params=old_params, key=jax.random.key(0)
        )

    class Unknown(GaussianMixin, Model):
        def __init__(self):
            Model.__init__(self, PENDULUM_OBSERVATION, PENDULUM_ACTION, skrl_api="3")

    with pytest.raises(ValueError, match=r"skrl_api must be one of \['1.4', '2.x'\], got '3'"):
        Unknown()


def test_clip_mean_actions_clips_the_mean_before_sampling():
    class Wide(GaussianMixin, Model):
        def __init__(self, clip_mean_actions):
            Model.__init__(self, observation_space=PENDULUM_OBSERVATION, state_space=None, action_space=PENDULUM_ACTION)
            GaussianMixin.__init__(self, clip_mean_actions=clip_mean_actions, min_log_std=-20)

        def compute(self, inputs, role):
            return 10.0 * inputs["observations"][..., :1], {"log_std": jnp.full((1,), -20.0)}

    obs = jnp.array([[1.0, 0, 0], [-1.0, 0, 0], [0.1, 0, 0]])
    for clip, expected in ((True, [2.0, -2.0, 1.0]), (False, [10.0, -10.0, 1.0])):
        model = Wide(clip)
        actions, outputs = model.act({"observations": obs}, role="", params={}, key=jax.random.key(0))
        np.testing.assert_allclose(outputs["mean_actions"][:, 0], expected, rtol=1e-6)
        np.testing.assert_allclose(actions[:, 0], expected, atol=1e-6)


def test_multivariate_gaussian_scale_is_exp_log_std_in_2x_and_its_square_in_1x():
    def model_of(api):
        class Multi(MultivariateGaussianMixin, Model):
            def __init__(self):
                Model.__init__(self, PENDULUM_OBSERVATION, PENDULUM_ACTION, skrl_api=api)
                MultivariateGaussianMixin.__init__(self)

            def compute(self, inputs, role):
                mean = jnp.zeros(inputs["observations" if api == "2.x" else "states"].shape[:-1] + (1,))
                log_std = jnp.full((1,), 0.5)
                return (mean, {"log_std": log_std}) if api == "2.x" else (mean, log_std, {})

        return Multi()

    obs = observations()
    _, new = model_of("2.x").act({"observations": obs}, role="", params={}, key=jax.random.key(0))
    _, _, old = model_of("1.4").act({"states": obs}, "", params={}, key=jax.random.key(0))
    np.testing.assert_allclose(new["stddev"], math.exp(0.5), rtol=1e-6)
    np.testing.assert_allclose(old["stddev"], math.exp(1.0), rtol=1e-6)


def test_init_state_dict_takes_either_apis_arguments(model2):
    model = SharedModel2(PENDULUM_OBSERVATION, None, PENDULUM_ACTION, None)
    model.init_state_dict({"observations": jnp.zeros((2, 3))}, role="policy", key=jax.random.key(5))
    chex.assert_trees_all_close(model.params, model.init(jax.random.key(5), {"observations": jnp.zeros((2, 3))}))
    old = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    old.init_state_dict("policy")
    assert old.params is not None
    with pytest.raises(ValueError, match="unknown role 'critic'"):
        model.init_state_dict(role="critic")
    model.enable_training_mode(True)
    assert model.training is True
