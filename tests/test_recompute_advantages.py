"""cfg["recompute_advantages"]: brax's PPO estimate (GAE at every minibatch from the current values)."""

import flax.linen as nn
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.on_policy.update import compute_gae, masked_gae
from skrl_jax.agents.ppo import PPO, PPO_RNN
from skrl_jax.envs import wrap_env
from skrl_jax.models import GRU, CategoricalHead, DeterministicHead, RecurrentTrunk, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer


def reference_masked_gae(rewards, values, next_values, terminated, truncated, gamma, lam):
    """The estimate written out step by step in numpy: a truncated step contributes nothing and
    stops the trace; the targets are lambda-returns; advantage = r + gamma * next target - value."""
    steps = rewards.shape[0]
    following = np.concatenate([values[1:], next_values[None]])
    alive = 1.0 - terminated * (1.0 - truncated)
    differences, trace = np.zeros_like(rewards), np.zeros_like(next_values)
    for t in reversed(range(steps)):
        delta = (rewards[t] + gamma * alive[t] * following[t] - values[t]) * (1.0 - truncated[t])
        trace = delta + gamma * alive[t] * (1.0 - truncated[t]) * lam * trace
        differences[t] = trace
    targets = differences + values
    following_targets = np.concatenate([targets[1:], next_values[None]])
    advantages = (rewards + gamma * alive * following_targets - values) * (1.0 - truncated)
    return targets, advantages


def random_rollout(seed, steps=19, envs=3):
    rng = np.random.default_rng(seed)
    rewards, values = (rng.normal(size=(steps, envs, 1)).astype(np.float32) for _ in range(2))
    next_values = rng.normal(size=(envs, 1)).astype(np.float32)
    ended = rng.random((steps, envs, 1)) < 0.25
    truncated = (ended & (rng.random((steps, envs, 1)) < 0.5)).astype(np.float32)
    terminated = (ended & (truncated == 0)).astype(np.float32)
    return rewards, values, next_values, terminated, truncated


def test_masked_gae_matches_the_step_by_step_formula_and_brax():
    rewards, values, next_values, terminated, truncated = random_rollout(0)
    targets, advantages = masked_gae(
        *map(jnp.asarray, (rewards, values, next_values)),
        jnp.asarray(terminated > 0),
        jnp.asarray(truncated > 0),
        0.97,
        0.9,
    )
    expected = reference_masked_gae(rewards, values, next_values, terminated, truncated, 0.97, 0.9)
    np.testing.assert_allclose(targets, expected[0], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(advantages, expected[1], rtol=1e-5, atol=1e-5)
    assert np.all(np.asarray(advantages)[truncated > 0] == 0)

    brax_losses = pytest.importorskip("brax.training.agents.ppo.losses")
    brax_targets, brax_advantages = brax_losses.compute_gae(
        truncation=jnp.asarray(truncated[..., 0]),
        termination=jnp.asarray(terminated[..., 0]),
        rewards=jnp.asarray(rewards[..., 0]),
        values=jnp.asarray(values[..., 0]),
        bootstrap_value=jnp.asarray(next_values[..., 0]),
        lambda_=0.9,
        discount=0.97,
    )
    np.testing.assert_allclose(targets[..., 0], brax_targets, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(advantages[..., 0], brax_advantages, rtol=1e-5, atol=1e-5)


def test_without_time_limits_the_targets_are_skrls_returns():
    rewards, values, next_values, terminated, _ = random_rollout(1)
    no_limits = np.zeros_like(terminated)
    targets, _ = masked_gae(
        *map(jnp.asarray, (rewards, values, next_values)),
        jnp.asarray(terminated > 0),
        jnp.asarray(no_limits > 0),
        0.99,
        0.95,
    )
    returns, _ = compute_gae(*map(jnp.asarray, (rewards, terminated > 0, values, next_values)), 0.99, 0.95)
    np.testing.assert_allclose(targets, returns, rtol=1e-5, atol=1e-5)


def cartpole_run(num_envs=4, **cfg):
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    model = shared_model(
        env.observation_space,
        env.action_space,
        nn.Sequential([nn.Dense(16), nn.tanh]),
        {"policy": CategoricalHead(), "value": DeterministicHead()},
    )
    agent = PPO(models={"policy": model, "value": model}, cfg={"rollouts": 16, **cfg})
    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 64, "num_envs": num_envs, "disable_progressbar": True})
    return trainer.train(jax.random.key(0))[1]


def test_the_first_update_sees_the_rollouts_values_then_the_runs_part():
    # One epoch of one minibatch: the recomputed values are the rollout's (no step has been taken),
    # and no episode reaches CartPole's time limit within 16 steps, so the value targets are skrl's
    # returns and the first value loss is the same. With two minibatches the second sees values
    # the first step changed, and the runs part.
    settings = {"learning_epochs": 1, "mini_batches": 1, "value_loss_scale": 0.5}
    default = cartpole_run(**settings)
    recomputed = cartpole_run(recompute_advantages=True, **settings)
    np.testing.assert_allclose(recomputed["value_loss"][0], default["value_loss"][0], rtol=1e-5)
    settings = {"learning_epochs": 2, "mini_batches": 2, "value_loss_scale": 0.5}
    default, recomputed = cartpole_run(**settings), cartpole_run(recompute_advantages=True, **settings)
    assert np.all(np.isfinite(recomputed["policy_loss"]))
    assert not np.allclose(recomputed["value_loss"], default["value_loss"], rtol=1e-3)


def test_settings_it_cannot_serve_are_refused():
    with pytest.raises(ValueError, match=r"2 environments do not divide into mini_batches=4"):
        cartpole_run(num_envs=2, recompute_advantages=True, mini_batches=4)
    with pytest.raises(ValueError, match=r"cannot be combined with a value_preprocessor"):
        cartpole_run(
            recompute_advantages=True, value_preprocessor=RunningStandardScaler, value_preprocessor_kwargs={"size": 1}
        )
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    model = shared_model(
        env.observation_space,
        env.action_space,
        RecurrentTrunk(GRU(8)),
        {"policy": CategoricalHead(), "value": DeterministicHead()},
        sequence_length=16,
    )
    with pytest.raises(ValueError, match=r"feed-forward models only"):
        PPO_RNN(models={"policy": model, "value": model}, cfg={"rollouts": 16, "recompute_advantages": True})
