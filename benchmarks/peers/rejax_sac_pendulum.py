"""rejax's SAC on gymnax Pendulum-v1, N seeds vmapped in one compiled call: the peer of our compiled
SAC (``examples/sac_pendulum.py --compiled``, ``benchmarks/off_policy_learning.py --tasks compiled_sac``).

Settings, as close to ours as rejax 0.1.3 allows:
  1 env per seed (num_envs=1), --timesteps env steps per seed (50,000), batch 100, fill_buffer 1000
  (rejax updates once global_step > fill_buffer, i.e. first after 1001 stored transitions, as skrl's
  learning_starts 1000), gamma 0.98, polyak 0.995 (rejax keeps polyak * target + (1 - polyak) *
  online, so this is tau 0.005) with target_update_freq 1, one learning rate 1e-3 (rejax uses one
  Adam for actor, critics and log-alpha), no gradient clipping (max_grad_norm inf, rejax's default),
  replay buffer 20,000 (sampled without replacement, as skrl's RandomMemory(replacement=False)),
  hidden layers 64-64 ReLU, 2 critics, num_epochs 1: one gradient step per env step, target
  entropy -dim(A) = -1. Done = the 200-step time limit, not bootstrapped (as skrl, which treats
  truncation as done).
  The entropy coefficient starts at 0.2 as ours (skrl's default): rejax hard-codes log_alpha = 0
  (alpha 1.0), so the script sets log_alpha = log(0.2) in the initial train state and passes it
  to algo.train(train_state=...); --initial-alpha 1 keeps rejax's own start.

Not matchable (rejax's fixed design):
- policy: tanh-squashed Gaussian with a state-dependent log_std head clipped to [-10, 2], rescaled
  to [-2, 2], with the tanh log-prob correction (ours: mean 2*tanh(.), state-independent log_std in
  [-5, 2], clipped Gaussian sample, no correction);
- initialisation: flax defaults (lecun-normal weights, zero biases), ours N(0, 0.1) everywhere;
- critics: two separate 64-64 Q-networks (vmapped), ours twin Q-heads on one shared trunk;
- update order: actor, then critics (with the new actor), then alpha; ours critics, actor, alpha.

Returns: rejax records no training-episode statistics, so the env is gymnax's LogWrapper around
Pendulum-v1 and rejax's eval_callback is replaced by one that reads the wrapper's last finished
episode return every eval_freq = 200 steps. gymnax Pendulum episodes are exactly 200 steps and
start at step 0, so record k is the return of training episode k (checked: every recorded episode
length is 200). rejax's own evaluation (128 episodes of its stochastic act()) is dropped from the
timed run and done once on the final policies afterwards, for information only.

Run: /work/rejaxvenv/bin/python benchmarks/peers/rejax_sac_pendulum.py --seeds 8 --timesteps 50000
Final line: RESULT seeds=<n> env_steps=<per seed> compile_seconds=<f> seconds=<f> steps_per_second=<f>
            mean=<f> worst=<f> per_seed=<comma list>
"""

import argparse
import time

import gymnax
import jax
import jax.numpy as jnp
import numpy as np
from flax.core.frozen_dict import FrozenDict
from gymnax.wrappers.purerl import LogWrapper
from rejax import SAC

EPISODE = 200  # gymnax Pendulum-v1's max_steps_in_episode


class EpisodeStatistics(LogWrapper):
    """gymnax's LogWrapper, made deep-copyable: rejax deep-copies its config (in create() and through
    its config property, which init_state reads), and gymnax 0.0.9's wrappers recurse forever there
    (their __getattr__ asks for self._env before it exists). The wrapper holds no state of its own."""

    def __deepcopy__(self, memo):
        return self


def make_algo(timesteps: int) -> SAC:
    env, env_params = gymnax.make("Pendulum-v1")
    assert env_params.max_steps_in_episode == EPISODE
    return SAC.create(
        env=EpisodeStatistics(env),
        env_params=env_params,
        num_envs=1,
        total_timesteps=timesteps,
        eval_freq=EPISODE,
        skip_initial_evaluation=True,
        batch_size=100,
        fill_buffer=1000,
        buffer_size=20_000,
        gamma=0.98,
        polyak=0.995,
        target_update_freq=1,
        learning_rate=1e-3,
        num_epochs=1,
        num_critics=2,
        hidden_layer_sizes=(64, 64),
        agent_kwargs={"activation": "relu"},
    )


