"""Steering a shared trunk: parameter groups, per-group learning rates and freezing, the value loss's
weight at the trunk, SAC's actor gradient at the encoder, and the gradient diagnostics."""

import flax.linen as nn
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.a2c import A2C
from skrl_jax.agents.on_policy.update import Minibatch
from skrl_jax.agents.ppo import PPO
from skrl_jax.agents.sac import SAC
from skrl_jax.agents.sharing import DIAGNOSTIC_TAGS, trunk_diagnostics
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.models import PENDULUM_ACTION, PENDULUM_OBSERVATION, SharedModel
from tests.test_checkpoints import read_scalars
from tests.test_off_policy import ActorCriticsOnOneEncoder, fill

TRUNK, POLICY_HEAD, VALUE_HEAD = "net", "mean_layer", "value_layer"
BASE_CFG = {"rollouts": 8, "learning_epochs": 1, "mini_batches": 1, "grad_norm_clip": 0.0, "entropy_loss_scale": 0.01}


def ppo(model=None, value=None, **cfg):
    model = model or SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    return PPO(models={"policy": model, "value": value or model}, cfg={**BASE_CFG, **cfg})


def minibatch(size=32, seed=0):
    rng = np.random.default_rng(seed)

    def normal(*shape):
        return jnp.asarray(rng.normal(size=shape), jnp.float32)

    return Minibatch(
        states=normal(size, 3),
        actions=normal(size, 1),
        log_prob=normal(size, 1) - 1.0,
        values=normal(size, 1),
        returns=normal(size, 1),
        advantages=normal(size, 1),
    )


def gradients_of(agent, params=None):
    """The gradient the agent's first minibatch step would apply, on fixed parameters and data."""
    params = params or {"policy": agent.policy.init(jax.random.key(0))}
    grads, _, aux = jax.jit(agent.make_gradients())(params, None, minibatch(), jax.random.key(1))
    return grads["policy"], aux


def nonzero(tree):
    return any(bool(jnp.any(leaf != 0)) for leaf in jax.tree.leaves(tree))


def close(a, b, rtol=1e-5, atol=1e-7):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


def test_parameter_groups_follow_parameter_roles():
    groups = ppo().parameter_groups()
    assert groups == {
        "policy": {TRUNK: "trunk", POLICY_HEAD: "policy", "log_std_parameter": "policy", VALUE_HEAD: "value"}
    }
    separate = ppo(
        SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION), SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    )
    assert set(separate.parameter_groups()["policy"].values()) == {"policy"}
    assert set(separate.parameter_groups()["value"].values()) == {"value"}


def test_value_gradient_kept_out_of_the_trunk():
    both, _ = gradients_of(ppo())
    policy_only, _ = gradients_of(ppo(value_loss_scale=0.0))
    cut, _ = gradients_of(ppo(trunk_value_loss_scale=0.0))
    # the trunk gets the policy's gradient alone; the value head still learns, as without the option
    close(cut[TRUNK], policy_only[TRUNK])
    assert nonzero(cut[TRUNK]) and not np.allclose(
        jax.tree.leaves(cut[TRUNK])[1], jax.tree.leaves(both[TRUNK])[1], rtol=1e-3
    )
    close(cut[VALUE_HEAD], both[VALUE_HEAD])
    assert nonzero(cut[VALUE_HEAD]) and not nonzero(policy_only[VALUE_HEAD])
    close(cut[POLICY_HEAD], both[POLICY_HEAD])


def test_value_loss_weight_at_the_trunk_differs_from_the_heads():
    both, _ = gradients_of(ppo(value_loss_scale=0.5))
    policy_only, _ = gradients_of(ppo(value_loss_scale=0.0))
    weighted, _ = gradients_of(ppo(value_loss_scale=0.5, trunk_value_loss_scale=2.0))
    # trunk: policy + 2 * (value gradient at weight 1) = policy + 4 * (the value's part at weight 0.5)
    value_part = jax.tree.map(lambda b, p: b - p, both[TRUNK], policy_only[TRUNK])
    close(weighted[TRUNK], jax.tree.map(lambda p, v: p + 4.0 * v, policy_only[TRUNK], value_part), rtol=1e-4, atol=1e-6)
    close(weighted[VALUE_HEAD], both[VALUE_HEAD])  # the head keeps value_loss_scale's weight
    close(weighted[POLICY_HEAD], both[POLICY_HEAD])


