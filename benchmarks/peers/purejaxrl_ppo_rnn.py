"""PureJaxRL's recurrent PPO (``purejaxrl/ppo_rnn.py``, github.com/luchris429/purejaxrl, commit 31756b1), N seeds
vmapped in one compiled call, on a gymnax task given by name: the peer of our recurrent shared trunks (issue 13).

Algorithm, network and defaults are PureJaxRL's: Dense(128)-ReLU embedding, a GRU of 128 units scanned over time
with its state reset to zeros inside the scan where the previous step ended an episode (``ScannedRNN``), actor and
critic heads Dense(128)-ReLU-Dense on the GRU output, orthogonal initialisation; 4 envs x 128 steps per update,
4 epochs of 4 minibatches of whole env trajectories (shuffled along the env axis, each replayed from the rollout's
initial GRU state), lr 2.5e-4 annealed linearly to 0, Adam eps 1e-5, global-norm clip 0.5, gamma 0.99, GAE lambda
0.95, clip 0.2 (policy and value), entropy 0.01, value 0.5, per-minibatch advantage normalisation; episode ends
(termination or time limit) cut the bootstrap as in PureJaxRL. 500,000 env steps per seed by default.

Tasks (``--env``): any gymnax id (``CartPole-v1``, ``MemoryChain-bsuite``, ...) and ``CartPole-v1-hidden-velocity``,
CartPole-v1 observing only the cart position and pole angle (``skrl_jax.envs.hidden_velocity_cartpole("gymnax")``,
a gymnax environment; that is the only use of skrl_jax here).

Shims for the dev venv (gymnax 1.0.1, flax 0.12.8, jax 0.10.2, no distrax), each the smallest change that runs:
1. gymnax 1.x's ``step`` returns ``(obs, state, reward, terminated, truncated, info)``, not PureJaxRL's
   ``(obs, state, reward, done, info)``: the rollout takes ``done = terminated | truncated`` (gymnax 0.0.x's
   ``done``), the only flag PureJaxRL uses.
2. PureJaxRL's ``purejaxrl/wrappers.py`` is written for the old 5-value ``step`` and imports brax and navix at
   module level: gymnax 1.x's own ``FlattenObservationWrapper`` and ``LogWrapper`` (``gymnax.wrappers``) are
   used instead, stacked the same way. They keep the same episode statistics (``returned_episode``,
   ``returned_episode_returns``); gymnax's ``LogWrapper`` has no ``timestep`` counter, which PureJaxRL reads
   only in its ``DEBUG`` print.
3. ``DEBUG`` (a host callback printing every finished episode) is off: returns are read after the run.
4. distrax is not installed in the dev venv: ``Categorical`` below gives the three
   methods used, ``sample`` (``jax.random.categorical``), ``log_prob`` and ``entropy``, on the same logits.
5. flax >= 0.7: ``nn.GRUCell`` requires ``features`` and its ``initialize_carry(rng, input_shape)`` is an
   instance method (PureJaxRL calls ``nn.GRUCell()`` and the old static ``initialize_carry(rng, batch, size)``).
6. jaxlib 0.10.2 deadlocks on this 2-core CPU with 2+ seeds (every 2-seed run of this script before the shim,
   9 of 9; a smaller reproducer in about half its runs; no 1-seed run hung): under the vmap over seeds, flax's
   ``orthogonal`` initializer becomes a batched LAPACK QR (``lapack_sgeqrf_ffi``), which splits its batch over
   XLA's intra-op thread pool (``ParallelBatchMap``) and blocks until the pieces finish; two such QRs running at
   once hold both pool threads while their pieces wait in the queue (seen with gdb). ``orthogonal`` below is
   flax's initializer under ``jax.custom_batching.sequential_vmap``: the same values (checked: identical to
   flax's per seed), one unbatched QR per seed; it is also passed as the GRU's ``recurrent_kernel_init``
   (flax's default there).
Not a shim, and off by default: ``--replay-resets previous``. PureJaxRL's rollout resets the GRU before step t where
step t-1 ended an episode (``last_done``), but its update replays each trajectory with ``traj_batch.done``, the
done of step t itself, so the replay resets one step early, before the last step of every episode (the same
misalignment LARG/jax-aht fixed in its PR #115; PureJaxRL's issue #23 asked about it). The flag stores the
rollout's ``last_done`` in the ``Transition`` and replays with it; everything else is unchanged.
Not shims: ``jax.tree_util.tree_map`` (which ppo_rnn.py uses) still exists in jax 0.10.2 (``jax.tree.map`` here is the
same call); ``TOTAL_TIMESTEPS`` comes from ``--total-timesteps`` as an int (PureJaxRL's 5e5 float also works).

Returns: ``last20`` of a seed is the mean return of its last 20 finished training episodes (gymnax's
``LogWrapper``, all envs, in step order; an unfinished episode is not counted).

Run from the repository root with the dev venv:
    python benchmarks/peers/purejaxrl_ppo_rnn.py --env CartPole-v1-hidden-velocity --seeds 8 --total-timesteps 500000
It compiles ``jax.jit(jax.vmap(train))`` first (``compile_seconds``), then times the call alone with
``block_until_ready`` (``seconds``); ``steps_per_second`` = seeds x env_steps / seconds.
Final line: RESULT seeds=<n> env_steps=<per seed> compile_seconds=<f> seconds=<f> steps_per_second=<f>
            last20=<mean over seeds> worst=<f> per_seed=<comma list>
"""

