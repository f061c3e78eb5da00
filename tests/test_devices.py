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
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={count}", JAX_PLATFORMS="cpu")
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


def cartpole_ppo():
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=None,
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    return env, PPO(models={"policy": model, "value": model}, cfg={"rollouts": 8, "mini_batches": 2})


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
