"""Compiled PPO on gymnax CartPole over 1 / 2 / 4 devices, and over 1 / 2 processes.

Each configuration runs in a subprocess of its own, one at a time: forced CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=N``) in one process, or 2 processes on
localhost joined by ``skrl_jax.utils.distributed.initialize`` (one CPU device each). The run is
examples/compiled_cartpole.py's PPO with 16 environments split over the devices, 200k env steps;
the figure is env steps/s of a second ``train`` call (compiled already). On this machine every
device shares the same 2 CPU cores, so the figures measure the overhead of splitting, not a speedup.

It also prints what an update moves between devices: the parameter tree's bytes, all-reduced once
per minibatch (the gradients' mean), against the bytes of environment data each device keeps local.

Run: python benchmarks/scaling.py [--timesteps 12800]
Writes benchmarks/results/scaling.json; ``--table`` prints the table from the results file, running nothing.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import read_results, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NUM_ENVS, TIMESTEPS = 16, 12_800  # 100 updates of 128 steps x 16 environments
# obs + next obs + action, reward, flags (f32) of one environment step
ENV_BYTES_PER_STEP = (4 + 4 + 1 + 1) * 4

ONE_RUN = """
import json, time
from skrl_jax.utils.distributed import ENVIRONMENT, initialize, is_writer
import os
if any(os.environ.get(v) for v in ENVIRONMENT.values()):
    initialize()
import jax, numpy as np
from benchmarks._examples import load_example  # run from the repository root
make_trainer = load_example("compiled_cartpole").make_trainer
devices = jax.device_count()
trainer = make_trainer({timesteps}, progress=False, num_envs={num_envs}, devices=devices if devices > 1 else None)
trainer.train(jax.random.key(0))  # compiles
start = time.perf_counter()
runner, metrics = trainer.train(jax.random.key(1))
seconds = time.perf_counter() - start
params = jax.tree.leaves(runner.agent_state.learner.params)
if is_writer():
    print(json.dumps({{"devices": devices, "processes": jax.process_count(), "seconds": seconds,
        "env_steps": trainer.num_updates * trainer.update_interval * {num_envs},
        "param_bytes": int(sum(p.size * p.dtype.itemsize for p in params)),
        "minibatches_per_update": trainer.agents.config.learning_epochs * trainer.agents.config.mini_batches,
        "rollouts": trainer.update_interval}}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(timesteps: int, devices: int = 1, processes: int = 1) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    one_run = ONE_RUN.format(timesteps=timesteps, num_envs=NUM_ENVS)
    if processes == 1:
        completed = subprocess.run(
            [sys.executable, "-c", one_run], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        return json.loads(completed.stdout.strip().splitlines()[-1])
    port = free_port()
    launched = [
        subprocess.Popen(
            [sys.executable, "-c", one_run],
            cwd=ROOT,
            env=dict(
                env,
                SKRL_JAX_COORDINATOR_ADDRESS=f"127.0.0.1:{port}",
                SKRL_JAX_NUM_PROCESSES=str(processes),
                SKRL_JAX_PROCESS_ID=str(index),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(processes)
    ]
    outputs = [process.communicate() for process in launched]
    for process, (_, stderr) in zip(launched, outputs):
        if process.returncode:
            raise RuntimeError(stderr[-2000:])
    return json.loads(outputs[0][0].strip().splitlines()[-1])


def table(result: dict) -> list[str]:
    """The rows of a results record: env steps/s of each run and its ratio to one device, then the bytes an
    update all-reduces against the rollout data that stays on its devices, then the budget, commit and date."""
    rows = result["rows"]
    one = rows["1 device"]
    lines = ["| run | env steps/s | relative to 1 device |", "| --- | --- | --- |"]
    for name, row in rows.items():
        lines.append(
            f"| {name} | {row['env_steps_per_second']:,.0f} | "
            f"{row['env_steps_per_second'] / one['env_steps_per_second']:.2f}x |"
        )
    lines.append(
        f"| all-reduced per update: the parameter tree ({one['param_bytes']:,} bytes) once per minibatch "
        f"({one['minibatches_per_update']}) | {result['allreduce_bytes_per_update']:,} bytes | "
        f"rollout data per update, kept on its devices: ~{result['env_bytes_per_update']:,} bytes |"
    )
    lines.append(
        f"| {result['num_envs']} envs, {one['env_steps']:,} env steps, the second `train` call timed | "
        f"commit {result['commit']} | {result['date'][:10]} |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=TIMESTEPS, help="steps of the 16 environments per run")
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("scaling"))))
        return
    rows = {}
    for name, devices, processes in (
        ("1 device", 1, 1),
        ("2 devices (1 process)", 2, 1),
        ("4 devices (1 process)", 4, 1),
        ("2 processes x 1 device", 1, 2),
    ):
        rows[name] = row = run(args.timesteps, devices, processes)
        row["env_steps_per_second"] = row["env_steps"] / row["seconds"]
        print(f"{name}: {row['env_steps_per_second']:,.0f} env steps/s", flush=True)
    one = rows["1 device"]
    record = {
        "num_envs": NUM_ENVS,
        "rows": rows,
        "allreduce_bytes_per_update": one["param_bytes"] * one["minibatches_per_update"],
        "env_bytes_per_update": one["rollouts"] * NUM_ENVS * ENV_BYTES_PER_STEP,
    }
    write_results("scaling", record)
    print()
    print("\n".join(table(read_results("scaling"))))


if __name__ == "__main__":
    main()