import argparse
import functools
import time
from typing import Any, NamedTuple

import flax.linen as nn
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.linen.initializers import constant
from flax.linen.initializers import orthogonal as flax_orthogonal
from flax.training.train_state import TrainState
from gymnax.wrappers import FlattenObservationWrapper, LogWrapper

HIDDEN_VELOCITY = "CartPole-v1-hidden-velocity"


def orthogonal(scale=1.0):
    """Shim 6: flax's orthogonal initializer, the same values, with a sequential batching rule: under the
    vmap over seeds its QR runs once per seed instead of as one batched LAPACK call (see the docstring)."""
    base = flax_orthogonal(scale)

    def init(key, shape, dtype=jnp.float32):
        return jax.custom_batching.sequential_vmap(lambda k: base(k, shape, dtype))(key)

    return init


def make_env(name: str):
    if name == HIDDEN_VELOCITY:
        from skrl_jax.envs import hidden_velocity_cartpole

        env = hidden_velocity_cartpole("gymnax")
        return env, env.default_params
    return gymnax.make(name)


class Categorical(NamedTuple):
    """Shim 4: distrax.Categorical's sample / log_prob / entropy from logits (..., n)."""

    logits: jax.Array

    def sample(self, seed: jax.Array) -> jax.Array:
        return jax.random.categorical(seed, self.logits, axis=-1)

    def log_prob(self, value: jax.Array) -> jax.Array:
        log_probs = jax.nn.log_softmax(self.logits, axis=-1)
        return jnp.take_along_axis(log_probs, value[..., None].astype(jnp.int32), axis=-1)[..., 0]

    def entropy(self) -> jax.Array:
        log_probs = jax.nn.log_softmax(self.logits, axis=-1)
        return -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)


class ScannedRNN(nn.Module):
    @functools.partial(
        nn.scan,
        variable_broadcast="params",
        in_axes=0,
        out_axes=0,
        split_rngs={"params": False},
    )
    @nn.compact
    def __call__(self, carry, x):
        rnn_state = carry
        ins, resets = x
        rnn_state = jnp.where(
            resets[:, np.newaxis],
            self.initialize_carry(ins.shape[0], ins.shape[1]),
            rnn_state,
        )
        cell = nn.GRUCell(features=ins.shape[1], recurrent_kernel_init=orthogonal())  # shims 5, 6
        new_rnn_state, y = cell(rnn_state, ins)
        return new_rnn_state, y

    @staticmethod
    def initialize_carry(batch_size, hidden_size):
        # zeros (the key is not used by the default carry_init); shim 5
        return nn.GRUCell(features=hidden_size).initialize_carry(jax.random.PRNGKey(0), (batch_size, hidden_size))


