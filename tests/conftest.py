"""Every test runs in its own temporary folder, so experiments' runs/ folders never land in the repo."""

import pytest


@pytest.fixture(autouse=True)
def _run_in_a_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