def test_a2c_trunk_weight_is_relative_to_its_unit_value_weight():
    cfg = {"rollouts": 8, "mini_batches": 1, "grad_norm_clip": 0.0}
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = {"policy": model.init(jax.random.key(0))}
    plain = A2C(models={"policy": model, "value": model}, cfg=cfg)
    same = A2C(models={"policy": model, "value": model}, cfg={**cfg, "trunk_value_loss_scale": 1.0})
    close(gradients_of(plain, params)[0], gradients_of(same, params)[0])


def test_freezing_a_group_keeps_it_bitwise_and_scaling_a_group_scales_its_step():
    def update(**cfg):
        agent = ppo(**cfg, learning_epochs=3, mini_batches=2)
        functions = agent.make_functions(num_envs=2)
        state = fill(functions, functions.init(jax.random.key(0)), 8, 2, 3)
        after, metrics = functions.update(state, jax.random.key(1), 7)
        assert int(metrics["nan_at"]) == -1
        return state.learner.params["policy"], after.learner.params["policy"]

    before, frozen = update(role_learning_rate_scale={"trunk": 0.0})
    np.testing.assert_array_equal(frozen[TRUNK]["layers_0"]["kernel"], before[TRUNK]["layers_0"]["kernel"])
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), frozen[TRUNK], before[TRUNK]))
    assert not np.allclose(frozen[VALUE_HEAD]["kernel"], before[VALUE_HEAD]["kernel"])
    assert not np.allclose(frozen[POLICY_HEAD]["kernel"], before[POLICY_HEAD]["kernel"])

    # one Adam step (1 epoch, 1 minibatch): a group's step is its scale times the unscaled one
    def one_step(**cfg):
        agent = ppo(**cfg)
        functions = agent.make_functions(num_envs=2)
        state = fill(functions, functions.init(jax.random.key(0)), 8, 2, 3)
        after, _ = functions.update(state, jax.random.key(1), 7)
        return jax.tree.map(lambda a, b: a - b, after.learner.params["policy"], state.learner.params["policy"])

    plain, scaled = one_step(), one_step(role_learning_rate_scale={"value": 0.5, "trunk": 2.0})
    close(scaled[VALUE_HEAD], jax.tree.map(lambda d: 0.5 * d, plain[VALUE_HEAD]), rtol=1e-4, atol=1e-6)
    close(scaled[TRUNK], jax.tree.map(lambda d: 2.0 * d, plain[TRUNK]), rtol=1e-4, atol=1e-6)
    close(scaled[POLICY_HEAD], plain[POLICY_HEAD], rtol=1e-4, atol=1e-6)


def test_separate_models_scale_by_model():
    policy, value = (
        SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION),
        SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION),
    )
    agent = ppo(policy, value, role_learning_rate_scale={"value": 0.0})
    functions = agent.make_functions(num_envs=2)
    state = fill(functions, functions.init(jax.random.key(0)), 8, 2, 3)
    after, _ = functions.update(state, jax.random.key(1), 7)
    assert jax.tree.all(
        jax.tree.map(
            lambda a, b: bool(jnp.array_equal(a, b)), after.learner.params["value"], state.learner.params["value"]
        )
    )
    assert not np.allclose(
        after.learner.params["policy"][TRUNK]["layers_0"]["kernel"],
        state.learner.params["policy"][TRUNK]["layers_0"]["kernel"],
    )