class ActorCriticRNN(nn.Module):
    action_dim: int
    config: dict

    @nn.compact
    def __call__(self, hidden, x):
        obs, dones = x
        embedding = nn.Dense(128, kernel_init=orthogonal(np.sqrt(2)), bias_init=constant(0.0))(obs)
        embedding = nn.relu(embedding)

        rnn_in = (embedding, dones)
        hidden, embedding = ScannedRNN()(hidden, rnn_in)

        actor_mean = nn.Dense(128, kernel_init=orthogonal(2), bias_init=constant(0.0))(embedding)
        actor_mean = nn.relu(actor_mean)
        actor_mean = nn.Dense(self.action_dim, kernel_init=orthogonal(0.01), bias_init=constant(0.0))(actor_mean)
        pi = Categorical(logits=actor_mean)

        critic = nn.Dense(128, kernel_init=orthogonal(2), bias_init=constant(0.0))(embedding)
        critic = nn.relu(critic)
        critic = nn.Dense(1, kernel_init=orthogonal(1.0), bias_init=constant(0.0))(critic)

        return hidden, pi, jnp.squeeze(critic, axis=-1)


class Transition(NamedTuple):
    done: jnp.ndarray
    action: jnp.ndarray
    value: jnp.ndarray
    reward: jnp.ndarray
    log_prob: jnp.ndarray
    obs: jnp.ndarray
    info: Any
    last_done: jnp.ndarray  # not PureJaxRL's: the reset the rollout used, for --replay-resets previous


