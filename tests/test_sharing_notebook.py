"""notebooks/does_sharing_pay.ipynb is committed clean and runs top to bottom (with a tiny budget), and the
statistics it borrows from benchmarks/does_sharing_pay.py compute what they say."""

import contextlib
import functools
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from benchmarks._examples import load_example
from tests.notebooks import cell_text, cell_with, code_cells, execute_notebook, small_budget

# executes the whole notebook (~60 s on this CPU): `python -m pytest -m slow` runs it
pytestmark = pytest.mark.slow

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("scipy")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "does_sharing_pay.ipynb"
# notebooks/small_budgets.json: 1024 timesteps = 2 updates of 128 steps x 4 envs; 2 seeds per variant in one vmapped call each
BUDGET = small_budget(NOTEBOOK.name)
TIMESTEPS, SEEDS = int(BUDGET["SKRL_JAX_SHARING_TIMESTEPS"]), int(BUDGET["SKRL_JAX_SHARING_SEEDS"])


@contextlib.contextmanager
def repository_scripts():
    """Import benchmarks/ scripts as modules (they import examples with benchmarks/_examples.py's
    load_example); sys.path and the modules loaded from benchmarks/ and examples/ are restored after."""
    path, modules = list(sys.path), set(sys.modules)
    sys.path[:0] = [str(ROOT / "benchmarks")]
    try:
        yield
    finally:
        sys.path[:] = path
        folders = (str(ROOT / "benchmarks"), str(ROOT / "examples"))
        for name in set(sys.modules) - modules:
            if str(getattr(sys.modules[name], "__file__", None) or "").startswith(folders):
                del sys.modules[name]


@functools.cache
def true_parameter_counts():
    """The trained parameters of examples/compiled_cartpole.py's two variants, from their models' init."""
    compiled_cartpole = load_example("compiled_cartpole")
    agents = {
        variant: compiled_cartpole.make_trainer(TIMESTEPS, shared=variant == "shared", progress=False).agents
        for variant in ("shared", "separate")
    }
    counts = {}
    for variant, agent in agents.items():
        models = [agent.policy] if agent.policy is agent.value else [agent.policy, agent.value]
        counts[variant] = sum(
            np.prod(leaf.shape, dtype=int)
            for model in models
            for leaf in jax.tree.leaves(jax.eval_shape(model.init, jax.random.key(0)))
        )
    # and by hand: a 4 -> 64 -> 64 trunk, a 2-logit head and a 1-unit value head
    trunk, policy_head, value_head = (4 * 64 + 64) + (64 * 64 + 64), 64 * 2 + 2, 64 + 1
    assert counts == {"shared": trunk + policy_head + value_head, "separate": 2 * trunk + policy_head + value_head}
    return counts


@pytest.fixture(scope="module")
def executed():
    return execute_notebook(NOTEBOOK, BUDGET)


def test_committed_notebook_is_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "markdown"
    assert "DLR-RM/stable-baselines3#1161" in nb.cells[0].source
    for cell in code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} has outputs"


def test_notebook_runs_without_errors(executed):
    for cell in code_cells(executed):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"cell {cell.id} raised {errors[0].ename}: {errors[0].evalue}"
    assert all(cell.execution_count is not None for cell in code_cells(executed))
    assert f"budget: {TIMESTEPS:,} timesteps x {SEEDS} seeds per variant" in cell_text(cell_with(executed, "SEEDS = "))


def test_notebook_prints_the_true_parameter_counts_and_roles(executed):
    counts = true_parameter_counts()
    text = cell_text(cell_with(executed, "model.parameter_roles(params)"))
    assert f"parameters trained: shared {counts['shared']:,}, separate {counts['separate']:,}" in text
    shared_line, policy_line, value_line = (line for line in text.splitlines() if " model for " in line)
    assert shared_line.startswith(f"shared model for policy and value: {counts['shared']:,} parameters")
    assert "'trunk': ['policy', 'value']" in shared_line
    assert policy_line.startswith("separate model for policy:") and "'trunk': ['policy']" in policy_line
    assert value_line.startswith("separate model for value:") and "'trunk': ['value']" in value_line
    sizes = [int(line.split(": ")[1].split(" ")[0].replace(",", "")) for line in (policy_line, value_line)]
    assert sum(sizes) == counts["separate"]