def test_diagnostics_match_a_hand_computation():
    _, aux = gradients_of(ppo(sharing_diagnostics=True))
    both, _ = gradients_of(ppo())
    policy, _ = gradients_of(ppo(value_loss_scale=0.0))
    g_policy = np.concatenate([np.ravel(x) for x in jax.tree.leaves(policy[TRUNK])]).astype(np.float64)
    g_value = np.concatenate([np.ravel(x) for x in jax.tree.leaves(both[TRUNK])]).astype(np.float64) - g_policy
    combined = g_policy + g_value
    expected = {
        "trunk_gradient_cosine": g_policy @ g_value / np.linalg.norm(g_policy) / np.linalg.norm(g_value),
        "trunk_gradient_norm_ratio": np.linalg.norm(g_value) / np.linalg.norm(g_policy),
        "trunk_policy_share": g_policy @ combined / (combined @ combined),
        "trunk_value_share": g_value @ combined / (combined @ combined),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(float(aux[name]), value, rtol=2e-3, atol=1e-5, err_msg=name)
    assert abs(float(aux["trunk_policy_share"] + aux["trunk_value_share"]) - 1.0) < 1e-5


def test_diagnostics_formulas_on_known_vectors():
    policy = {"trunk": jnp.array([1.0, 0.0]), "head": jnp.array([5.0])}
    value = {"trunk": jnp.array([1.0, 1.0]), "head": jnp.array([7.0])}
    mask = {"trunk": True, "head": False}
    found = trunk_diagnostics(policy, value, mask)
    np.testing.assert_allclose(float(found["trunk_gradient_cosine"]), 1 / np.sqrt(2), rtol=1e-6)
    np.testing.assert_allclose(float(found["trunk_gradient_norm_ratio"]), np.sqrt(2), rtol=1e-6)
    # combined [2, 1]: policy share 2/5, value share 3/5
    np.testing.assert_allclose(float(found["trunk_policy_share"]), 0.4, rtol=1e-6)
    np.testing.assert_allclose(float(found["trunk_value_share"]), 0.6, rtol=1e-6)
    cut = trunk_diagnostics(policy, value, mask, trunk_value_weight=0.0)
    assert float(cut["trunk_policy_share"]) == 1.0 and float(cut["trunk_value_share"]) == 0.0
    # the actor's loss measured on an encoder it does not train (SAC's default): a weight of 0
    unapplied = trunk_diagnostics(policy, value, mask, trunk_policy_weight=0.0)
    assert float(unapplied["trunk_policy_share"]) == 0.0 and float(unapplied["trunk_value_share"]) == 1.0
    np.testing.assert_allclose(float(unapplied["trunk_gradient_cosine"]), 1 / np.sqrt(2), rtol=1e-6)
    with pytest.raises(ValueError, match="no parameter is read by both"):
        trunk_diagnostics(policy, value, {"trunk": False, "head": False})


def test_diagnostics_do_not_change_training_nor_rerun_the_joint_pass():
    calls = {"trunk": 0}

    class CountingTrunk(nn.Module):
        @nn.compact
        def __call__(self, x):
            calls["trunk"] += 1  # counts traces: each forward pass traced runs this once
            return nn.tanh(nn.Dense(16)(x))

    class Counted(GaussianMixin, DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            GaussianMixin.__init__(self, role="policy")
            DeterministicMixin.__init__(self, role="value")

        def setup(self):
            self.trunk, self.mean, self.value = CountingTrunk(), nn.Dense(1), nn.Dense(1)
            self.log_std = self.param("log_std", nn.initializers.zeros, (1,))

        def compute(self, inputs, role):
            features = self.trunk(inputs["states"])
            return (self.mean(features), self.log_std, {}) if role == "policy" else (self.value(features), {})

    def traced_calls(**cfg):
        agent = ppo(Counted(PENDULUM_OBSERVATION, PENDULUM_ACTION), **cfg)
        params = {"policy": agent.policy.init(jax.random.key(0))}
        calls["trunk"] = 0
        jax.make_jaxpr(agent.make_gradients())(params, None, minibatch(), jax.random.key(1))
        return calls["trunk"]

    assert traced_calls() == 1
    assert traced_calls(sharing_diagnostics=True) == 1
    assert traced_calls(trunk_value_loss_scale=0.25) == 1

    def train(**cfg):
        agent = ppo(learning_epochs=2, mini_batches=2, **cfg)
        functions = agent.make_functions(num_envs=2)
        state = fill(functions, functions.init(jax.random.key(0)), 8, 2, 3)
        traces = []

        def counted(*args):
            traces.append(1)  # runs only while jit traces
            return functions.update(*args)

        update = jax.jit(counted)
        after, metrics = update(state, jax.random.key(1), 7)
        after, metrics = update(after, jax.random.key(2), 15)
        return after, metrics, len(traces)

    plain, plain_metrics, _ = train()
    diagnosed, metrics, traces = train(sharing_diagnostics=True)
    close(diagnosed.learner.params, plain.learner.params, rtol=1e-4, atol=1e-6)
    assert traces == 1  # compiled once for both calls
    assert set(DIAGNOSTIC_TAGS) <= set(metrics) and not set(DIAGNOSTIC_TAGS) & set(plain_metrics)
    assert -1.0 <= float(metrics["trunk_gradient_cosine"]) <= 1.0 and float(metrics["trunk_gradient_norm_ratio"]) > 0


def test_compiled_trainer_returns_the_diagnostics_and_tensorboard_gets_them(tmp_path):
    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    model = SharedModel(env.observation_space, env.action_space)
    cfg = {
        **BASE_CFG,
        "sharing_diagnostics": True,
        "experiment": {"directory": str(tmp_path), "experiment_name": "run", "write_interval": 8},
    }
    agent = PPO(
        models={"policy": model, "value": model},
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 32, "num_envs": 2, "disable_progressbar": True})
    _, metrics = trainer.train(jax.random.key(0))
    for name in DIAGNOSTIC_TAGS:
        assert np.asarray(metrics[name]).shape == (4,) and np.all(np.isfinite(metrics[name])), name
    scalars = read_scalars(tmp_path / "run")
    assert set(DIAGNOSTIC_TAGS.values()) <= set(scalars)


def test_host_loop_logs_the_diagnostics(tmp_path):
    import gymnasium as gym

    env = wrap_env(gym.make("Pendulum-v1"))
    model = SharedModel(env.observation_space, env.action_space)
    cfg = {
        **BASE_CFG,
        "sharing_diagnostics": True,
        "experiment": {"directory": str(tmp_path), "experiment_name": "host", "write_interval": 8},
    }
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(memory_size=8), cfg=cfg)
    SequentialTrainer(env, agent, cfg={"timesteps": 16, "headless": True, "disable_progressbar": True}).train()
    scalars = read_scalars(tmp_path / "host")
    assert set(DIAGNOSTIC_TAGS.values()) <= set(scalars)


