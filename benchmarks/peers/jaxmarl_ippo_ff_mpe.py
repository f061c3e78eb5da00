"""JaxMARL's feed-forward IPPO baseline on MPE, vendored as a peer benchmark: the peer of our IPPO (issue 24).

Upstream: github.com/FLAIROx/JaxMARL, ``baselines/IPPO/ippo_ff_mpe.py`` and ``baselines/IPPO/config/ippo_ff_mpe.yaml``
at commit 014b4f0af877856dc0a90437596a23a31153e303 ("wandb group", the newest commit touching the script in the
mirror read on 2026-11-25). Its own docstring: "Based on the PureJaxRL Implementation of PPO".

Licence: JaxMARL is under the Apache License 2.0; its notice, kept as the licence asks:

    Copyright 2023 FLAIR

    Licensed under the Apache License, Version 2.0 (the "License");
    you may not use this file except in compliance with the License.
    You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

    Unless required by applicable law or agreed to in writing, software
    distributed under the License is distributed on an "AS IS" BASIS,
    WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
    See the License for the specific language governing permissions and
    limitations under the License.

This file is modified from the upstream script. ``ActorCritic``, ``Transition``, ``batchify``, ``unbatchify`` and
``make_train(config)`` (returning the pure ``train(rng)``) are upstream's, unchanged in substance (``ruff format``
with this project's 120-column settings re-wrapped lines; ``ruff check --fix`` re-sorted the imports, imports
``Sequence`` from ``collections.abc`` and wrote ``x.reshape(config["NUM_ACTORS"])`` for upstream's
``x.reshape((config["NUM_ACTORS"]))``, the same call). Changes, one per line:
1. hydra/omegaconf removed: ``CONFIG`` is a plain dict with the YAML's values; ``TOTAL_TIMESTEPS`` is the int 10_000_000 (the YAML's ``1e7``, which PyYAML's safe_load would read as a string).
2. wandb removed: ``wandb.init`` and the plotting ``main`` are gone, and so is the ``jax.experimental.io_callback(wandb.log ...)`` at the end of each update (a host round trip per update that would distort timing); the metric collection is kept, ``train`` returns the same ``metrics`` as upstream.
3. distrax removed (not installable here): ``Categorical`` below gives the three methods used, ``sample(seed=)`` (``jax.random.categorical``), ``log_prob`` and ``entropy``, on the same logits.
4. matplotlib and os removed (used only by upstream's hydra ``main``, for the plot and wandb's environment variables).
5. added ``run(seeds, total_timesteps=None, **overrides)`` and an argparse ``__main__`` that replace upstream's hydra ``main`` (which vmaps ``NUM_SEEDS`` seeds split from ``SEED``): one seed at a time, key ``jax.random.PRNGKey(seed)``.
Nothing else needed changing for jax 0.10.2 / flax 0.12.8 / jaxmarl 0.2.0: the script already uses ``jax.tree.map``, and
jaxmarl 0.2.0's ``MPE_simple_spread_v3`` ``step`` (through ``MPELogWrapper``) returns the 5 values
``(obs, state, rewards, dones, infos)`` the script unpacks, ``dones`` per agent plus ``"__all__"`` (``batchify`` takes
the agents only). Upstream's ``batchify`` has a latent bug in its padding branch (``pad(x[a])`` without ``length``;
tuple + list), kept as is: it only runs when agents' observations differ in size, which they do not in simple spread.

What upstream counts and logs (not changed):
- env steps: ``NUM_UPDATES = TOTAL_TIMESTEPS // NUM_STEPS // NUM_ENVS`` updates of ``NUM_STEPS x NUM_ENVS`` (128 x 16)
  vectorized env steps, each moving all 3 agents (so 3 agent transitions per env step). ``env_steps`` below is
  ``NUM_UPDATES x NUM_STEPS x NUM_ENVS`` (``TOTAL_TIMESTEPS`` rounded down to whole updates).
- episodes: simple spread ends an episode when ``state.step >= max_steps`` (25) is checked *before* the step counter is
  incremented, so every episode is 26 env steps; the env auto-resets inside ``step``.
- returns: ``MPELogWrapper`` multiplies each agent's reward by ``num_agents`` (3) before summing it over the episode
  ("as per on-policy codebase") and holds each agent's last finished episode return (0 before the first one ends). The
  per-update metric ``returned_episode_returns`` is the mean of that held value over the update's 128 steps x 48
  actors. The mean over agents of ``3 x r_i`` is the sum over agents of ``r_i``: the logged figure is the team return
  (the episode sum of all 3 agents' rewards), and that is what is reported.
- ``final_return`` of a seed: the mean of the per-update logged ``returned_episode_returns`` over the last
  ``ceil(5% of NUM_UPDATES)`` updates among those in which at least one episode finished (the update's logged
  ``returned_episode`` mean > 0; with 26-step episodes and 128-step rollouts that is every update).

Run from the repository root with the project's venv (jaxmarl 0.2.0 installed):
    python benchmarks/peers/jaxmarl_ippo_ff_mpe.py --seeds 0 1 --timesteps 200000
Per seed it lowers and compiles ``jax.jit(train)`` first (``compile_seconds``, tracing included; ``make_train`` is
called afresh per seed so nothing is reused from the previous seed), then times the compiled call alone with
``jax.block_until_ready`` (``seconds``). Last line printed: ``RESULT {json}`` with ``run``'s dict plus ``seeds`` and
``steps_per_second`` (env steps / seconds, per seed). jaxmarl prints "Importing submoduled environments..." at import.
"""

