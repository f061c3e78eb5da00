"""CompiledTrainer over several devices (``cfg["devices"]``): the same run as on one device.

The devices are CPU devices forced with XLA_FLAGS in a subprocess (the flag must be set before
jax starts, and this process's jax has started).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnax
import jax
import pytest

from skrl_jax.agents.ppo import PPO
from skrl_jax.envs import wrap_env
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
from skrl_jax.trainers import CompiledTrainer

ROOT = Path(__file__).resolve().parents[1]


def forced_devices(count, *arguments):
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={count}".strip()
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    completed = subprocess.run(
        [sys.executable, *arguments], capture_output=True, text=True, cwd=ROOT, env=env, timeout=600
    )
    return completed


def test_four_devices_train_what_one_device_trains_on_policy_and_off_policy():
    completed = forced_devices(4, "-m", "tests.multi_device_run", "4")
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    for agent in ("ppo", "sac"):
        figures = result[agent]
        assert figures["devices"] == 4
        # the same program, its arrays split: only the order of floating-point sums differs
        assert figures["params"] < 1e-5, (agent, figures)
        assert max(figures["metrics"].values()) < 1e-4, (agent, figures["metrics"])
        assert figures["observations"] == "P('data', None)"  # environments split over the devices
        assert "P(None, 'data', None)" in figures["memory"]  # the memory along its environment axis
        assert figures["param_sharding"] == ["P()"]  # parameters replicated


def cartpole_ppo(experiment=None):
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=None,
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    cfg = {
        "rollouts": 8,
        "mini_batches": 2,
        "experiment": {"write_interval": 8, "checkpoint_interval": 0, **(experiment or {})},
    }
    return env, PPO(models={"policy": model, "value": model}, cfg=cfg)


def test_devices_that_do_not_exist_or_do_not_split_the_environments_are_refused():
    env, agent = cartpole_ppo()
    count = len(jax.devices())
    with pytest.raises(ValueError, match=rf"cfg\['devices'\]={count + 1} but jax sees {count} device"):
        CompiledTrainer(env, agent, cfg={"timesteps": 8, "num_envs": 4, "devices": count + 1})
    with pytest.raises(ValueError, match=r"cfg\['devices'\] must be >= 1, got 0"):
        CompiledTrainer(env, agent, cfg={"timesteps": 8, "num_envs": 4, "devices": 0})
    with pytest.raises(TypeError, match=r"cfg\['devices'\] must be None, a number of devices or a list"):
        CompiledTrainer(env, agent, cfg={"timesteps": 8, "num_envs": 4, "devices": "gpu"})
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 8, "num_envs": 4, "devices": 1})
    assert trainer.devices is None  # one device changes nothing


def test_environments_that_do_not_split_evenly_are_refused():
    script = (
        "from tests.test_devices import cartpole_ppo\n"
        "from skrl_jax.trainers import CompiledTrainer\n"
        "env, agent = cartpole_ppo()\n"
        "CompiledTrainer(env, agent, cfg={'timesteps': 8, 'num_envs': 6, 'devices': 4})\n"
    )
    completed = forced_devices(4, "-c", script)
    assert completed.returncode != 0
    assert "num_envs=6 environments do not split evenly over 4 devices; pass a multiple of 4" in completed.stderr


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_processes(mode, count, folder):
    """``tests/multi_process_run.py`` in ``count`` processes joined on a free localhost port; their JSON."""
    port = str(free_port())
    # one device per process: any forced device count is left out of the flags they inherit
    flags = [flag for flag in os.environ.get("XLA_FLAGS", "").split() if "device_count" not in flag]
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=" ".join(flags))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.multi_process_run", mode, str(index), str(count), port, str(folder)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(count)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]
    return [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in outputs]


def test_two_processes_train_together_and_only_process_0_writes(tmp_path):
    first, second = run_processes("train", 2, tmp_path)
    assert first["devices"] == second["devices"] == 2 and first["local_devices"] == 1
    assert first["params"] == second["params"]  # one run: the same parameters in both processes
    assert first["returns"] == second["returns"]
    assert (first["writer"], second["writer"]) == (True, False)
    assert first["checkpoint_written"] and not second["checkpoint_written"]
    assert first["events"] >= 1 and second["events"] == 0
    # the run is a one-process run on two devices
    completed = forced_devices(
        2,
        "-c",
        "import json, jax, numpy as np\n"
        "from tests.test_devices import cartpole_ppo\n"
        "from skrl_jax.trainers import CompiledTrainer\n"
        "env, agent = cartpole_ppo({'write_interval': 0})\n"
        "trainer = CompiledTrainer(env, agent, cfg={'timesteps': 48, 'num_envs': 8, 'devices': 2, "
        "'updates_per_chunk': 3, 'disable_progressbar': True})\n"
        "runner, _ = trainer.train(jax.random.key(0))\n"
        "print(json.dumps(np.concatenate([np.asarray(x).ravel() for x in "
        "jax.tree.leaves(runner.agent_state.learner.params)]).astype(float).tolist()))\n",
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    single = json.loads(completed.stdout.strip().splitlines()[-1])
    assert max(abs(a - b) for a, b in zip(single, first["params"])) < 1e-6


def test_a_checkpoint_of_two_processes_resumes_in_two_processes_or_in_one(tmp_path):
    whole = run_processes("half_and_whole", 2, tmp_path)[0]["params"]
    resumed_in_two = run_processes("resume", 2, tmp_path)
    assert resumed_in_two[0]["timestep"] == 48
    assert resumed_in_two[0]["params"] == resumed_in_two[1]["params"] == whole  # bit for bit
    (resumed_in_one,) = run_processes("resume", 1, tmp_path)  # one process, one device
    assert max(abs(a - b) for a, b in zip(resumed_in_one["params"], whole)) < 1e-6


def test_a_process_that_cannot_reach_the_coordinator_gets_a_clear_error():
    script = (
        "from skrl_jax.utils.distributed import initialize\n"
        f"initialize('127.0.0.1:{free_port()}', 2, 1, timeout_seconds=3)\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert completed.returncode != 0
    assert "process 1 of 2 could not join the run at 127.0.0.1:" in completed.stderr
    assert "within 3 s" in completed.stderr


def test_distributed_settings_that_are_missing_or_malformed_are_refused(monkeypatch):
    from skrl_jax.utils.distributed import initialize

    with pytest.raises(ValueError, match=r"missing num_processes \(or SKRL_JAX_NUM_PROCESSES\)"):
        initialize("127.0.0.1:1234", process_id=0)
    monkeypatch.setenv("SKRL_JAX_NUM_PROCESSES", "2")
    with pytest.raises(ValueError, match=r"process_id=5 is not in \[0, num_processes=2\)"):
        initialize("127.0.0.1:1234", process_id=5)


def test_the_multi_device_example_runs_on_the_devices_it_finds():
    completed = forced_devices(2, "examples/multi_device_cartpole.py", "--timesteps", "256")
    assert completed.returncode == 0, completed.stderr[-3000:]
    lines = completed.stdout.strip().splitlines()
    assert "1 process(es), 2 device(s)" in lines[0] and "8 environments" in lines[0]
    assert lines[-1].startswith("greedy return (10 episodes): ")


def test_vmapped_seeds_split_over_devices_by_their_keys():
    script = (
        "import jax, numpy as np\n"
        "from jax.sharding import NamedSharding, PartitionSpec\n"
        "from tests.test_devices import cartpole_ppo\n"
        "from skrl_jax.trainers import CompiledTrainer\n"
        "from skrl_jax.trainers.sharding import make_mesh\n"
        "env, agent = cartpole_ppo({'write_interval': 0})\n"
        "trainer = CompiledTrainer(env, agent, cfg={'timesteps': 24, 'num_envs': 4, 'disable_progressbar': True})\n"
        "keys = jax.random.split(jax.random.key(0), 4)\n"
        "train = jax.jit(jax.vmap(trainer.make_train()))\n"
        "one = jax.tree.leaves(train(keys)[0].agent_state.learner.params)\n"
        "keys = jax.device_put(keys, NamedSharding(make_mesh(jax.devices()), PartitionSpec('data')))\n"
        "split = jax.tree.leaves(train(keys)[0].agent_state.learner.params)\n"
        "print(split[0].sharding.spec, max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(one, split)))\n"
    )
    completed = forced_devices(4, "-c", script)
    assert completed.returncode == 0, completed.stderr[-3000:]
    spec, difference = completed.stdout.strip().splitlines()[-1].rsplit(" ", 1)
    assert spec == "P('data',)" and float(difference) < 1e-6  # a seed per device, the same runs
