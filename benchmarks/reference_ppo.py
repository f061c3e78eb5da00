"""A hand-written PPO for gymnax CartPole-v1 in plain flax + optax, in the PureJaxRL style.

The yardstick for the library's CompiledTrainer: one file, the whole run as one function under
`jax.jit`, and the same math as `examples/compiled_cartpole.py` (shared 2x64 tanh trunk,
categorical policy head, value head, orthogonal initialisation; 4 envs x 128 steps; GAE with normalised advantages;
returns and values standardised by a running scaler; 4 epochs x 4 shuffled minibatches;
clipped surrogate + 0.01 entropy + 0.5 value loss; global-norm clipping 0.5; Adam with the
learning rate 2.5e-4 annealed linearly per epoch). It has none of the library's extras
(NaN flags, KL metrics, masks for the KL early stop).
"""

from typing import NamedTuple

import flax.linen as nn
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import optax

CONFIG = {
    "num_envs": 4,
    "num_steps": 128,
    "total_env_steps": 500_000,
    "epochs": 4,
    "minibatches": 4,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "clip": 0.2,
    "entropy": 0.01,
    "value_scale": 0.5,
    "max_grad_norm": 0.5,
    "lr": 2.5e-4,
    "width": 64,
}


class ActorCritic(nn.Module):
    num_actions: int
    width: int

    @nn.compact
    def __call__(self, x):
        orthogonal = nn.initializers.orthogonal
        x = nn.tanh(nn.Dense(self.width, kernel_init=orthogonal(np.sqrt(2)))(x))
        x = nn.tanh(nn.Dense(self.width, kernel_init=orthogonal(np.sqrt(2)))(x))
        logits = nn.Dense(self.num_actions, kernel_init=orthogonal(0.01))(x)
        return logits, nn.Dense(1, kernel_init=orthogonal(1.0))(x)


class Scaler(NamedTuple):
    mean: jax.Array
    var: jax.Array
    count: jax.Array


def scaler_update(s: Scaler, x: jax.Array) -> Scaler:
    x = x.reshape(-1, 1)
    mean, var, n = x.mean(0), x.var(0, ddof=1), x.shape[0]
    delta = mean - s.mean
    total = s.count + n
    m2 = s.var * s.count + var * n + delta**2 * s.count * n / total
    return Scaler(s.mean + delta * n / total, m2 / total, total)


def standardize(s: Scaler, x: jax.Array) -> jax.Array:
    return jnp.clip((x - s.mean) / (jnp.sqrt(s.var) + 1e-8), -5.0, 5.0)


def inverse(s: Scaler, x: jax.Array) -> jax.Array:
    return jnp.sqrt(s.var) * jnp.clip(x, -5.0, 5.0) + s.mean