import argparse
import json
import math
import time
from collections.abc import Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import jaxmarl
import numpy as np
import optax
from flax.linen.initializers import constant, orthogonal
from flax.training.train_state import TrainState
from jaxmarl.wrappers.baselines import MPELogWrapper as LogWrapper

# Change 1: baselines/IPPO/config/ippo_ff_mpe.yaml as a plain dict (TOTAL_TIMESTEPS: 1e7 as an int).
CONFIG = {
    "LR": 2.5e-4,
    "NUM_ENVS": 16,
    "NUM_STEPS": 128,
    "TOTAL_TIMESTEPS": 10_000_000,
    "UPDATE_EPOCHS": 4,
    "NUM_MINIBATCHES": 4,
    "GAMMA": 0.99,
    "GAE_LAMBDA": 0.95,
    "CLIP_EPS": 0.2,
    "ENT_COEF": 0.01,
    "VF_COEF": 0.5,
    "MAX_GRAD_NORM": 0.5,
    "ACTIVATION": "tanh",
    "ENV_NAME": "MPE_simple_spread_v3",
    "ENV_KWARGS": {},
    "ANNEAL_LR": True,
    "SEED": 30,
    "NUM_SEEDS": 10,
    # WandB Params (unused here: change 2)
    "ENTITY": "",
    "PROJECT": "jaxmarl-mpe",
    "WANDB_MODE": "disabled",
}


class Categorical(NamedTuple):
    """Change 3: distrax.Categorical's sample / log_prob / entropy from logits (..., n)."""

    logits: jax.Array

    def sample(self, seed: jax.Array) -> jax.Array:
        return jax.random.categorical(seed, self.logits, axis=-1)

    def log_prob(self, value: jax.Array) -> jax.Array:
        log_probs = jax.nn.log_softmax(self.logits, axis=-1)
        return jnp.take_along_axis(log_probs, value[..., None].astype(jnp.int32), axis=-1)[..., 0]

    def entropy(self) -> jax.Array:
        log_probs = jax.nn.log_softmax(self.logits, axis=-1)
        return -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)


