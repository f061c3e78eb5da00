"""skrl's YAML runner (skrl_jax.utils.runner.Runner) and the network specification it builds models from."""

import copy
import pathlib
import warnings

import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.envs import wrap_env
from skrl_jax.models import CategoricalMixin, DeterministicMixin, GaussianMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from skrl_jax.utils.network_spec import build_models, parse_expression
from skrl_jax.utils.runner import Runner, detect_skrl_api
from tests.test_models import count_primitive

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples" / "runner"
DOCS_YAML = EXAMPLES / "skrl_docs_cartpole_ppo.yaml"
ISAACLAB_YAML = EXAMPLES / "isaaclab_style_pendulum_ppo.yaml"

PENDULUM_OBS = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)
PENDULUM_ACT = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
CARTPOLE_OBS = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
CARTPOLE_ACT = gym.spaces.Discrete(2)


def net(input_="STATES", layers=(32, 32), activations="elu", name="net"):
    return [{"name": name, "input": input_, "layers": list(layers), "activations": activations}]


def actor_critic(separate, policy_class="GaussianMixin", input_="STATES", layers=(32, 32), output="ACTIONS", **policy):
    return {
        "separate": separate,
        "policy": {"class": policy_class, **policy, "network": net(input_, layers), "output": output},
        "value": {"class": "DeterministicMixin", "network": net(input_, layers), "output": "ONE"},
    }


def quiet(cfg, tmp_path, timesteps):
    """A runner cfg that writes nothing outside tmp_path and shows no progress bar."""
    cfg = copy.deepcopy(cfg)
    cfg["agent"]["experiment"] = {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}
    cfg.setdefault("trainer", {}).update(timesteps=timesteps, disable_progressbar=True)
    return cfg


def gym_env(name, num_envs=2):
    return wrap_env(gym.make_vec(name, num_envs=num_envs, vectorization_mode="sync"))


def kernels(params):
    return [leaf for path, leaf in jax.tree_util.tree_leaves_with_path(params) if path[-1].key == "kernel"]


# --- models from a network specification ---------------------------------------------------------


def test_separate_models_shapes_and_skrl_parameter_names():
    models = build_models(actor_critic(True, initial_log_std=-0.5), PENDULUM_OBS, PENDULUM_ACT)
    policy, value = models["policy"], models["value"]
    assert policy is not value
    assert isinstance(policy, GaussianMixin) and isinstance(policy, Model) and isinstance(value, DeterministicMixin)
    params = policy.init(jax.random.key(0))
    # skrl's JAX instantiators: the output layer ends the last container (a flax Sequential)
    assert set(params) == {"net_container", "log_std_parameter"}
    assert set(params["net_container"]) == {"layers_0", "layers_2", "layers_4"}
    assert params["net_container"]["layers_4"]["kernel"].shape == (32, 1)
    np.testing.assert_allclose(params["log_std_parameter"], [-0.5])
    observations = jax.random.normal(jax.random.key(1), (7, 3))
    actions, log_prob, outputs = policy.act(observations, "policy", params=params, key=jax.random.key(2))
    assert actions.shape == (7, 1) and log_prob.shape == (7, 1) and outputs["mean_actions"].shape == (7, 1)
    values, _, _ = value.act(observations, "value", params=value.init(jax.random.key(3)))
    assert values.shape == (7, 1)


def test_categorical_policy_outputs_one_logit_per_action():
    models = build_models(actor_critic(True, "CategoricalMixin", layers=(8,)), CARTPOLE_OBS, CARTPOLE_ACT)
    policy = models["policy"]
    assert isinstance(policy, CategoricalMixin)
    params = policy.init(jax.random.key(0))
    actions, log_prob, outputs = policy.act(jnp.ones((5, 4)), "policy", params=params, key=jax.random.key(1))
    assert actions.shape == (5, 1) and log_prob.shape == (5, 1) and outputs["net_output"].shape == (5, 2)
    assert set(np.unique(np.asarray(actions))) <= {0, 1}