def make_train(config):
    config["NUM_UPDATES"] = config["TOTAL_TIMESTEPS"] // config["NUM_STEPS"] // config["NUM_ENVS"]
    config["MINIBATCH_SIZE"] = config["NUM_ENVS"] * config["NUM_STEPS"] // config["NUM_MINIBATCHES"]
    env, env_params = make_env(config["ENV_NAME"])
    env = FlattenObservationWrapper(env)  # shim 2
    env = LogWrapper(env)

    def linear_schedule(count):
        frac = 1.0 - (count // (config["NUM_MINIBATCHES"] * config["UPDATE_EPOCHS"])) / config["NUM_UPDATES"]
        return config["LR"] * frac

    def train(rng):
        network = ActorCriticRNN(env.action_space(env_params).n, config=config)
        rng, _rng = jax.random.split(rng)
        init_x = (
            jnp.zeros((1, config["NUM_ENVS"], *env.observation_space(env_params).shape)),
            jnp.zeros((1, config["NUM_ENVS"])),
        )
        init_hstate = ScannedRNN.initialize_carry(config["NUM_ENVS"], 128)
        network_params = network.init(_rng, init_hstate, init_x)
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
        train_state = TrainState.create(apply_fn=network.apply, params=network_params, tx=tx)

        rng, _rng = jax.random.split(rng)
        reset_rng = jax.random.split(_rng, config["NUM_ENVS"])
        obsv, env_state = jax.vmap(env.reset, in_axes=(0, None))(reset_rng, env_params)
        init_hstate = ScannedRNN.initialize_carry(config["NUM_ENVS"], 128)

        def _update_step(runner_state, unused):
            def _env_step(runner_state, unused):
                train_state, env_state, last_obs, last_done, hstate, rng = runner_state
                rng, _rng = jax.random.split(rng)

                ac_in = (last_obs[np.newaxis, :], last_done[np.newaxis, :])
                hstate, pi, value = network.apply(train_state.params, hstate, ac_in)
                action = pi.sample(seed=_rng)
                log_prob = pi.log_prob(action)
                value, action, log_prob = value.squeeze(0), action.squeeze(0), log_prob.squeeze(0)

                rng, _rng = jax.random.split(rng)
                rng_step = jax.random.split(_rng, config["NUM_ENVS"])
                obsv, env_state, reward, terminated, truncated, info = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
                    rng_step, env_state, action, env_params
                )
                done = jnp.logical_or(terminated, truncated)  # shim 1
                transition = Transition(done, action, value, reward, log_prob, last_obs, info, last_done)
                runner_state = (train_state, env_state, obsv, done, hstate, rng)
                return runner_state, transition

            initial_hstate = runner_state[-2]
            runner_state, traj_batch = jax.lax.scan(_env_step, runner_state, None, config["NUM_STEPS"])

            train_state, env_state, last_obs, last_done, hstate, rng = runner_state
            ac_in = (last_obs[np.newaxis, :], last_done[np.newaxis, :])
            _, _, last_val = network.apply(train_state.params, hstate, ac_in)
            last_val = last_val.squeeze(0)
            last_val = jnp.where(last_done, jnp.zeros_like(last_val), last_val)

            def _calculate_gae(traj_batch, last_val):
                def _get_advantages(gae_and_next_value, transition):
                    gae, next_value = gae_and_next_value
                    done, value, reward = transition.done, transition.value, transition.reward
                    delta = reward + config["GAMMA"] * next_value * (1 - done) - value
                    gae = delta + config["GAMMA"] * config["GAE_LAMBDA"] * (1 - done) * gae
                    return (gae, value), gae

                _, advantages = jax.lax.scan(
                    _get_advantages,
                    (jnp.zeros_like(last_val), last_val),
                    traj_batch,
                    reverse=True,
                    unroll=16,
                )
                return advantages, advantages + traj_batch.value

            advantages, targets = _calculate_gae(traj_batch, last_val)

            def _update_epoch(update_state, unused):
                def _update_minbatch(train_state, batch_info):
                    init_hstate, traj_batch, advantages, targets = batch_info

                    def _loss_fn(params, init_hstate, traj_batch, gae, targets):
                        # PureJaxRL replays with the step's own done (resetting before the last step of each
                        # episode, where the rollout reset after it); --replay-resets previous uses the rollout's
                        resets = traj_batch.last_done if config.get("REPLAY_PREVIOUS_DONE") else traj_batch.done
                        _, pi, value = network.apply(params, init_hstate[0], (traj_batch.obs, resets))
                        log_prob = pi.log_prob(traj_batch.action)

                        value_pred_clipped = traj_batch.value + (value - traj_batch.value).clip(
                            -config["CLIP_EPS"], config["CLIP_EPS"]
                        )
                        value_losses = jnp.square(value - targets)
                        value_losses_clipped = jnp.square(value_pred_clipped - targets)
                        value_loss = 0.5 * jnp.maximum(value_losses, value_losses_clipped).mean()

                        ratio = jnp.exp(log_prob - traj_batch.log_prob)
                        gae = (gae - gae.mean()) / (gae.std() + 1e-8)
                        loss_actor1 = ratio * gae
                        loss_actor2 = jnp.clip(ratio, 1.0 - config["CLIP_EPS"], 1.0 + config["CLIP_EPS"]) * gae
                        loss_actor = -jnp.minimum(loss_actor1, loss_actor2)
                        loss_actor = loss_actor.mean()
                        entropy = pi.entropy().mean()

                        total_loss = loss_actor + config["VF_COEF"] * value_loss - config["ENT_COEF"] * entropy
                        return total_loss, (value_loss, loss_actor, entropy)

                    grad_fn = jax.value_and_grad(_loss_fn, has_aux=True)
                    total_loss, grads = grad_fn(train_state.params, init_hstate, traj_batch, advantages, targets)
                    train_state = train_state.apply_gradients(grads=grads)
                    return train_state, total_loss

                train_state, init_hstate, traj_batch, advantages, targets, rng = update_state

                rng, _rng = jax.random.split(rng)
                permutation = jax.random.permutation(_rng, config["NUM_ENVS"])
                batch = (init_hstate, traj_batch, advantages, targets)
                shuffled_batch = jax.tree.map(lambda x: jnp.take(x, permutation, axis=1), batch)
                minibatches = jax.tree.map(
                    lambda x: jnp.swapaxes(
                        jnp.reshape(x, [x.shape[0], config["NUM_MINIBATCHES"], -1] + list(x.shape[2:])),
                        1,
                        0,
                    ),
                    shuffled_batch,
                )

                train_state, total_loss = jax.lax.scan(_update_minbatch, train_state, minibatches)
                update_state = (train_state, init_hstate, traj_batch, advantages, targets, rng)
                return update_state, total_loss

            init_hstate = initial_hstate[None, :]
            update_state = (train_state, init_hstate, traj_batch, advantages, targets, rng)
            update_state, loss_info = jax.lax.scan(_update_epoch, update_state, None, config["UPDATE_EPOCHS"])
            train_state = update_state[0]
            metric = traj_batch.info
            rng = update_state[-1]

            runner_state = (train_state, env_state, last_obs, last_done, hstate, rng)
            return runner_state, metric

        rng, _rng = jax.random.split(rng)
        runner_state = (
            train_state,
            env_state,
            obsv,
            jnp.zeros((config["NUM_ENVS"]), dtype=bool),
            init_hstate,
            _rng,
        )
        runner_state, metric = jax.lax.scan(_update_step, runner_state, None, config["NUM_UPDATES"])
        return {"runner_state": runner_state, "metric": metric}

    return train


