"""skrl's own checkpoints load into our agents and give skrl's outputs: JAX pickles written by skrl
1.4.3 itself (fixtures made by tests/fixtures/skrl_checkpoints/make_skrl_jax_fixtures.py), read
without running code; PyTorch .pt files where torch is installed."""

import ast
import pickle
from pathlib import Path

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks._examples import load_example
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.agents.sac import SAC, SAC_DEFAULT_CONFIG
from skrl_jax.agents.skrl_checkpoints import load_skrl_checkpoint
from skrl_jax.core.checkpoints import CheckpointError
from skrl_jax.core.safe_pickle import UnsafePickleError, load_plain_data
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from tests.models import SharedModel

FIXTURES = Path(__file__).parent / "fixtures" / "skrl_checkpoints"
OBSERVATIONS = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)
ACTIONS = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)


def ported_models(script, names):
    """The model classes ``names`` of the fixture ``script``, as skrl's JAX code writes them, run
    with skrl_jax's imports instead of skrl's: the port is the same code."""
    tree = ast.parse((FIXTURES / script).read_text())
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name in names]
    namespace = {"nn": nn, "jnp": jnp, "Model": Model, "GaussianMixin": GaussianMixin}
    namespace["DeterministicMixin"] = DeterministicMixin
    exec(compile(ast.Module(classes, []), script, "exec"), namespace)
    return [namespace[name] for name in names]


Policy, Value, Critic, Policy2, Value2 = ported_models(
    "make_skrl_jax_fixtures.py", ["Policy", "Value", "Critic", "Policy2", "Value2"]
)


def ppo(value_preprocessor=True, models=None):
    models = models or {"policy": Policy(OBSERVATIONS, ACTIONS), "value": Value(OBSERVATIONS, ACTIONS)}
    cfg = dict(PPO_DEFAULT_CONFIG, state_preprocessor=RunningStandardScaler)
    cfg.update(state_preprocessor_kwargs={"size": OBSERVATIONS}, experiment={"write_interval": 0})
    if value_preprocessor:
        cfg.update(value_preprocessor=RunningStandardScaler, value_preprocessor_kwargs={"size": 1})
    agent = PPO(models, RandomMemory(16, 1), OBSERVATIONS, ACTIONS, cfg=cfg)
    agent.init()
    return agent


def ppo_2x(models):
    """skrl 2.x's PPO with observation and value preprocessors over ``models``, initialised."""
    from skrl_jax.agents.ppo import PPO_CFG

    cfg = PPO_CFG(
        observation_preprocessor=RunningStandardScaler,
        observation_preprocessor_kwargs={"size": OBSERVATIONS},
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1},
    )
    memory = RandomMemory(16, 1)
    agent = PPO(
        models=models, memory=memory, observation_space=OBSERVATIONS, state_space=None, action_space=ACTIONS, cfg=cfg
    )
    agent.init()
    return agent


def shared_port(version):
    """The port of the torch fixtures' shared model (1.4's or 2.x's form) and its PPO: ``(agent, model)``."""
    if version.startswith("2."):
        model = load_example("shared_model_skrl2").SharedModel(OBSERVATIONS, None, ACTIONS, None)
        return ppo_2x({"policy": model, "value": model}), model
    model = SharedModel(OBSERVATIONS, ACTIONS)
    return ppo(models={"policy": model, "value": model}), model


def sac():
    models = {"policy": Policy(OBSERVATIONS, ACTIONS)}
    models.update({name: Critic(OBSERVATIONS, ACTIONS) for name in ("critic_1", "critic_2")})
    models.update({f"target_{name}": Critic(OBSERVATIONS, ACTIONS) for name in ("critic_1", "critic_2")})
    cfg = dict(SAC_DEFAULT_CONFIG, state_preprocessor=RunningStandardScaler)
    cfg.update(state_preprocessor_kwargs={"size": OBSERVATIONS}, experiment={"write_interval": 0})
    agent = SAC(models, RandomMemory(100, 1), OBSERVATIONS, ACTIONS, cfg=cfg)
    agent.init()
    return agent