def test_bad_sharing_settings_get_clear_errors():
    separate = (SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION), SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION))
    with pytest.raises(ValueError, match=r"unknown group 'encoder'; expected one of \['trunk', 'policy', 'value'\]"):
        ppo(role_learning_rate_scale={"encoder": 0.5})
    with pytest.raises(ValueError, match=r"\['trunk'\] must be a finite number >= 0 \(0 freezes the group\), got -1"):
        ppo(role_learning_rate_scale={"trunk": -1})
    with pytest.raises(TypeError, match=r"must be a dict \{group: multiplier\}"):
        ppo(role_learning_rate_scale=0.5)
    with pytest.raises(ValueError, match="names group 'trunk' but no parameter of these models is in it"):
        ppo(*separate, role_learning_rate_scale={"trunk": 0.0})
    with pytest.raises(ValueError, match=r"cfg\['trunk_value_loss_scale'\] needs a trunk.*separate models"):
        ppo(*separate, trunk_value_loss_scale=0.0)
    with pytest.raises(ValueError, match=r"cfg\['sharing_diagnostics'\] needs a trunk"):
        ppo(*separate, sharing_diagnostics=True)
    with pytest.raises(ValueError, match="trunk_value_loss_scale"):
        ppo(trunk_value_loss_scale=-0.5)
    with pytest.raises(ValueError, match="needs a value loss: value_loss_scale is 0"):
        ppo(value_loss_scale=0.0, trunk_value_loss_scale=1.0)


# --- SAC: the actor's gradient at the encoder the policy and the critics share -----------------------


