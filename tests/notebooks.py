"""Running the notebooks in tests and reading what their cells showed."""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def docs_script(name: str):
    """``docs/<name>.py`` (a script, not a package) loaded as a module."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", ROOT / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = docs_script("build")


def small_budget(name: str) -> dict[str, str]:
    """The environment ``notebooks/<name>`` runs with in the tests and the docs build (``small_budgets.json``)."""
    return build.small_budgets()[name]


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


def execute_notebook(path: Path, environment: dict | None = None):
    """The notebook at ``path`` run top to bottom in a python3 kernel whose environment has ``environment``
    (its small budget by default). With ``SKRL_JAX_EXECUTED_NOTEBOOKS`` set (as ``.ci/run`` does), the run
    notebook is also written there, for the docs build to render with its outputs."""
    environment = small_budget(path.name) if environment is None else environment
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    kernelspec = pytest.importorskip("jupyter_client.kernelspec")
    specs = kernelspec.KernelSpecManager().find_kernel_specs()
    assert "python3" in specs, f"no 'python3' kernelspec (found {sorted(specs)}): is ipykernel installed?"
    nb = build.executed_notebook(path, environment)
    folder = os.environ.get("SKRL_JAX_EXECUTED_NOTEBOOKS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(folder) / path.name)
    return nb
