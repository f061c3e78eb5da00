"""One process of a multi-process run on localhost, started by tests/test_devices.py.

argv: mode, process id, number of processes, coordinator port, an output folder. PPO on gymnax
CartPole over every process's device (``devices=jax.device_count()``). Modes:
- ``train``: 6 updates, then a checkpoint (process 0 writes it);
- ``resume``: loads ``<folder>/half.ckpt`` (3 updates), trains to 6;
- ``half_and_whole``: writes ``<folder>/half.ckpt`` after 3 updates, then runs 6 from the start.
Prints one JSON line: the parameters, the returns, and what this process wrote.
"""

import json
import sys
from pathlib import Path

from skrl_jax.utils.distributed import initialize, is_writer

mode, process_id, num_processes, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
folder = Path(sys.argv[5])
if num_processes > 1:
    initialize(f"127.0.0.1:{port}", num_processes, process_id, timeout_seconds=60)

import jax  # noqa: E402
import numpy as np  # noqa: E402

from skrl_jax.trainers import CompiledTrainer  # noqa: E402
from tests.test_devices import cartpole_ppo  # noqa: E402


def trainer_for(updates, experiment):
    env, agent = cartpole_ppo(experiment)
    cfg = {"timesteps": 8 * updates, "num_envs": 8, "devices": jax.device_count(), "updates_per_chunk": 3}
    return CompiledTrainer(env, agent, cfg=dict(cfg, disable_progressbar=True))


def parameters(runner):
    return np.concatenate([np.asarray(x).ravel() for x in jax.tree.leaves(runner.agent_state.learner.params)])


result = {"process": process_id, "devices": jax.device_count(), "local_devices": len(jax.local_devices())}
if mode == "train":
    trainer = trainer_for(6, {"directory": str(folder), "experiment_name": f"process_{process_id}"})
    runner, metrics = trainer.train(jax.random.key(0))
    path = trainer.save(folder / f"process_{process_id}" / "runner.ckpt", runner)
    result.update(
        returns=np.asarray(metrics["episode_return"], float).tolist(),
        writer=is_writer(),
        checkpoint_written=Path(path).exists(),
        events=len(list((folder / f"process_{process_id}").glob("events.*"))),
    )
elif mode == "half_and_whole":
    half = trainer_for(3, {"write_interval": 0})
    half.save(folder / "half.ckpt", half.train(jax.random.key(0))[0])
    runner, _ = trainer_for(6, {"write_interval": 0}).train(jax.random.key(0))
else:
    trainer = trainer_for(6, {"write_interval": 0})
    runner, _ = trainer.train(runner=trainer.load(folder / "half.ckpt"))
    result["timestep"] = int(runner.timestep)
result["params"] = parameters(runner).astype(float).tolist()
print(json.dumps(result))