def close(ours, skrls, tolerance=1e-6):
    """Within ``tolerance``, relative to the values' size where it exceeds 1 (float32's spacing at 8
    is 9.5e-7: skrl's jax 0.6 and our jax 0.10 may round a log-probability of -8 a few spacings apart)."""
    ours, skrls = np.asarray(ours), np.asarray(skrls)
    assert ours.shape == skrls.shape, (ours.shape, skrls.shape)
    error = np.max(np.abs(ours - skrls) / np.maximum(1.0, np.abs(skrls)))
    assert error <= tolerance, error


def test_a_skrl_1_4_3_jax_ppo_checkpoint_loads_and_gives_skrls_outputs():
    agent, io = ppo(), np.load(FIXTURES / "ppo_skrl_1.4.3_jax_io.npz")
    agent.load(FIXTURES / "ppo_skrl_1.4.3_jax.pickle")
    learner = agent.state.learner
    scaler = agent.config.state_preprocessor
    states = scaler.standardize(learner.state_scaler, io["observations"])
    close(states, io["states"])
    inputs = {"states": states, "taken_actions": io["actions"]}
    _, log_prob, outputs = agent.policy.act(inputs, "policy", params=learner.params["policy"], key=jax.random.key(0))
    close(outputs["mean_actions"], io["mean_actions"])
    close(outputs["log_std"], io["log_std"])
    close(log_prob, io["log_prob"])
    values = agent.value.apply(learner.params["value"], states, "value")[0]
    close(values, io["values"])
    close(agent.config.value_preprocessor.inverse(learner.value_scaler, values), io["unscaled_values"], 1e-5)


def test_a_skrl_2_1_1_jax_ppo_checkpoint_loads_with_2x_names_and_gives_skrls_outputs():
    models = {"policy": Policy2(OBSERVATIONS, None, ACTIONS), "value": Value2(OBSERVATIONS, None, ACTIONS)}
    agent = ppo_2x(models)
    io = np.load(FIXTURES / "ppo_skrl_2.1.1_jax_io.npz")
    report = load_skrl_checkpoint(agent, FIXTURES / "ppo_skrl_2.1.1_jax.pickle")
    assert report.preprocessors == ["observation_preprocessor", "value_preprocessor"]
    learner = agent.state.learner
    states = agent.config.state_preprocessor.standardize(learner.state_scaler, io["observations"])
    close(states, io["states"])
    inputs = {"observations": states, "taken_actions": io["actions"]}
    _, outputs = models["policy"].act(inputs, "policy", params=learner.params["policy"], key=jax.random.key(0))
    close(outputs["mean_actions"], io["mean_actions"])
    close(outputs["log_std"], io["log_std"])
    close(outputs["log_prob"], io["log_prob"])
    values = models["value"].apply(learner.params["value"], {"observations": states}, "value")[0]
    close(values, io["values"])
    close(agent.config.value_preprocessor.inverse(learner.value_scaler, values), io["unscaled_values"], 1e-5)


def test_a_skrl_1_4_3_jax_sac_checkpoint_loads_its_policy_twin_critics_targets_and_scaler():
    agent, io = sac(), np.load(FIXTURES / "sac_skrl_1.4.3_jax_io.npz")
    report = load_skrl_checkpoint(agent, FIXTURES / "sac_skrl_1.4.3_jax.pickle")
    assert report.preprocessors == ["state_preprocessor"]
    assert "policy_optimizer" in report.skipped and "entropy_optimizer" in report.skipped
    learner = agent.state.learner
    states = agent.state_preprocessor.standardize(learner.state_scaler, io["observations"])
    close(states, io["states"])
    inputs = {"states": states, "taken_actions": io["actions"]}
    _, log_prob, outputs = agent.models["policy"].act(
        inputs, "policy", params=learner.params["policy"], key=jax.random.key(0)
    )
    close(outputs["mean_actions"], io["mean_actions"])
    close(log_prob, io["log_prob"])
    for name in ("critic_1", "critic_2", "target_critic_1", "target_critic_2"):
        close(agent.models[name].apply(learner.params[name], inputs, name)[0], io[name])
    # the loaded models act: the agent's greedy action is skrl's mean action
    actions = agent.act_observations(io["observations"][:1], 0, 1, deterministic=True)[0]
    close(actions, io["mean_actions"][:1])


