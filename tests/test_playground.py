"""MuJoCo Playground environments through PlaygroundWrapper (the `playground` extra; skipped without it)."""

import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("mujoco_playground")

from mujoco_playground import registry, wrapper  # noqa: E402

from skrl_jax.agents.ppo import PPO  # noqa: E402
from skrl_jax.envs import PlaygroundWrapper, load_playground_env, wrap_env  # noqa: E402
from skrl_jax.memories import RandomMemory  # noqa: E402
from skrl_jax.models import DeterministicHead, GaussianHead, shared_model  # noqa: E402
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer  # noqa: E402


def raw(x):
    """An array as numpy can compare it (a typed PRNG key as its key data)."""
    return jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x


@pytest.fixture(scope="module")
def cartpole():
    return registry.load("CartpoleBalance", config_overrides={"impl": "jax"})


def rollout(env, steps, num_envs=3, seed=0):
    """Step ``num_envs`` wrapped environments with zero actions; returns every step's outputs, stacked."""

    def step(carry, key):
        state = carry
        observation, state, reward, terminated, truncated, info = jax.vmap(env.step)(
            jax.random.split(key, num_envs), state, jnp.zeros((num_envs, 1))
        )
        return state, (observation, reward, terminated, truncated, info)

    key = jax.random.key(seed)
    first, state = jax.jit(jax.vmap(env.reset))(jax.random.split(key, num_envs))
    _, outputs = jax.jit(lambda state: jax.lax.scan(step, state, jax.random.split(key, steps)))(state)
    return first, outputs


def test_wrap_env_detects_a_playground_environment_with_the_tasks_spaces_and_episode_length(cartpole):
    env = wrap_env(cartpole)
    assert isinstance(env, PlaygroundWrapper)
    assert env.observation_space.shape == (5,) and env.action_space.shape == (1,)
    assert env.episode_length == 1000 and env.action_repeat == 1 and env.reset_mode == "fresh"
    assert float(env.action_space.low[0]) == -1.0 and float(env.action_space.high[0]) == 1.0


@pytest.mark.parametrize("reset", ["fresh", "cached"])
def test_episodes_are_cut_at_episode_length_as_truncations_and_restart_as_reset_says(cartpole, reset):
    env = PlaygroundWrapper(cartpole, episode_length=4, reset=reset)
    first, (observation, reward, terminated, truncated, info) = rollout(env, steps=9)
    truncated, terminated = np.asarray(truncated), np.asarray(terminated)
    # steps 4 and 8 end an episode by the time limit (and only they), in every environment
    assert truncated[[3, 7]].all() and not truncated[[0, 1, 2, 4, 5, 6, 8]].any() and not terminated.any()
    np.testing.assert_array_equal(np.asarray(info["episode_length"])[[3, 7]], 4)
    np.testing.assert_allclose(np.asarray(info["episode_return"])[3], np.asarray(reward)[:4].sum(axis=0), rtol=1e-6)
    # the last observation of the ended episode is kept apart from the first of the next
    assert not np.allclose(np.asarray(info["final_observation"])[3], np.asarray(observation)[3])
    restarted = np.asarray(observation)[[3, 7]]
    if reset == "cached":  # every episode of an environment starts where its first did
        np.testing.assert_allclose(restarted, np.broadcast_to(np.asarray(first), restarted.shape), atol=1e-6)
    else:  # a new random start each time
        assert not np.allclose(restarted[0], np.asarray(first), atol=1e-4)
        assert not np.allclose(restarted[0], restarted[1], atol=1e-4)


def test_load_playground_env_refuses_unknown_tasks_and_tasks_whose_assets_are_missing():
    env = load_playground_env("PendulumSwingup", reset="cached")
    assert isinstance(env, PlaygroundWrapper) and env.reset_mode == "cached"
    assert env.env.unwrapped.mjx_model.impl.value == "jax"
    with pytest.raises(ValueError, match=r"unknown task 'CartpoleBalanced'; MuJoCo Playground has .*CartpoleBalance"):
        load_playground_env("CartpoleBalanced")
    from mujoco_playground._src import mjx_env

    if not mjx_env.MENAGERIE_PATH.exists():
        with pytest.raises(FileNotFoundError, match=r"'Go1JoystickFlatTerrain'.*MuJoCo Menagerie.*git clone"):
            load_playground_env("Go1JoystickFlatTerrain")
    with pytest.raises(ValueError, match=r"reset must be one of \['fresh', 'cached'\], got 'first'"):
        load_playground_env("CartpoleBalance", reset="first")
    with pytest.raises(ValueError, match=r"PlaygroundWrapper: episode_length must be an int >= 1, got 0"):
        load_playground_env("CartpoleBalance", episode_length=0)


