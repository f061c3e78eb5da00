"""Run by tests/test_devices.py in a subprocess that forces several CPU devices before jax starts.

Trains PPO (gymnax CartPole) and SAC (gymnax Pendulum, twin critics on one trunk) once on one
device and once with ``devices=N`` over the same total environments, and prints one JSON line:
the largest parameter difference, the metrics' largest difference and the arrays' shardings.
"""

import json
import sys

import gymnax
import jax
import numpy as np

from skrl_jax.agents.ppo import PPO
from skrl_jax.agents.sac import SAC, SAC_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer
from tests.test_off_policy import sac_models


def ppo_trainer(devices):
    import flax.linen as nn

    env = wrap_env(gymnax.make("CartPole-v1")[0])
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=nn.Sequential([nn.Dense(32), nn.tanh]),
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    cfg = {
        "rollouts": 32,
        "learning_epochs": 2,
        "mini_batches": 4,
        "state_preprocessor": RunningStandardScaler,
        "state_preprocessor_kwargs": {"size": env.observation_space},
        "value_preprocessor": RunningStandardScaler,
        "value_preprocessor_kwargs": {"size": 1},
    }
    agent = PPO(models={"policy": model, "value": model}, cfg=cfg)
    return CompiledTrainer(
        env, agent, cfg={"timesteps": 32 * 6, "num_envs": 8, "devices": devices, "disable_progressbar": True}
    )


def sac_trainer(devices):
    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg.update(batch_size=16, learning_starts=8, experiment={"write_interval": 0, "checkpoint_interval": 0})
    agent = SAC(models=sac_models(), memory=RandomMemory(memory_size=64, num_envs=4), cfg=cfg)
    return CompiledTrainer(
        env, agent, cfg={"timesteps": 40, "num_envs": 4, "devices": devices, "disable_progressbar": True}
    )


def compare(make, devices):
    runs = []
    for chosen in (None, devices):
        trainer = make(chosen)
        runner, metrics = trainer.train(jax.random.key(0))
        runs.append((trainer, runner, metrics))
    (_, one, one_metrics), (trainer, many, many_metrics) = runs
    params = [
        np.abs(np.asarray(a) - np.asarray(b)).max()
        for a, b in zip(*(jax.tree.leaves(run.agent_state.learner.params) for run in (one, many)))
    ]
    metrics = {
        name: float(np.nanmax(np.abs(np.asarray(one_metrics[name], np.float64) - np.asarray(many_metrics[name]))))
        for name in one_metrics
        if np.asarray(one_metrics[name]).dtype.kind == "f" and np.isfinite(one_metrics[name]).any()
    }
    memory = jax.tree.leaves(many.agent_state.memory)
    return {
        "params": float(max(params)),
        "metrics": metrics,
        "observations": str(many.observations.sharding.spec),
        "memory": sorted({str(leaf.sharding.spec) for leaf in memory}),
        "param_sharding": sorted(
            {str(leaf.sharding.spec) for leaf in jax.tree.leaves(many.agent_state.learner.params)}
        ),
        "devices": len(trainer.devices),
    }


if __name__ == "__main__":
    devices = int(sys.argv[1])
    assert len(jax.devices()) >= devices, jax.devices()
    print(json.dumps({"ppo": compare(ppo_trainer, devices), "sac": compare(sac_trainer, devices)}))
