"""One process of a 2-process run on localhost, started by tests/test_devices.py.

argv: process id, number of processes, coordinator port, an output folder. Trains PPO on gymnax
CartPole over every process's device (``devices=jax.device_count()``), saves a checkpoint (process 0
writes it) and prints one JSON line: the parameters' checksum, the last returns, and whether this
process wrote the checkpoint and TensorBoard events.
"""

import json
import sys
from pathlib import Path

from skrl_jax.utils.distributed import initialize, is_writer

process_id, num_processes, port, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
initialize(f"127.0.0.1:{port}", num_processes, process_id, timeout_seconds=60)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from skrl_jax.trainers import CompiledTrainer  # noqa: E402
from tests.test_devices import cartpole_ppo  # noqa: E402

env, agent = cartpole_ppo(experiment={"directory": str(folder), "experiment_name": f"process_{process_id}"})
trainer = CompiledTrainer(
    env, agent, cfg={"timesteps": 8 * 6, "num_envs": 8, "devices": jax.device_count(), "disable_progressbar": True}
)
runner, metrics = trainer.train(jax.random.key(0))
path = trainer.save(folder / f"process_{process_id}" / "runner.ckpt", runner)
params = np.concatenate([np.asarray(x).ravel() for x in jax.tree.leaves(runner.agent_state.learner.params)])
print(
    json.dumps(
        {
            "process": process_id,
            "devices": jax.device_count(),
            "local_devices": len(jax.local_devices()),
            "params": params.astype(float).tolist(),
            "returns": np.asarray(metrics["episode_return"], float).tolist(),
            "writer": is_writer(),
            "checkpoint_written": Path(path).exists(),
            "events": len(list((folder / f"process_{process_id}").glob("events.*"))),
        }
    )
)