def test_shared_model_is_one_instance_with_the_trunk_once():
    models = build_models(actor_critic(False), PENDULUM_OBS, PENDULUM_ACT)
    model = models["policy"]
    assert models["value"] is model
    assert isinstance(model, GaussianMixin) and isinstance(model, DeterministicMixin) and isinstance(model, Model)
    assert model.roles == ("policy", "value")
    params = model.init(jax.random.key(0))
    # one trunk, one output layer per role (skrl's PyTorch shared instantiator's names)
    assert set(params) == {"net_container", "policy_layer", "value_layer", "log_std_parameter"}
    roles = model.parameter_roles(params)
    assert roles["net_container"] == {"policy", "value"}
    assert roles["policy_layer"] == {"policy"} and roles["value_layer"] == {"value"}
    # trunk (3x32, 32x32) + two heads: 2 * 32 + 32 + 1 + ...
    size = sum(leaf.size for leaf in jax.tree.leaves(params))
    assert size == (3 * 32 + 32) + (32 * 32 + 32) + 2 * (32 * 1 + 1) + 1


@pytest.mark.parametrize("input_", ["STATES", "concatenate([STATES, 2 * STATES[:, 0:1]])"])
def test_joint_call_runs_the_trunk_once(input_):
    """A joint call multiplies by each kernel once (forward); calling the roles apart runs the trunk twice."""
    model = build_models(actor_critic(False, input_=input_), PENDULUM_OBS, PENDULUM_ACT)["policy"]
    params = model.init(jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (5, 3))

    def joint(params):
        both = model.apply(params, x, ("policy", "value"))
        return both["policy"][0].sum() + both["value"][0].sum()

    def apart(params):
        return model.apply(params, x, "policy")[0].sum() + model.apply(params, x, "value")[0].sum()

    assert count_primitive(jax.make_jaxpr(joint)(params), "dot_general") == len(kernels(params)) == 4
    assert count_primitive(jax.make_jaxpr(apart)(params), "dot_general") == 6
    grads = count_primitive(jax.make_jaxpr(jax.grad(joint))(params), "dot_general")
    assert grads < count_primitive(jax.make_jaxpr(jax.grad(apart))(params), "dot_general")
    np.testing.assert_allclose(joint(params), apart(params), rtol=1e-6)


def _dense(params, x):
    return x @ params["kernel"] + params["bias"]


def test_separate_values_match_a_hand_computation():
    spec = actor_critic(True, layers=(4,), output="2 * tanh(ACTIONS)", initial_log_std=0.3)
    model = build_models(spec, PENDULUM_OBS, PENDULUM_ACT)["policy"]
    params = model.init(jax.random.key(4))
    x = jax.random.normal(jax.random.key(5), (6, 3))
    layers = params["net_container"]
    expected = 2 * jnp.tanh(_dense(layers["layers_2"], jax.nn.elu(_dense(layers["layers_0"], x))))
    mean, log_std, _ = model.apply(params, x, "policy")
    np.testing.assert_allclose(mean, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_std, [0.3])
    _, _, outputs = model.act(x, "policy", params=params, key=jax.random.key(6))
    np.testing.assert_allclose(outputs["mean_actions"], expected, rtol=1e-5, atol=1e-6)


def test_shared_values_match_a_hand_computation():
    spec = actor_critic(False, layers=(4,), output="2 * tanh(ACTIONS)")
    spec["value"]["network"] = net(layers=(4,))
    spec["value"]["output"] = "0.5 * ONE"
    model = build_models(spec, PENDULUM_OBS, PENDULUM_ACT)["policy"]
    params = model.init(jax.random.key(7))
    x = jax.random.normal(jax.random.key(8), (6, 3))
    trunk = jax.nn.elu(_dense(params["net_container"]["layers_0"], x))
    both = model.apply(params, x, ("policy", "value"))
    np.testing.assert_allclose(both["policy"][0], 2 * jnp.tanh(_dense(params["policy_layer"], trunk)), rtol=1e-5)
    np.testing.assert_allclose(both["value"][0], 0.5 * _dense(params["value_layer"], trunk), rtol=1e-5)


