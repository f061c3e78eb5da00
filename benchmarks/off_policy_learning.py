"""Off-policy agents side by side with their peers, one job at a time, on skrl's own example settings.

Tasks (``--tasks``, all by default):
- ``sac``: SAC on gymnasium Pendulum-v1 (skrl's SAC example: 1 env, 15,000 steps, batch 100,
  learning_starts 1000): ours with twin critics on one trunk, ours with four separate critics
  (same seeds: run time and return), SBX's SAC and skrl 1.4.3's PyTorch SAC
  (benchmarks/peers/); last-20 return per seed, and env steps/s.
- ``dqn``: DQN on CartPole-v1 with skrl's DQN example settings (50,000 steps), ours and skrl 1.4.3
  PyTorch's and SBX's; and ours with the tuned settings of examples/dqn_cartpole.py.
- ``compiled_sac``: SAC on gymnax Pendulum-v1, ``--compiled-seeds`` seeds vmapped in one compiled
  call, 50,000 env steps each; last-20 return per seed, env steps/s.

Peers run in their own venvs, named by SKRL_TORCH_PYTHON and SBX_PYTHON (see benchmarks/peers/README.md);
a peer whose python is not set is skipped with a note. Every figure is printed and written to
benchmarks/results/off_policy_learning.json.

Run: python benchmarks/off_policy_learning.py [--seeds 5] [--peer-seeds 2] [--tasks sac dqn compiled_sac]
"""

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _examples import load_example  # noqa: E402
from _results import write_results  # noqa: E402

dqn_cartpole = load_example("dqn_cartpole")
sac_pendulum = load_example("sac_pendulum")

PEERS = {
    "skrl 1.4.3 (PyTorch)": (
        "SKRL_TORCH_PYTHON",
        {"sac": "skrl_torch_sac_pendulum.py", "dqn": "skrl_torch_dqn_cartpole.py"},
    ),
    "SBX": ("SBX_PYTHON", {"sac": "sbx_sac_pendulum.py", "dqn": "sbx_dqn_cartpole.py"}),
}


def summary(values: list[float]) -> dict:
    values = np.asarray(values, np.float64)
    half_width = 1.96 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return {
        "per_seed": [round(float(v), 1) for v in values],
        "mean": float(values.mean()),
        "worst": float(values.min()),
        "ci95": [float(values.mean() - half_width), float(values.mean() + half_width)],
    }


def run_peer(task: str, seeds: int) -> dict:
    found = {}
    for name, (variable, scripts) in PEERS.items():
        python = os.environ.get(variable)
        if not python:
            print(f"{name}: {variable} is not set, skipped")
            continue
        rows = []
        for seed in range(seeds):
            print(f"{name} {task}, seed {seed} ...", flush=True)
            output = subprocess.run(
                [python, str(HERE / "peers" / scripts[task]), "--seed", str(seed)], capture_output=True, text=True
            )
            match = re.search(
                r"RESULT env_steps=(\d+) seconds=([\d.]+) last20=([-\d.]+) best20=([-\d.]+)", output.stdout
            )
            if not match:
                print(f"{name} failed: {output.stderr[-2000:]}")
                break
            steps, seconds, last20, best20 = (float(x) for x in match.groups())
            rows.append({"steps_per_second": steps / seconds, "last20": last20, "best20": best20})
        if rows:
            found[name] = {
                "last20": summary([r["last20"] for r in rows]),
                "best20": summary([r["best20"] for r in rows]),
                "steps_per_second": float(np.median([r["steps_per_second"] for r in rows])),
            }
    return found


def best_window(returns: np.ndarray) -> float:
    return max(returns[i : i + 20].mean() for i in range(len(returns) - 19))


def sac_task(seeds: int, peer_seeds: int) -> dict:
    results = {}
    for shared in (True, False):
        rows = []
        for seed in range(seeds):
            print(f"skrl_jax SAC ({'twin trunk' if shared else 'separate critics'}), seed {seed} ...", flush=True)
            agent, steps_per_second = sac_pendulum.train(seed, 15_000, shared=shared, progress=False)
            returns = np.asarray(agent.episode_returns)
            rows.append(
                {"steps_per_second": steps_per_second, "last20": returns[-20:].mean(), "best20": best_window(returns)}
            )
        results["skrl_jax, twin critics on one trunk" if shared else "skrl_jax, four separate critics"] = {
            "last20": summary([r["last20"] for r in rows]),
            "best20": summary([r["best20"] for r in rows]),
            "steps_per_second": float(np.median([r["steps_per_second"] for r in rows])),
        }
    results.update(run_peer("sac", peer_seeds))
    return results


