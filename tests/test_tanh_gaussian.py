"""TanhGaussianMixin / TanhGaussianHead: brax's tanh-squashed Gaussian, against hand formulas."""

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, stats

from skrl_jax.models import DeterministicHead, Model, TanhGaussianHead, TanhGaussianMixin, shared_model

LOW, HIGH = np.array([-2.0, 0.0], np.float32), np.array([3.0, 1.0], np.float32)
CENTER, HALF = (HIGH + LOW) / 2, (HIGH - LOW) / 2


def model_and_params(scale="softplus"):
    observation_space = gym.spaces.Box(-np.inf, np.inf, (3,), np.float32)
    action_space = gym.spaces.Box(LOW, HIGH, dtype=np.float32)
    model = shared_model(
        observation_space,
        action_space,
        nn.Dense(8),
        {"policy": TanhGaussianHead(scale=scale), "value": DeterministicHead()},
    )
    return model, model.init(jax.random.key(0))


class ReadsItsInputs(TanhGaussianMixin, Model):
    """loc = states[:, :2] and the scale's input = states[:, 2:] (softplus, brax's form)."""

    def __init__(self):
        Model.__init__(self, gym.spaces.Box(-np.inf, np.inf, (4,)), gym.spaces.Box(LOW, HIGH, dtype=np.float32))
        TanhGaussianMixin.__init__(self, role="policy")

    def setup(self):
        self.unused = nn.Dense(1)

    def compute(self, inputs, role):
        states = inputs["states"] + 0.0 * self.unused(inputs["states"])
        return states[:, :2], states[:, 2:], {}


def test_sampled_actions_stay_in_bounds_and_their_log_prob_is_the_change_of_variables():
    model = ReadsItsInputs()
    params = model.init(jax.random.key(0))
    states = jax.random.normal(jax.random.key(1), (64, 4))
    actions, log_prob, outputs = model.act({"states": states}, "policy", params=params, key=jax.random.key(2))
    actions, log_prob, states = (np.asarray(x, np.float64) for x in (actions, log_prob, states))
    assert actions.shape == (64, 2) and log_prob.shape == (64, 1)
    assert np.all(actions >= LOW) and np.all(actions <= HIGH)  # float32 tanh rounds far tails onto the bounds
    loc, std = states[:, :2], np.log1p(np.exp(states[:, 2:])) + 0.001
    np.testing.assert_allclose(np.asarray(outputs["stddev"]), std, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(outputs["mean_actions"]), CENTER + HALF * np.tanh(loc), rtol=1e-5, atol=1e-6)
    squashed = (actions - CENTER) / HALF
    inside = np.all(np.abs(squashed) < 0.999, axis=-1)  # where u can be read back from the action accurately
    assert inside.sum() > 32
    u = np.arctanh(squashed[inside])
    expected = stats.norm.logpdf(u, loc[inside], std[inside]) - np.log(HALF * (1 - np.tanh(u) ** 2))
    np.testing.assert_allclose(log_prob[inside, 0], expected.sum(-1), rtol=1e-4, atol=2e-3)


def test_taken_actions_give_the_log_prob_of_the_sample_and_the_greedy_action_is_the_squashed_loc():
    model, params = model_and_params()
    states = jax.random.normal(jax.random.key(3), (32, 3))
    actions, log_prob, outputs = model.act({"states": states}, "policy", params=params, key=jax.random.key(4))
    _, again, _ = model.act(
        {"states": states, "taken_actions": actions}, "policy", params=params, key=jax.random.key(5)
    )
    np.testing.assert_allclose(np.asarray(again), np.asarray(log_prob), rtol=1e-4, atol=1e-4)
    mean_actions = np.asarray(outputs["mean_actions"])
    assert np.all(mean_actions > LOW) and np.all(mean_actions < HIGH)


def test_the_entropy_estimate_averages_to_the_true_entropy_of_the_squashed_gaussian():
    class OneDimension(TanhGaussianMixin, Model):
        def __init__(self):
            Model.__init__(self, gym.spaces.Box(-1, 1, (1,)), gym.spaces.Box(-1.0, 1.0, (1,)))
            TanhGaussianMixin.__init__(self, scale="exp", role="policy")

        def setup(self):
            self.dummy = nn.Dense(1)

        def compute(self, inputs, role):
            zeros = 0.0 * self.dummy(inputs["states"])
            return zeros + 0.5, zeros + np.log(0.8), {}

    model = OneDimension()
    params = model.init(jax.random.key(0))
    states = jnp.zeros((200_000, 1))
    _, _, outputs = jax.jit(lambda key: model.act({"states": states}, "policy", params=params, key=key))(
        jax.random.key(1)
    )
    estimate = float(jnp.mean(model.get_entropy(outputs, "policy")))

    def density(a):  # of a = tanh(u), u ~ N(0.5, 0.8)
        u = np.arctanh(a)
        return stats.norm.pdf(u, 0.5, 0.8) / (1 - a**2)

    true_entropy = -integrate.quad(lambda a: density(a) * np.log(density(a)), -1 + 1e-12, 1 - 1e-12, limit=200)[0]
    assert abs(estimate - true_entropy) < 0.01, (estimate, true_entropy)


