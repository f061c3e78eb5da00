"""GAE, the running scaler, the KL-adaptive scheduler, RandomMemory and the gymnasium wrapper."""

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.on_policy.update import compute_gae
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory, memory_add, memory_init, memory_sample
from skrl_jax.resources.preprocessors import RunningStandardScaler, scaler_init, scaler_update
from skrl_jax.resources.schedulers import KLAdaptiveLR

# --- GAE -------------------------------------------------------------------------------------


def reference_gae(rewards, dones, values, next_values, gamma, lam):
    """skrl's PyTorch loop, written out in numpy (torch's ``std`` is the sample std)."""
    advantages = np.zeros_like(rewards)
    advantage = 0.0
    for i in reversed(range(rewards.shape[0])):
        following = values[i + 1] if i < rewards.shape[0] - 1 else next_values
        advantage = rewards[i] - values[i] + gamma * (1 - dones[i]) * (following + lam * advantage)
        advantages[i] = advantage
    returns = advantages + values
    return returns, (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)


def test_gae_matches_skrl_loop():
    rng = np.random.default_rng(0)
    rewards = rng.normal(size=(17, 3, 1)).astype(np.float32)
    values = rng.normal(size=(17, 3, 1)).astype(np.float32)
    dones = (rng.random((17, 3, 1)) < 0.2).astype(np.float32)
    next_values = rng.normal(size=(3, 1)).astype(np.float32)
    returns, advantages = compute_gae(
        jnp.asarray(rewards), jnp.asarray(dones > 0), jnp.asarray(values), jnp.asarray(next_values), 0.97, 0.9
    )
    expected_returns, expected_advantages = reference_gae(rewards, dones, values, next_values, 0.97, 0.9)
    np.testing.assert_allclose(returns, expected_returns, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(advantages, expected_advantages, rtol=1e-4, atol=1e-5)


def test_gae_program_size_does_not_grow_with_rollouts():
    def size(rollouts):
        zeros = jnp.zeros((rollouts, 4, 1))
        jaxpr = jax.make_jaxpr(compute_gae)(zeros, zeros > 0, zeros, jnp.zeros((4, 1)))
        return len(jaxpr.jaxpr.eqns)

    assert size(32) == size(1024)


# --- preprocessor and scheduler ---------------------------------------------------------------


def test_scaler_merges_batches_with_the_parallel_variance_formula():
    rng = np.random.default_rng(1)
    batches = [rng.normal(3.0, 2.0, size=(n, 2)) for n in (5, 11, 7)]
    state = scaler_init(2)
    mean, variance, count = np.zeros(2), np.ones(2), 1.0
    for batch in batches:
        state = scaler_update(state, jnp.asarray(batch, jnp.float32))
        batch_mean, batch_variance, n = batch.mean(0), batch.var(0, ddof=1), len(batch)
        delta, total = batch_mean - mean, count + n
        m2 = variance * count + batch_variance * n + delta**2 * count * n / total
        mean, variance, count = mean + delta * n / total, m2 / total, total
    np.testing.assert_allclose(state.mean, mean, rtol=1e-5)
    np.testing.assert_allclose(state.variance, variance, rtol=1e-5)
    assert float(state.count[0]) == 24.0


def test_running_standard_scaler_eager_interface():
    scaler = RunningStandardScaler(gym.spaces.Box(-1, 1, (3,)), clip_threshold=2.0)
    data = jnp.asarray(np.random.default_rng(2).normal(5.0, 3.0, size=(1000, 3)), jnp.float32)
    standardized = scaler(data, train=True)
    assert jnp.all(jnp.abs(standardized) <= 2.0)
    np.testing.assert_allclose(
        standardized.mean(0), (data.mean(0) - scaler.state.mean) / jnp.sqrt(scaler.state.variance), atol=0.05
    )
    inside = scaler.state.mean + jnp.array([[-1.5], [0.0], [1.5]]) * jnp.sqrt(scaler.state.variance)
    np.testing.assert_allclose(scaler(scaler(inside), inverse=True), inside, rtol=1e-4)


def test_kl_adaptive_lr():
    schedule = KLAdaptiveLR(kl_threshold=0.01, min_lr=1e-4, max_lr=1e-2, kl_factor=2, lr_factor=1.5)
    np.testing.assert_allclose(schedule(0, 1e-3, 0.03), 1e-3 / 1.5)
    np.testing.assert_allclose(schedule(0, 1e-3, 0.001), 1e-3 * 1.5)
    np.testing.assert_allclose(schedule(0, 1e-3, 0.01), 1e-3)
    np.testing.assert_allclose(schedule(0, 1.2e-4, 0.5), 1e-4)
    np.testing.assert_allclose(schedule(0, 9e-3, 0.0), 1e-2)
    assert schedule(0) == 1.0
    np.testing.assert_allclose(jax.jit(schedule)(0, 1e-3, 0.03), 1e-3 / 1.5, rtol=1e-6)


# --- memory -----------------------------------------------------------------------------------


def test_memory_add_wraps_and_sample_reads_written_rows():
    state = memory_init(3, 2, {"x": (1, jnp.float32)})
    add = jax.jit(memory_add)
    for step in range(4):
        state = add(state, {"x": jnp.full((2, 1), step + 1.0)})
    np.testing.assert_allclose(state.tensors["x"][:, :, 0], [[4, 4], [2, 2], [3, 3]])
    assert int(state.index) == 1 and bool(state.filled)
    sample = memory_sample(state, jax.random.key(0), ["x"], 64)["x"]
    assert sample.shape == (64, 1) and set(np.unique(sample).tolist()) <= {2.0, 3.0, 4.0}

    partial = add(memory_init(5, 1, {"x": (1, jnp.float32)}), {"x": jnp.ones((1, 1))})
    assert jnp.all(memory_sample(partial, jax.random.key(1), ["x"], 32)["x"] == 1.0)


def test_random_memory_skrl_interface():
    memory = RandomMemory(memory_size=4, num_envs=2)
    memory.create_tensor("states", gym.spaces.Box(-1, 1, (3,)))
    memory.create_tensor("done", 1, jnp.bool_)
    for step in range(4):
        memory.add_samples(
            states=jnp.full((2, 3), float(step)), done=jnp.array([[False], [True]]), unknown=jnp.zeros(2)
        )
    assert len(memory) == 8
    assert memory.get_tensor_by_name("states").shape == (4, 2, 3)
    batches = memory.sample_all(["states", "done"], mini_batches=2)
    assert len(batches) == 2 and batches[0][0].shape == (4, 3) and batches[0][1].dtype == jnp.bool_
    np.testing.assert_allclose(batches[1][0][:, 0], [2, 2, 3, 3])
    with pytest.raises(ValueError, match="exists with size 3"):
        memory.create_tensor("states", 4)


# --- gymnasium wrapper --------------------------------------------------------------------------


def test_single_env_wrapper_shapes_and_reset_within_the_step():
    env = wrap_env(gym.make("CartPole-v1"))
    states, _ = env.reset(seed=0)
    assert env.num_envs == 1 and states.shape == (1, 4) and states.dtype == jnp.float32
    done = False
    while not done:
        next_states, rewards, terminated, truncated, infos = env.step(jnp.array([[1]]))
        assert rewards.shape == terminated.shape == truncated.shape == (1, 1)
        done = bool(terminated[0, 0] | truncated[0, 0])
    final = np.asarray(infos["final_observation"])
    assert abs(final[2]) > 0.2 or abs(final[0]) > 2.4  # pole fell or cart left: the terminal observation
    assert np.all(np.abs(np.asarray(next_states)) <= 0.05)  # the new episode's first observation


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_vector_env_never_yields_a_transition_from_the_reset_step(mode):
    same_step = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP, "context": "spawn"}
    kwargs = {"vector_kwargs": same_step} if mode == "async" else {}
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode=mode, **kwargs))
    states, _ = env.reset(seed=0)
    assert states.shape == (2, 4)
    ended = 0
    for _ in range(200):
        next_states, rewards, terminated, truncated, infos = env.step(jnp.ones((2, 1), jnp.int32))
        # every step is a real one: CartPole pays 1 per step, the ignored "reset step" of next-step autoreset pays 0
        assert jnp.all(rewards == 1.0)
        done = np.asarray(terminated | truncated)[:, 0]
        if done.any():
            ended += int(done.sum())
            assert np.all(np.abs(np.asarray(next_states)[done]) <= 0.05)
    env.close()
    assert ended > 2


