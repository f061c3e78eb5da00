"""notebooks/shared_model_cartpole.ipynb is committed clean and runs top to bottom (with a tiny budget)."""

import ast
from pathlib import Path

import pytest

from tests.notebooks import cell_text, cell_with, code_cells, execute_notebook, small_budget

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "shared_model_cartpole.ipynb"
# notebooks/small_budgets.json: 1024 timesteps = 8 updates of 128 steps x 4 envs; 2 seeds in the one vmapped call
BUDGET = small_budget(NOTEBOOK.name)


@pytest.fixture(scope="module")
def executed():
    return execute_notebook(NOTEBOOK, BUDGET)


def test_committed_notebook_is_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4 and nb.metadata.kernelspec.name == "python3"
    assert nb.cells[0].cell_type == "markdown"
    for cell in code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None, f"cell {cell.id} has outputs"


def test_notebook_defines_the_seed_shared_model_verbatim():
    source = (ROOT / "examples" / "shared_model.py").read_text()
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == "SharedModel")
    example_class = ast.get_source_segment(source, node)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert example_class.strip() in [cell.source.strip() for cell in code_cells(nb)]


def test_notebook_runs_without_errors(executed):
    for cell in code_cells(executed):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"cell {cell.id} raised {errors[0].ename}: {errors[0].evalue}"
    assert all(cell.execution_count is not None for cell in code_cells(executed))


def test_notebook_shows_the_shared_parameters(executed):
    text = cell_text(cell_with(executed, "model.parameter_roles(params)"))
    assert "'net': ['policy', 'value']" in text
    assert "'mean_layer': ['policy']" in text and "'value_layer': ['value']" in text
    joint = cell_text(cell_with(executed, 'role=("policy", "value")'))
    assert "matrix products: joint call 4, two separate calls 6" in joint


def test_notebook_trains_with_the_budget_from_the_environment(executed):
    assert "8 updates of 128 steps x 4 envs = 4,096 env steps per seed" in cell_text(
        cell_with(executed, "make_trainer(")
    )
    assert "'trunk': ['policy', 'value']" in cell_text(cell_with(executed, "make_trainer("))
    train = cell_text(cell_with(executed, "jax.vmap(trainer.make_train())"))
    assert "2 seeds x 4,096 env steps in one call" in train and "env steps/s" in train
    table = cell_text(cell_with(executed, "metrics_table("))
    assert table.startswith("| update | env steps | episode_return")
    evaluation = cell_text(cell_with(executed, "make_evaluate("))
    assert "mean greedy return over 2 seeds" in evaluation


def test_notebook_plots_the_learning_curve(executed):
    outputs = cell_with(executed, "plot_metrics(").outputs
    assert any("image/png" in output.get("data", {}) for output in outputs), "the plot cell displayed no image"


SAC_NOTEBOOK = ROOT / "notebooks" / "sac_pendulum_seeds.ipynb"


def test_sac_notebook_is_clean_and_trains_seeds_in_one_call():
    nb = nbformat.read(SAC_NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code_cells(nb))
    # 400 env steps x 2 seeds: the first episodes, one compile
    nb = execute_notebook(SAC_NOTEBOOK)
    for cell in code_cells(nb):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"cell {cell.id} raised {errors[0].ename}: {errors[0].evalue}"
    assert "'trunk': ['critic_1', 'critic_2']" in cell_text(cell_with(nb, "critic.parameter_roles(params)"))
    assert "per seed" in cell_text(cell_with(nb, "plt.show()"))
    assert any(
        output.output_type == "display_data" and "image/png" in output.data
        for output in cell_with(nb, "plt.show()").outputs
    )