def test_off_the_cpu_load_playground_env_leaves_the_physics_to_playground(cartpole, monkeypatch):
    from mujoco_playground import registry

    asked = []
    monkeypatch.setattr(
        registry, "load", lambda task, config_overrides=None: asked.append(config_overrides) or cartpole
    )
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    load_playground_env("CartpoleBalance")
    load_playground_env("CartpoleBalance", impl="jax")
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    load_playground_env("CartpoleBalance", config_overrides={"ctrl_dt": 0.01})
    assert asked == [{}, {"impl": "jax"}, {"impl": "jax", "ctrl_dt": 0.01}]


def test_playground_training_wrappers_and_the_host_trainer_are_refused_with_what_to_use(cartpole):
    with pytest.raises(TypeError, match=r"wrap_for_brax_training.*pass the environment registry.load\(task\) returns"):
        PlaygroundWrapper(wrapper.wrap_for_brax_training(cartpole, episode_length=10))
    env = wrap_env(cartpole)
    model = shared_model(
        env.observation_space, env.action_space, None, {"policy": GaussianHead(), "value": DeterministicHead()}
    )
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(8, 1), cfg={"rollouts": 8})
    for pure in (env, wrap_env(gymnax.make("CartPole-v1")[0])):
        with pytest.raises(
            TypeError, match=r"pure-JAX environment .* train it with CompiledTrainer\(env, agent, cfg\)"
        ):
            SequentialTrainer(pure, agent, cfg={"timesteps": 8})


def test_the_compiled_trainer_trains_a_playground_task_and_checkpoints_its_physics_state(cartpole, tmp_path):
    env = PlaygroundWrapper(cartpole, episode_length=16, reset="cached")
    model = shared_model(
        env.observation_space, env.action_space, None, {"policy": GaussianHead(), "value": DeterministicHead()}
    )
    experiment = {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0}
    agent = PPO(
        models={"policy": model, "value": model}, cfg={"rollouts": 8, "mini_batches": 2, "experiment": experiment}
    )
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 32, "num_envs": 2, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    assert np.all(np.isfinite(metrics["policy_loss"])) and np.asarray(metrics["policy_loss"]).shape[-1] == 4
    assert np.asarray(metrics["episodes"]).sum() == 2 * 32 // 16  # two environments, two 16-step episodes each
    # the runner holds MJX's Data (a pytree flax does not know): it saves and loads, value for value
    loaded = trainer.load(trainer.save(tmp_path / "run.ckpt", runner))
    assert isinstance(loaded.env_state.env_state.current.data, type(runner.env_state.env_state.current.data))
    assert loaded.env_state.env_state.current.data.qpos.shape == (2, 2)
    for before, after in zip(jax.tree.leaves(runner), jax.tree.leaves(loaded), strict=True):
        np.testing.assert_array_equal(np.asarray(raw(before)), np.asarray(raw(after)))


def test_batch_step_gives_what_vmap_of_step_gives_with_episodes_ending_as_due(cartpole):
    env = PlaygroundWrapper(cartpole, episode_length=3, reset="fresh")
    num_envs = 4
    _, states = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.key(0), num_envs))
    batched_states, reference_states, truncations = states, states, []
    batch_step, vmapped_step = jax.jit(env.batch_step), jax.jit(jax.vmap(env.step))
    for index in range(7):
        keys = jax.random.split(jax.random.key(index + 1), num_envs)
        actions = jax.random.uniform(jax.random.key(100 + index), (num_envs, 1), minval=-1)
        batched = batch_step(keys, batched_states, actions)
        reference = vmapped_step(keys, reference_states, actions)
        for mine, theirs in zip(jax.tree.leaves(batched), jax.tree.leaves(reference), strict=True):
            mine, theirs = np.asarray(raw(mine)), np.asarray(raw(theirs))
            if np.issubdtype(mine.dtype, np.floating):  # two programs: their float rounding may differ
                np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-8)
            else:
                np.testing.assert_array_equal(mine, theirs)
        batched_states, reference_states = batched[1], reference[1]
        truncations.append(bool(np.asarray(batched[4]).all()))
    assert truncations == [False, False, True, False, False, True, False]  # resets taken, and skipped, as due