def test_async_env_with_next_step_autoreset_is_refused():
    env = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="async", vector_kwargs={"context": "spawn"})
    try:
        with pytest.raises(ValueError, match="AutoresetMode.SAME_STEP"):
            wrap_env(env)
    finally:
        env.close()


def test_pendulum_vector_actions_and_a_non_environment_is_refused():
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=3, vectorization_mode="sync"))
    env.reset(seed=0)
    _, rewards, _, _, _ = env.step(jnp.zeros((3, 1)))
    assert rewards.shape == (3, 1)
    with pytest.raises(TypeError, match="gymnasium Env or VectorEnv"):
        wrap_env(object())


@pytest.mark.parametrize("num_envs", [None, 3])
def test_final_states_hold_each_ended_episodes_last_observation_in_one_transfer(num_envs):
    raw = (
        gym.make("CartPole-v1")
        if num_envs is None
        else gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    )
    env = wrap_env(raw)
    env.reset(seed=0)
    ended_somewhere = False
    for _ in range(40):
        next_states, _, terminated, truncated, infos = env.step(np.ones((env.num_envs, 1), np.int64))
        done = np.asarray(terminated | truncated).reshape(-1)
        final = infos["final_states"]
        if not done.any():
            assert final is next_states  # no second copy when no episode ended
            continue
        ended_somewhere = True
        final, next_states = np.asarray(final), np.asarray(next_states)
        np.testing.assert_array_equal(final[~done], next_states[~done])
        assert ((np.abs(final[done, 2]) > 0.2) | (np.abs(final[done, 0]) > 2.4)).all()  # the terminal observation
    assert ended_somewhere
