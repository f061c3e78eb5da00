"""Every test runs in its own temporary folder, so experiments' runs/ folders never land in the repo.

Most of the suite's time is XLA compiling small programs that then run for milliseconds, so the
suite (and every process it starts, which inherit the environment) compiles for speed of
compiling: LLVM at optimisation level 0 (the same programs, less optimised machine code), and a
compilation cache shared by the test processes for the length of one run (a program that a test
compiles again in a subprocess, or that another test compiled, is read back). The cache lives in a
fresh temporary folder, removed at the end, so no run sees another's.
"""

import os
import shutil
import tempfile

import pytest

FAST_COMPILE = "--xla_backend_optimization_level=0"
if FAST_COMPILE not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_COMPILE}".strip()


def pytest_configure(config):
    # the controller (or the only process) makes the folder before the workers start; they inherit it
    if hasattr(config, "workerinput") or "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    config.compilation_cache = tempfile.mkdtemp(prefix="skrl_jax_tests_xla_cache_")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = config.compilation_cache


def pytest_unconfigure(config):
    folder = getattr(config, "compilation_cache", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _run_in_a_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
