"""examples/ippo_mpe.py and notebooks/ippo_shared_vs_per_agent.ipynb run (tiny budgets) and say what they measure."""

import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks._examples import load_example
from tests.notebooks import cell_text, cell_with, code_cells, execute_notebook

pytest.importorskip("jaxmarl")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "ippo_shared_vs_per_agent.ipynb"
TINY = 2 * 128 * 16  # two updates of 128 steps x 16 environments


def test_example_ends_with_the_team_return_over_its_seeds(capsys, monkeypatch):
    ippo_mpe = load_example("ippo_mpe")
    monkeypatch.setattr(sys, "argv", ["ippo_mpe.py", "--seeds", "2", "--env-steps", str(TINY)])
    ippo_mpe.main()
    lines = capsys.readouterr().out.strip().splitlines()
    seeds = [float(line.split("team return ")[1]) for line in lines if line.startswith("seed ")]
    assert len(seeds) == 2
    expected = (
        f"team return over the last 5% of updates: mean {np.mean(seeds):.1f} [worst {min(seeds):.1f}] over 2 seeds"
    )
    assert lines[-1] == expected


def test_example_groups_one_network_for_all_agents_or_one_each():
    ippo_mpe = load_example("ippo_mpe")
    shared, own = (ippo_mpe.make_trainer(TINY, shared=flag, progress=False).agents for flag in (True, False))
    assert [group.agents for group in shared.groups] == [("agent_0", "agent_1", "agent_2")]
    assert [group.agents for group in own.groups] == [("agent_0",), ("agent_1",), ("agent_2",)]


def test_final_return_is_the_mean_of_the_last_five_percent_of_finished_updates():
    final_return = load_example("ippo_mpe").final_return
    values = np.array([np.nan, *range(40)], np.float64)  # 40 finished updates: the last 2 count
    assert final_return(values) == pytest.approx(38.5)


def test_notebook_is_committed_clean_and_runs_both_forms():
    nbformat = pytest.importorskip("nbformat")
    committed = nbformat.read(NOTEBOOK, as_version=4)
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code_cells(committed))
    nb = execute_notebook(NOTEBOOK)
    for cell in code_cells(nb):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        assert not errors, f"cell {cell.id} raised {errors[0].ename}: {errors[0].evalue}"
    groups = cell_text(cell_with(nb, "VARIANTS = "))
    assert "shared: groups [['agent_0', 'agent_1', 'agent_2']]" in groups
    assert "per-agent: groups [['agent_0'], ['agent_1'], ['agent_2']]" in groups
    counts = [int(line.split(", ")[-1].split(" ")[0].replace(",", "")) for line in groups.strip().splitlines()]
    assert counts[1] == 3 * counts[0]  # three policy-value pairs against one
    table = cell_text(cell_with(nb, "block_until_ready(train(keys))"))
    assert "| shared |" in table and "| per-agent |" in table
    outputs = cell_with(nb, "plt.subplots(").outputs
    assert any(output.output_type == "display_data" and "image/png" in output.data for output in outputs)