def test_a_skrl_checkpoint_of_another_model_shape_is_refused_and_nothing_changes():
    class WidePolicy(Policy):
        @nn.compact
        def __call__(self, inputs, role):
            x = nn.elu(nn.Dense(64)(inputs["states"]))
            return nn.Dense(self.num_actions)(x), self.param("log_std", lambda _: jnp.zeros(self.num_actions)), {}

    agent = ppo(models={"policy": WidePolicy(OBSERVATIONS, ACTIONS), "value": Value(OBSERVATIONS, ACTIONS)})
    before = agent.state.learner
    with pytest.raises(
        CheckpointError,
        match=r"module 'policy'(.|\n)*Dense_0/kernel: expected float32\[3, 64\], found float32\[3, 32\]",
    ):
        agent.load(FIXTURES / "ppo_skrl_1.4.3_jax.pickle")
    assert agent.state.learner is before


def test_a_skrl_checkpoint_and_an_agent_that_disagree_on_preprocessors_or_sharing_are_refused():
    with pytest.raises(CheckpointError, match="has value_preprocessor, but the agent was built without one"):
        ppo(value_preprocessor=False).load(FIXTURES / "ppo_skrl_1.4.3_jax.pickle")
    shared = SharedModel(OBSERVATIONS, ACTIONS)
    with pytest.raises(CheckpointError, match="one model under both .*shared model"):
        ppo(models={"policy": shared, "value": shared}).load(FIXTURES / "ppo_skrl_1.4.3_jax.pickle")
    with pytest.raises(CheckpointError, match=r"has no module \['critic_1'"):
        sac().load(FIXTURES / "ppo_skrl_1.4.3_jax.pickle")


