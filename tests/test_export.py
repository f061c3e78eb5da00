"""Policy export: StableHLO and ONNX artefacts compute what the JAX policy computes, with their
metadata checked on load, and bad exports or artefacts refused with a clear error."""

import hashlib
import importlib.util
import json
import subprocess
import sys
import textwrap

import flax.linen as nn
import gymnasium as gym
import jax
import numpy as np
import pytest

from benchmarks._examples import load_example
from skrl_jax.agents.dqn import DQN, DQN_DEFAULT_CONFIG
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.export import DeployedPolicy, ExportError, export_policy, load_policy, metadata_path, policy_function
from skrl_jax.memories import RandomMemory
from skrl_jax.models import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
    TanhGaussianMixin,
)
from skrl_jax.models.recurrent import GRU
from skrl_jax.resources.preprocessors import RunningStandardScaler, scaler_update
from skrl_jax.trainers import SequentialTrainer
from tests.models import SharedModel

BOX = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
DICT = gym.spaces.Dict({"position": gym.spaces.Box(-1.0, 1.0, (3,)), "image": gym.spaces.Box(0.0, 1.0, (2, 2))})
ACTIONS = {
    "gaussian": gym.spaces.Box(-2.0, 2.0, (2,), np.float32),
    "multivariate_gaussian": gym.spaces.Box(-2.0, 2.0, (2,), np.float32),
    "tanh_gaussian": gym.spaces.Box(-2.0, 2.0, (2,), np.float32),
    "deterministic": gym.spaces.Box(-2.0, 2.0, (2,), np.float32),
    "categorical": gym.spaces.Discrete(4),
    "multicategorical": gym.spaces.MultiDiscrete([3, 2]),
}
MIXINS = {
    "gaussian": GaussianMixin,
    "multivariate_gaussian": MultivariateGaussianMixin,
    "tanh_gaussian": TanhGaussianMixin,
    "deterministic": DeterministicMixin,
    "categorical": CategoricalMixin,
    "multicategorical": MultiCategoricalMixin,
}
ONNX_INSTALLED = all(importlib.util.find_spec(name) for name in ("jax2onnx", "onnxruntime"))
FORMATS = ["stablehlo", pytest.param("onnx", marks=pytest.mark.skipif(not ONNX_INSTALLED, reason="the export extra"))]