def test_critic_reads_states_and_taken_actions_and_layer_forms():
    critic = {
        "class": "DeterministicMixin",
        "network": [
            {
                "name": "features",
                "input": "concatenate([STATES, ACTIONS])",
                "layers": [{"linear": 8}],
                "activations": [],
            },
            {
                "name": "head",
                "input": "features",
                "layers": [{"linear": {"out_features": 5, "bias": False}}, {"linear": [3]}, "NUM_ACTIONS"],
                "activations": ["relu", "leaky_relu", "identity"],
            },
        ],
        "output": "head",
    }
    model = build_models({"separate": True, "critic_1": critic}, PENDULUM_OBS, PENDULUM_ACT)["critic_1"]
    params = model.init(jax.random.key(0))
    assert params["features_container"]["layers_0"]["kernel"].shape == (4, 8)
    head = params["head_container"]
    assert set(head["layers_0"]) == {"kernel"}  # bias: False
    x, a = jax.random.normal(jax.random.key(1), (3, 3)), jax.random.normal(jax.random.key(2), (3, 1))
    out, _, _ = model.act({"states": x, "taken_actions": a}, "critic_1", params=params)
    features = _dense(params["features_container"]["layers_0"], jnp.concatenate([x, a], -1))
    hidden = jax.nn.leaky_relu(_dense(head["layers_2"], jax.nn.relu(features @ head["layers_0"]["kernel"])))
    np.testing.assert_allclose(out, _dense(head["layers_4"], hidden), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="reads ACTIONS, but inputs has no 'taken_actions'"):
        model.act(x, "critic_1", params=params)


def test_skrl_14_deprecated_arguments_are_converted():
    policy = {
        "class": "GaussianMixin",
        "input_shape": "Shape.STATES",
        "hiddens": [16, 16],
        "hidden_activation": ["tanh", "tanh"],
        "output_shape": "Shape.ACTIONS",
        "output_activation": "tanh",
        "output_scale": 2.0,
    }
    with pytest.warns(DeprecationWarning, match="hiddens"):
        model = build_models({"separate": True, "policy": policy}, PENDULUM_OBS, PENDULUM_ACT)["policy"]
    params = model.init(jax.random.key(0))
    x = jnp.ones((2, 3))
    layers = params["net_container"]
    hidden = jnp.tanh(_dense(layers["layers_2"], jnp.tanh(_dense(layers["layers_0"], x))))
    np.testing.assert_allclose(model.apply(params, x, "policy")[0], 2 * jnp.tanh(_dense(layers["layers_4"], hidden)))


def test_expressions_are_not_evaluated_by_python():
    for source in ["__import__('os').system('true')", "STATES.__class__", "lambda: 1", "[x for x in STATES]"]:
        with pytest.raises(ValueError, match="input"):
            parse_expression(source, ["STATES"], "input")
    assert parse_expression("concatenate([STATES, -STATES[:, 1:]])", ["STATES"], "input").names == ("STATES",)


# --- the version of a configuration ------------------------------------------------------------------


def test_detect_skrl_api():
    assert detect_skrl_api({"models": actor_critic(False), "agent": {"lambda": 0.95}}) == ("1.4", [])
    api, reasons = detect_skrl_api({"models": actor_critic(False, input_="OBSERVATIONS"), "agent": {}})
    assert api == "2.x" and reasons == ["the token OBSERVATIONS"]
    api, reasons = detect_skrl_api({"models": actor_critic(False), "agent": {"gae_lambda": 0.9}})
    assert api == "2.x" and reasons == ["the agent key 'gae_lambda'"]
    # skrl 1.4's shorthand is no 2.x token
    assert detect_skrl_api({"models": actor_critic(True, input_="OBSERVATIONS_ACTIONS"), "agent": {}})[0] == "1.4"


def as_skrl_14(cfg):
    """The skrl 2.x docs configuration written with skrl 1.4's names."""
    cfg = copy.deepcopy(cfg)
    for role in ("policy", "value"):
        cfg["models"][role]["network"][0]["input"] = "STATES"
    agent = cfg["agent"]
    agent["lambda"] = agent.pop("gae_lambda")
    agent["state_preprocessor"] = agent.pop("observation_preprocessor")
    agent["state_preprocessor_kwargs"] = agent.pop("observation_preprocessor_kwargs")
    return cfg