class RunsCode:
    """What a malicious checkpoint holds: unpickling it would call os.system."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.marker}",)


def test_a_pickle_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "created_by_the_pickle"
    path = tmp_path / "agent.pickle"
    path.write_bytes(pickle.dumps({"policy": b"", "exploit": RunsCode(marker)}, protocol=4))
    with pytest.raises(UnsafePickleError, match="refers to posix.system"):
        ppo().load(path)
    assert not marker.exists()
    with pytest.raises(UnsafePickleError):  # a class by name is refused too, not only calls
        load_plain_data(pickle.dumps({"x": RunningStandardScaler}), "that file")
    pickle.loads(path.read_bytes())  # the same file through pickle would have run it (the test can fail)
    assert marker.exists()


def test_truncated_or_foreign_skrl_files_are_refused(tmp_path):
    data = (FIXTURES / "ppo_skrl_1.4.3_jax.pickle").read_bytes()
    truncated = tmp_path / "truncated.pickle"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable pickle"):
        ppo().load(truncated)
    foreign = tmp_path / "list.pickle"
    foreign.write_bytes(pickle.dumps([1, 2, 3], protocol=4))
    with pytest.raises(CheckpointError, match="not a skrl JAX agent checkpoint"):
        ppo().load(foreign)
    not_flax = tmp_path / "not_flax.pickle"
    not_flax.write_bytes(pickle.dumps({"policy": b"\xc1\xc1 not msgpack"}, protocol=4))
    with pytest.raises(CheckpointError, match="module 'policy' is not flax bytes"):
        ppo().load(not_flax)


# --- skrl's PyTorch checkpoints (torch is optional: these run where it is installed) ----------------


@pytest.mark.parametrize("version", ["1.4.3", "2.1.1"])
def test_a_skrl_pytorch_shared_model_checkpoint_maps_onto_the_port_and_gives_skrls_outputs(version, capsys):
    pytest.importorskip("torch")
    agent, model = shared_port(version)
    name = f"ppo_shared_skrl_{version}_torch"
    io = np.load(FIXTURES / f"{name}_io.npz")
    agent.load(FIXTURES / f"{name}.pt")
    printed = capsys.readouterr().out
    assert "net/layers_0/kernel <- net.0.weight (transposed)" in printed
    assert "mean_layer/kernel <- mean_layer.weight (transposed)" in printed  # same shape as value_layer: by name
    learner = agent.state.learner
    states = agent.config.state_preprocessor.standardize(learner.state_scaler, io["observations"])
    close(states, io["states"], 1e-5)
    params = learner.params["policy"]
    inputs = {"states": states, "taken_actions": io["actions"]}
    outputs = model.joint_act(inputs, ("policy", "value"), params=params, key=jax.random.key(0))
    policy = outputs["policy"]
    log_prob, policy_outputs = (policy[1], policy[2]) if len(policy) == 3 else (policy[1]["log_prob"], policy[1])
    close(policy_outputs["mean_actions"], io["mean_actions"], 1e-5)
    close(log_prob, io["log_prob"], 1e-5)
    close(outputs["value"][0], io["values"], 1e-5)


def test_a_pytorch_checkpoint_whose_layers_cannot_be_told_apart_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    state = torch.load(FIXTURES / "ppo_shared_skrl_1.4.3_torch.pt", weights_only=True)
    renamed = {
        key: {
            name.replace("mean_layer", "head_a").replace("value_layer", "head_b"): value
            for name, value in module.items()
        }
        if key in ("policy", "value")
        else module
        for key, module in state.items()
    }
    torch.save(renamed, tmp_path / "renamed.pt")
    model = SharedModel(OBSERVATIONS, ACTIONS)
    agent = ppo(models={"policy": model, "value": model})
    before = agent.state.learner
    with pytest.raises(CheckpointError, match=r"all have shape \[32, 1\] and their names do not say which is which"):
        agent.load(tmp_path / "renamed.pt")
    assert agent.state.learner is before


def test_an_agent_writes_a_skrl_jax_checkpoint_laid_out_as_skrls_own(tmp_path):
    from skrl_jax.agents.skrl_checkpoints import read_skrl_jax_checkpoint, save_skrl_checkpoint

    agent = ppo()
    agent.load(FIXTURES / "ppo_skrl_1.4.3_jax.pickle")
    path = save_skrl_checkpoint(agent, tmp_path / "agent.pickle")
    written, skrls = read_skrl_jax_checkpoint(path), read_skrl_jax_checkpoint(FIXTURES / "ppo_skrl_1.4.3_jax.pickle")
    assert set(written) == set(skrls) - {"policy_optimizer", "value_optimizer"}
    for name in written:  # the same trees, names, shapes, dtypes and values as skrl wrote them
        assert jax.tree.structure(written[name]) == jax.tree.structure(skrls[name]), name
        for ours, theirs in zip(jax.tree.leaves(written[name]), jax.tree.leaves(skrls[name])):
            assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
            np.testing.assert_array_equal(ours, theirs)
    reloaded = ppo()
    reloaded.load(path)  # and back
    np.testing.assert_array_equal(reloaded.state.learner.state_scaler.mean, agent.state.learner.state_scaler.mean)
    shared = SharedModel(OBSERVATIONS, ACTIONS)
    with pytest.raises(CheckpointError, match="no shared models"):
        save_skrl_checkpoint(ppo(models={"policy": shared, "value": shared}), tmp_path / "shared.pickle")
