"""The model contract of DESIGN.md: pure init/apply/act, sharing, jit/vmap/grad, compile count."""

import chex
import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.models import (
    CategoricalHead,
    DeterministicHead,
    DeterministicMixin,
    GaussianHead,
    GaussianMixin,
    Model,
    shared_model,
)
from tests.models import (
    CARTPOLE_ACTION,
    CARTPOLE_OBSERVATION,
    PENDULUM_ACTION,
    PENDULUM_OBSERVATION,
    CategoricalShared,
    SharedModel,
)


@pytest.fixture(scope="module")
def pendulum():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    return model, model.init(jax.random.key(0))


@pytest.fixture(scope="module")
def cartpole():
    model = CategoricalShared(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
    return model, model.init(jax.random.key(0))


def observations(batch=5, size=3, seed=1):
    return jax.random.normal(jax.random.key(seed), (batch, size))


def count_primitive(closed_jaxpr, name):
    """Occurrences of a primitive in a jaxpr, sub-jaxprs (pjit, custom_jvp, ...) included."""
    total = 0
    for equation in closed_jaxpr.jaxpr.eqns:
        total += equation.primitive.name == name
        for param in equation.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                if hasattr(sub, "jaxpr") and hasattr(sub, "consts"):
                    total += count_primitive(sub, name)
                elif hasattr(sub, "eqns"):
                    total += count_primitive(jax.extend.core.ClosedJaxpr(sub, ()), name)
    return total


# --- parameters and sharing ------------------------------------------------------------------


def test_shared_layers_appear_once(pendulum):
    model, params = pendulum
    assert set(params) == {"net", "mean_layer", "log_std_parameter", "value_layer"}
    assert params["net"]["layers_0"]["kernel"].shape == (3, 32)
    assert params["log_std_parameter"].shape == (1,)
    assert model.num_observations == 3 and model.num_actions == 1


def test_parameter_roles(pendulum):
    model, params = pendulum
    assert model.parameter_roles(params) == {
        "net": {"policy", "value"},
        "mean_layer": {"policy"},
        "log_std_parameter": {"policy"},
        "value_layer": {"value"},
    }


def test_apply_outputs_per_role(pendulum):
    model, params = pendulum
    obs = observations()
    mean, log_std, outputs = model.apply(params, {"states": obs}, "policy")
    value, value_outputs = model.apply(params, obs, "value")
    features = obs
    for name in ("layers_0", "layers_2"):
        layer = params["net"][name]
        features = jax.nn.elu(features @ layer["kernel"] + layer["bias"])
    np.testing.assert_allclose(
        mean, features @ params["mean_layer"]["kernel"] + params["mean_layer"]["bias"], rtol=1e-5
    )
    np.testing.assert_allclose(
        value, features @ params["value_layer"]["kernel"] + params["value_layer"]["bias"], rtol=1e-5
    )
    assert log_std.shape == (1,) and outputs == {} and value_outputs == {}


def test_joint_apply_equals_separate_calls(pendulum):
    model, params = pendulum
    obs = observations()
    joint = model.apply(params, obs, ("policy", "value"))
    chex.assert_trees_all_close(joint["policy"], model.apply(params, obs, "policy"))
    chex.assert_trees_all_close(joint["value"], model.apply(params, obs, "value"))


def test_joint_call_computes_the_trunk_once_forward_and_backward(pendulum):
    model, params = pendulum
    obs = observations()

    def separate_loss(p):
        return model.apply(p, obs, "policy")[0].sum() + model.apply(p, obs, "value")[0].sum()

    def joint_loss(p):
        outputs = model.apply(p, obs, ("policy", "value"))
        return outputs["policy"][0].sum() + outputs["value"][0].sum()

    separate = count_primitive(jax.make_jaxpr(jax.value_and_grad(separate_loss))(params), "dot_general")
    joint = count_primitive(jax.make_jaxpr(jax.value_and_grad(joint_loss))(params), "dot_general")
    # trunk: 2 layers x (1 forward + 2 backward) matmuls saved; heads keep theirs
    assert joint < separate
    assert separate - joint == 2 * 1 + 2 * 2 - 1  # the first layer needs no input gradient
    chex.assert_trees_all_close(jax.grad(separate_loss)(params), jax.grad(joint_loss)(params), rtol=1e-5, atol=1e-6)


# --- grad ---------------------------------------------------------------------------------------


def test_joint_loss_gradient_reaches_trunk_from_both_heads(pendulum):
    model, params = pendulum
    obs = observations()

    def head_loss(p, role):
        return model.apply(p, obs, role)[0].sum()

    policy_grad = jax.grad(head_loss)(params, "policy")
    value_grad = jax.grad(head_loss)(params, "value")
    trunk_policy = policy_grad["net"]["layers_0"]["kernel"]
    trunk_value = value_grad["net"]["layers_0"]["kernel"]
    assert jnp.abs(trunk_policy).sum() > 0 and jnp.abs(trunk_value).sum() > 0

    def joint_loss(p):
        outputs = model.apply(p, obs, ("policy", "value"))
        return outputs["policy"][0].sum() + outputs["value"][0].sum()

    joint_grad = jax.grad(joint_loss)(params)
    np.testing.assert_allclose(
        joint_grad["net"]["layers_0"]["kernel"], trunk_policy + trunk_value, rtol=1e-5, atol=1e-7
    )


def test_value_only_loss_does_not_touch_policy_head(pendulum):
    model, params = pendulum
    grads = jax.grad(lambda p: model.apply(p, observations(), "value")[0].sum())(params)
    assert not jnp.any(grads["mean_layer"]["kernel"]) and not jnp.any(grads["log_std_parameter"])
    assert jnp.any(grads["value_layer"]["kernel"]) and jnp.any(grads["net"]["layers_0"]["kernel"])


def test_grad_of_log_prob_through_act(pendulum):
    model, params = pendulum
    obs, actions = observations(), jnp.full((5, 1), 0.3)

    def negative_log_likelihood(p):
        _, log_prob, _ = model.act({"states": obs, "taken_actions": actions}, "policy", params=p, key=jax.random.key(0))
        return -log_prob.mean()

    grads = jax.grad(negative_log_likelihood)(params)
    # d/dlog_std of -log N(a; m, s) = 1 - (a - m)^2 / s^2, averaged
    mean = model.apply(params, obs, "policy")[0]
    expected = jnp.mean(1.0 - jnp.square(actions - mean) / jnp.exp(2 * params["log_std_parameter"]))
    np.testing.assert_allclose(grads["log_std_parameter"][0], expected, rtol=1e-4)


# --- jit, vmap, determinism, compile count -----------------------------------------------------


class TestPurity(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_act_is_a_pure_function_of_params_inputs_and_key(self):
        model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
        params = model.init(jax.random.key(0))
        obs = observations()

        @self.variant
        def act(p, x, key):
            return model.act(x, "policy", params=p, key=key)

        first = act(params, obs, jax.random.key(3))
        again = act(params, obs, jax.random.key(3))
        other = act(params, obs, jax.random.key(4))
        chex.assert_trees_all_equal(first, again)
        assert not jnp.allclose(first[0], other[0])
        assert first[0].shape == (5, 1) and first[1].shape == (5, 1)
        assert set(first[2]) == {"mean_actions", "log_std", "stddev"}
        assert model.params is None  # nothing was stored on the model

    @chex.variants(with_jit=True, without_jit=True)
    def test_apply_and_act_agree_with_and_without_jit(self):
        model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
        params = model.init(jax.random.key(0))
        obs = observations()

        taken = jnp.linspace(-1.0, 1.0, 5)[:, None]

        @self.variant
        def act_both(p, x, key):
            return model.act({"states": x, "taken_actions": taken}, ("policy", "value"), params=p, key=key)

        outputs = act_both(params, obs, jax.random.key(7))
        expected = model.act({"states": obs, "taken_actions": taken}, "policy", params=params, key=jax.random.key(8))
        chex.assert_trees_all_close(outputs["policy"][1:], expected[1:], rtol=1e-5)
        assert outputs["policy"][0].shape == (5, 1)
        chex.assert_trees_all_close(outputs["value"][0], model.apply(params, obs, "value")[0], rtol=1e-5)
        assert outputs["value"][1] is None

    @chex.variants(with_jit=True, without_jit=True)
    def test_init_is_deterministic_for_a_key(self):
        model = CategoricalShared(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
        init = self.variant(model.init)
        chex.assert_trees_all_equal(init(jax.random.key(5)), init(jax.random.key(5)))
        different = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), init(jax.random.key(5)), init(jax.random.key(6)))
        assert all(different["net"][layer]["kernel"] for layer in ("layers_0", "layers_2"))


def test_vmap_over_observations_equals_batched_call(pendulum):
    model, params = pendulum
    obs = observations(batch=7)
    actions = jnp.linspace(-1, 1, 7)[:, None]
    batched = model.act({"states": obs, "taken_actions": actions}, "policy", params=params, key=jax.random.key(0))

    def single(x, a):
        return model.act({"states": x, "taken_actions": a}, "policy", params=params, key=jax.random.key(0))

    mapped = jax.vmap(single)(obs, actions)
    np.testing.assert_allclose(mapped[1], batched[1], rtol=1e-5)
    np.testing.assert_allclose(mapped[2]["mean_actions"], batched[2]["mean_actions"], rtol=1e-5)
    values = jax.vmap(lambda x: model.apply(params, x, "value")[0])(obs)
    np.testing.assert_allclose(values, model.apply(params, obs, "value")[0], rtol=1e-5)


def test_vmap_over_keys_samples_independently(cartpole):
    model, params = cartpole
    obs = jnp.zeros((1, 4))
    keys = jax.random.split(jax.random.key(0), 256)
    actions, _, _ = jax.vmap(lambda k: model.act(obs, "policy", params=params, key=k))(keys)
    assert actions.shape == (256, 1, 1)
    assert 0 < int(actions.sum()) < 256


def test_vmap_of_init_over_keys_gives_independent_parameter_sets():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    keys = jax.random.split(jax.random.key(0), 4)
    stacked = jax.vmap(model.init)(keys)
    assert stacked["net"]["layers_0"]["kernel"].shape == (4, 3, 32)
    for i in range(4):
        chex.assert_trees_all_close(
            jax.tree.map(lambda x, i=i: x[i], stacked), model.init(keys[i]), rtol=1e-5, atol=1e-7
        )
    kernels = stacked["net"]["layers_0"]["kernel"].reshape(4, -1)
    assert len({tuple(np.asarray(k[:5]).round(6)) for k in kernels}) == 4
    # a vmapped apply over the seeds uses each seed's own parameters
    obs = observations()
    values = jax.vmap(lambda p: model.apply(p, obs, "value")[0])(stacked)
    assert values.shape == (4, 5, 1) and not jnp.allclose(values[0], values[1])


def test_repeated_calls_trace_once(pendulum):
    model, params = pendulum

    @jax.jit
    @chex.assert_max_traces(n=1)
    def step(p, x, key):
        outputs = model.act(x, ("policy", "value"), params=p, key=key)
        return outputs["policy"][0], outputs["value"][0]

    for seed in range(5):
        step(params, observations(seed=seed), jax.random.key(seed))


def test_eager_act_compiles_once_and_advances_its_key():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    model.init_state_dict(key=jax.random.key(0))
    obs = observations()
    first = model.act(obs, "policy")
    compiles = []

    def listener(event, duration, **kwargs):
        # lowering happens for every new program, also one the compilation cache then serves
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            compiles.append(event)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        later = [model.act(np.asarray(obs), "policy") for _ in range(5)]
        model.act({"states": obs}, "policy")
    finally:
        jax.monitoring.unregister_event_duration_listener(listener)
    assert compiles == []
    assert not jnp.allclose(first[0], later[0][0]) and not jnp.allclose(later[0][0], later[1][0])
    np.testing.assert_allclose(first[2]["mean_actions"], later[0][2]["mean_actions"], rtol=1e-6)


def test_act_inside_jit_without_key_is_an_error(pendulum):
    model, params = pendulum
    with pytest.raises(ValueError, match="pass params and key"):
        jax.jit(lambda p, x: model.act(x, "policy", params=p))(params, observations())


def test_eager_act_before_init_is_an_error():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    with pytest.raises(RuntimeError, match="init_state_dict"):
        model.act(observations(), "policy")


# --- dispatch -------------------------------------------------------------------------------


def test_act_dispatches_by_role_without_override(cartpole):
    model, params = cartpole
    actions, log_prob, outputs = model.act(jnp.ones((3, 4)), "policy", params=params, key=jax.random.key(0))
    assert actions.shape == (3, 1) and actions.dtype == jnp.int32 and log_prob.shape == (3, 1)
    assert outputs["net_output"].shape == (3, 2)
    np.testing.assert_allclose(
        jnp.exp(log_prob), jax.nn.softmax(outputs["net_output"])[jnp.arange(3), actions[:, 0]][:, None], rtol=1e-5
    )
    values, nothing, _ = model.act(jnp.ones((3, 4)), "value", params=params)
    assert values.shape == (3, 1) and nothing is None


def test_twin_critics_need_distinct_roles():
    class TwinCritic(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space, roles=("critic_1", "critic_2")):
            Model.__init__(self, observation_space, action_space)
            DeterministicMixin.__init__(self, role=roles[0])
            DeterministicMixin.__init__(self, role=roles[1])

        def setup(self):
            self.net = nn.Dense(8)
            self.q1, self.q2 = nn.Dense(1), nn.Dense(1)

        def compute(self, inputs, role):
            features = nn.relu(self.net(inputs["states"]))
            return (self.q1 if role == "critic_1" else self.q2)(features), {}

    model = TwinCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    assert set(params) == {"net", "q1", "q2"}
    assert model.parameter_roles(params)["net"] == {"critic_1", "critic_2"}
    q1 = model.act(observations(), "critic_1", params=params)[0]
    q2 = model.act(observations(), "critic_2", params=params)[0]
    assert not jnp.allclose(q1, q2)
    with pytest.raises(ValueError, match="distinct role"):
        TwinCritic(PENDULUM_OBSERVATION, PENDULUM_ACTION, roles=("", ""))


def test_single_mixin_model_answers_any_role():
    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            DeterministicMixin.__init__(self)

        def setup(self):
            self.net = nn.Dense(1)

        def compute(self, inputs, role):
            return self.net(inputs["states"]), {}

    model = Value(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    chex.assert_trees_all_equal(
        model.act(observations(), "value", params=params), model.act(observations(), "critic", params=params)
    )


def test_an_act_override_that_does_not_forward_params_and_key_still_gets_them():
    class Legacy(SharedModel):  # skrl's own override: act(self, inputs, role), nothing passed on
        def act(self, inputs, role):
            if role == "policy":
                return GaussianMixin.act(self, inputs, role)
            return DeterministicMixin.act(self, inputs, role)

    model = Legacy(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    reference = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = reference.init(jax.random.key(0))
    obs = observations()
    expected = reference.act({"states": obs}, "policy", params=params, key=jax.random.key(4))
    chex.assert_trees_all_close(model.act({"states": obs}, "policy", params=params, key=jax.random.key(4)), expected)
    jitted = jax.jit(lambda p, k: model.act({"states": obs}, "policy", params=p, key=k))
    chex.assert_trees_all_close(jitted(params, jax.random.key(4)), expected)


# --- inputs and spaces ---------------------------------------------------------------------


def test_dict_and_tuple_observations_are_flattened_like_skrl():
    observation_space = gym.spaces.Dict(
        {"velocity": gym.spaces.Box(-1, 1, (2,)), "image": gym.spaces.Box(0, 1, (2, 3)), "mode": gym.spaces.Discrete(4)}
    )
    model = shared_model(observation_space, PENDULUM_ACTION, trunk=None, heads={"value": DeterministicHead()})
    assert model.observation_size == 6 + 1 + 2 and model.num_observations == 6 + 4 + 2
    params = model.init(jax.random.key(0))
    sample = {"image": jnp.arange(12.0).reshape(2, 2, 3), "mode": jnp.array([3, 1]), "velocity": jnp.ones((2, 2))}
    flat = jnp.concatenate([sample["image"].reshape(2, 6), sample["mode"][:, None], sample["velocity"]], axis=-1)
    chex.assert_trees_all_close(model.apply(params, sample, "value"), model.apply(params, flat, "value"))
    kernel, bias = params["value_head"]["kernel"], params["value_head"]["bias"]
    np.testing.assert_allclose(model.apply(params, sample, "value")[0], flat @ kernel + bias, rtol=1e-5)

    tuple_space = gym.spaces.Tuple((gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,))))
    model = shared_model(tuple_space, PENDULUM_ACTION, trunk=None, heads={"value": DeterministicHead()})
    params = model.init(jax.random.key(0))
    flat = jnp.array([[2.0, 0.5, -0.5]])
    chex.assert_trees_all_close(
        model.apply(params, (jnp.array([2]), jnp.array([[0.5, -0.5]])), "value"), model.apply(params, flat, "value")
    )


def test_discrete_observations_and_multidiscrete_actions():
    from skrl_jax.models import MultiCategoricalHead

    model = shared_model(
        gym.spaces.Discrete(5),
        gym.spaces.MultiDiscrete([3, 2]),
        trunk=nn.Dense(8),
        heads={"policy": MultiCategoricalHead(), "value": DeterministicHead()},
    )
    assert model.num_observations == 5 and model.observation_size == 1 and model.num_actions == 5
    params = model.init(jax.random.key(0))
    actions, log_prob, _ = model.act(jnp.array([[0], [4]]), "policy", params=params, key=jax.random.key(1))
    assert actions.shape == (2, 2) and log_prob.shape == (2, 1)
    assert jnp.all(actions[:, 0] < 3) and jnp.all(actions[:, 1] < 2)


def test_functional_model_matches_a_hand_computation():
    model = shared_model(
        CARTPOLE_OBSERVATION,
        CARTPOLE_ACTION,
        trunk=nn.Sequential([nn.Dense(16), nn.tanh]),
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    params = model.init(jax.random.key(0))
    assert set(params) == {"trunk", "policy_head", "value_head"}
    assert model.parameter_roles(params) == {
        "trunk": {"policy", "value"},
        "policy_head": {"policy"},
        "value_head": {"value"},
    }
    obs = observations(size=4)
    trunk = params["trunk"]["layers_0"]
    features = jnp.tanh(obs @ trunk["kernel"] + trunk["bias"])
    logits = features @ params["policy_head"]["kernel"] + params["policy_head"]["bias"]
    np.testing.assert_allclose(model.apply(params, obs, "policy")[0], logits, rtol=1e-5)
    gaussian = shared_model(
        PENDULUM_OBSERVATION, PENDULUM_ACTION, trunk=None, heads={"policy": GaussianHead(initial_log_std=-1.0)}
    )
    assert float(gaussian.init(jax.random.key(0))["policy_log_std"][0]) == -1.0


# --- errors ---------------------------------------------------------------------------------


def test_wrong_observation_shape_names_expected_and_received(pendulum):
    model, params = pendulum
    with pytest.raises(ValueError, match=r"expected observations of shape \(\.\.\., 3\).*got shape \(5, 4\)"):
        model.apply(params, jnp.ones((5, 4)), "policy")
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        model.act(jnp.float32(1.0), "value", params=params)


def test_wrong_observation_dtype(pendulum):
    model, params = pendulum
    with pytest.raises(TypeError, match="real-valued observations.*complex64"):
        model.apply(params, jnp.ones((5, 3), jnp.complex64), "policy")


def test_integer_observations_are_cast(pendulum):
    model, params = pendulum
    chex.assert_trees_all_close(
        model.apply(params, jnp.ones((2, 3), jnp.int32), "value"), model.apply(params, jnp.ones((2, 3)), "value")
    )


def test_unknown_role(pendulum):
    model, params = pendulum
    with pytest.raises(ValueError, match=r"unknown role 'polcy'.*'policy', 'value'"):
        model.apply(params, observations(), "polcy")
    with pytest.raises(ValueError, match="unknown role 'critic'"):
        model.act(observations(), "critic", params=params, key=jax.random.key(0))
    with pytest.raises(TypeError, match="role must be a Python string"):
        model.apply(params, observations(), 3)


def test_mixins_declared_without_roles_need_roles_to_dispatch():
    class Unnamed(GaussianMixin, DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            GaussianMixin.__init__(self)
            DeterministicMixin.__init__(self)

        def setup(self):
            self.net = nn.Dense(1)

        def compute(self, inputs, role):
            if role == "policy":
                return self.net(inputs["states"]), jnp.zeros(1), {}

    model = Unnamed(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    with pytest.raises(ValueError, match="cannot tell which roles"):
        model.init(jax.random.key(0))
    params = model.init(jax.random.key(0), roles=("policy",))
    with pytest.raises(ValueError, match="role 'value'.*pass role=... to each mixin constructor"):
        model.act(observations(), "value", params=params)
    with pytest.raises(ValueError, match=r"returned None: compute has no branch for role 'value'"):
        model.apply(params, observations(), "value")


def test_mixin_before_model_init_is_an_error():
    class Backwards(GaussianMixin, Model):
        def __init__(self, observation_space, action_space):
            GaussianMixin.__init__(self)
            Model.__init__(self, observation_space, action_space)

    with pytest.raises((TypeError, AttributeError), match="Model.__init__"):
        Backwards(PENDULUM_OBSERVATION, PENDULUM_ACTION)


def test_unsupported_space():
    with pytest.raises(TypeError, match=r"unsupported observation space.*Text.*expected one of: Box"):
        shared_model(gym.spaces.Text(5), PENDULUM_ACTION, trunk=None, heads={"value": DeterministicHead()})
    with pytest.raises(TypeError, match="GaussianMixin needs a Box action space, got Discrete"):
        shared_model(PENDULUM_OBSERVATION, CARTPOLE_ACTION, trunk=None, heads={"policy": GaussianHead()})


def test_compute_returning_the_wrong_tuple(pendulum):
    class Wrong(GaussianMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            GaussianMixin.__init__(self, role="policy")

        def setup(self):
            self.net = nn.Dense(2)

        def compute(self, inputs, role):
            return self.net(inputs["states"]), {}

    model = Wrong(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    with pytest.raises(
        ValueError, match=r"must return \(mean_actions, log_std, outputs\) \(skrl 1.4\), got a tuple of 2"
    ):
        model.act(observations(), "policy", params=params, key=jax.random.key(0))


def test_missing_states_entry(pendulum):
    model, params = pendulum
    with pytest.raises(KeyError, match="no 'states' entry"):
        model.apply(params, {"observations": observations()}, "value")


class CompactShared(GaussianMixin, DeterministicMixin, Model):
    """skrl's JAX style: layers created inline in an @nn.compact __call__ (no setup / compute)."""

    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")

    @nn.compact
    def __call__(self, inputs, role):
        features = nn.elu(nn.Dense(32, name="trunk")(inputs["states"]))
        if role == "policy":
            log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))
            return nn.Dense(self.num_actions, name="mean")(features), log_std, {}
        return nn.Dense(1, name="value")(features), {}


def test_skrl_style_compact_call_models_work_and_share_their_trunk():
    model = CompactShared(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    assert set(params) == {"trunk", "mean", "log_std", "value"}
    assert model.parameter_roles(params) == {
        "trunk": {"policy", "value"},
        "mean": {"policy"},
        "log_std": {"policy"},
        "value": {"value"},
    }
    obs = observations()
    features = jax.nn.elu(obs @ params["trunk"]["kernel"] + params["trunk"]["bias"])
    np.testing.assert_allclose(
        model.apply(params, obs, "value")[0], features @ params["value"]["kernel"] + params["value"]["bias"], rtol=1e-5
    )

    def separate_loss(p):
        return model.apply(p, obs, "policy")[0].sum() + model.apply(p, obs, "value")[0].sum()

    def joint_loss(p):
        outputs = model.apply(p, obs, ("policy", "value"))
        return outputs["policy"][0].sum() + outputs["value"][0].sum()

    separate = count_primitive(jax.make_jaxpr(jax.value_and_grad(separate_loss))(params), "dot_general")
    joint = count_primitive(jax.make_jaxpr(jax.value_and_grad(joint_loss))(params), "dot_general")
    assert joint == separate - 2  # the one-layer trunk: one forward and one weight-gradient matmul saved


def test_a_model_with_neither_compute_nor_call_says_what_to_write():
    class Empty(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            DeterministicMixin.__init__(self)

    with pytest.raises(NotImplementedError, match=r"must define compute\(inputs, role\)"):
        Empty(PENDULUM_OBSERVATION, PENDULUM_ACTION).init(jax.random.key(0))


VMAPPED_ORTHOGONAL_INIT = """
import gymnasium, jax, numpy as np, flax.linen as nn
from skrl_jax.models import DeterministicHead, GaussianHead, shared_model

observations, actions = gymnasium.spaces.Box(-1, 1, (64,)), gymnasium.spaces.Box(-1, 1, (2,))
def make():
    trunk = nn.Sequential([nn.Dense(256, kernel_init=nn.initializers.orthogonal()) for _ in range(3)])
    return shared_model(observations, actions, trunk, {"policy": GaussianHead(), "value": DeterministicHead()})
first, second = make(), make()
def init(key):
    key_1, key_2 = jax.random.split(key)
    return first.init(key_1), second.init(key_2)
keys = jax.random.split(jax.random.key(0), 8)
batched = jax.jit(jax.vmap(init))(keys)
alone = init(keys[5])
assert all(np.allclose(b[5], a) for b, a in zip(jax.tree.leaves(batched), jax.tree.leaves(alone)))
print("initialised")
"""


def test_vmapped_orthogonal_init_of_two_models_finishes():
    # jaxlib 0.10's CPU runtime deadlocks on two batched QRs at once (vmapped orthogonal init);
    # Model.init runs seed by seed under vmap. A subprocess, so a hang is a timeout, not a stuck suite.
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", VMAPPED_ORTHOGONAL_INIT], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "initialised" in result.stdout


# --- the API conventions a model reads (model.conventions, MultivariateGaussianMixin's squared_scale) ---------

BOX2_ACTION = gym.spaces.Box(low=-1.0, high=1.0, shape=(2,), dtype=np.float32)


def multivariate_model(api, mean, log_std, **mixin_kwargs):
    """A MultivariateGaussian model written as a user of skrl ``api`` writes it (constructor and
    ``compute`` form), with a constant ``mean`` and ``log_std`` whatever the observations."""
    from skrl_jax.models import MultivariateGaussianMixin

    class Multivariate(MultivariateGaussianMixin, Model):
        def __init__(self):
            if api == "2.x":
                Model.__init__(self, observation_space=PENDULUM_OBSERVATION, state_space=None, action_space=BOX2_ACTION)
            else:
                Model.__init__(self, PENDULUM_OBSERVATION, BOX2_ACTION)
            MultivariateGaussianMixin.__init__(self, **mixin_kwargs)

        def compute(self, inputs, role):
            if api == "2.x":
                return jnp.broadcast_to(mean, (*inputs["observations"].shape[:-1], 2)), {"log_std": log_std}
            return jnp.broadcast_to(mean, (*inputs["states"].shape[:-1], 2)), log_std, {}

    return Multivariate()


MV_MEAN, MV_LOG_STD = jnp.array([0.5, -1.0]), jnp.array([-0.3, 0.2])


def multivariate_log_prob_and_entropy(api, **mixin_kwargs):
    """``(log_prob (6, 1), stddev, entropy (6,), taken actions)`` of ``multivariate_model(api, ...)``."""
    model = multivariate_model(api, MV_MEAN, MV_LOG_STD, **mixin_kwargs)
    taken = jax.random.normal(jax.random.key(3), (6, 2))
    name = "observations" if api == "2.x" else "states"
    result = model.act({name: observations(batch=6), "taken_actions": taken}, "", params={}, key=jax.random.key(0))
    if api == "2.x":
        outputs = result[1]
        log_prob = outputs["log_prob"]
    else:
        _, log_prob, outputs = result
    return log_prob, outputs["stddev"], model.get_entropy(outputs), taken


def expected_log_prob_and_entropy(taken, stddev):
    """The multivariate normal of ``MV_MEAN`` with covariance ``diag(stddev ** 2)``, by jax.scipy."""
    covariance = jnp.diag(stddev**2)
    log_prob = jax.scipy.stats.multivariate_normal.logpdf(taken, MV_MEAN, covariance)
    entropy = 0.5 * jnp.log(jnp.linalg.det(2 * jnp.pi * jnp.e * covariance))
    return log_prob, entropy


def test_a_1x_multivariate_gaussian_given_the_2x_scale_has_the_2x_distribution():
    log_prob, stddev, entropy, taken = multivariate_log_prob_and_entropy("1.4", squared_scale=False)
    expected_log_prob, expected_entropy = expected_log_prob_and_entropy(taken, jnp.exp(MV_LOG_STD))
    assert log_prob.shape == (6, 1) and entropy.shape == (6,)
    np.testing.assert_allclose(log_prob[:, 0], expected_log_prob, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stddev, jnp.exp(MV_LOG_STD), rtol=1e-6)
    np.testing.assert_allclose(entropy, jnp.full((6,), expected_entropy), rtol=1e-5)
    # the same distribution as a model built the 2.x way, whose default it is
    log_prob_2x, stddev_2x, entropy_2x, _ = multivariate_log_prob_and_entropy("2.x")
    np.testing.assert_allclose(log_prob, log_prob_2x, rtol=1e-6)
    np.testing.assert_allclose(stddev, stddev_2x, rtol=1e-6)
    np.testing.assert_allclose(entropy, entropy_2x, rtol=1e-6)


def test_a_2x_multivariate_gaussian_given_the_1x_scale_has_the_1x_distribution():
    log_prob, stddev, entropy, taken = multivariate_log_prob_and_entropy("2.x", squared_scale=True)
    # skrl 1.4: scale_tril = diag(exp(log_std) ** 2), so each standard deviation is exp(2 * log_std)
    expected_log_prob, expected_entropy = expected_log_prob_and_entropy(taken, jnp.exp(2 * MV_LOG_STD))
    np.testing.assert_allclose(log_prob[:, 0], expected_log_prob, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stddev, jnp.exp(2 * MV_LOG_STD), rtol=1e-6)
    np.testing.assert_allclose(entropy, jnp.full((6,), expected_entropy), rtol=1e-5)
    log_prob_1x, _, entropy_1x, _ = multivariate_log_prob_and_entropy("1.4")
    np.testing.assert_allclose(log_prob, log_prob_1x, rtol=1e-6)
    np.testing.assert_allclose(entropy, entropy_1x, rtol=1e-6)


def test_the_multivariate_scale_defaults_to_the_api_and_is_checked():
    for api, squared in (("1.4", True), ("2.x", False)):
        _, stddev, _, _ = multivariate_log_prob_and_entropy(api)
        np.testing.assert_allclose(stddev, jnp.exp((2 if squared else 1) * MV_LOG_STD), rtol=1e-6)
        _, explicit, _, _ = multivariate_log_prob_and_entropy(api, squared_scale=squared)
        np.testing.assert_allclose(explicit, stddev, rtol=1e-6)
    with pytest.raises(TypeError, match=r"MultivariateGaussianMixin: squared_scale must be True, False or None, got 2"):
        multivariate_model("1.4", MV_MEAN, MV_LOG_STD, squared_scale=2)


def test_a_multivariate_head_takes_the_scale_setting_too():
    from skrl_jax.models import MultivariateGaussianHead

    for head, factor in (
        (MultivariateGaussianHead(initial_log_std=0.3), 2),
        (MultivariateGaussianHead(initial_log_std=0.3, squared_scale=False), 1),
    ):
        model = shared_model(PENDULUM_OBSERVATION, BOX2_ACTION, nn.Dense(4), {"policy": head})
        _, _, outputs = model.act(observations(), "policy", params=model.init(jax.random.key(0)), key=jax.random.key(1))
        np.testing.assert_allclose(outputs["stddev"], np.full(2, np.exp(factor * 0.3)), rtol=1e-6)


def test_model_conventions_default_to_the_api_the_model_is_built_with():
    import dataclasses

    from skrl_jax.models.conventions import SKRL_1_4_CONVENTIONS, SKRL_2_CONVENTIONS

    class Value(DeterministicMixin, Model):
        def __init__(self, **model_kwargs):
            Model.__init__(self, PENDULUM_OBSERVATION, PENDULUM_ACTION, **model_kwargs)
            DeterministicMixin.__init__(self)

        def compute(self, inputs, role):
            return inputs[self.conventions.observation_input][..., :1], {}

    old, new = Value(), Value(state_space=None)
    assert (old.skrl_api, new.skrl_api) == ("1.4", "2.x")
    assert old.conventions == SKRL_1_4_CONVENTIONS == Value(skrl_api="1.4").conventions
    assert new.conventions == SKRL_2_CONVENTIONS == Value(skrl_api="2.x").conventions
    assert (old.conventions.observation_input, old.conventions.privileged_state_input) == ("states", None)
    assert (new.conventions.observation_input, new.conventions.privileged_state_input) == ("observations", "states")
    assert (old.conventions.log_std_in_outputs, new.conventions.log_std_in_outputs) == (False, True)
    assert (old.conventions.log_prob_in_outputs, new.conventions.log_prob_in_outputs) == (False, True)
    assert (old.conventions.multivariate_squared_scale, new.conventions.multivariate_squared_scale) == (True, False)
    # what the fields say is what the models do: their input names and act forms
    obs = observations()
    values, log_prob, _ = old.act({"states": obs}, "", params={})
    assert log_prob is None
    np.testing.assert_allclose(values, obs[:, :1])
    values, outputs = new.act({"observations": obs}, "", params={})
    assert "log_prob" not in outputs
    np.testing.assert_allclose(values, obs[:, :1])
    with pytest.raises(dataclasses.FrozenInstanceError):
        old.conventions.observation_input = "observations"
