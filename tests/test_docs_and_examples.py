"""The code of the README and the docs pages and the examples run as written; their tables are what the benchmarks printed."""

import ast
import importlib
import re
from pathlib import Path

import jax
import numpy as np
import pytest

from benchmarks._examples import load_example
from benchmarks.readme_tables import TABLE, documents

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(document: Path) -> list[str]:
    """The ```` ```python ```` blocks of ``document``: each runs as written (a fragment is fenced ```` ```text ````)."""
    return re.findall(r"```python\n(.*?)```", document.read_text(), flags=re.S)


DOCUMENT_BLOCKS = [
    (str(document.relative_to(ROOT)), index)
    for document in documents()
    for index in range(len(python_blocks(document)))
]


@pytest.mark.parametrize("document, index", DOCUMENT_BLOCKS, ids=[f"{d}[{i}]" for d, i in DOCUMENT_BLOCKS])
def test_python_blocks_of_the_readme_and_docs_run(document, index):
    block = python_blocks(ROOT / document)[index]
    exec(compile(block, f"{document}[python block {index}]", "exec"), {})


def test_the_concepts_page_has_the_seed_example():
    blocks = python_blocks(ROOT / "docs" / "concepts.md")
    assert any("class SharedModel(GaussianMixin, DeterministicMixin, Model)" in b for b in blocks)


def test_the_readme_stays_a_front_door():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for command in (
        "pip install .",
        "python -m pytest -q",
        "python examples/compiled_cartpole.py",
        "python docs/build.py",
    ):
        assert command in readme


def test_shared_model_example():
    result = load_example("shared_model").main()
    assert result["actions"].shape == (1, 1) and result["values"].shape == (1, 1)
    assert set(result["params"]) == {"net", "mean_layer", "log_std_parameter", "value_layer"}


def test_shared_model_example_in_skrl2_style():
    result = load_example("shared_model_skrl2").main()
    assert result["actions"].shape == (1, 1) and result["values"].shape == (1, 1)
    assert set(result["params"]) == {"net", "mean_layer", "log_std_parameter", "value_layer"}


def test_categorical_shared_model_example():
    result = load_example("categorical_shared_model").main()
    assert 1 <= result["steps"] <= 500 and result["return"] == result["steps"]


def test_ppo_examples_run_briefly():
    cartpole = load_example("ppo_cartpole").train(seed=0, timesteps=200, progress=False)
    assert cartpole.updates == 3 and cartpole.episode_returns
    pendulum_module = load_example("ppo_pendulum")
    pendulum = pendulum_module.train(seed=0, timesteps=10, progress=False)
    assert pendulum.shared and pendulum.memory.memory_size == 1024


def test_skrl_pendulum_port_builds_separate_models_with_skrl_settings():
    port = load_example("skrl_pendulum_ppo_port")
    env = port.make_env()
    agent = port.make_agent(env, rollouts=8)
    agent.init()
    assert not agent.shared and agent.config.mini_batches == 32 and agent.config.discount_factor == 0.9
    env.close()


def test_compiled_examples_build_and_run_briefly():
    cartpole = load_example("compiled_cartpole").make_trainer(timesteps=256, progress=False)
    runner, metrics = cartpole.train()
    assert metrics["policy_loss"].shape == (2,) and cartpole.agents.shared
    pendulum = load_example("compiled_pendulum").make_trainer(timesteps=1024, progress=False)
    assert pendulum.num_envs == 4 and pendulum.num_updates == 1
    runner, metrics = pendulum.train()
    assert np.isfinite(metrics["value_loss"]).all()


def test_off_policy_examples_run_briefly():
    sac = load_example("sac_pendulum")
    agent, steps_per_second = sac.train(seed=0, timesteps=120, progress=False)
    assert agent.models["critic_1"] is agent.models["critic_2"] and steps_per_second > 0
    assert set(agent.state.learner.params) == {"policy", "critic_1", "target_critic_1"}
    dqn = load_example("dqn_cartpole")
    for settings in ("skrl", "tuned"):
        agent, _ = dqn.train(seed=0, timesteps=150, settings=settings, progress=False)
        assert agent.timestep == 150 and agent.episode_returns
    returns = dqn.greedy_returns(agent, episodes=2)
    assert returns.shape == (2,) and np.all(returns >= 1)  # whole episodes, each at least one step


@pytest.mark.slow  # 4 settings compiled: ~80 s on this CPU; `python -m pytest -m slow` runs it
def test_sharing_controls_example_runs_every_setting_briefly(capsys, monkeypatch, tmp_path):
    example = load_example("sharing_controls")
    image = tmp_path / "diagnostics.png"
    monkeypatch.setattr("sys.argv", ["sharing_controls.py", "--seeds", "2", "--timesteps", "256", "--plot", str(image)])
    example.main()
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| setting") and "---" not in line]
    assert [row.split(" | ")[0].lstrip("| ") for row in rows] == list(example.SETTINGS)
    stopped = next(row for row in rows if row.startswith("| value gradient stops at the trunk"))
    assert stopped.endswith("| 0.000 / 0.000 |")  # the value's share of the trunk's step, first / last tenth
    assert lines[-1].startswith("greedy return (10 episodes), mean over 2 seeds: default ")
    assert image.stat().st_size > 0


