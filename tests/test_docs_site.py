"""The docs site's tooling: configuration tables from the code, the README as home page, the link and
API-coverage checks of ``docs/build.py``, and the notebooks' small budgets."""

import dataclasses
import zlib
from pathlib import Path

import pytest
import yaml

from skrl_jax.agents.ppo import PPO_CFG, PPO_DEFAULT_CONFIG
from tests.notebooks import docs_script

ROOT = Path(__file__).resolve().parents[1]


hooks, build = docs_script("hooks"), docs_script("build")


def table_rows(markdown: str) -> dict[str, str]:
    rows = [line.split(" | ") for line in markdown.splitlines() if line.startswith("| `")]
    return {key.strip("| `"): value.rstrip(" |") for key, value in rows}


def test_a_cfg_marker_becomes_the_table_of_the_dicts_keys_and_defaults():
    page = "before\n<!-- cfg: skrl_jax.agents.ppo.PPO_DEFAULT_CONFIG -->\nafter"
    rendered = hooks.on_page_markdown(page, None, None, None)
    rows = table_rows(rendered)
    flat = {key: value for key, value in PPO_DEFAULT_CONFIG.items() if key != "experiment"}
    flat.update({f"experiment.{key}": value for key, value in PPO_DEFAULT_CONFIG["experiment"].items()})
    assert set(rows) == set(flat)
    assert rows["lambda"] == "`0.95`" and rows["learning_rate_scheduler"] == "`None`"
    assert rows["experiment.write_interval"] == '`"auto"`' and rows["experiment.wandb_kwargs"] == "`{}`"
    assert rendered.startswith("before\n") and rendered.endswith("\nafter")


def test_a_cfg_marker_of_a_2x_dataclass_lists_its_fields_with_their_defaults():
    rows = table_rows(hooks.cfg_table("skrl_jax.agents.ppo", "PPO_CFG"))
    fields = {field.name for field in dataclasses.fields(PPO_CFG) if field.name != "experiment"}
    assert fields <= set(rows) and "lambda" not in rows
    assert rows["gae_lambda"] == "`0.95`" and rows["value_loss_scale"] == "`2.5`"  # 2.x's default, not 1.4's 1.0
    assert any(key.startswith("experiment.") for key in rows)


def test_an_unknown_cfg_marker_is_an_error_naming_it():
    with pytest.raises(AttributeError, match="PPO_CONFIG"):
        hooks.on_page_markdown("<!-- cfg: skrl_jax.agents.ppo.PPO_CONFIG -->", None, None, None)


def test_the_home_page_is_the_readme_with_its_links_between_pages():
    page = hooks.on_page_markdown((ROOT / "docs" / "index.md").read_text(), None, None, None)
    readme = (ROOT / "README.md").read_text()
    assert "](docs/" in readme and "](docs/" not in page
    assert page.strip() == readme.replace("](docs/", "](").strip()


def write_page(path: Path, body: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><body>{body}</body></html>")


def test_the_link_check_finds_missing_pages_and_anchors_and_passes_good_links(tmp_path):
    write_page(tmp_path / "index.html", '<a href="a/page.html#part">ok</a><a href="https://example.org">out</a>')
    write_page(tmp_path / "a" / "page.html", '<h2 id="part">x</h2><a href="../index.html">up</a><img src="b.png">')
    (tmp_path / "a" / "b.png").write_bytes(b"")
    assert build.broken_links(tmp_path) == []
    write_page(
        tmp_path / "other.html", '<a href="a/page.html#nowhere">x</a><a href="gone.html">y</a><a href="#top">z</a>'
    )
    broken = build.broken_links(tmp_path)
    assert len(broken) == 3
    assert any("no id 'nowhere'" in line for line in broken) and any("gone.html" in line for line in broken)
    assert any("no id 'top' in other.html" in line for line in broken)


def test_the_inventory_reader_reads_mkdocs_objects_inv(tmp_path):
    lines = (
        "skrl_jax.models.Model py:class 1 api/models.html#$ -\nskrl_jax.envs.wrap_env py:function 1 api/envs.html#$ -\n"
    )
    header = b"# Sphinx inventory version 2\n# Project: x\n# Version: 0\n# The remainder is compressed using zlib.\n"
    (tmp_path / "objects.inv").write_bytes(header + zlib.compress(lines.encode()))
    assert build.inventory_names(tmp_path) == {"skrl_jax.models.Model", "skrl_jax.envs.wrap_env"}


def test_public_names_are_the_exports_outside_core():
    names = build.public_names()
    for name in (
        "skrl_jax.agents.ppo.PPO",
        "skrl_jax.agents.sac.SAC_CFG",
        "skrl_jax.multi_agents.mappo.MAPPO",
        "skrl_jax.resources.preprocessors.RunningStandardScaler",
        "skrl_jax.envs.wrap_env",
        "skrl_jax.export.export_policy",
    ):
        assert name in names
    assert not any(name.startswith("skrl_jax.core.") for name in names)


def test_every_notebook_has_a_small_budget_and_every_page_in_the_navigation_exists():
    budgets = build.small_budgets()
    assert {path.name for path in (ROOT / "notebooks").glob("*.ipynb")} <= set(budgets)

    def pages(entries):
        for entry in entries:
            values = entry.values() if isinstance(entry, dict) else [entry]
            for value in values:
                yield from pages(value) if isinstance(value, list) else [value]

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    for page in pages(config["nav"]):
        source = ROOT / "notebooks" / Path(page).name if page.startswith("notebooks/") else ROOT / "docs" / page
        assert source.is_file(), f"mkdocs.yml's nav names {page}, which does not exist"
