"""Checkpoints, resume, TensorBoard logs and the failure paths around them."""

import os
import pickle
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import chex
import flax.linen as nn
import flax.serialization
import gymnasium as gym
import jax
import numpy as np
import pytest
from tensorboardX.proto import event_pb2

from skrl_jax.agents.ppo import PPO
from skrl_jax.core import checkpoints
from skrl_jax.core.checkpoints import CheckpointError
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.trainers import SequentialTrainer
from tests.models import (
    CARTPOLE_ACTION,
    CARTPOLE_OBSERVATION,
    PENDULUM_ACTION,
    PENDULUM_OBSERVATION,
    CategoricalShared,
    SharedModel,
)

ROOT = Path(__file__).resolve().parents[1]


def read_scalars(folder):
    """{tag: [(step, value)]} from the TensorBoard event files in ``folder`` (TFRecord framing)."""
    scalars = {}
    for path in Path(folder).glob("events.out.tfevents.*"):
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset : offset + 8])
            event = event_pb2.Event.FromString(data[offset + 12 : offset + 12 + length])
            offset += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


# --- models ------------------------------------------------------------------------------------


def test_model_save_and_load_round_trip(tmp_path):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    model.init_state_dict(key=jax.random.key(1))
    model.save(tmp_path / "model.ckpt")
    other = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    other.init_state_dict(key=jax.random.key(2))
    chex.assert_trees_all_equal(other.load(tmp_path / "model.ckpt"), model.params)
    fresh = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)  # no parameters yet: the file decides
    chex.assert_trees_all_equal(fresh.load(tmp_path / "model.ckpt"), model.params)


def test_skrl_flax_file_loads_as_it_is(tmp_path):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    (tmp_path / "skrl.flax").write_bytes(flax.serialization.to_bytes({"params": params}))  # skrl's JAX format
    chex.assert_trees_all_equal(model.load(tmp_path / "skrl.flax"), params)


def test_checkpoint_of_another_model_says_what_differs(tmp_path):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    model.init_state_dict()
    model.save(tmp_path / "pendulum.ckpt")
    cartpole = CategoricalShared(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
    with pytest.raises(CheckpointError) as error:
        cartpole.load(tmp_path / "pendulum.ckpt")
    message = str(error.value)
    assert "/log_std_parameter: in the file but not expected" in message and "/logits: missing from the file" in message
    wider = SharedModel(gym.spaces.Box(-1, 1, (5,)), PENDULUM_ACTION)
    with pytest.raises(
        CheckpointError, match=r"/net/layers_0/kernel: expected float32\[5, 32\], found float32\[3, 32\]"
    ):
        wider.load(tmp_path / "pendulum.ckpt")


def test_truncated_foreign_and_pickled_files_are_refused(tmp_path):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    model.init_state_dict()
    model.save(tmp_path / "model.ckpt")
    data = (tmp_path / "model.ckpt").read_bytes()
    (tmp_path / "truncated.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        model.load(tmp_path / "truncated.ckpt")
    (tmp_path / "foreign.json").write_text('{"hello": "world"}')
    with pytest.raises(CheckpointError):
        model.load(tmp_path / "foreign.json")
    marker = tmp_path / "pickle-ran"
    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"net": os.path.join(str(marker))}))
    with pytest.raises(CheckpointError):
        model.load(tmp_path / "model.pkl")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        model.load(tmp_path / "missing.ckpt")


def test_a_failed_save_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    model.init_state_dict(key=jax.random.key(0))
    path = tmp_path / "model.ckpt"
    model.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full (injected)")

    monkeypatch.setattr(checkpoints.os, "fsync", crash)
    model.params = jax.tree.map(lambda x: x + 1.0, model.params)
    with pytest.raises(OSError, match="injected"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.ckpt"]  # no temporary file left behind


def test_a_save_killed_midway_leaves_the_previous_checkpoint_readable(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, signal, numpy as np
        from skrl_jax.core import checkpoints
        checkpoints.save_checkpoint({str(tmp_path / "big.ckpt")!r}, {{"w": np.zeros(1000)}}, "test")
        real_replace = os.replace
        def killed(*args):
            os.kill(os.getpid(), signal.SIGKILL)  # dies after writing the temporary file, before the rename
        checkpoints.os.replace = killed
        checkpoints.save_checkpoint({str(tmp_path / "big.ckpt")!r}, {{"w": np.ones(1000)}}, "test")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9
    state, _ = checkpoints.load_checkpoint(tmp_path / "big.ckpt", {"w": np.zeros(1000)}, "test")
    assert float(state["w"].sum()) == 0.0


# --- agents ------------------------------------------------------------------------------------


def cartpole_trainer(folder, timesteps, **experiment):
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    model = CategoricalShared(env.observation_space, env.action_space)
    cfg = {"rollouts": 8, "experiment": {"directory": str(folder), "experiment_name": "run", **experiment}}
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 2), cfg=cfg)
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True})
    return trainer, agent, env


