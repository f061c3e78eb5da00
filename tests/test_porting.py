"""What a script ported from skrl torch can ask for: PyTorch's initialisation, skrl's minibatch
order, and runs that repeat themselves under ``set_seed`` (environments included)."""

import math

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax import config
from skrl_jax.agents.core import Transition
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalHead, DeterministicHead, GaussianHead, Model, shared_model
from skrl_jax.models.gaussian import GaussianMixin
from skrl_jax.trainers import SequentialTrainer


@pytest.fixture(autouse=True)
def _restore_library_settings():
    yield
    config.set_parameter_init("flax")
    config.set_seed(0)


def pendulum_model(parameter_init=None, width=256):
    env = gym.make("Pendulum-v1")
    return shared_model(
        env.observation_space,
        env.action_space,
        trunk=nn.Sequential([nn.Dense(width), nn.relu, nn.Dense(width)]),
        heads={"policy": GaussianHead(), "value": DeterministicHead()},
        parameter_init=parameter_init,
    )


def test_pytorch_initialisation_draws_every_layer_from_torchs_uniform_bound():
    params = pendulum_model("pytorch").init(jax.random.key(0))
    flax_params = pendulum_model("flax").init(jax.random.key(0))
    assert jax.tree.structure(params) == jax.tree.structure(flax_params)
    layers = {
        "trunk/layers_0": params["trunk"]["layers_0"],
        "trunk/layers_2": params["trunk"]["layers_2"],
        "policy_head": params["policy_head"],
        "value_head": params["value_head"],
    }
    for name, layer in layers.items():
        bound = 1 / math.sqrt(layer["kernel"].shape[0])
        for leaf in ("kernel", "bias"):
            values = np.asarray(layer[leaf])
            assert np.abs(values).max() <= bound, (name, leaf)
            # U(-b, b) has standard deviation b / sqrt(3); flax's zero bias and LeCun kernel don't
            if values.size >= 256:
                assert abs(values.std() - bound / math.sqrt(3)) < 0.1 * bound, (name, leaf)
        assert np.any(np.asarray(layer["bias"]) != 0), name
    # the 256 x 256 layer: flax's LeCun normal has std 1/16, PyTorch's uniform 1/(16 sqrt 3)
    assert np.asarray(flax_params["trunk"]["layers_2"]["kernel"]).std() > 0.058
    assert np.asarray(params["trunk"]["layers_2"]["kernel"]).std() < 0.04
    np.testing.assert_array_equal(params["policy_log_std"], flax_params["policy_log_std"])  # not a layer


def test_pytorch_initialisation_of_a_convolution_uses_its_window_as_fan_in():
    class ConvPolicy(GaussianMixin, Model):
        def __init__(self, observation_space, action_space, **kwargs):
            Model.__init__(self, observation_space, action_space, **kwargs)
            GaussianMixin.__init__(self)

        @nn.compact
        def __call__(self, inputs, role):
            images = inputs["states"].reshape(-1, 8, 8, 2)
            features = nn.Conv(16, (3, 3))(images).reshape(images.shape[0], -1)
            return nn.Dense(self.num_actions)(features), jnp.zeros(self.num_actions), {}

    model = ConvPolicy(gym.spaces.Box(-1, 1, (128,)), gym.spaces.Box(-1, 1, (2,)), parameter_init="pytorch")
    kernel = np.asarray(model.init(jax.random.key(0))["Conv_0"]["kernel"])
    bound = 1 / math.sqrt(3 * 3 * 2)
    assert kernel.shape == (3, 3, 2, 16) and np.abs(kernel).max() <= bound
    assert abs(kernel.std() - bound / math.sqrt(3)) < 0.1 * bound


def test_set_parameter_init_is_the_default_of_models_created_afterwards():
    config.set_parameter_init("pytorch")
    assert pendulum_model().parameter_init == "pytorch"
    assert pendulum_model("flax").parameter_init == "flax"  # the model's own argument wins
    config.set_parameter_init("flax")
    assert pendulum_model().parameter_init == "flax"


def test_unknown_parameter_init_is_refused():
    with pytest.raises(ValueError, match=r"parameter_init must be one of \['flax', 'pytorch'\], got 'torch'"):
        config.set_parameter_init("torch")
    with pytest.raises(ValueError, match="got 'kaiming'"):
        pendulum_model("kaiming")


def filled_rollout(shuffle_minibatches):
    env = gym.make("Pendulum-v1")
    model = pendulum_model(width=16)
    cfg = {"rollouts": 8, "learning_epochs": 3, "mini_batches": 4, "shuffle_minibatches": shuffle_minibatches}
    agent = PPO(models={"policy": model, "value": model}, cfg=cfg, action_space=env.action_space)
    functions = agent.make_functions(num_envs=2)
    state = functions.init(jax.random.key(0))
    rng = np.random.default_rng(0)
    for step in range(8):
        observations = jnp.asarray(rng.normal(size=(2, 3)), jnp.float32)
        actions, extras = functions.act(state, observations, jax.random.key(step), step)
        transition = Transition(
            observations, actions, jnp.ones((2, 1)), observations, jnp.zeros((2, 1), bool), jnp.zeros((2, 1), bool)
        )
        state = functions.record(state, transition, extras, step)
    return functions, state


def test_ordered_minibatches_do_not_depend_on_the_key_and_shuffled_ones_do():
    for shuffle, same in ((False, True), (True, False)):
        functions, state = filled_rollout(shuffle)
        first, _ = functions.update(state, jax.random.key(1), 7)
        second, _ = functions.update(state, jax.random.key(2), 7)
        equal = jax.tree.all(jax.tree.map(np.array_equal, first.learner.params, second.learner.params))
        assert equal == same, shuffle


def test_a_shuffle_takes_every_unit_once_and_puts_each_anywhere_alike():
    from skrl_jax.agents.on_policy.update import shuffled_indices

    for count in (1, 7, 6144):
        order = np.asarray(shuffled_indices(jax.random.key(count), count))
        np.testing.assert_array_equal(np.sort(order), np.arange(count))
    # where unit 0 lands over 4,000 shuffles of 8: each position about 500 times (a sorted or biased
    # shuffle puts it in a few positions only)
    orders = np.asarray(jax.vmap(lambda key: shuffled_indices(key, 8))(jax.random.split(jax.random.key(0), 4000)))
    positions = np.bincount(np.argmax(orders == 0, axis=1), minlength=8)
    assert positions.min() > 400 and positions.max() < 600, positions


def test_shuffle_minibatches_is_a_documented_extension_with_the_shuffled_default():
    assert PPO_DEFAULT_CONFIG["shuffle_minibatches"] is True


def host_run(seed):
    config.set_seed(seed)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=nn.Sequential([nn.Dense(16), nn.tanh]),
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    cfg = {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, "experiment": {"write_interval": 0}}
    cfg["experiment"]["checkpoint_interval"] = 0
    agent = PPO(
        models={"policy": model, "value": model},
        memory=RandomMemory(memory_size=16, num_envs=2),
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    SequentialTrainer(env, agent, cfg={"timesteps": 200, "headless": True, "disable_progressbar": True}).train()
    return list(agent.episode_returns), np.asarray(agent.state.learner.params["policy"]["trunk"]["layers_0"]["kernel"])


def test_set_seed_makes_host_runs_repeat_themselves_environments_included():
    returns, kernel = host_run(3)
    again, kernel_again = host_run(3)
    other, _ = host_run(4)
    assert len(returns) >= 4
    assert returns == again
    np.testing.assert_array_equal(kernel, kernel_again)
    assert returns != other
