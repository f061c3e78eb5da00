"""Where the benchmarks write their figures."""

import json
import platform
import time
from pathlib import Path

import jax

RESULTS = Path(__file__).resolve().parent / "results"


def write_results(name: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
        **figures,
    }
    path.write_text(json.dumps(record, indent=2))
    print(f"written: {path}")
    return path
