"""Observation selection (hidden-velocity CartPole) for gymnax and gymnasium, and gymnax's MemoryChain-bsuite."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import flax.linen as nn  # noqa: E402
import gymnasium as gym  # noqa: E402
import gymnax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from gymnax.wrappers import FlattenObservationWrapper, LogWrapper  # noqa: E402

from skrl_jax.agents.ppo import PPO  # noqa: E402
from skrl_jax.envs import (  # noqa: E402
    GymnasiumWrapper,
    GymnaxWrapper,
    SelectGymnasiumObservation,
    SelectGymnaxObservation,
    hidden_velocity_cartpole,
    select_observation,
    wrap_env,
)
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model  # noqa: E402

KEPT = [0, 2]


def lockstep(env_a, env_b, params, steps=400, seed=0):
    """Both gymnax envs from the same reset key, stepped with the same keys and random actions."""

    def run(env):
        def body(state, key):
            action_key, step_key = jax.random.split(key)
            action = jax.random.randint(action_key, (), 0, 2)
            obs, state, reward, terminated, truncated, info = env.step(step_key, state, action, params)
            return state, (obs, reward, terminated, truncated, info["final_observation"])

        obs, state = env.reset(jax.random.key(seed), params)
        _, outputs = jax.lax.scan(body, state, jax.random.split(jax.random.key(seed + 1), steps))
        return obs, outputs

    return jax.jit(lambda: (run(env_a), run(env_b)))()


def test_gymnax_hidden_velocity_is_the_full_observation_at_0_and_2():
    full, params = gymnax.make("CartPole-v1")
    hidden = hidden_velocity_cartpole("gymnax")
    assert isinstance(hidden, SelectGymnaxObservation) and hidden.num_actions == 2
    space, full_space = hidden.observation_space(params), full.observation_space(params)
    assert space.shape == (2,) and space.dtype == full_space.dtype
    np.testing.assert_array_equal(space.low, full_space.low[np.array(KEPT)])
    np.testing.assert_array_equal(space.high, full_space.high[np.array(KEPT)])

    (obs0_full, (obs_full, r_full, te_full, tr_full, fin_full)), (obs0, (obs, r, te, tr, fin)) = lockstep(
        full, hidden, params
    )
    assert obs0.shape == (2,) and obs.shape == (400, 2) and fin.shape == (400, 2)
    np.testing.assert_array_equal(obs0, obs0_full[np.array(KEPT)])
    np.testing.assert_array_equal(obs, obs_full[:, np.array(KEPT)])
    np.testing.assert_array_equal(fin, fin_full[:, np.array(KEPT)])
    for mine, theirs in ((r, r_full), (te, te_full), (tr, tr_full)):
        np.testing.assert_array_equal(mine, theirs)
    assert int(te.sum()) >= 5  # random actions: several episodes ended and were reset inside the step


def test_gymnax_hidden_velocity_through_wrap_env_and_gymnax_wrappers():
    hidden = hidden_velocity_cartpole("gymnax")
    env = wrap_env(hidden)
    assert isinstance(env, GymnaxWrapper) and wrap_env(hidden, wrapper="gymnax").observation_space.shape == (2,)
    assert env.observation_space == gym.spaces.Box(
        np.array([-4.8, -0.41887903], np.float32), np.array([4.8, 0.41887903], np.float32), dtype=np.float32
    )
    assert env.action_space == gym.spaces.Discrete(2)
    pair = select_observation(gymnax.make("CartPole-v1"), KEPT)
    assert isinstance(wrap_env(pair), GymnaxWrapper) and wrap_env(pair).observation_space.shape == (2,)

    full = wrap_env(gymnax.make("CartPole-v1")[0])
    (obs_full, state_full), (obs, state) = full.reset(jax.random.key(3)), env.reset(jax.random.key(3))
    step_full, step = jax.jit(full.step), jax.jit(env.step)
    for index in range(60):
        key, action = jax.random.key(10 + index), jnp.array([index % 3 == 0])
        obs_full, state_full, *rest_full = step_full(key, state_full, action)
        obs, state, *rest = step(key, state, action)
        np.testing.assert_array_equal(obs, obs_full[np.array(KEPT)])
        np.testing.assert_array_equal(rest[-1]["final_observation"], rest_full[-1]["final_observation"][np.array(KEPT)])
        for mine, theirs in zip(rest[:-1], rest_full[:-1]):
            np.testing.assert_array_equal(mine, theirs)
        assert float(rest[-1]["episode_return"]) == float(rest_full[-1]["episode_return"])

    # gymnax's own wrappers (what PureJaxRL stacks) take it as any gymnax environment
    logged = LogWrapper(FlattenObservationWrapper(hidden))
    params = hidden.default_params
    obs, state = logged.reset(jax.random.key(0), params)
    obs, state, reward, terminated, truncated, info = logged.step(jax.random.key(1), state, 0, params)
    assert obs.shape == (2,) and info["final_observation"].shape == (2,)
    assert logged.observation_space(params).shape == (2,)


def test_gymnasium_hidden_velocity_is_the_full_observation_at_0_and_2():
    full, hidden = gym.make("CartPole-v1"), hidden_velocity_cartpole("gymnasium")
    assert isinstance(hidden, SelectGymnasiumObservation) and hidden.action_space == full.action_space
    assert hidden.observation_space == gym.spaces.Box(
        full.observation_space.low[KEPT], full.observation_space.high[KEPT], dtype=np.float32
    )
    rng = np.random.default_rng(0)
    episodes = 0
    for episode in range(3):
        (obs_full, _), (obs, _) = full.reset(seed=episode), hidden.reset(seed=episode)
        np.testing.assert_array_equal(obs, obs_full[KEPT])
        done = False
        while not done:
            action = int(rng.integers(2))
            obs_full, r_full, te_full, tr_full, _ = full.step(action)
            obs, r, te, tr, _ = hidden.step(action)
            assert obs.shape == (2,) and hidden.observation_space.contains(obs)
            np.testing.assert_array_equal(obs, obs_full[KEPT])
            assert (r, te, tr) == (r_full, te_full, tr_full)
            done = te or tr
        episodes += 1
    assert episodes == 3

    env = wrap_env(hidden_velocity_cartpole("gymnasium"))
    assert isinstance(env, GymnasiumWrapper) and env.observation_space.shape == (2,)
    states, _ = env.reset(seed=0)
    next_states, rewards, terminated, truncated, _ = env.step(jnp.array([[1]]))
    assert states.shape == (1, 2) and next_states.shape == (1, 2) and rewards.shape == (1, 1)

    # a vector env: each sub-environment wrapped by make_vec
    vector = gym.make_vec(
        "CartPole-v1", num_envs=2, vectorization_mode="sync", wrappers=[lambda e: select_observation(e, KEPT)]
    )
    states, _ = wrap_env(vector).reset(seed=0)
    assert states.shape == (2, 2)
    with pytest.raises(ValueError, match="make_vec"):
        select_observation(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"), KEPT)


def test_compiled_ppo_runs_on_the_gymnax_hidden_velocity_cartpole():
    from skrl_jax.trainers import CompiledTrainer

    env = wrap_env(hidden_velocity_cartpole("gymnax"))
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=nn.Sequential([nn.Dense(16), nn.tanh]),
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    agent = PPO(models={"policy": model, "value": model}, cfg={"rollouts": 16, "learning_epochs": 2, "mini_batches": 2})
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 2, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    assert metrics["policy_loss"].shape == (4,) and np.all(np.isfinite(metrics["value_loss"]))
    assert runner.agent_state.learner.params["policy"]["trunk"]["layers_0"]["kernel"].shape == (2, 16)


@pytest.mark.parametrize(
    ("indices", "message"),
    [
        ([0, 4], r"index 4 is out of range; expected distinct int indices in 0\.\.3 .* got \[0, 4\]"),
        ([-1], r"index -1 is out of range; expected distinct int indices in 0\.\.3"),
        ([], r"indices is empty; expected distinct int indices in 0\.\.3"),
        ([0, 0], r"indices repeat; .* got \[0, 0\]"),
        ([0.0, 2], r"index 0\.0 is not an int"),
        (2, r"indices must be a sequence of ints; .* got 2"),
    ],
)
def test_bad_indices_are_refused_for_both_kinds(indices, message):
    with pytest.raises(ValueError, match=message):
        select_observation(gymnax.make("CartPole-v1")[0], indices)
    with pytest.raises(ValueError, match=message):
        select_observation(gym.make("CartPole-v1"), indices)


def test_observation_spaces_that_are_not_flat_boxes_are_refused():
    with pytest.raises(ValueError, match=r"expected a 1-D Box observation space, got Discrete\(16"):
        select_observation(gymnax.make("FrozenLake-misc")[0], [0])
    with pytest.raises(ValueError, match=r"expected a 1-D Box observation space, got Discrete\(16\)"):
        select_observation(gym.make("FrozenLake-v1"), [0])
    with pytest.raises(ValueError, match=r"got a Box of shape \(10, 10, 4\); flatten it first"):
        select_observation(gymnax.make("Breakout-MinAtar")[0], [0])
    with pytest.raises(ValueError, match="expected kind='gymnax' or kind='gymnasium', got 'brax'"):
        hidden_velocity_cartpole("brax")
    with pytest.raises(TypeError, match="got str"):
        select_observation("CartPole-v1", KEPT)


def test_gymnax_memory_chain_wraps_and_steps():
    base, params = gymnax.make("MemoryChain-bsuite")
    env = wrap_env(base)
    assert isinstance(env, GymnaxWrapper)
    assert env.observation_space == gym.spaces.Box(0.0, 2.0, (3,), np.float32)
    assert env.action_space == gym.spaces.Discrete(2) and params.memory_length == 5
    step = jax.jit(env.step)
    returns, lengths = [], []
    for seed in range(4):
        observation, state = env.reset(jax.random.key(seed))
        context = float(observation[2])  # +-1, shown at the first step only
        assert observation.shape == (3,) and context in (-1.0, 1.0)
        action = jnp.array([int(context > 0)])  # the correct answer
        done = False
        while not done:
            observation, state, reward, terminated, truncated, info = step(jax.random.key(100 + seed), state, action)
            done = bool(info["episode_done"])
        returns.append(float(info["episode_return"]))
        lengths.append(int(info["episode_length"]))
        assert bool(terminated) and not bool(truncated)
    assert returns == [1.0] * 4 and lengths == [params.memory_length + 1] * 4
