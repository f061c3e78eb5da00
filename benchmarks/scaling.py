"""Compiled PPO on gymnax CartPole over 1 / 2 / 4 devices, and over 1 / 2 processes.

Each configuration runs in a subprocess of its own, one at a time: forced CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=N``) in one process, or 2 processes on
localhost joined by ``skrl_jax.utils.distributed.initialize`` (one CPU device each). The run is
examples/compiled_cartpole.py's PPO with 16 environments split over the devices, 200k env steps;
the figure is env steps/s of a second ``train`` call (compiled already). On this machine every
device shares the same 2 CPU cores, so the figures measure the overhead of splitting, not a speedup.

It also prints what an update moves between devices: the parameter tree's bytes, all-reduced once
per minibatch (the gradients' mean), against the bytes of environment data each device keeps local.

Run: python benchmarks/scaling.py
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from _results import write_results

ROOT = Path(__file__).resolve().parents[1]
NUM_ENVS, TIMESTEPS = 16, 12_800  # 100 updates of 128 steps x 16 environments

ONE_RUN = f"""
import json, time
from skrl_jax.utils.distributed import ENVIRONMENT, initialize, is_writer
import os
if any(os.environ.get(v) for v in ENVIRONMENT.values()):
    initialize()
import jax, numpy as np
from benchmarks._examples import load_example  # run from the repository root
make_trainer = load_example("compiled_cartpole").make_trainer
devices = jax.device_count()
trainer = make_trainer({TIMESTEPS}, progress=False, num_envs={NUM_ENVS}, devices=devices if devices > 1 else None)
trainer.train(jax.random.key(0))  # compiles
start = time.perf_counter()
runner, metrics = trainer.train(jax.random.key(1))
seconds = time.perf_counter() - start
params = jax.tree.leaves(runner.agent_state.learner.params)
if is_writer():
    print(json.dumps({{"devices": devices, "processes": jax.process_count(), "seconds": seconds,
        "env_steps": trainer.num_updates * trainer.update_interval * {NUM_ENVS},
        "param_bytes": int(sum(p.size * p.dtype.itemsize for p in params)),
        "minibatches_per_update": trainer.agents.config.learning_epochs * trainer.agents.config.mini_batches}}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(devices: int = 1, processes: int = 1) -> dict:
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    if processes == 1:
        completed = subprocess.run(
            [sys.executable, "-c", ONE_RUN], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        return json.loads(completed.stdout.strip().splitlines()[-1])
    port = free_port()
    launched = [
        subprocess.Popen(
            [sys.executable, "-c", ONE_RUN],
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


def main() -> None:
    rows = {
        "1 device": run(1),
        "2 devices (1 process)": run(2),
        "4 devices (1 process)": run(4),
        "2 processes x 1 device": run(1, processes=2),
    }
    base = rows["1 device"]["env_steps"] / rows["1 device"]["seconds"]
    print("| run | env steps/s | relative to 1 device |")
    print("| --- | --- | --- |")
    for name, row in rows.items():
        rate = row["env_steps"] / row["seconds"]
        row["env_steps_per_second"] = rate
        print(f"| {name} | {rate:,.0f} | {rate / base:.2f}x |")
    one = rows["1 device"]
    per_update = one["param_bytes"] * one["minibatches_per_update"]
    env_bytes_per_update = 128 * NUM_ENVS * (4 + 4 + 1 + 1) * 4  # obs + next obs + action, reward, flags (f32)
    print(
        f"\nparameter tree: {one['param_bytes']:,} bytes; all-reduced once per minibatch: "
        f"{one['minibatches_per_update']} x {one['param_bytes']:,} = {per_update:,} bytes per update, "
        f"against ~{env_bytes_per_update:,} bytes of rollout data per update that stay on their devices"
    )
    write_results("scaling", {"rows": rows, "allreduce_bytes_per_update": per_update})


if __name__ == "__main__":
    main()