def test_the_same_configuration_read_as_14_and_as_2x(tmp_path):
    cfg_2x = quiet(Runner.load_cfg_from_yaml(DOCS_YAML), tmp_path, 64)
    cfg_14 = as_skrl_14(cfg_2x)
    with pytest.warns(UserWarning, match="random_timesteps"):
        runner_2x = Runner(gym_env("CartPole-v1"), cfg_2x)
    runner_14 = Runner(gym_env("CartPole-v1"), cfg_14)
    assert (runner_2x.skrl_api, runner_14.skrl_api) == ("2.x", "1.4")
    assert runner_2x.agent.skrl_api == "2.x" and runner_14.agent.skrl_api == "1.4"
    assert runner_2x.models["policy"].skrl_api == "2.x" and runner_14.models["policy"].skrl_api == "1.4"
    for runner in (runner_2x, runner_14):
        agent = runner.agent
        assert agent.cfg["lambda"] == 0.95 and agent.cfg["state_preprocessor"] is RunningStandardScaler
        assert agent.cfg["state_preprocessor_kwargs"] == {"size": runner.env.observation_space}
    # same seed, same structure: the same initial parameters
    params_2x, params_14 = runner_2x.agent.state.learner.params, runner_14.agent.state.learner.params
    assert jax.tree.structure(params_2x) == jax.tree.structure(params_14)
    for a, b in zip(jax.tree.leaves(params_2x), jax.tree.leaves(params_14)):
        np.testing.assert_array_equal(a, b)


# --- training through the runner -----------------------------------------------------------------------


def test_skrl_docs_yaml_trains_on_gymnasium_cartpole(tmp_path):
    cfg = quiet(Runner.load_cfg_from_yaml(DOCS_YAML), tmp_path, 320)
    with pytest.warns(UserWarning, match="learning_starts"):
        runner = Runner(gym_env("CartPole-v1", num_envs=4), cfg)
    agent, trainer = runner.agent, runner.trainer
    assert isinstance(trainer, SequentialTrainer) and runner.skrl_api == "2.x"
    assert runner.models["policy"] is runner.models["value"]
    assert set(agent.state.learner.params) == {"policy"}  # one shared model, one parameter tree
    assert agent.memory.memory_size == 32 and agent.memory.num_envs == 4  # memory_size -1: the rollouts
    assert agent.cfg["learning_rate_scheduler"] is KLAdaptiveLR
    assert agent.cfg["value_loss_scale"] == 2.0 and agent.cfg["grad_norm_clip"] == 1.0
    np.testing.assert_allclose(agent.cfg["rewards_shaper"](jnp.ones(3)), 0.1 * np.ones(3))
    before = jax.tree.map(np.asarray, agent.state.learner.params)
    runner.run("train")
    after = agent.state.learner.params
    assert len(agent.episode_returns) > 0
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(after))
    assert any(not np.allclose(b, a) for b, a in zip(jax.tree.leaves(before), jax.tree.leaves(after)))


def test_isaaclab_style_yaml_trains_on_gymnasium_pendulum(tmp_path):
    cfg = quiet(Runner.load_cfg_from_yaml(ISAACLAB_YAML), tmp_path, 128)
    cfg["agent"].update(rollouts=64, mini_batches=4, learning_epochs=2)
    runner = Runner(gym_env("Pendulum-v1"), cfg)
    agent = runner.agent
    assert runner.skrl_api == "1.4" and agent.skrl_api == "1.4"
    model = runner.models["policy"]
    assert runner.models["value"] is model and isinstance(model, GaussianMixin)
    assert set(model.init(jax.random.key(0))) == {"net_container", "policy_layer", "value_layer", "log_std_parameter"}
    assert agent.cfg["lambda"] == 0.95 and agent.cfg["clip_predicted_values"] is False
    assert agent.cfg["value_preprocessor_kwargs"] == {"size": 1}
    np.testing.assert_allclose(agent.cfg["rewards_shaper"](jnp.full(2, 8.0)), [1.0, 1.0])
    before = jax.tree.map(np.asarray, agent.state.learner.params)
    runner.run("train")
    after = agent.state.learner.params
    assert any(not np.allclose(b, a) for b, a in zip(jax.tree.leaves(before), jax.tree.leaves(after)))
    actions, _, _ = model.act(jnp.zeros((3, 3)), "policy")
    assert np.all(np.abs(np.asarray(actions)) <= 2.0)  # clip_actions: True