def test_rnn_example_runs_briefly_and_ends_with_its_readme_measure(capsys, monkeypatch):
    example = load_example("rnn_cartpole_hidden_velocity")
    monkeypatch.setattr("sys.argv", ["rnn_cartpole_hidden_velocity.py", "--seeds", "2", "--timesteps", "256"])
    example.main()
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("hidden-velocity CartPole, PPO_RNN, GRU, 1,024 env steps: last-20 return mean ")
    assert last.endswith("over 2 seeds")
    # the measure: at least the last 20 episodes, the latest updates first
    metrics = {"episode_return": np.array([10.0, 30.0, 20.0]), "episodes": np.array([50, 15, 10])}
    assert example.last_episodes_return(metrics) == (20.0 * 10 + 30.0 * 15) / 25


# --- examples stand alone: the copies they hold of another example's code stay that code ---------------


def class_without_docstring(path, name):
    tree = ast.parse(path.read_text())
    (node,) = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name]
    if ast.get_docstring(node) is not None:
        node.body = node.body[1:]
    return ast.dump(node)


@pytest.mark.parametrize("name", ["ppo_pendulum", "compiled_pendulum"])
def test_pendulum_examples_hold_the_seeds_shared_model_as_it_is(name):
    examples = ROOT / "examples"
    seed = class_without_docstring(examples / "shared_model.py", "SharedModel")
    assert class_without_docstring(examples / f"{name}.py", "SharedModel") == seed


@pytest.mark.parametrize(
    "name, arguments",
    [
        ("multi_device_cartpole", {"num_envs": 8, "devices": None}),
        ("sharing_controls", {"sharing_diagnostics": True, "trunk_value_loss_scale": 0.1}),
    ],
)
def test_cartpole_examples_build_compiled_cartpoles_trainer(name, arguments):
    """multi_device_cartpole.py and sharing_controls.py hold their own make_trainer, compiled_cartpole.py's
    shared case: the same trainer and agent settings, the same parameters from a key, the same outputs."""
    own = load_example(name).make_trainer(1024, progress=False, **arguments)
    reference = load_example("compiled_cartpole").make_trainer(1024, progress=False, **arguments)
    assert own.cfg == reference.cfg and own.agents.cfg == reference.agents.cfg
    model, reference_model = own.agents.policy, reference.agents.policy
    assert own.agents.value is model and reference.agents.value is reference_model
    params = model.init(jax.random.key(0))
    reference_params = reference_model.init(jax.random.key(0))
    assert jax.tree.structure(params) == jax.tree.structure(reference_params)
    assert all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(reference_params)))
    states = jax.random.normal(jax.random.key(1), (5, 4))
    outputs = model.apply(params, states, role=("policy", "value"))
    reference_outputs = reference_model.apply(params, states, role=("policy", "value"))
    assert jax.tree.all(jax.tree.map(np.array_equal, outputs, reference_outputs))


def result_tables():
    """``(document, script, arguments, rows)`` of each result table of the README and the docs pages, found as
    ``readme_tables.py`` finds them."""
    return [
        (str(document.relative_to(ROOT)), m[1], m[2], m[3])
        for document in documents()
        for m in TABLE.findall(document.read_text())
    ]


@pytest.mark.parametrize(
    "document, script, arguments, body", result_tables(), ids=[f"{d}:{Path(s).stem}" for d, s, _, _ in result_tables()]
)
def test_result_tables_are_what_their_command_prints_from_the_committed_results(
    document, script, arguments, body, capsys, monkeypatch
):
    assert "--table" in arguments.split(), (
        f"{document}: a table is printed from results files, without running anything"
    )
    with capsys.disabled():  # importing jaxmarl (jaxmarl_ippo's peer) replaces sys.stdout: capture resumes after
        module = importlib.import_module(f"benchmarks.{Path(script).stem}")
    monkeypatch.setattr("sys.argv", [script, *arguments.split()])
    module.main()
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|")]
    assert body.splitlines() == printed


def test_playground_example_trains_briefly_with_playgrounds_settings_and_both_model_forms():
    pytest.importorskip("mujoco_playground")
    example = load_example("playground_ppo")
    settings = example.playground_settings(
        "CartpoleBalance", env_steps=2 * 8 * 30, num_envs=8, batch_size=2, minibatches=4
    )
    assert settings["unroll_length"] == 30 and settings["num_updates_per_batch"] == 16  # Playground's, uncut
    settings = dict(settings, num_updates_per_batch=1, episode_length=50)
    separate, shared = (
        example.make_trainer("CartpoleBalance", settings, shared=shared, progress=False) for shared in (False, True)
    )
    for trainer in (separate, shared):
        assert trainer.agents.cfg["recompute_advantages"] and trainer.num_updates == 2
        assert trainer.agents.cfg["state_preprocessor_update"] == "rollout"
    steps_per_second, greedy = example.train_and_evaluate(separate, settings["episode_length"], seed=0)
    assert steps_per_second > 0 and 0.0 <= greedy <= settings["episode_length"]
    # the shared form's run, traced (compiling MJX twice more would double the test's time)
    runner, metrics = jax.eval_shape(shared.make_train(), jax.random.key(0))
    assert metrics["policy_loss"].shape == (2,) and set(runner.agent_state.learner.params) == {"policy"}
