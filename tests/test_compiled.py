"""Pure-JAX environments and the CompiledTrainer: shapes, purity, seeds, chunks, errors, learning."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import chex  # noqa: E402
import flax.linen as nn  # noqa: E402
import gymnasium as gym  # noqa: E402
import gymnax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from skrl_jax.agents.core import Transition  # noqa: E402
from skrl_jax.agents.ppo import PPO  # noqa: E402
from skrl_jax.envs import GymnaxWrapper, wrap_env  # noqa: E402
from skrl_jax.models import CategoricalHead, DeterministicHead, GaussianHead, shared_model  # noqa: E402
from skrl_jax.resources.preprocessors import RunningStandardScaler  # noqa: E402
from skrl_jax.trainers import CompiledTrainer, last_episodes_return, metrics_table, plot_metrics  # noqa: E402


def cartpole_agent(width=16, **cfg):
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    trunk = nn.Sequential([nn.Dense(width), nn.tanh])
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=trunk,
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    settings = {"rollouts": 16, "learning_epochs": 2, "mini_batches": 2, **cfg}
    return env, PPO(models={"policy": model, "value": model}, cfg=settings)


def test_gymnax_wrapper_steps_with_episode_statistics():
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    assert isinstance(env, GymnaxWrapper) and env.action_space == gym.spaces.Discrete(2)
    observation, state = env.reset(jax.random.key(0))
    assert observation.shape == (4,) and observation.dtype == jnp.float32
    step = jax.jit(env.step)
    total, length = 0.0, 0
    for index in range(600):
        observation, state, reward, terminated, truncated, info = step(
            jax.random.key(index), state, jnp.array([index % 2])
        )
        total, length = total + float(reward), length + 1
        if bool(info["episode_done"]):
            break
    assert bool(terminated) and not bool(truncated)
    assert float(info["episode_return"]) == total and int(info["episode_length"]) == length
    assert float(state.episode_return) == 0.0 and int(state.episode_length) == 0
    assert np.abs(np.asarray(observation)).max() <= 0.05  # the next episode's first observation
    batched = jax.vmap(env.reset)(jax.random.split(jax.random.key(1), 3))
    assert batched[0].shape == (3, 4)


def test_gymnax_continuous_actions():
    env = wrap_env(gymnax.make("Pendulum-v1"))
    observation, state = env.reset(jax.random.key(0))
    _, _, reward, terminated, truncated, _ = env.step(jax.random.key(1), state, jnp.array([0.5]))
    assert observation.shape == (3,) and reward.dtype == jnp.float32 and not bool(terminated | truncated)
    assert isinstance(env.action_space, gym.spaces.Box) and env.action_space.shape == (1,)


def test_compiled_update_is_the_host_agents_update():
    env, agent = cartpole_agent()
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 32, "num_envs": 2, "disable_progressbar": True})
    host = agent.make_functions(num_envs=2)
    state = host.init(jax.random.key(0))
    rng = np.random.default_rng(0)
    for step in range(16):
        observations = jnp.asarray(rng.normal(size=(2, 4)), jnp.float32)
        actions, extras = host.act(state, observations, jax.random.key(step), step)
        transition = Transition(
            observations,
            actions,
            jnp.ones((2, 1)),
            observations,
            jnp.asarray(rng.random((2, 1)) < 0.1),
            jnp.zeros((2, 1), bool),
        )
        state = host.record(state, transition, extras, step)
    on_host = agent.make_functions(num_envs=2).update(state, jax.random.key(3), 15)
    compiled = jax.jit(trainer.functions.update)(state, jax.random.key(3), 15)
    chex.assert_trees_all_close(on_host, compiled, rtol=1e-6)


def test_vmapped_seeds_equal_separate_runs_and_differ():
    env, agent = cartpole_agent()
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 2, "disable_progressbar": True})
    train = jax.jit(trainer.make_train())
    keys = jax.random.split(jax.random.key(0), 3)
    runners, metrics = jax.jit(jax.vmap(trainer.make_train()))(keys)
    assert metrics["policy_loss"].shape == (3, trainer.num_updates)
    for index in range(3):
        single_runner, single_metrics = train(keys[index])
        chex.assert_trees_all_close(
            jax.tree.map(lambda x, i=index: x[i], runners.agent_state.learner.params),
            single_runner.agent_state.learner.params,
            rtol=1e-5,
            atol=1e-6,
        )
    trunk = runners.agent_state.learner.params["policy"]["trunk"]["layers_0"]["kernel"]
    assert not jnp.allclose(trunk[0], trunk[1])


def test_chunks_compile_once_and_store_the_parameters():
    env, agent = cartpole_agent()
    trainer = CompiledTrainer(
        env, agent, cfg={"timesteps": 128, "num_envs": 2, "updates_per_chunk": 2, "disable_progressbar": True}
    )
    assert trainer.num_updates == 8 and trainer.updates_per_chunk == 2
    traces = []
    run_updates = trainer.run_updates

    def counting(runner, num_updates):
        traces.append(num_updates)
        return run_updates(runner, num_updates)

    trainer.run_updates = counting
    runner, metrics = trainer.train(jax.random.key(0))
    assert traces == [2]  # four chunks, one trace
    assert metrics["policy_loss"].shape == (8,) and int(runner.agent_state.learner.updates) == 8
    chex.assert_trees_all_equal(agent.policy.params, runner.agent_state.learner.params["policy"])
    table = metrics_table(metrics, env_steps_per_update=32)
    assert table.count("\n") >= 3 and "episode_return" in table
    assert plot_metrics(metrics, env_steps_per_update=32).get_xlabel() == "environment steps"


def test_bad_input_is_refused_before_compiling():
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    pendulum = gym.make("Pendulum-v1")
    wrong_observations = shared_model(
        pendulum.observation_space,
        gym.spaces.Discrete(2),
        trunk=None,
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    agent = PPO(models={"policy": wrong_observations, "value": wrong_observations}, cfg={"rollouts": 16})
    with pytest.raises(ValueError, match=r"observations have 4 values .* built for 3"):
        CompiledTrainer(env, agent)
    three_actions = shared_model(
        env.observation_space,
        gym.spaces.Discrete(3),
        trunk=None,
        heads={"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    agent = PPO(models={"policy": three_actions, "value": three_actions}, cfg={"rollouts": 16})
    with pytest.raises(ValueError, match=r"acts in Discrete\(3\) but the environment takes Discrete\(2\)"):
        CompiledTrainer(env, agent)
    _, agent = cartpole_agent(mini_batches=3)
    with pytest.raises(ValueError, match="32 samples does not divide into mini_batches=3"):
        CompiledTrainer(env, agent, cfg={"num_envs": 2})
    with pytest.raises(TypeError, match="pure-JAX environment"):
        CompiledTrainer(wrap_env(gym.make("CartPole-v1")), agent)
    with pytest.raises(KeyError, match="unknown CompiledTrainer cfg key 'num_env'"):
        CompiledTrainer(env, agent, cfg={"num_env": 4})


def test_nan_during_a_compiled_run_is_reported_with_the_update():
    def poison(rewards, timestep, timesteps):
        return jnp.where(timestep >= 48, jnp.nan, rewards)

    env, agent = cartpole_agent(rewards_shaper=poison)
    trainer = CompiledTrainer(
        env, agent, cfg={"timesteps": 128, "num_envs": 2, "updates_per_chunk": 2, "disable_progressbar": True}
    )
    with pytest.raises(FloatingPointError, match="at update 3 "):
        trainer.train(jax.random.key(0))


def test_greedy_evaluation_and_continuous_policy_run():
    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=nn.Dense(16),
        heads={"policy": GaussianHead(), "value": DeterministicHead()},
    )
    agent = PPO(
        models={"policy": model, "value": model},
        cfg={
            "rollouts": 32,
            "mini_batches": 4,
            "state_preprocessor": RunningStandardScaler,
            "state_preprocessor_kwargs": {"size": 3},
        },
    )
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": 2, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    returns = jax.jit(trainer.make_evaluate(num_episodes=3, max_steps=200))(runner.agent_state, jax.random.key(1))
    assert returns.shape == (3,) and bool(jnp.all(returns < 0))
    assert np.all(np.isfinite(metrics["value_loss"]))


def test_compiled_ppo_learns_cartpole():
    env, agent = cartpole_agent(
        width=64,
        rollouts=128,
        learning_epochs=4,
        mini_batches=4,
        learning_rate=1e-3,
        entropy_loss_scale=0.01,
        value_loss_scale=0.5,
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1},
    )
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 12_800, "num_envs": 4, "disable_progressbar": True})
    # one seed's return after 51k env steps ranges from ~150 to ~470: judge 4 seeds (vmapped, one call)
    _, metrics = jax.jit(jax.vmap(trainer.make_train()))(jax.random.split(jax.random.key(0), 4))
    returns = np.asarray(metrics["episode_return"])
    first, last = np.nanmean(returns[:, :5], axis=1), np.nanmean(returns[:, -5:], axis=1)
    assert first.mean() < 60 and last.mean() > 200 and np.all(last > 2 * first), (first, last)


def test_brax_environment_trains_when_brax_is_installed():
    brax_envs = pytest.importorskip("brax.envs")
    from skrl_jax.envs import BraxWrapper

    env = BraxWrapper(brax_envs.get_environment("inverted_pendulum"), episode_length=20)
    assert wrap_env(env) is env and env.observation_space.shape == (4,) and env.action_space.shape == (1,)
    observation, state = jax.jit(env.reset)(jax.random.key(0))
    lengths = []
    step = jax.jit(env.step)
    for index in range(45):
        observation, state, reward, terminated, truncated, info = step(jax.random.key(index), state, jnp.zeros(1))
        if bool(info["episode_done"]):
            lengths.append(int(info["episode_length"]))
            assert bool(truncated) != bool(terminated)
    assert lengths and all(length <= 20 for length in lengths)
    model = shared_model(
        env.observation_space,
        env.action_space,
        trunk=nn.Dense(16),
        heads={"policy": GaussianHead(), "value": DeterministicHead()},
    )
    agent = PPO(models={"policy": model, "value": model}, cfg={"rollouts": 16, "mini_batches": 2})
    _, metrics = CompiledTrainer(env, agent, cfg={"timesteps": 32, "num_envs": 2, "disable_progressbar": True}).train(
        jax.random.key(0)
    )
    assert np.all(np.isfinite(metrics["policy_loss"]))


def test_last_episodes_return_takes_whole_updates_back_to_the_count():
    metrics = {
        "episode_return": np.array([[1.0, 2.0, np.nan, 4.0], [5.0, 6.0, 7.0, 8.0]]),
        "episodes": np.array([[3, 5, 0, 10], [30, 1, 1, 1]]),
    }
    # seed 0: the last update (10 episodes of 4.0), one with none, then 5 of 2.0 reach 12
    np.testing.assert_allclose(last_episodes_return(metrics, 12), [(10 * 4 + 5 * 2) / 15, (8 + 7 + 6 + 30 * 5) / 33])
    np.testing.assert_allclose(last_episodes_return(metrics, 2), [4.0, 7.5])
    assert np.isnan(last_episodes_return({"episode_return": np.array([np.nan]), "episodes": np.array([0])}))
    with pytest.raises(ValueError, match=r"metrics\['episodes'\] \(3,\)"):
        last_episodes_return({"episode_return": np.zeros(2), "episodes": np.zeros(3)})