class ActorCritic(nn.Module):
    action_dim: Sequence[int]
    activation: str = "tanh"

    @nn.compact
    def __call__(self, x):
        if self.activation == "relu":
            activation = nn.relu
        else:
            activation = nn.tanh
        actor_mean = nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(x)
        actor_mean = activation(actor_mean)
        actor_mean = nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(actor_mean)
        actor_mean = activation(actor_mean)
        actor_mean = nn.Dense(self.action_dim, kernel_init=orthogonal(0.01), bias_init=constant(0.0))(actor_mean)
        pi = Categorical(logits=actor_mean)  # change 3 (upstream: distrax.Categorical)

        critic = nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(x)
        critic = activation(critic)
        critic = nn.Dense(64, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(critic)
        critic = activation(critic)
        critic = nn.Dense(1, kernel_init=orthogonal(1.0), bias_init=constant(0.0))(critic)

        return pi, jnp.squeeze(critic, axis=-1)


class Transition(NamedTuple):
    done: jnp.ndarray
    action: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    log_prob: jnp.ndarray
    obs: jnp.ndarray
    info: jnp.ndarray


def batchify(x: dict, agent_list, num_actors):
    max_dim = max([x[a].shape[-1] for a in agent_list])

    def pad(z, length):
        return jnp.concatenate([z, jnp.zeros(z.shape[:-1] + [length - z.shape[-1]])], -1)

    x = jnp.stack([x[a] if x[a].shape[-1] == max_dim else pad(x[a]) for a in agent_list])
    return x.reshape((num_actors, -1))


def unbatchify(x: jnp.ndarray, agent_list, num_envs, num_actors):
    x = x.reshape((num_actors, num_envs, -1))
    return {a: x[i] for i, a in enumerate(agent_list)}


def make_train(config):
    env = jaxmarl.make(config["ENV_NAME"], **config["ENV_KWARGS"])
    config["NUM_ACTORS"] = env.num_agents * config["NUM_ENVS"]
    config["NUM_UPDATES"] = config["TOTAL_TIMESTEPS"] // config["NUM_STEPS"] // config["NUM_ENVS"]
    config["MINIBATCH_SIZE"] = config["NUM_ACTORS"] * config["NUM_STEPS"] // config["NUM_MINIBATCHES"]

    env = LogWrapper(env)

    def linear_schedule(count):
        frac = 1.0 - (count // (config["NUM_MINIBATCHES"] * config["UPDATE_EPOCHS"])) / config["NUM_UPDATES"]
        return config["LR"] * frac

    def train(rng):

        # INIT NETWORK
        network = ActorCritic(env.action_space(env.agents[0]).n, activation=config["ACTIVATION"])
        rng, _rng = jax.random.split(rng)
        init_x = jnp.zeros(env.observation_space(env.agents[0]).shape)
        network_params = network.init(_rng, init_x)
        if config["ANNEAL_LR"]:
            tx = optax.chain(
                optax.clip_by_global_norm(config["MAX_GRAD_NORM"]),
                optax.adam(learning_rate=linear_schedule, eps=1e-5),
            )
        else:
            tx = optax.chain(
                optax.clip_by_global_norm(config["MAX_GRAD_NORM"]),
                optax.adam(config["LR"], eps=1e-5),
            )

        train_state = TrainState.create(
            apply_fn=network.apply,
            params=network_params,
            tx=tx,
        )

        # INIT ENV
        rng, _rng = jax.random.split(rng)
        reset_rng = jax.random.split(_rng, config["NUM_ENVS"])
        obsv, env_state = jax.vmap(env.reset)(reset_rng)

        # TRAIN LOOP
        def _update_step(runner_state, unused):
            # COLLECT TRAJECTORIES
            def _env_step(runner_state, unused):
                train_state, env_state, last_obs, rng = runner_state

                obs_batch = batchify(last_obs, env.agents, config["NUM_ACTORS"])
                # SELECT ACTION
                rng, _rng = jax.random.split(rng)

                pi, value = network.apply(train_state.params, obs_batch)
                action = pi.sample(seed=_rng)
                log_prob = pi.log_prob(action)
                env_act = unbatchify(action, env.agents, config["NUM_ENVS"], env.num_agents)

                # STEP ENV
                rng, _rng = jax.random.split(rng)
                rng_step = jax.random.split(_rng, config["NUM_ENVS"])
                obsv, env_state, reward, done, info = jax.vmap(env.step)(
                    rng_step,
                    env_state,
                    env_act,
                )

                info = jax.tree.map(lambda x: x.reshape(config["NUM_ACTORS"]), info)
                transition = Transition(
                    batchify(done, env.agents, config["NUM_ACTORS"]).squeeze(),
                    action,
                    value,
                    batchify(reward, env.agents, config["NUM_ACTORS"]).squeeze(),
                    log_prob,
                    obs_batch,
                    info,
                )
                runner_state = (train_state, env_state, obsv, rng)
                return runner_state, transition

            runner_state, traj_batch = jax.lax.scan(_env_step, runner_state, None, config["NUM_STEPS"])

            # CALCULATE ADVANTAGE
            train_state, env_state, last_obs, rng = runner_state
            last_obs_batch = batchify(last_obs, env.agents, config["NUM_ACTORS"])
            _, last_val = network.apply(train_state.params, last_obs_batch)

            def _calculate_gae(traj_batch, last_val):
                def _get_advantages(gae_and_next_value, transition):
                    gae, next_value = gae_and_next_value
                    done, value, reward = (
                        transition.done,
                        transition.value,
                        transition.reward,
                    )
                    delta = reward + config["GAMMA"] * next_value * (1 - done) - value
                    gae = delta + config["GAMMA"] * config["GAE_LAMBDA"] * (1 - done) * gae
                    return (gae, value), gae

                _, advantages = jax.lax.scan(
                    _get_advantages,
                    (jnp.zeros_like(last_val), last_val),
                    traj_batch,
                    reverse=True,
                    unroll=8,
                )
                return advantages, advantages + traj_batch.value

            advantages, targets = _calculate_gae(traj_batch, last_val)

            # UPDATE NETWORK
            def _update_epoch(update_state, unused):
                def _update_minbatch(train_state, batch_info):
                    traj_batch, advantages, targets = batch_info

                    def _loss_fn(params, traj_batch, gae, targets):
                        # RERUN NETWORK
                        pi, value = network.apply(params, traj_batch.obs)
                        log_prob = pi.log_prob(traj_batch.action)

                        # CALCULATE VALUE LOSS
                        value_pred_clipped = traj_batch.value + (value - traj_batch.value).clip(
                            -config["CLIP_EPS"], config["CLIP_EPS"]
                        )
                        value_losses = jnp.square(value - targets)
                        value_losses_clipped = jnp.square(value_pred_clipped - targets)
                        value_loss = 0.5 * jnp.maximum(value_losses, value_losses_clipped).mean()

                        # CALCULATE ACTOR LOSS
                        ratio = jnp.exp(log_prob - traj_batch.log_prob)
                        gae = (gae - gae.mean()) / (gae.std() + 1e-8)
                        loss_actor1 = ratio * gae
                        loss_actor2 = (
                            jnp.clip(
                                ratio,
                                1.0 - config["CLIP_EPS"],
                                1.0 + config["CLIP_EPS"],
                            )
                            * gae
                        )
                        loss_actor = -jnp.minimum(loss_actor1, loss_actor2)
                        loss_actor = loss_actor.mean()
                        entropy = pi.entropy().mean()

                        total_loss = loss_actor + config["VF_COEF"] * value_loss - config["ENT_COEF"] * entropy
                        return total_loss, (value_loss, loss_actor, entropy, ratio)

                    grad_fn = jax.value_and_grad(_loss_fn, has_aux=True)
                    total_loss, grads = grad_fn(train_state.params, traj_batch, advantages, targets)
                    train_state = train_state.apply_gradients(grads=grads)

                    loss_info = {
                        "total_loss": total_loss[0],
                        "actor_loss": total_loss[1][1],
                        "critic_loss": total_loss[1][0],
                        "entropy": total_loss[1][2],
                        "ratio": total_loss[1][3],
                    }

                    return train_state, loss_info

                train_state, traj_batch, advantages, targets, rng = update_state
                rng, _rng = jax.random.split(rng)
                batch_size = config["MINIBATCH_SIZE"] * config["NUM_MINIBATCHES"]
                assert batch_size == config["NUM_STEPS"] * config["NUM_ACTORS"], (
                    "batch size must be equal to number of steps * number of actors"
                )
                permutation = jax.random.permutation(_rng, batch_size)
                batch = (traj_batch, advantages, targets)
                batch = jax.tree.map(lambda x: x.reshape((batch_size,) + x.shape[2:]), batch)
                shuffled_batch = jax.tree.map(lambda x: jnp.take(x, permutation, axis=0), batch)
                minibatches = jax.tree.map(
                    lambda x: jnp.reshape(x, [config["NUM_MINIBATCHES"], -1] + list(x.shape[1:])),
                    shuffled_batch,
                )
                train_state, loss_info = jax.lax.scan(_update_minbatch, train_state, minibatches)
                update_state = (train_state, traj_batch, advantages, targets, rng)
                return update_state, loss_info

            update_state = (train_state, traj_batch, advantages, targets, rng)
            update_state, loss_info = jax.lax.scan(_update_epoch, update_state, None, config["UPDATE_EPOCHS"])
            train_state = update_state[0]
            metric = traj_batch.info
            rng = update_state[-1]

            r0 = {"ratio0": loss_info["ratio"][0, 0].mean()}
            # jax.debug.print('ratio0 {x}', x=r0["ratio0"])
            loss_info = jax.tree.map(lambda x: x.mean(), loss_info)
            metric = jax.tree.map(lambda x: x.mean(), metric)
            metric = {**metric, **loss_info, **r0}
            # change 2: upstream's jax.experimental.io_callback(callback, None, metric) (wandb.log) removed here
            runner_state = (train_state, env_state, last_obs, rng)
            return runner_state, metric

        rng, _rng = jax.random.split(rng)
        runner_state = (train_state, env_state, obsv, _rng)
        runner_state, metric = jax.lax.scan(_update_step, runner_state, None, config["NUM_UPDATES"])
        return {"runner_state": runner_state, "metrics": metric}

    return train


def final_return(metrics: dict) -> float:
    """Mean of the per-update logged ``returned_episode_returns`` (the team return, see the module docstring) over
    the last ceil(5%) of the updates in which at least one episode finished."""
    returns = np.asarray(metrics["returned_episode_returns"], dtype=np.float64)
    finished = np.asarray(metrics["returned_episode"], dtype=np.float64) > 0
    returns = returns[finished]
    if returns.size == 0:
        return float("nan")
    last = max(1, math.ceil(0.05 * returns.size))
    return float(returns[-last:].mean())


def run(seeds: list[int], total_timesteps: int | None = None, **overrides) -> dict:
    """Change 5: train one seed at a time with ``CONFIG`` (``TOTAL_TIMESTEPS`` and other keys overridable).

    Per seed: ``make_train`` afresh, ``jax.jit(train).lower(key).compile()`` timed as ``compile_seconds``, then the
    compiled call alone, up to ``jax.block_until_ready``, timed as ``seconds``. ``env_steps`` is per seed
    (``NUM_UPDATES x NUM_STEPS x NUM_ENVS``); ``final_return`` per seed as in ``final_return``.
    """
    config = {**CONFIG, **overrides}
    if total_timesteps is not None:
        config["TOTAL_TIMESTEPS"] = int(total_timesteps)
    result = {"compile_seconds": [], "seconds": [], "env_steps": 0, "final_return": []}
    for seed in seeds:
        seed_config = dict(config)  # make_train adds NUM_ACTORS, NUM_UPDATES, MINIBATCH_SIZE to its config
        train = make_train(seed_config)
        key = jax.random.PRNGKey(seed)
        start = time.perf_counter()
        compiled = jax.jit(train).lower(key).compile()
        result["compile_seconds"].append(time.perf_counter() - start)
        start = time.perf_counter()
        out = jax.block_until_ready(compiled(key))
        result["seconds"].append(time.perf_counter() - start)
        result["env_steps"] = seed_config["NUM_UPDATES"] * seed_config["NUM_STEPS"] * seed_config["NUM_ENVS"]
        result["final_return"].append(final_return(out["metrics"]))
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--timesteps", type=int, default=None, help="TOTAL_TIMESTEPS (default: the YAML's 1e7)")
    args = parser.parse_args()
    result = run(args.seeds, args.timesteps)
    result = {
        "seeds": args.seeds,
        **result,
        "steps_per_second": [result["env_steps"] / s for s in result["seconds"]],
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