def make_train(config=CONFIG):
    env, env_params = gymnax.make("CartPole-v1")
    num_updates = config["total_env_steps"] // (config["num_envs"] * config["num_steps"])
    batch = config["num_envs"] * config["num_steps"]
    minibatch = batch // config["minibatches"]
    network = ActorCritic(env.action_space(env_params).n, config["width"])
    total_epochs = num_updates * config["epochs"]
    optimizer = optax.chain(optax.clip_by_global_norm(config["max_grad_norm"]), optax.scale_by_adam())

    def train(rng):
        rng, init_rng, reset_rng = jax.random.split(rng, 3)
        params = network.init(init_rng, jnp.zeros((1, 4)))
        opt_state = optimizer.init(params)
        scaler = Scaler(jnp.zeros(1), jnp.ones(1), jnp.ones(1))
        obs, env_state = jax.vmap(env.reset, in_axes=(0, None))(
            jax.random.split(reset_rng, config["num_envs"]), env_params
        )
        episode = (jnp.zeros(config["num_envs"]), jnp.zeros(config["num_envs"], jnp.int32))

        def update(runner, _):
            params, opt_state, scaler, env_state, obs, episode, epoch_count, rng = runner

            def env_step(carry, _):
                env_state, obs, episode, rng = carry
                rng, act_rng, step_rng = jax.random.split(rng, 3)
                logits, value = network.apply(params, obs)
                log_probs = jax.nn.log_softmax(logits)
                action = jax.random.categorical(act_rng, log_probs)
                log_prob = jnp.take_along_axis(log_probs, action[:, None], -1)
                value = inverse(scaler, value)
                next_obs, env_state, reward, terminated, truncated, _ = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                    jax.random.split(step_rng, config["num_envs"]), env_state, action, env_params
                )
                done = terminated | truncated
                ep_return, ep_length = episode[0] + reward, episode[1] + 1
                stats = (done, ep_return)
                episode = (jnp.where(done, 0.0, ep_return), jnp.where(done, 0, ep_length))
                transition = (obs, action, reward, done, log_prob[:, 0], value[:, 0])
                return (env_state, next_obs, episode, rng), (transition, stats)

            rng, rollout_rng, epochs_rng = jax.random.split(rng, 3)
            (env_state, obs, episode, _), (traj, stats) = jax.lax.scan(
                env_step, (env_state, obs, episode, rollout_rng), None, config["num_steps"]
            )
            t_obs, t_action, t_reward, t_done, t_log_prob, t_value = traj
            _, last_value = network.apply(params, obs)
            last_value = inverse(scaler, last_value)[:, 0]

            def gae_step(advantage, step):
                reward, value, next_value, done = step
                advantage = (
                    reward - value + config["gamma"] * (1.0 - done) * (next_value + config["gae_lambda"] * advantage)
                )
                return advantage, advantage

            next_values = jnp.concatenate([t_value[1:], last_value[None]])
            _, advantages = jax.lax.scan(
                gae_step,
                jnp.zeros_like(last_value),
                (t_reward, t_value, next_values, t_done.astype(jnp.float32)),
                reverse=True,
            )
            returns = advantages + t_value
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
            scaler = scaler_update(scaler, t_value)
            values = standardize(scaler, t_value)
            scaler = scaler_update(scaler, returns)
            returns = standardize(scaler, returns)
            data = jax.tree.map(
                lambda x: x.reshape(batch, *x.shape[2:]), (t_obs, t_action, t_log_prob, values, returns, advantages)
            )

            def epoch(carry, rng):
                params, opt_state, epoch_count = carry
                permutation = jax.random.permutation(rng, batch)
                minibatches = jax.tree.map(
                    lambda x: x[permutation].reshape(config["minibatches"], minibatch, *x.shape[1:]), data
                )
                lr = config["lr"] * (1.0 - jnp.minimum(epoch_count, total_epochs) / total_epochs)

                def minibatch_step(carry, mb):
                    params, opt_state = carry
                    obs, action, old_log_prob, _, returns, advantages = mb

                    def loss_fn(params):
                        logits, value = network.apply(params, obs)
                        log_probs = jax.nn.log_softmax(logits)
                        log_prob = jnp.take_along_axis(log_probs, action[:, None], -1)[:, 0]
                        ratio = jnp.exp(log_prob - old_log_prob)
                        policy_loss = -jnp.mean(
                            jnp.minimum(
                                advantages * ratio, advantages * jnp.clip(ratio, 1 - config["clip"], 1 + config["clip"])
                            )
                        )
                        entropy = -jnp.sum(jnp.exp(log_probs) * log_probs, -1).mean()
                        value_loss = jnp.mean((returns - value[:, 0]) ** 2)
                        return policy_loss - config["entropy"] * entropy + config["value_scale"] * value_loss

                    grads = jax.grad(loss_fn)(params)
                    updates, opt_state = optimizer.update(grads, opt_state, params)
                    params = jax.tree.map(lambda p, u: p - lr * u, params, updates)
                    return (params, opt_state), None

                (params, opt_state), _ = jax.lax.scan(minibatch_step, (params, opt_state), minibatches)
                return (params, opt_state, epoch_count + 1), None

            (params, opt_state, epoch_count), _ = jax.lax.scan(
                epoch, (params, opt_state, epoch_count), jax.random.split(epochs_rng, config["epochs"])
            )
            done, ep_returns = stats
            mean_return = jnp.where(done.sum() > 0, (ep_returns * done).sum() / jnp.maximum(done.sum(), 1), jnp.nan)
            return (params, opt_state, scaler, env_state, obs, episode, epoch_count, rng), mean_return

        runner = (params, opt_state, scaler, env_state, obs, episode, jnp.zeros((), jnp.int32), rng)
        runner, returns = jax.lax.scan(update, runner, None, num_updates)
        return runner[0], returns

    return train
