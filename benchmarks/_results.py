"""Where the benchmarks write their figures."""

import json
import platform
import subprocess
import time
from pathlib import Path

import jax

RESULTS = Path(__file__).resolve().parent / "results"


def code_version() -> str:
    """The commit the figures come from, ``+changes`` when the working tree's code differs from it (a
    results file written by an earlier part of the same run is not code, and does not count)."""
    root = RESULTS.parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "unknown (no git)"
    if commit.returncode:
        return "unknown (not a git checkout)"
    code = [line for line in changed.stdout.splitlines() if not line[3:].startswith("benchmarks/results/")]
    return commit.stdout.strip() + ("+changes" if code else "")


def write_results(name: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "jax": jax.__version__,
        "commit": code_version(),
        "devices": [str(d) for d in jax.devices()],
        **figures,
    }
    path.write_text(json.dumps(record, indent=2))
    print(f"written: {path}")
    return path