def dqn_task(seeds: int, peer_seeds: int) -> dict:
    results = {}
    for settings in ("skrl", "tuned"):
        rows = []
        for seed in range(seeds):
            print(f"skrl_jax DQN ({settings} settings), seed {seed} ...", flush=True)
            agent, steps_per_second = dqn_cartpole.train(seed, 50_000, settings, progress=False)
            returns = np.asarray(agent.episode_returns)
            rows.append(
                {"steps_per_second": steps_per_second, "last20": returns[-20:].mean(), "best20": best_window(returns)}
            )
        results[f"skrl_jax, {settings} settings"] = {
            "last20": summary([r["last20"] for r in rows]),
            "best20": summary([r["best20"] for r in rows]),
            "steps_per_second": float(np.median([r["steps_per_second"] for r in rows])),
            "seeds_at_475": int(sum(r["last20"] >= 475 for r in rows)),
        }
    results.update(run_peer("dqn", peer_seeds))
    return results


def compiled_sac_task(seeds: int) -> dict:
    trainer = sac_pendulum.make_compiled_trainer(50_000, progress=False)
    keys = jax.random.split(jax.random.key(0), seeds)
    start = time.perf_counter()
    executable = jax.jit(jax.vmap(trainer.make_train())).lower(keys).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    _, metrics = jax.block_until_ready(executable(keys))
    seconds = time.perf_counter() - start
    finals = [sac_pendulum.last_returns(np.asarray(returns)) for returns in metrics["episode_return"]]
    return {
        "seeds": seeds,
        "last20": summary(finals),
        "seconds": seconds,
        "compile_seconds": compile_seconds,
        "env_steps_per_second": seeds * 50_000 / seconds,
    }


def table(title: str, results: dict) -> None:
    print(
        f"\n{title}\n| run | last-20 return: mean (worst) [95% interval] | per seed | env steps/s |\n| --- | --- | --- | --- |"
    )
    for name, row in results.items():
        last = row["last20"]
        print(
            f"| {name} | {last['mean']:.1f} ({last['worst']:.1f}) [{last['ci95'][0]:.1f}, {last['ci95'][1]:.1f}] | "
            f"{', '.join(str(v) for v in last['per_seed'])} | {row['steps_per_second']:,.0f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--peer-seeds", type=int, default=2)
    parser.add_argument("--compiled-seeds", type=int, default=8)
    parser.add_argument("--tasks", nargs="+", default=["sac", "dqn", "compiled_sac"])
    args = parser.parse_args()
    figures = {}
    if "sac" in args.tasks:
        figures["sac_pendulum"] = sac_task(args.seeds, args.peer_seeds)
        table("SAC, gymnasium Pendulum-v1, skrl's example settings (15,000 steps)", figures["sac_pendulum"])
    if "dqn" in args.tasks:
        figures["dqn_cartpole"] = dqn_task(args.seeds, args.peer_seeds)
        table("DQN, gymnasium CartPole-v1 (50,000 steps)", figures["dqn_cartpole"])
        for name, row in figures["dqn_cartpole"].items():
            if "seeds_at_475" in row:
                print(f"{name}: {row['seeds_at_475']}/{args.seeds} seeds with a last-20 return >= 475")
    if "compiled_sac" in args.tasks:
        row = figures["compiled_sac"] = compiled_sac_task(args.compiled_seeds)
        last = row["last20"]
        print(
            f"\ncompiled SAC, gymnax Pendulum-v1, {row['seeds']} seeds vmapped x 50,000 env steps: last-20 return mean "
            f"{last['mean']:.1f}, worst {last['worst']:.1f}; {row['env_steps_per_second']:,.0f} env steps/s "
            f"({row['seconds']:.0f} s, compile {row['compile_seconds']:.0f} s)"
        )
    write_results("off_policy_learning", figures)


if __name__ == "__main__":
    main()