def test_notebook_prints_the_table_for_both_variants(executed):
    counts = true_parameter_counts()
    text = cell_text(cell_with(executed, "bench.format_table(records)"))
    lines = text.strip().splitlines()
    assert lines[0].startswith("| task | variant | env steps per seed x seeds | parameters | env steps/s | compile s")
    assert "Welch p, shared vs separate" in lines[0] and "95% interval (t)" in lines[0]
    rows = [[part.strip() for part in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[:2] for row in rows] == [["cartpole_ppo", "shared"], ["cartpole_ppo", "separate"]]
    header = [part.strip() for part in lines[0].strip("|").split("|")]
    for row in rows:
        assert len(row) == len(header)
        values = dict(zip(header, row))
        assert values["env steps per seed x seeds"] == f"{TIMESTEPS * 4:,} x {SEEDS}"
        assert values["parameters"] == f"{counts[row[1]]:,}"
        assert float(values["env steps/s"].replace(",", "")) > 0
        assert values["seeds at bar"].endswith(f"/{SEEDS}") and values["return bar"] == "475"
    assert rows[0][-1] == "" and rows[1][-1] != ""  # the p-value sits on the separate row
    train = cell_text(cell_with(executed, "bench.run_variant("))
    assert train.count(f"{TIMESTEPS * 4:,} env steps per seed: compile") == 2


def test_notebook_plots_the_learning_curves(executed):
    outputs = cell_with(executed, "bench.plot_task(").outputs
    assert any(output.output_type == "display_data" and "image/png" in output.data for output in outputs), (
        "the plot cell displayed no image"
    )


def test_notebook_shows_the_trunk_diagnostics_with_and_without_the_value_gradient(executed):
    text = cell_text(cell_with(executed, "sharing_controls.run("))
    lines = text.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["default", "value gradient stops at the trunk"]
    assert lines[1].endswith("value share 0.000")  # no value gradient reaches the trunk
    assert not lines[0].endswith("value share 0.000")
    outputs = cell_with(executed, "sharing_controls.plot(controls)").outputs
    assert any("image/png" in output.get("data", {}) for output in outputs), "the diagnostics plot displayed no image"


def test_notebook_points_to_the_full_benchmark(executed):
    text = cell_text(cell_with(executed, "does_sharing_pay.json"))
    results = ROOT / "benchmarks" / "results" / "does_sharing_pay.json"
    if results.is_file():
        assert "| task | variant |" in text
    else:
        assert "python benchmarks/does_sharing_pay.py" in text


def test_rolling_return_and_steps_to_threshold():
    from skrl_jax.trainers import last_episodes_return

    with repository_scripts():
        import does_sharing_pay as bench

    # one seed, 6 updates of 10 env steps: episodes ended per update and their mean return
    episodes = np.array([[0, 10, 5, 10, 0, 20]], np.float64)
    returns = np.array([[np.nan, 1.0, 3.0, 5.0, np.nan, 10.0]])
    rolling = bench.rolling_return({"episode_return": returns, "episodes": episodes}, count=20)
    # update 3: updates 1..3 hold 25 >= 20 episodes, updates 2..3 only 15
    expected = [np.nan, np.nan, np.nan, (10 + 15 + 50) / 25, (10 + 15 + 50) / 25, 10.0]
    np.testing.assert_allclose(rolling[0], expected)
    for update in range(3, 6):
        cut = {"episode_return": returns[:, : update + 1], "episodes": episodes[:, : update + 1]}
        np.testing.assert_allclose(rolling[0, update], last_episodes_return(cut, 20)[0])
    assert bench.steps_to_threshold(rolling, 10, 3.0) == [40.0]
    assert bench.steps_to_threshold(rolling, 10, 10.0) == [60.0]
    assert bench.steps_to_threshold(rolling, 10, 11.0) == [None]
    assert bench.median_steps([40.0, None, None]) == np.inf and bench.median_steps([40.0, 60.0, None]) == 60.0
    low, high = bench.interval95([1.0, 2.0, 3.0])
    assert low < 2.0 < high and high - 2.0 == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)