def test_agent_checkpoints_best_and_tensorboard(tmp_path):
    trainer, agent, _ = cartpole_trainer(tmp_path, 200, write_interval=40, checkpoint_interval=100)
    trainer.train()
    folder = tmp_path / "run" / "checkpoints"
    assert {"agent_100.ckpt", "agent_200.ckpt", "best_agent.ckpt"} <= {p.name for p in folder.iterdir()}
    scalars = read_scalars(tmp_path / "run")
    assert [step for step, _ in scalars["Loss / Policy loss"]] == [40, 80, 120, 160, 200]
    assert "Reward / Total reward (mean)" in scalars and "Loss / Value loss" in scalars
    rewards = [value for _, value in scalars["Reward / Total reward (mean)"]]
    assert all(1 <= value <= 500 for value in rewards)

    _, restored, _ = cartpole_trainer(tmp_path / "other", 200)
    restored.init()
    restored.load(folder / "agent_200.ckpt")
    chex.assert_trees_all_equal(restored.state, agent.state)
    chex.assert_trees_all_equal(restored.policy.params, agent.policy.params)
    separate = PPO(
        models={
            "policy": SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION),
            "value": SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION),
        }
    )
    separate.init()
    with pytest.raises(CheckpointError, match="does not match"):
        separate.load(folder / "agent_200.ckpt")


def test_keyboard_interrupt_writes_a_checkpoint_and_closes_the_environment(tmp_path):
    trainer, agent, env = cartpole_trainer(tmp_path, 100, checkpoint_interval=0, write_interval=0)
    step = env.step
    calls = []

    def interrupted_step(actions):
        calls.append(1)
        if len(calls) == 37:
            raise KeyboardInterrupt
        return step(actions)

    env.step = interrupted_step
    with pytest.raises(KeyboardInterrupt):
        trainer.train()
    assert (tmp_path / "run" / "checkpoints" / "agent_36.ckpt").is_file()
    assert env.env.closed


# --- the compiled trainer ----------------------------------------------------------------------

RESUME_SCRIPT = """
import sys, jax, numpy as np, flax.linen as nn, gymnax
from skrl_jax.agents.ppo import PPO
from skrl_jax.envs import wrap_env
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer

mode, folder = sys.argv[1], sys.argv[2]
env = wrap_env(gymnax.make("CartPole-v1")[0])
model = shared_model(env.observation_space, env.action_space, trunk=nn.Sequential([nn.Dense(16), nn.tanh]),
                     heads={"policy": CategoricalHead(), "value": DeterministicHead()})
cfg = {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, "state_preprocessor": RunningStandardScaler,
       "state_preprocessor_kwargs": {"size": 4}, "experiment": {"directory": folder, "experiment_name": mode,
       "checkpoint_interval": 0, "write_interval": 0}}
agent = PPO(models={"policy": model, "value": model}, cfg=cfg)
trainer = CompiledTrainer(env, agent, cfg={"timesteps": 16 * 6, "num_envs": 2, "updates_per_chunk": 3, "disable_progressbar": True})
if mode == "whole":
    runner, _ = trainer.train(jax.random.key(0))
elif mode == "first-half":
    runner = jax.jit(trainer.init)(jax.random.key(0))
    runner, _ = trainer.run_chunk(runner)
    trainer.save(folder + "/half.ckpt", runner)
    sys.exit(0)
else:
    runner, _ = trainer.train(runner=trainer.load(folder + "/half.ckpt"))
np.savez(folder + f"/{mode}.npz", *[np.asarray(x) for x in jax.tree.leaves(runner.agent_state.learner.params)])
"""


def test_compiled_run_resumed_in_a_new_process_is_bitwise_identical(tmp_path):
    for mode in ("whole", "first-half", "second-half"):
        subprocess.run([sys.executable, "-c", RESUME_SCRIPT, mode, str(tmp_path)], check=True, cwd=ROOT)
    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "second-half.npz")
    assert len(whole.files) == len(resumed.files) > 0
    for name in whole.files:
        np.testing.assert_array_equal(whole[name], resumed[name])


def compiled_cartpole_trainer(folder, name, updates_per_chunk, **experiment):
    """A small PPO on gymnax CartPole (64 steps of 2 envs) writing into ``folder / name``."""
    import gymnax

    from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
    from skrl_jax.trainers import CompiledTrainer

    env = wrap_env(gymnax.make("CartPole-v1")[0])
    heads = {"policy": CategoricalHead(), "value": DeterministicHead()}
    model = shared_model(env.observation_space, env.action_space, trunk=nn.Dense(8), heads=heads)
    cfg = {
        "rollouts": 16,
        "mini_batches": 2,
        "experiment": {"directory": str(folder), "experiment_name": name, **experiment},
    }
    agent = PPO(models={"policy": model, "value": model}, cfg=cfg)
    trainer_cfg = {"timesteps": 64, "num_envs": 2, "updates_per_chunk": updates_per_chunk, "disable_progressbar": True}
    return CompiledTrainer(env, agent, cfg=trainer_cfg)