def test_gymnax_cartpole_with_the_compiled_trainer(tmp_path):
    cfg = quiet(Runner.load_cfg_from_yaml(DOCS_YAML), tmp_path, 128)
    cfg["trainer"].update({"class": "CompiledTrainer", "num_envs": 4})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        runner = Runner(gymnax.make("CartPole-v1")[0], cfg)
    assert isinstance(runner.trainer, CompiledTrainer) and runner.agent.memory.num_envs == 4
    _, metrics = runner.run("train")
    assert np.asarray(metrics["policy_loss"]).shape == (4,)  # 128 steps: 4 updates of 32
    assert np.isfinite(np.asarray(metrics["value_loss"])).all()
    returns = runner.run("eval")
    assert returns.shape == (4,) and np.all(np.asarray(returns) >= 1)


def test_off_policy_sac_with_twin_critics(tmp_path):
    critic = {
        "class": "DeterministicMixin",
        "network": net("concatenate([STATES, ACTIONS])", (16,), "relu"),
        "output": "ONE",
    }
    cfg = {
        "seed": 3,
        "models": {
            "separate": True,
            "policy": {
                "class": "GaussianMixin",
                "clip_actions": True,
                "network": net(layers=(16,)),
                "output": "2 * tanh(ACTIONS)",
            },
            **{role: critic for role in ("critic_1", "critic_2", "target_critic_1", "target_critic_2")},
        },
        "memory": {"class": "RandomMemory", "memory_size": 200},
        "agent": {"class": "SAC", "batch_size": 8, "learning_starts": 16, "state_preprocessor": None},
        "trainer": {"class": "SequentialTrainer", "headless": True},
    }
    runner = Runner(gym_env("Pendulum-v1", num_envs=1), quiet(cfg, tmp_path, 40))
    assert runner.models["critic_1"] is not runner.models["critic_2"]
    runner.run("train")
    params = runner.agent.state.learner.params
    assert {"policy", "critic_1", "critic_2"} <= set(params)
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(params))


# --- errors ------------------------------------------------------------------------------------------


def runner_cfg(**changes):
    cfg = {
        "models": actor_critic(False, "CategoricalMixin"),
        "memory": {"class": "RandomMemory", "memory_size": -1},
        "agent": {"class": "PPO", "rollouts": 8, "mini_batches": 2},
        "trainer": {"class": "SequentialTrainer", "timesteps": 16, "disable_progressbar": True},
    }
    cfg.update(changes)
    return cfg


@pytest.fixture(scope="module")
def cartpole():
    return gym_env("CartPole-v1")


def test_error_unknown_model_class(cartpole):
    cfg = runner_cfg()
    cfg["models"]["policy"]["class"] = "GausianMixin"
    with pytest.raises(
        ValueError, match=r"models\.policy\.class: unknown model class 'GausianMixin'; expected .*GaussianMixin"
    ):
        Runner(cartpole, cfg)


def test_error_unknown_agent_class(cartpole):
    with pytest.raises(ValueError, match=r"unknown agent class 'PPO2' in agent\.class; expected one of PPO, A2C"):
        Runner(cartpole, runner_cfg(agent={"class": "PPO2"}))


def test_error_unknown_activation(cartpole):
    cfg = runner_cfg()
    cfg["models"]["policy"]["network"][0]["activations"] = ["elu", "gelu_new"]
    with pytest.raises(ValueError, match=r"unknown activation 'gelu_new'; expected one of elu, relu"):
        Runner(cartpole, cfg)


def test_error_unknown_token(cartpole):
    cfg = runner_cfg()
    cfg["models"]["policy"]["network"][0]["input"] = "OBSERVATION"
    with pytest.raises(ValueError, match=r"unknown name 'OBSERVATION' in 'OBSERVATION'; expected one of STATES"):
        Runner(cartpole, cfg)
    cfg = runner_cfg()
    cfg["models"]["value"]["output"] = "TWO"
    with pytest.raises(ValueError, match=r"models\.value\.output: unknown name 'TWO'"):
        Runner(cartpole, cfg)


@pytest.mark.parametrize("section", ["models", "agent"])
def test_error_missing_section(cartpole, section):
    cfg = runner_cfg()
    del cfg[section]
    with pytest.raises(ValueError, match=f"needs a '{section}' section"):
        Runner(cartpole, cfg)


@pytest.mark.parametrize("section", ["memory", "trainer"])
def test_error_missing_section_in_a_2x_configuration(cartpole, section):
    cfg = runner_cfg(models=actor_critic(False, "CategoricalMixin", input_="OBSERVATIONS"))
    del cfg[section]
    with pytest.raises(ValueError, match=f"needs a '{section}' section"):
        Runner(cartpole, cfg)


