"""Compile time of the PPO update must not grow with `rollouts` (GAE is a reverse lax.scan).

For skrl's Pendulum PPO settings (4 envs, 10 epochs x 32 minibatches) at rollouts 32, 256 and
1024: seconds to lower + compile the update, the size of the lowered program and XLA's
temporary memory. Then skrl's Pendulum example, ported (examples/skrl_pendulum_ppo_port.py),
trains for --env-steps; its first update's wall time and the returns are reported.

Run: python benchmarks/compile_time.py [--env-steps 100000] [--table]
(``--table`` prints the table from the results file, running nothing)
"""

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _examples import load_example  # noqa: E402
from _results import read_results, write_results  # noqa: E402

from skrl_jax.trainers import SequentialTrainer  # noqa: E402

port = load_example("skrl_pendulum_ppo_port")


def compile_update(rollouts: int) -> dict:
    env = port.make_env()
    agent = port.make_agent(env, rollouts=rollouts)
    agent.init()
    update = jax.jit(agent.functions.update)
    start = time.perf_counter()
    lowered = update.lower(agent.state, jax.random.key(0), rollouts - 1)
    compiled = lowered.compile()
    seconds = time.perf_counter() - start
    memory = compiled.memory_analysis()
    env.close()
    return {
        "rollouts": rollouts,
        "compile_seconds": seconds,
        "program_lines": len(lowered.as_text().splitlines()),
        "temp_bytes": getattr(memory, "temp_size_in_bytes", None),
    }


def table(result: dict) -> list[str]:
    """The rows of a results record: per rollouts, the update's compile seconds, program lines and XLA temporary
    memory; then the ported Pendulum example's first update and returns; then the commit and the date."""
    lines = ["| rollouts | compile (s) | program lines | XLA temp memory (MiB) |", "| --- | --- | --- | --- |"]
    for row in result["update_compile"]:
        memory = "n/a" if row["temp_bytes"] is None else f"{row['temp_bytes'] / 2**20:.1f}"
        lines.append(f"| {row['rollouts']} | {row['compile_seconds']:.2f} | {row['program_lines']:,} | {memory} |")
    port = result["pendulum_port"]
    lines.append(
        f"| skrl's Pendulum example, ported, {port['env_steps']:,} env steps: first update (compile included) | "
        f"{port['first_update_seconds']:.1f} | mean return of 20 episodes: first {port['return_curve_mean20'][0]:.0f}, "
        f"last {port['final_mean20']:.0f} | |"
    )
    lines.append(f"| commit {result['commit']} | {result['date'][:10]} | | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env-steps", type=int, default=100_000)
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("compile_time"))))
        return
    rows = [compile_update(rollouts) for rollouts in (32, 256, 1024)]
    for row in rows:
        print(f"rollouts {row['rollouts']}: compile {row['compile_seconds']:.2f} s", flush=True)

    env = port.make_env()
    agent = port.make_agent(env)
    first_update = {}
    original = agent.update

    def timed_update(timestep, timesteps):
        start = time.perf_counter()
        metrics = original(timestep, timesteps)
        first_update.setdefault("seconds", time.perf_counter() - start)
        return metrics

    agent.update = timed_update
    start = time.perf_counter()
    SequentialTrainer(env, agent, cfg={"timesteps": args.env_steps // env.num_envs, "headless": True}).train()
    seconds = time.perf_counter() - start
    returns = np.asarray(agent.episode_returns)
    curve = [float(returns[i : i + 20].mean()) for i in range(0, len(returns), max(len(returns) // 10, 1))]
    print(
        f"skrl's Pendulum example, ported: {args.env_steps} env steps in {seconds:.0f} s; first update (compile included) "
        f"{first_update['seconds']:.1f} s; mean return (20 episodes) from {curve[0]:.0f} to {returns[-20:].mean():.0f}"
    )
    write_results(
        "compile_time",
        {
            "update_compile": rows,
            "pendulum_port": {
                "env_steps": args.env_steps,
                "seconds": seconds,
                "first_update_seconds": first_update["seconds"],
                "return_curve_mean20": curve,
                "final_mean20": float(returns[-20:].mean()),
            },
        },
    )
    print()
    print("\n".join(table(read_results("compile_time"))))


if __name__ == "__main__":
    main()