def test_compiled_trainer_writes_tensorboard_after_each_chunk_and_checkpoints(tmp_path):
    trainer = compiled_cartpole_trainer(tmp_path, "compiled", 2, checkpoint_interval=32, write_interval=16)
    runner, _ = trainer.train(jax.random.key(0))
    scalars = read_scalars(tmp_path / "compiled")
    assert [step for step, _ in scalars["Loss / Policy loss"]] == [16, 32, 48, 64]
    assert {p.name for p in (tmp_path / "compiled" / "checkpoints").iterdir()} == {"runner_32.ckpt", "runner_64.ckpt"}
    resumed = trainer.load(tmp_path / "compiled" / "checkpoints" / "runner_64.ckpt")
    chex.assert_trees_all_equal(resumed.agent_state, runner.agent_state)


HOST_RESUME_SCRIPT = """
import sys, jax, jax.numpy as jnp, numpy as np, gymnasium as gym
from skrl_jax.agents.ppo import PPO
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import SequentialTrainer
from tests.models import CategoricalShared

mode, folder = sys.argv[1], sys.argv[2]
env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
env.reset(seed=0)
model = CategoricalShared(env.observation_space, env.action_space)
cfg = {"rollouts": 8, "learning_rate_scheduler": KLAdaptiveLR, "state_preprocessor": RunningStandardScaler,
       "state_preprocessor_kwargs": {"size": 4}, "value_preprocessor": RunningStandardScaler,
       "value_preprocessor_kwargs": {"size": 1}, "experiment": {"directory": folder, "checkpoint_interval": 0, "write_interval": 0}}
agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 2), cfg=cfg)
if mode == "train-and-save":
    SequentialTrainer(env, agent, cfg={"timesteps": 40, "headless": True, "disable_progressbar": True}).train()
    agent.save(folder + "/agent.ckpt")
else:
    agent.init()
    agent.load(folder + "/agent.ckpt")
# the same further rollout for both processes: the update from the restored state must be bit for bit the same
rng = np.random.default_rng(1)
for step in range(8):
    states = jnp.asarray(rng.normal(size=(2, 4)), jnp.float32)
    actions, _, _ = agent.act(states, 1000 + step, 2000)
    agent.record_transition(states, actions, jnp.ones((2, 1)), states, jnp.zeros((2, 1), bool), jnp.zeros((2, 1), bool), {}, 1000 + step, 2000)
agent.update(1007, 2000)
np.savez(folder + f"/{mode}.npz", *[np.asarray(x) for x in jax.tree.leaves(agent.state)])
"""


def test_host_agent_resumed_in_a_new_process_updates_bitwise_identically(tmp_path):
    for mode in ("train-and-save", "load"):
        subprocess.run([sys.executable, "-c", HOST_RESUME_SCRIPT, mode, str(tmp_path)], check=True, cwd=ROOT)
    original, resumed = np.load(tmp_path / "train-and-save.npz"), np.load(tmp_path / "load.npz")
    assert len(original.files) == len(resumed.files) > 10
    for name in original.files:
        np.testing.assert_array_equal(original[name], resumed[name])


def test_training_continues_from_the_loaded_checkpoints_timestep(tmp_path):
    trainer, agent, _ = cartpole_trainer(tmp_path, 48, checkpoint_interval=24, write_interval=0)
    trainer.train()
    resumed_trainer, resumed, _ = cartpole_trainer(tmp_path / "again", 48, checkpoint_interval=0, write_interval=0)
    resumed.load(tmp_path / "run" / "checkpoints" / "agent_24.ckpt")
    assert resumed.timestep == 24 and resumed.updates == 3
    resumed_trainer.train()
    assert resumed.timestep == 48 and resumed.updates == 6
    np.testing.assert_array_equal(jax.random.key_data(resumed.key), jax.random.key_data(agent.key))


def test_keyboard_interrupt_in_a_compiled_run_saves_the_last_finished_chunk(tmp_path):
    trainer = compiled_cartpole_trainer(tmp_path, "interrupted", 1, checkpoint_interval=0, write_interval=0)
    run_chunk, calls = trainer.run_chunk, []

    def interrupted(runner):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return run_chunk(runner)

    trainer.run_chunk = interrupted
    with pytest.raises(KeyboardInterrupt):
        trainer.train(jax.random.key(0))
    runner = trainer.load(tmp_path / "interrupted" / "checkpoints" / "runner_32.ckpt")
    assert int(runner.agent_state.learner.updates) == 2
    trainer.run_chunk = run_chunk
    final, metrics = trainer.train(runner=runner)
    assert int(final.agent_state.learner.updates) == 4 and metrics["policy_loss"].shape == (2,)
