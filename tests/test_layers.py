"""The package's layers: no import runs from a lower layer to a higher one; and every example stands alone.

The layers, bottom to top (a module imports from its own layer and the layers below it only):

    core/       the ground floor: spaces, validation, checkpoint files, multi-process runs
    config      library configuration (seed, parameter init, debug flags, skrl's config.jax);
                skrl_jax/__init__.py (config and logger) sits here too
    resources/  preprocessors, schedulers, noises
    models/     Model and the mixins
    memories/
    envs/
    agents/
    multi_agents/  IPPO, MAPPO: groups of agents over the single-agent functions
    trainers/
    export/     a trained policy as StableHLO / ONNX artefacts, and their command line
    utils/      the top floor: skrl's public paths (runner, model_instantiators, distributed, spaces, set_seed)

Imports are read with ast from every module, at module level and inside functions (lazy imports
count), relative ones resolved; a string that is exactly the dotted name of a module below the
package (``"skrl_jax.agents.ppo"``, what ``importlib.import_module`` takes) counts as an import too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from benchmarks._examples import EXAMPLES, load_example

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "skrl_jax"

LAYERS = (
    "core",
    "config",
    "resources",
    "models",
    "memories",
    "envs",
    "agents",
    "multi_agents",
    "trainers",
    "export",
    "utils",
)
# skrl_jax/__init__.py: config and logger, on config's floor
ROOT_MODULE_LAYER = "config"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))}


MODULES = package_modules()


def layer_of(module: str) -> str:
    """The layer of ``skrl_jax[.<part>...]``: its first part below the package (the package itself: config's)."""
    parts = module.split(".")
    if len(parts) == 1:
        return ROOT_MODULE_LAYER
    if parts[1] not in LAYERS:
        raise KeyError(f"{module}: {parts[1]!r} is in no layer; add it to LAYERS in tests/test_layers.py")
    return parts[1]


def imported_modules(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[int, str, str]]:
    """``(line, what the source says, the skrl_jax module it imports)`` for every import of the module
    ``name`` (file ``path``) of the package whose modules are ``modules``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {alias.name}", alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                source = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            text = f"from {'.' * node.level}{node.module or ''} import {', '.join(a.name for a in node.names)}"
            for alias in node.names:  # `from skrl_jax import config` imports the module skrl_jax.config
                submodule = f"{source}.{alias.name}"
                found.append((node.lineno, text, submodule if submodule in modules else source))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "." in node.value:
            if node.value in modules:  # "skrl_jax.agents.ppo", as importlib.import_module takes it
                found.append((node.lineno, repr(node.value), node.value))
    return [(line, text, target) for line, text, target in found if target.split(".")[0] == "skrl_jax"]


def upward_imports(package: Path = PACKAGE) -> list[str]:
    """Every import from a lower layer to a higher one in ``package``, as a line naming the module, the
    import and both layers."""
    modules = package_modules(package)
    problems = []
    for name, path in modules.items():
        layer = LAYERS.index(layer_of(name))
        for line, text, target in imported_modules(name, path, modules):
            if LAYERS.index(layer_of(target)) > layer:
                problems.append(
                    f"{name} ({path.relative_to(package.parent)}:{line}, layer {layer_of(name)}) imports {target} "
                    f"(layer {layer_of(target)}, higher): {text}"
                )
    return problems


def test_every_module_is_in_a_layer():
    unassigned = []
    for name in MODULES:
        try:
            layer_of(name)
        except KeyError as error:
            unassigned.append(str(error))
    assert not unassigned, "\n".join(unassigned)


def test_no_import_runs_from_a_lower_layer_to_a_higher_one():
    problems = upward_imports()
    assert not problems, "imports from a lower layer to a higher one:\n" + "\n".join(problems)


def test_the_ground_floor_imports_nothing_above_it():
    for name, path in MODULES.items():
        if layer_of(name) == "core":
            targets = [target for _, _, target in imported_modules(name, path, MODULES)]
            assert all(target.startswith("skrl_jax.core") for target in targets), (name, targets)


def test_an_upward_import_is_found_and_named(tmp_path):
    # a package laid out as skrl_jax: a ground-floor module importing the trainers at module level and
    # the runner inside a function; config importing the models lazily (as config.set_parameter_init did)
    package = tmp_path / "skrl_jax"
    for folder in ("core", "trainers", "models"):
        (package / folder).mkdir(parents=True)
        (package / folder / "__init__.py").write_text("")
    (package / "__init__.py").write_text("from skrl_jax import config\n")
    (package / "trainers" / "compiled.py").write_text("from skrl_jax.core import bad\n")
    (package / "core" / "bad.py").write_text(
        "import jax\nfrom skrl_jax.core import spaces\nfrom ..trainers import compiled\n\n"
        "def f():\n    import skrl_jax.utils.runner\n"
    )
    (package / "config.py").write_text("def g():\n    from skrl_jax.models.initialization import x\n")
    assert upward_imports(package) == [
        "skrl_jax.config (skrl_jax/config.py:2, layer config) imports skrl_jax.models.initialization "
        "(layer models, higher): from skrl_jax.models.initialization import x",
        "skrl_jax.core.bad (skrl_jax/core/bad.py:3, layer core) imports skrl_jax.trainers.compiled "
        "(layer trainers, higher): from ..trainers import compiled",
        "skrl_jax.core.bad (skrl_jax/core/bad.py:6, layer core) imports skrl_jax.utils.runner "
        "(layer utils, higher): import skrl_jax.utils.runner",
    ]


def test_skrl_public_utils_paths_still_import():
    from skrl_jax.core import distributed, spaces
    from skrl_jax.utils import distributed as public_distributed
    from skrl_jax.utils import model_instantiators, set_seed  # noqa: F401
    from skrl_jax.utils import spaces as public_spaces
    from skrl_jax.utils.runner import Runner  # noqa: F401

    assert public_spaces.compute_space_size is spaces.compute_space_size
    assert public_distributed.initialize is distributed.initialize


# --- examples: each stands alone --------------------------------------------------------------------

EXAMPLE_FILES = sorted(EXAMPLES.rglob("*.py"))
LOADERS = {"run_path", "spec_from_file_location", "import_module", "__import__", "SourceFileLoader", "addsitedir"}


def leaning_on_siblings(path: Path) -> list[str]:
    """What in ``path`` edits ``sys.path`` or loads another example."""
    siblings = {file.stem for file in EXAMPLE_FILES} - {path.stem}
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and node.attr == "path" and getattr(node.value, "id", None) == "sys":
            found.append(f"{path.name}:{line}: sys.path")
        elif isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] in siblings):
            found.append(f"{path.name}:{line}: from {'.' * node.level}{node.module or ''} import ...")
        elif isinstance(node, ast.ImportFrom) and node.module == "sys" and any(a.name == "path" for a in node.names):
            found.append(f"{path.name}:{line}: from sys import path")
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] in siblings for a in node.names):
            found.append(f"{path.name}:{line}: import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Call):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function in LOADERS:
                found.append(f"{path.name}:{line}: {function}(...)")
    return sorted(found, key=lambda problem: int(problem.split(":")[1]))


def test_examples_stand_alone():
    assert len(EXAMPLE_FILES) > 10
    found = [problem for path in EXAMPLE_FILES for problem in leaning_on_siblings(path)]
    assert not found, "examples that edit sys.path or load another example:\n" + "\n".join(found)


def test_leaning_on_a_sibling_is_found(tmp_path):
    script = tmp_path / "ppo_cartpole.py"  # the name of a real example, so the others are its siblings
    script.write_text(
        "import sys\nfrom pathlib import Path\n\nsys.path.insert(0, str(Path(__file__).parent))\n"
        "from compiled_cartpole import make_trainer\nimport shared_model\n"
    )
    assert leaning_on_siblings(script) == [
        "ppo_cartpole.py:4: sys.path",
        "ppo_cartpole.py:5: from compiled_cartpole import ...",
        "ppo_cartpole.py:6: import shared_model",
    ]


# --- the one way tests and benchmarks load an example -------------------------------------------------


def test_load_example_loads_an_example_as_a_module_without_running_it(capsys):
    path = list(sys.path)
    example = load_example("shared_model")
    assert example.__name__ == "example_shared_model" and sys.modules["example_shared_model"] is example
    assert Path(example.__file__) == EXAMPLES / "shared_model.py"
    assert callable(example.main) and capsys.readouterr().out == ""  # its __main__ block did not run
    assert sys.path == path
    again = load_example("shared_model")
    assert again is not example and again.SharedModel is not example.SharedModel  # afresh, as runpy.run_path


def test_load_example_names_the_examples_when_one_is_missing():
    with pytest.raises(FileNotFoundError, match=r"no example 'compiled_cartpol' .*compiled_cartpole, "):
        load_example("compiled_cartpol")
    assert "example_compiled_cartpol" not in sys.modules
