"""The one way benchmarks and tests import an example: ``load_example(name)``.

Each file of ``examples/`` is a script that stands alone (it imports the library, never another
example). Code that reuses an example's builders (``make_trainer``, ``SharedModel``, ...) loads the
file as a module, without editing ``sys.path``:

- a benchmark (run as ``python benchmarks/<name>.py``, so ``benchmarks/`` is on the path):
  ``from _examples import load_example``;
- a test (pytest puts the repository root on the path), or a script run from the root:
  ``from benchmarks._examples import load_example``.

``load_example("compiled_cartpole").make_trainer(...)`` then calls the example's own code. The
example runs as a module named ``example_<name>``, so its ``if __name__ == "__main__":`` block does
not; every call executes the file afresh (as ``runpy.run_path`` does). ``tests/test_layers.py``
tests it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str) -> ModuleType:
    """``examples/<name>.py`` executed as the module ``example_<name>`` (registered in ``sys.modules``
    under that name, so that dataclasses, pickling and tracebacks find it), and returned.

    Raises:
        FileNotFoundError: there is no ``examples/<name>.py``; the message lists the examples.
    """
    path = EXAMPLES / f"{name}.py"
    if not path.is_file():
        available = ", ".join(sorted(file.stem for file in EXAMPLES.glob("*.py")))
        raise FileNotFoundError(f"no example {name!r} ({path}); the examples are: {available}")
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module
