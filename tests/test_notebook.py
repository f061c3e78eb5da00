"""notebooks/shared_model_cartpole.ipynb is committed clean and runs top to bottom (with a tiny budget)."""

import ast
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
kernelspec = pytest.importorskip("jupyter_client.kernelspec")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "shared_model_cartpole.ipynb"
# 1024 timesteps = 8 updates of 128 steps x 4 envs; 2 seeds in the one vmapped call
BUDGET = {"SKRL_JAX_NOTEBOOK_TIMESTEPS": "1024", "SKRL_JAX_NOTEBOOK_SEEDS": "2", "MPLBACKEND": "Agg"}


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def cell_text(cell):
    """Everything a code cell printed or displayed as text (stdout, stderr, text/plain)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def cell_with(nb, snippet):
    matches = [cell for cell in code_cells(nb) if snippet in cell.source]
    assert len(matches) == 1, f"expected one code cell containing {snippet!r}, found {len(matches)}"
    return matches[0]


@pytest.fixture(scope="module")
def executed():
    specs = kernelspec.KernelSpecManager().find_kernel_specs()
    assert "python3" in specs, f"no 'python3' kernelspec (found {sorted(specs)}): is ipykernel installed?"
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in BUDGET.items():
            patch.setenv(name, value)  # the kernel inherits this process's environment
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
        )
        client.execute()
    return nb


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
    with pytest.MonkeyPatch.context() as patch:
        # 400 env steps x 2 seeds: the first episodes, one compile
        for name, value in {"SKRL_JAX_SAC_TIMESTEPS": "400", "SKRL_JAX_SAC_SEEDS": "2", "MPLBACKEND": "Agg"}.items():
            patch.setenv(name, value)
        client = nbclient.NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(SAC_NOTEBOOK.parent)}}
        )
        client.execute()
    for cell in code_cells(nb):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"cell {cell.id} raised {errors[0].ename}: {errors[0].evalue}"
    assert "'trunk': ['critic_1', 'critic_2']" in cell_text(cell_with(nb, "critic.parameter_roles(params)"))
    assert "per seed" in cell_text(cell_with(nb, "plt.show()"))
    assert any(
        output.output_type == "display_data" and "image/png" in output.data
        for output in cell_with(nb, "plt.show()").outputs
    )