def policy_model(kind, observation_space=BOX):
    mixin = MIXINS[kind]

    class Policy(mixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            mixin.__init__(self, role="policy", **({"clip_actions": True} if kind == "deterministic" else {}))

        @nn.compact
        def __call__(self, inputs, role):
            features = nn.tanh(nn.Dense(16)(inputs["states"]))
            outputs = nn.Dense(self.num_actions if kind != "multicategorical" else 5)(features)
            if kind in ("deterministic", "categorical", "multicategorical"):
                return (30.0 if kind == "deterministic" else 3.0) * outputs, {}
            return outputs, self.param("log_std", nn.initializers.constant(-0.5), (self.num_actions,)), {}

    model = Policy(observation_space, ACTIONS[kind])
    model.params = model.init(jax.random.key(1))
    return model


def fitted_scaler(space, seed=0):
    scaler = RunningStandardScaler(space)
    size = scaler.size
    scaler.state = scaler_update(scaler.state, 3.0 * jax.random.normal(jax.random.key(seed), (256, size)) + 1.0)
    return scaler


def random_observations(space, rows, seed=0):
    """``rows`` samples of ``space`` stacked (a dict of arrays for a Dict space)."""
    space.seed(seed)
    samples = [space.sample() for _ in range(rows)]
    return jax.tree.map(lambda *xs: np.stack(xs), *samples)


def assert_same_actions(exported, expected, discrete):
    exported, expected = np.asarray(exported), np.asarray(expected)
    assert exported.shape == expected.shape
    if discrete:
        np.testing.assert_array_equal(exported, expected)
    else:
        assert np.max(np.abs(exported - expected)) <= 1e-5


@pytest.mark.parametrize("artefact", FORMATS)
@pytest.mark.parametrize("kind", list(MIXINS))
def test_each_policy_kind_exports_and_matches_the_jax_policy_on_1000_observations(tmp_path, kind, artefact):
    model, scaler = policy_model(kind), fitted_scaler(BOX)
    path = export_policy(model, None, tmp_path / f"policy.{artefact}", format=artefact, preprocessor=scaler)
    loaded = load_policy(path, observation_space=BOX, action_space=ACTIONS[kind], policy_kind=kind)
    observations = random_observations(BOX, 1000)
    expected = policy_function(DeployedPolicy(model, "policy", model.params, scaler, scaler.state))(observations)
    assert_same_actions(loaded(observations), expected, discrete=kind in ("categorical", "multicategorical"))
    # the greedy action is the mode: the mean, the squashed mean, the argmax, the clipped output
    standardized = scaler.standardize(scaler.state, observations)
    _, _, outputs = model.act({"states": standardized}, "policy", params=model.params, key=jax.random.key(0))
    if kind in ("gaussian", "multivariate_gaussian", "tanh_gaussian"):
        assert_same_actions(loaded(observations), outputs["mean_actions"], discrete=False)
    elif kind == "categorical":
        np.testing.assert_array_equal(loaded(observations)[:, 0], np.argmax(outputs["net_output"], -1))
    elif kind == "multicategorical":
        logits = outputs["net_output"]
        np.testing.assert_array_equal(
            loaded(observations), np.stack([np.argmax(logits[:, :3], -1), np.argmax(logits[:, 3:], -1)], -1)
        )
    else:
        assert np.all(np.abs(loaded(observations)) <= 2.0) and np.any(np.abs(loaded(observations)) == 2.0)
    metadata = json.loads(metadata_path(path).read_text())
    assert metadata["policy_kind"] == kind and metadata["artefact"] == artefact
    assert metadata["preprocessor"]["folded_in"] and metadata["versions"]["jax"] == jax.__version__


@pytest.mark.parametrize("artefact", FORMATS)
def test_a_shared_model_exports_its_policy_path_only_and_dict_observations_are_flattened_inside(tmp_path, artefact):
    model = SharedModel(DICT, ACTIONS["gaussian"])
    model.params = model.init(jax.random.key(0))
    path = export_policy(model, None, tmp_path / f"shared.{artefact}", format=artefact)
    loaded = load_policy(path, observation_space=DICT)
    assert [entry["name"] for entry in loaded.metadata["inputs"]] == ["observations/image", "observations/position"]
    observations = random_observations(DICT, 1000, seed=3)
    flat = np.concatenate([observations["image"].reshape(1000, 4), observations["position"]], -1)
    mean = model.apply(model.params, flat, "policy")[0]
    assert_same_actions(loaded(observations), mean, discrete=False)
    if artefact == "stablehlo":  # the value head is not in the artefact
        exported = jax.export.deserialize(bytearray(path.read_bytes()))
        value_kernel = np.asarray(model.params["value_layer"]["kernel"]).ravel()[:3]
        text = exported.mlir_module()
        assert all(f"{value:.6e}"[:8] not in text for value in value_kernel)
        assert len(exported.out_avals) == 1


@pytest.mark.parametrize("artefact", FORMATS)
def test_a_recurrent_policy_takes_and_returns_its_hidden_state(tmp_path, artefact):
    class RecurrentPolicy(CategoricalMixin, DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            CategoricalMixin.__init__(self, role="policy")
            DeterministicMixin.__init__(self, role="value")

        def get_specification(self):
            return {"rnn": {"sequence_length": 4, "sizes": [(1, 1, 8)]}}

        def setup(self):
            self.gru, self.logits, self.value = GRU(8), nn.Dense(self.num_actions), nn.Dense(1)

        def compute(self, inputs, role):
            features, hidden = self.gru(inputs["states"], inputs["rnn"][0], inputs.get("terminated"))
            return (self.logits if role == "policy" else self.value)(features), {"rnn": [hidden]}

    model = RecurrentPolicy(BOX, ACTIONS["categorical"])
    model.params = model.init(jax.random.key(0))
    loaded = load_policy(export_policy(model, None, tmp_path / f"gru.{artefact}"))
    act = policy_function(DeployedPolicy(model, "policy", model.params))
    hidden = exported_hidden = model.rnn_initial_states(1000)
    for step in range(3):  # the hidden state carries the episode: three steps in a row agree
        observations = random_observations(BOX, 1000, seed=step)
        actions, hidden = act(observations, hidden)
        exported_actions, exported_hidden = loaded(observations, exported_hidden)
        np.testing.assert_array_equal(exported_actions, actions)
        assert np.max(np.abs(exported_hidden[0] - np.asarray(hidden[0]))) <= 1e-5
    assert np.max(np.abs(np.asarray(hidden[0]))) > 0.05
    with pytest.raises(ExportError, match="recurrent policy: pass rnn="):
        loaded(observations)


def test_a_stochastic_stablehlo_artefact_samples_as_the_policy_does_with_the_same_key(tmp_path):
    model = policy_model("gaussian")
    loaded = load_policy(export_policy(model, None, tmp_path / "sampling.stablehlo", stochastic=True))
    observations = random_observations(BOX, 1000)
    key = jax.random.key(7)
    expected = policy_function(DeployedPolicy(model, "policy", model.params), stochastic=True)(observations, key)
    assert_same_actions(loaded(observations, key=key), expected, discrete=False)
    assert not np.allclose(loaded(observations, key=key), loaded(observations, key=jax.random.key(8)))
    assert not np.allclose(loaded(observations, key=key), model.greedy_act(observations, "policy")[0])


def test_stablehlo_runs_with_jax_alone_and_a_free_batch_size(tmp_path):
    model = policy_model("gaussian")
    path = export_policy(model, None, tmp_path / "policy.stablehlo")
    observations = random_observations(BOX, 5)
    np.save(tmp_path / "observations.npy", observations)
    np.save(tmp_path / "expected.npy", np.asarray(model.greedy_act(observations, "policy")[0]))
    script = textwrap.dedent(
        f"""
        import sys
        import jax, numpy as np
        exported = jax.export.deserialize(bytearray(open({str(path)!r}, "rb").read()))
        observations = np.load({str(tmp_path / "observations.npy")!r})
        actions = exported.call(observations)
        assert np.max(np.abs(np.asarray(actions) - np.load({str(tmp_path / "expected.npy")!r}))) <= 1e-5
        assert exported.call(np.zeros((17, 3), np.float32)).shape == (17, 2)
        assert not any(name.startswith("skrl_jax") for name in sys.modules), "skrl_jax was imported"
        print("ran")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0 and "ran" in result.stdout, result.stderr[-2000:]


def test_an_agent_exports_what_it_evaluates_with_its_preprocessor_folded_in(tmp_path):
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"))
    model = SharedModel(env.observation_space, env.action_space)
    cfg = {
        **PPO_DEFAULT_CONFIG,
        "rollouts": 32,
        "mini_batches": 2,
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": env.observation_space},
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = PPO(
        {"policy": model, "value": model}, RandomMemory(32, 2), env.observation_space, env.action_space, cfg=cfg
    )
    SequentialTrainer(env, agent, cfg={"timesteps": 64, "headless": True, "disable_progressbar": True}).train()
    scaler = agent.deployed_policy().scaler
    assert not np.allclose(scaler.mean, 0.0)  # statistics that matter
    loaded = load_policy(export_policy(agent, None, tmp_path / "ppo.stablehlo"), policy_kind="gaussian")
    assert loaded.metadata["preprocessor"]["kind"] == "RunningStandardScaler"
    observations = random_observations(env.observation_space, 2, seed=5)
    evaluated = agent.act_observations(observations, 0, 1, deterministic=True)[0]
    assert_same_actions(loaded(observations), evaluated, discrete=False)
    # another seed's parameters (a CompiledTrainer run's) export in place of the agent's
    other = model.init(jax.random.key(9))
    reloaded = load_policy(export_policy(agent, other, tmp_path / "other.stablehlo"))
    assert not np.allclose(reloaded(observations), loaded(observations))


def test_a_dqn_exports_the_argmax_of_its_q_network(tmp_path):
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))

    class QNetwork(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            DeterministicMixin.__init__(self, role="q_network")

        @nn.compact
        def __call__(self, inputs, role):
            return nn.Dense(self.action_space.n)(nn.relu(nn.Dense(16)(inputs["states"]))), {}

    models = {"q_network": QNetwork(env.observation_space, env.action_space)}
    models["target_q_network"] = QNetwork(env.observation_space, env.action_space)
    agent = DQN(models, RandomMemory(100, 2), env.observation_space, env.action_space, cfg=dict(DQN_DEFAULT_CONFIG))
    agent.init({"timesteps": 10})
    loaded = load_policy(export_policy(agent, None, tmp_path / "dqn.stablehlo"), policy_kind="q_values")
    observations = random_observations(env.observation_space, 1000)
    q_values = models["q_network"].apply(models["q_network"].params, observations, "q_network")[0]
    np.testing.assert_array_equal(loaded(observations)[:, 0], np.argmax(q_values, -1))


# --- bad exports and bad artefacts: clear errors before anything runs ---------------------------------


def test_a_value_only_model_has_no_policy_to_export(tmp_path):
    class Value(DeterministicMixin, Model):
        def __init__(self, observation_space, action_space):
            Model.__init__(self, observation_space, action_space)
            DeterministicMixin.__init__(self, role="value")

        @nn.compact
        def __call__(self, inputs, role):
            return nn.Dense(1)(inputs["states"]), {}

    value = Value(BOX, ACTIONS["gaussian"])
    value.params = value.init(jax.random.key(0))
    with pytest.raises(ExportError, match="value-only model"):
        export_policy(value, None, tmp_path / "value.stablehlo")
    shared = SharedModel(BOX, ACTIONS["gaussian"])
    shared.params = shared.init(jax.random.key(0))
    with pytest.raises(ExportError, match="is a value function, not a policy"):
        export_policy(shared, None, tmp_path / "value.stablehlo", role="value")
    assert not list(tmp_path.iterdir())


def test_exports_that_cannot_be_made_are_refused(tmp_path, monkeypatch):
    deterministic = policy_model("deterministic")
    with pytest.raises(ExportError, match="stochastic export needs a stochastic policy"):
        export_policy(deterministic, None, tmp_path / "p.stablehlo", stochastic=True)
    with pytest.raises(ExportError, match="greedy only"):
        export_policy(policy_model("gaussian"), None, tmp_path / "p.onnx", stochastic=True)
    with pytest.raises(ExportError, match="format must be one of"):
        export_policy(deterministic, None, tmp_path / "p.bin", format="tflite")
    with pytest.raises(ValueError, match="kernel"):  # another model's parameters
        export_policy(deterministic, policy_model("categorical").params, tmp_path / "p.stablehlo")
    monkeypatch.setitem(sys.modules, "jax2onnx", None)  # the export extra not installed
    with pytest.raises(ExportError, match=r"pip install 'skrl_jax\[export\]'"):
        export_policy(deterministic, None, tmp_path / "p.onnx")
    assert not list(tmp_path.iterdir())


def test_an_artefact_loaded_for_other_spaces_or_another_kind_is_refused(tmp_path):
    path = export_policy(policy_model("gaussian"), None, tmp_path / "policy.stablehlo")
    with pytest.raises(ExportError, match=r"observation_space: expected .*\[4\]"):
        load_policy(path, observation_space=gym.spaces.Box(-1.0, 1.0, (4,), np.float32))
    with pytest.raises(ExportError, match='policy_kind: expected "categorical", the artefact has "gaussian"'):
        load_policy(path, policy_kind="categorical")
    with pytest.raises(ExportError, match="action_space"):
        load_policy(path, action_space=ACTIONS["categorical"])
    loaded = load_policy(path)
    with pytest.raises(ExportError, match=r"'observations' must have shape \['batch', 3\], got \[4, 5\]"):
        loaded(np.zeros((4, 5), np.float32))


def test_truncated_foreign_or_orphaned_artefacts_are_refused(tmp_path):
    path = export_policy(policy_model("gaussian"), None, tmp_path / "policy.stablehlo")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExportError, match="truncated, corrupt or another artefact"):
        load_policy(path)
    metadata = json.loads(metadata_path(path).read_text())
    foreign = b"not a policy at all"
    path.write_bytes(foreign)  # a foreign file whose metadata claims it (checksum updated to match)
    metadata["sha256"] = hashlib.sha256(foreign).hexdigest()
    metadata_path(path).write_text(json.dumps(metadata))
    with pytest.raises(ExportError, match="not a StableHLO artefact"):
        load_policy(path)
    metadata_path(path).write_text("{not json")
    with pytest.raises(ExportError, match="not readable JSON"):
        load_policy(path)
    metadata_path(path).unlink()
    with pytest.raises(ExportError, match="no metadata file beside it"):
        load_policy(path)
    with pytest.raises(ExportError, match="no exported policy"):
        load_policy(tmp_path / "missing.stablehlo")


def test_exporting_again_replaces_the_files_whole(tmp_path):
    first = export_policy(policy_model("gaussian"), None, tmp_path / "policy.stablehlo")
    before = load_policy(first)(random_observations(BOX, 4))
    model = policy_model("gaussian")
    model.params = model.init(jax.random.key(5))
    export_policy(model, None, first)
    after = load_policy(first)(random_observations(BOX, 4))
    assert not np.allclose(before, after)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.stablehlo", "policy.stablehlo.json"]


@pytest.mark.skipif(not ONNX_INSTALLED, reason="the export extra")
def test_the_export_example_trains_exports_with_the_command_and_plays_onnx_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        sys, "argv", ["export_pendulum.py", "--timesteps", "1024", "--episodes", "1", "--output-dir", str(tmp_path)]
    )
    load_example("export_pendulum").main()
    lines = capsys.readouterr().out.strip().splitlines()
    assert "ONNX policy in onnxruntime alone" in lines[-2]
    onnx_return = float(lines[-1].split("mean return ")[1].split(",")[0])
    jax_return = float(lines[-1].rsplit("JAX policy ", 1)[1])
    assert abs(onnx_return - jax_return) < 1e-3 * abs(jax_return)  # the same policy, whichever runtime
    metadata = json.loads(metadata_path(tmp_path / "pendulum_policy.onnx").read_text())
    assert metadata["preprocessor"]["folded_in"] and metadata["policy_kind"] == "gaussian"


def test_the_export_command_names_what_it_could_not_find(tmp_path, capsys):
    from skrl_jax.export.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["no_such_module_here:build", "--output", str(tmp_path / "p.stablehlo")])
    assert exit_info.value.code == 2 and "cannot import no_such_module_here" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tmp_path / "missing.py") + ":build", "--output", str(tmp_path / "p.stablehlo")])
    assert f"no file {tmp_path / 'missing.py'}" in capsys.readouterr().err


def test_an_rpo_policy_exports_its_mean_without_the_perturbation(tmp_path):
    from skrl_jax.agents.rpo import RPO
    from tests.test_agents import RPOPolicy

    space = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)
    model = RPOPolicy(space, ACTIONS["gaussian"])
    agent = RPO(models={"policy": model, "value": model}, memory=RandomMemory(4, 2), cfg={"rollouts": 4, "alpha": 0.5})
    agent.init()
    loaded = load_policy(export_policy(agent, None, tmp_path / "rpo.stablehlo"))
    observations = random_observations(space, 1000)
    inputs = {"states": observations, "alpha": 0.0, "key": jax.random.key(3)}
    mean = model.apply(model.params, inputs, "policy")[0]
    assert_same_actions(loaded(observations), mean, discrete=False)