def test_the_entropy_is_estimated_at_a_fresh_sample_so_its_gradient_pulls_loc_off_the_bounds():
    model = ReadsItsInputs()
    params = model.init(jax.random.key(0))
    states = jnp.tile(jnp.array([[2.0, -2.0, 0.0, 0.0]]), (4096, 1))  # loc (2, -2): tanh(loc) near the bounds
    key = jax.random.key(3)
    _, _, fresh = model.act({"states": states}, "policy", params=params, key=key)
    taken = jnp.zeros((4096, 2)) + CENTER  # whatever the update re-evaluates, the estimate is the fresh sample's
    _, _, again = model.act({"states": states, "taken_actions": taken}, "policy", params=params, key=key)
    np.testing.assert_allclose(np.asarray(again["entropy"]), np.asarray(fresh["entropy"]), rtol=1e-6)

    def mean_entropy(states):
        outputs = model.act({"states": states, "taken_actions": taken}, "policy", params=params, key=key)[2]
        return model.get_entropy(outputs, "policy").mean(0).sum()

    loc_gradient = np.asarray(jax.grad(mean_entropy)(states).sum(0)[:2])
    assert loc_gradient[0] < -1e-3 and loc_gradient[1] > 1e-3, loc_gradient  # raising the entropy moves loc to 0


def test_gradients_are_finite_and_jit_matches_eager():
    model, params = model_and_params(scale="exp")
    states = jax.random.normal(jax.random.key(6), (16, 3))
    taken = jnp.clip(jax.random.normal(jax.random.key(7), (16, 2)) * 10, LOW, HIGH)  # some on the bounds

    def mean_log_prob(params):
        return model.act({"states": states, "taken_actions": taken}, "policy", params=params, key=jax.random.key(8))[
            1
        ].mean()

    gradients = jax.grad(mean_log_prob)(params)
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in jax.tree.leaves(gradients))
    np.testing.assert_allclose(float(jax.jit(mean_log_prob)(params)), float(mean_log_prob(params)), rtol=1e-5)


def test_bad_settings_are_refused_with_what_was_expected():
    observation_space = gym.spaces.Box(-1, 1, (3,))
    with pytest.raises(ValueError, match=r"infinite bounds: give the Box finite low and high"):
        shared_model(observation_space, gym.spaces.Box(-np.inf, np.inf, (2,)), None, {"policy": TanhGaussianHead()})
    with pytest.raises(ValueError, match=r"scale must be one of \['softplus', 'exp'\], got 'log'"):
        shared_model(observation_space, gym.spaces.Box(-1, 1, (2,)), None, {"policy": TanhGaussianHead(scale="log")})
    with pytest.raises(TypeError, match=r"Box"):
        shared_model(observation_space, gym.spaces.Discrete(3), None, {"policy": TanhGaussianHead()})


def test_taken_samples_rescore_exactly_where_reading_the_action_back_cannot():
    model = ReadsItsInputs()
    params = model.init(jax.random.key(0))
    states = jnp.tile(jnp.array([[12.0, -0.5, 0.0, 0.0]]), (256, 1))  # loc 12: tanh(u) rounds onto the bound
    actions, log_prob, outputs = model.act({"states": states}, "policy", params=params, key=jax.random.key(1))
    samples = outputs["samples"]
    _, again, _ = model.act(
        {"states": states, "taken_samples": samples}, "policy", params=params, key=jax.random.key(2)
    )
    np.testing.assert_array_equal(np.asarray(again), np.asarray(log_prob))
    _, read_back, _ = model.act(
        {"states": states, "taken_actions": actions}, "policy", params=params, key=jax.random.key(2)
    )
    assert np.max(np.abs(np.asarray(read_back) - np.asarray(log_prob))) > 1.0
    with pytest.raises(ValueError, match=r"taken_samples for role 'policy' .* must have shape \(256, 2\)"):
        model.act({"states": states, "taken_samples": samples[:, :1]}, "policy", params=params, key=jax.random.key(2))


def test_ppo_records_the_samples_so_an_update_at_learning_rate_zero_sees_no_kl():
    import gymnax

    from skrl_jax.agents.ppo import PPO
    from skrl_jax.envs import wrap_env
    from skrl_jax.trainers import CompiledTrainer

    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    saturating = nn.Dense(8, kernel_init=nn.initializers.constant(3.0))  # loc far beyond tanh's range
    model = shared_model(
        env.observation_space,
        env.action_space,
        saturating,
        {"policy": TanhGaussianHead(), "value": DeterministicHead()},
    )
    agent = PPO(models={"policy": model, "value": model}, cfg={"rollouts": 16, "learning_rate": 0.0, "mini_batches": 2})
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 32, "num_envs": 4, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    recorded = np.asarray(runner.agent_state.memory.rollout.tensors["actions"])
    assert np.abs(recorded).max() > 2.0  # samples, not actions in [-2, 2]
    assert np.all(np.abs(np.asarray(metrics["kl_divergence"])) < 1e-6), metrics["kl_divergence"]