def sac_on_one_encoder(**cfg):
    """One SAC update of the actor and critics on one encoder: (params before, params after, metrics, functions)."""
    model = ActorCriticsOnOneEncoder(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    target = ActorCriticsOnOneEncoder(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    models = {
        "policy": model,
        "critic_1": model,
        "critic_2": model,
        "target_critic_1": target,
        "target_critic_2": target,
    }
    agent = SAC(models=models, memory=RandomMemory(32), cfg={"batch_size": 8, **cfg})
    functions = agent.make_functions(num_envs=1)
    state = fill(functions, functions.init(jax.random.key(0)), 16, 1, 3)
    after, metrics = functions.update(state, jax.random.key(1), 16)
    return state.learner.params, after.learner.params, metrics, functions


def sac_encoder_update(**cfg):
    # critic_learning_rate 0: whatever moves, the actor's loss moved
    before, after, _, _ = sac_on_one_encoder(critic_learning_rate=0.0, learn_entropy=False, **cfg)
    return before["policy"], after["policy"]


def test_sac_actor_gradient_reaches_the_encoder_only_when_asked():
    before, after = sac_encoder_update()
    np.testing.assert_array_equal(after["encoder"]["kernel"], before["encoder"]["kernel"])
    before, after = sac_encoder_update(actor_gradient_to_encoder=True)
    assert not np.allclose(after["encoder"]["kernel"], before["encoder"]["kernel"])
    np.testing.assert_array_equal(after["q1"]["kernel"], before["q1"]["kernel"])  # critic heads: never the actor's
    assert not np.allclose(after["mean"]["kernel"], before["mean"]["kernel"])


def test_sac_actor_gradient_to_encoder_needs_a_shared_model():
    from tests.test_off_policy import sac_models

    with pytest.raises(
        ValueError, match=r"actor_gradient_to_encoder'\]=True needs one model for the policy and the critics"
    ):
        SAC(models=sac_models(True), memory=RandomMemory(32), cfg={"actor_gradient_to_encoder": True})


def test_sac_diagnostics_measure_the_actor_gradient_without_applying_it():
    _, plain, plain_metrics, _ = sac_on_one_encoder()
    _, measured, metrics, functions = sac_on_one_encoder(sharing_diagnostics=True)
    close(measured, plain, rtol=1e-5, atol=1e-7)  # the same update: the actor's encoder gradient is not applied
    assert set(DIAGNOSTIC_TAGS.values()) <= set(functions.metric_tags.values())
    assert not set(DIAGNOSTIC_TAGS) & set(plain_metrics)
    assert float(metrics["trunk_policy_share"]) == 0.0 and float(metrics["trunk_value_share"]) == 1.0
    assert float(metrics["trunk_gradient_norm_ratio"]) > 0 and -1 <= float(metrics["trunk_gradient_cosine"]) <= 1

    _, both, metrics, _ = sac_on_one_encoder(sharing_diagnostics=True, actor_gradient_to_encoder=True)
    _, plain_both, _, _ = sac_on_one_encoder(actor_gradient_to_encoder=True)
    close(both, plain_both, rtol=1e-5, atol=1e-7)
    assert 0.0 != float(metrics["trunk_policy_share"])
    np.testing.assert_allclose(float(metrics["trunk_policy_share"] + metrics["trunk_value_share"]), 1.0, rtol=1e-5)


def test_sac_diagnostics_need_an_encoder():
    from tests.test_off_policy import sac_models

    with pytest.raises(ValueError, match=r"sharing_diagnostics'\]=True needs one model for the policy and the critics"):
        SAC(models=sac_models(True), memory=RandomMemory(32), cfg={"sharing_diagnostics": True})


def test_rpo_model_reading_alpha_and_key_gets_its_groups_and_diagnostics():
    from skrl_jax.agents.rpo import RPO
    from tests.test_agents import RPOPolicy

    model = RPOPolicy(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    agent = RPO(models={"policy": model, "value": model}, cfg={**BASE_CFG, "sharing_diagnostics": True})
    assert agent.parameter_groups() == {
        "policy": {"net": "trunk", "mean": "policy", "log_std": "policy", "value": "value"}
    }
    _, aux = gradients_of(agent, {"policy": model.init(jax.random.key(0), {"alpha": 0.5})})
    assert np.isfinite(float(aux["trunk_gradient_cosine"]))