def default_config(env_name: str, total_timesteps: int) -> dict:
    """PureJaxRL ppo_rnn.py's config (DEBUG off, shim 3)."""
    return {
        "LR": 2.5e-4,
        "NUM_ENVS": 4,
        "NUM_STEPS": 128,
        "TOTAL_TIMESTEPS": int(total_timesteps),
        "UPDATE_EPOCHS": 4,
        "NUM_MINIBATCHES": 4,
        "GAMMA": 0.99,
        "GAE_LAMBDA": 0.95,
        "CLIP_EPS": 0.2,
        "ENT_COEF": 0.01,
        "VF_COEF": 0.5,
        "MAX_GRAD_NORM": 0.5,
        "ENV_NAME": env_name,
        "ANNEAL_LR": True,
        "DEBUG": False,
    }


def last_episodes(finished: np.ndarray, returns: np.ndarray, count: int = 20) -> float:
    """Mean of the last ``count`` finished episodes' returns; arrays (updates, steps, envs) of one seed."""
    ended = returns.reshape(-1)[finished.reshape(-1)]
    return float(ended[-count:].mean()) if ended.size else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default="CartPole-v1", help=f"a gymnax id or {HIDDEN_VELOCITY!r}")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--total-timesteps", type=int, default=500_000, help="env steps per seed (all envs)")
    parser.add_argument("--seed", type=int, default=0, help="base key: jax.random.split(PRNGKey(seed), seeds)")
    parser.add_argument(
        "--replay-resets",
        choices=("own", "previous"),
        default="own",
        help="own: PureJaxRL as it is; previous: the update resets where the rollout did (a fix, not PureJaxRL's)",
    )
    args = parser.parse_args()

    config = default_config(args.env, args.total_timesteps)
    config["REPLAY_PREVIOUS_DONE"] = args.replay_resets == "previous"
    train = make_train(config)
    env_steps = config["NUM_UPDATES"] * config["NUM_STEPS"] * config["NUM_ENVS"]
    if env_steps < 1:
        parser.error(f"--total-timesteps must be at least NUM_STEPS x NUM_ENVS = {config['NUM_STEPS'] * 4}")

    def train_statistics(rng):
        # only the episode statistics leave the compiled call (the rest of PureJaxRL's metric is not needed)
        metric = train(rng)["metric"]
        return metric["returned_episode"], metric["returned_episode_returns"], metric["returned_episode_lengths"]

    keys = jax.random.split(jax.random.PRNGKey(args.seed), args.seeds)
    start = time.perf_counter()
    executable = jax.jit(jax.vmap(train_statistics)).lower(keys).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    finished, returns, lengths = jax.block_until_ready(executable(keys))
    seconds = time.perf_counter() - start

    finished, returns, lengths = np.asarray(finished), np.asarray(returns), np.asarray(lengths)
    last20 = np.array([last_episodes(finished[i], returns[i]) for i in range(args.seeds)])
    episodes = finished.reshape(args.seeds, -1).sum(axis=1)
    print(f"jax {jax.__version__}, devices {jax.devices()}")
    print(
        f"{args.env}: {args.seeds} seeds x {env_steps} env steps ({config['NUM_UPDATES']} updates of "
        f"{config['NUM_ENVS']} envs x {config['NUM_STEPS']} steps); finished episodes per seed: "
        + ", ".join(str(int(n)) for n in episodes)
    )
    print(f"compile: {compile_seconds:.1f} s, run: {seconds:.1f} s, {args.seeds * env_steps / seconds:.0f} env steps/s")
    print("last-20 training-episode return per seed: " + ", ".join(f"{v:.1f}" for v in last20))
    print(
        f"RESULT seeds={args.seeds} env_steps={env_steps} compile_seconds={compile_seconds:.3f} "
        f"seconds={seconds:.3f} steps_per_second={args.seeds * env_steps / seconds:.1f} "
        f"last20={np.nanmean(last20):.3f} worst={np.nanmin(last20):.3f} per_seed={','.join(f'{v:.1f}' for v in last20)}"
    )


if __name__ == "__main__":
    main()
