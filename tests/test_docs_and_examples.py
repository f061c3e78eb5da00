"""The README's code and the examples run as written."""

import re
import runpy
from pathlib import Path

import jax.numpy as jnp
import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_python_blocks():
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(readme_python_blocks())))
def test_readme_python_blocks_run(index):
    exec(compile(readme_python_blocks()[index], f"README.md[python block {index}]", "exec"), {})


def test_readme_has_the_seed_example():
    assert any("class SharedModel(GaussianMixin, DeterministicMixin, Model)" in b for b in readme_python_blocks())


def test_shared_model_example():
    result = runpy.run_path(str(ROOT / "examples" / "shared_model.py"))["main"]()
    assert result["actions"].shape == (1, 1) and result["values"].shape == (1, 1)
    assert set(result["params"]) == {"net", "mean_layer", "log_std_parameter", "value_layer"}


def test_categorical_shared_model_example():
    result = runpy.run_path(str(ROOT / "examples" / "categorical_shared_model.py"))["main"]()
    assert 1 <= result["steps"] <= 500 and result["return"] == result["steps"]
    assert jnp.isfinite(result["return"])