def episode_record(algo, ts, rng):
    """Replaces rejax's evaluation: the LogWrapper's last finished training episode (per env)."""
    state = ts.env_state
    return state.returned_episode_returns, state.returned_episode_lengths, ts.global_step


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0, help="base key: jax.random.split(PRNGKey(seed), seeds)")
    parser.add_argument("--initial-alpha", type=float, default=0.2, help="1.0 = rejax's own start")
    args = parser.parse_args()
    if args.timesteps % EPISODE:
        parser.error(f"--timesteps must be a multiple of the episode length {EPISODE}")

    algo = make_algo(args.timesteps)
    rejax_evaluation = algo.eval_callback
    algo = algo.replace(eval_callback=episode_record)

    def train_one(key):
        ts = algo.init_state(key)
        state = ts.env_state  # LogWrapper starts its counters as Python ints: give them fixed dtypes
        ts = ts.replace(
            env_state=state.replace(
                episode_returns=jnp.zeros(algo.num_envs, jnp.float32),
                episode_lengths=jnp.zeros(algo.num_envs, jnp.int32),
                returned_episode_returns=jnp.zeros(algo.num_envs, jnp.float32),
                returned_episode_lengths=jnp.zeros(algo.num_envs, jnp.int32),
            ),
            alpha_ts=ts.alpha_ts.replace(
                params=FrozenDict({"log_alpha": jnp.asarray(np.log(args.initial_alpha), jnp.float32)})
            ),
        )
        return algo.train(train_state=ts)

    keys = jax.random.split(jax.random.PRNGKey(args.seed), args.seeds)
    start = time.perf_counter()
    executable = jax.jit(jax.vmap(train_one)).lower(keys).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    final_ts, (returns, lengths, steps) = jax.block_until_ready(executable(keys))
    seconds = time.perf_counter() - start

    returns = np.asarray(returns)[..., 0]  # (seeds, episodes): num_envs = 1
    lengths, steps = np.asarray(lengths)[..., 0], np.asarray(steps)
    episodes = args.timesteps // EPISODE
    assert returns.shape == (args.seeds, episodes), returns.shape
    assert (lengths == EPISODE).all() and (steps == EPISODE * np.arange(1, episodes + 1)).all()
    last20 = returns[:, -20:].mean(axis=1)

    # rejax's own evaluation of the final policies (128 episodes each, stochastic act()), not timed
    eval_keys = jax.random.split(jax.random.PRNGKey(args.seed + 1), args.seeds)
    _, eval_returns = jax.jit(jax.vmap(lambda ts, k: rejax_evaluation(algo, ts, k)))(final_ts, eval_keys)
    eval_means = np.asarray(eval_returns).mean(axis=1)

    print(f"jax {jax.__version__}, devices {jax.devices()}")
    print(
        f"{args.seeds} seeds x {args.timesteps} env steps ({episodes} episodes each), initial alpha {args.initial_alpha}"
    )
    print(
        f"compile: {compile_seconds:.1f} s, run: {seconds:.1f} s, {args.seeds * args.timesteps / seconds:.0f} env steps/s"
    )
    print("last-20 training-episode return per seed: " + ", ".join(f"{v:.1f}" for v in last20))
    print(
        "rejax evaluate() of the final policy, mean of 128 episodes per seed: "
        + ", ".join(f"{v:.1f}" for v in eval_means)
    )
    print(
        f"RESULT seeds={args.seeds} env_steps={args.timesteps} compile_seconds={compile_seconds:.3f} "
        f"seconds={seconds:.3f} steps_per_second={args.seeds * args.timesteps / seconds:.1f} "
        f"mean={last20.mean():.3f} worst={last20.min():.3f} per_seed={','.join(f'{v:.1f}' for v in last20)}"
    )


if __name__ == "__main__":
    main()