def test_error_2x_token_or_key_on_a_14_setup(cartpole):
    cfg = runner_cfg(models=actor_critic(False, "CategoricalMixin", input_="OBSERVATIONS"))
    with pytest.raises(ValueError, match=r"read as skrl 1\.4's .* has skrl 2\.x's the token OBSERVATIONS"):
        Runner(cartpole, cfg, skrl_api="1.4")
    cfg = runner_cfg()
    cfg["agent"]["gae_lambda"] = 0.9
    with pytest.raises(ValueError, match="the agent key 'gae_lambda'"):
        Runner(cartpole, cfg, skrl_api="1.4")


def test_error_2x_states_without_a_state_space(cartpole):
    cfg = runner_cfg()
    cfg["agent"]["gae_lambda"] = 0.9  # a 2.x configuration, whose STATES are the privileged state
    with pytest.raises(ValueError, match="reads STATES, which in a skrl 2.x configuration .* no state_space"):
        Runner(cartpole, cfg)


def test_error_other_bad_configurations(cartpole):
    cfg = runner_cfg()
    cfg["models"]["policy"]["network"][0]["layers"] = [{"conv2d": [32, 8, [4, 4]]}]
    with pytest.raises(NotImplementedError, match="'conv2d' layers"):
        Runner(cartpole, cfg)
    cfg = runner_cfg()
    cfg["models"]["policy"]["clip_log_std"] = True  # a GaussianMixin argument on a CategoricalMixin
    with pytest.raises(ValueError, match=r"unknown CategoricalMixin arguments \['clip_log_std'\]"):
        Runner(cartpole, cfg)
    cfg = runner_cfg()
    cfg["models"]["critic"] = cfg["models"]["value"]
    with pytest.raises(ValueError, match="exactly two roles"):
        Runner(cartpole, cfg)
    cfg = runner_cfg()
    cfg["agent"]["value_preprocessor"] = "RunningMeanStd"
    with pytest.raises(
        ValueError,
        match=r"agent\.value_preprocessor: unknown class 'RunningMeanStd'; expected one of RunningStandardScaler or null",
    ):
        Runner(cartpole, cfg)
    cfg = runner_cfg(trainer={"class": "ParallelTrainer"})
    with pytest.raises(ValueError, match="unknown trainer class 'ParallelTrainer'"):
        Runner(cartpole, cfg)
    with pytest.raises(ValueError, match="set trainer.class to CompiledTrainer"):
        Runner(gymnax.make("CartPole-v1")[0], runner_cfg())
    with pytest.raises(ValueError, match="set trainer.class to SequentialTrainer"):
        Runner(cartpole, runner_cfg(trainer={"class": "CompiledTrainer"}))


def test_runner_mode_yaml_loading_and_dropped_trainer_keys(cartpole, tmp_path):
    cfg = runner_cfg()
    cfg["trainer"]["render_intervall"] = 1
    with pytest.warns(UserWarning, match="trainer.render_intervall is not a SequentialTrainer key and is dropped"):
        runner = Runner(cartpole, quiet(cfg, tmp_path, 16))
    with pytest.raises(ValueError, match="unknown mode 'fit'"):
        runner.run("fit")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="must hold a mapping"):
        Runner.load_cfg_from_yaml(str(path))
    loaded = Runner.load_cfg_from_yaml(str(DOCS_YAML))
    assert loaded["models"]["separate"] is False and loaded["agent"]["class"] == "PPO"


@pytest.mark.parametrize("gymnax_flag", [[], ["--gymnax"]])
def test_runner_cartpole_example_ends_with_the_mean_return(gymnax_flag, capsys, monkeypatch):
    from benchmarks._examples import load_example

    example = load_example("runner_cartpole")
    monkeypatch.setattr("sys.argv", ["runner_cartpole.py", str(DOCS_YAML), "--timesteps", "64", *gymnax_flag])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        example.main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "skrl 2.x configuration; models: ['policy', 'value'] (one shared model)"
    assert lines[-1].startswith("mean return of the last 20 episodes: ")
    assert float(lines[-1].rsplit(" ", 1)[1]) > 5  # CartPole episodes last at least a few steps
