"""PPO on gymnax CartPole-v1 over every device jax finds, in one process or several.

The environments are split over the devices (``CompiledTrainer(cfg={"devices": ...})``), 4 per
device, with examples/compiled_cartpole.py's settings; parameters are replicated and the update's
all-reduces are XLA's. One process, all its devices:

    python examples/multi_device_cartpole.py
    XLA_FLAGS=--xla_force_host_platform_device_count=4 python examples/multi_device_cartpole.py  # 4 CPU devices

Several processes (one per host or accelerator; each runs this same command):

    SKRL_JAX_COORDINATOR_ADDRESS=host0:12355 SKRL_JAX_NUM_PROCESSES=2 SKRL_JAX_PROCESS_ID=<0 or 1> \\
        python examples/multi_device_cartpole.py

The last line is the greedy return of the trained policy (10 episodes).
"""

import argparse
import os
import sys
import time
from pathlib import Path

from skrl_jax.utils.distributed import ENVIRONMENT, host_copy, initialize, is_writer

if any(os.environ.get(variable) for variable in ENVIRONMENT.values()):
    initialize()  # before any other jax work

import jax  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compiled_cartpole import ROLLOUTS, make_trainer  # noqa: E402

ENVS_PER_DEVICE = 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=124_928, help="steps of the vectorised environments")
    args = parser.parse_args()
    devices = jax.device_count()
    num_envs = ENVS_PER_DEVICE * devices
    trainer = make_trainer(args.timesteps, progress=is_writer(), num_envs=num_envs, devices=devices)
    if is_writer():
        print(f"{jax.process_count()} process(es), {devices} device(s): {jax.devices()}; {num_envs} environments")
    start = time.perf_counter()
    runner, metrics = trainer.train(jax.random.key(0))
    seconds = time.perf_counter() - start
    env_steps = trainer.num_updates * ROLLOUTS * num_envs
    # the greedy policy on this host: a whole copy of the state (the memory is split over the devices)
    evaluate = jax.jit(trainer.make_evaluate(num_episodes=10, max_steps=500))
    greedy = evaluate(host_copy(runner.agent_state), jax.random.key(1))
    if is_writer():
        print(f"{env_steps:,} env steps in {seconds:.1f} s (compile included): {env_steps / seconds:,.0f} env steps/s")
        print(f"greedy return (10 episodes): {float(greedy.mean()):.1f}")


if __name__ == "__main__":
    main()
