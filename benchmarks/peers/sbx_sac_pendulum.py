"""SBX (Stable Baselines Jax, sbx-rl) SAC on gymnasium Pendulum-v1, with skrl's SAC Pendulum settings
as far as SBX allows.

Settings taken from skrl's example (skrl repository, tag 1.4.3,
docs/source/examples/gymnasium/torch_gymnasium_pendulum_sac.py, plus SAC_DEFAULT_CONFIG in
skrl/agents/torch/sac/sac.py for the values the example leaves at their defaults):
  1 env, 15,000 timesteps, replay buffer 20,000, batch 100, learning_starts 1000, gamma 0.98,
  tau (polyak) 0.005, one lr 1e-3 for actor, critics and entropy coefficient (SBX uses
  learning_rate for all three when qf_learning_rate is None), learned entropy coefficient starting at
  0.2 (ent_coef="auto_0.2"), target entropy -dim(A) = -1 ("auto", skrl's default), 2 critics,
  actor and critic hidden layers [400, 300] ReLU, train_freq 1, gradient_steps 1, policy_delay 1.
  Critic loss: both libraries use 0.5 * (MSE(Q1) + MSE(Q2)).
  Truncated episodes are not bootstrapped, as in skrl (which treats terminated | truncated as done):
  replay_buffer_kwargs={"handle_timeout_termination": False}. Every Pendulum episode ends by the
  200-step time limit, so this matters here.

What could not be matched (SBX's fixed design):
- policy: SBX's actor is a tanh-squashed Gaussian with state-dependent log_std (a second output
  head, clipped to [-20, 2]) rescaled to [-2, 2], with the tanh log-prob correction; skrl's example
  uses mean 2*tanh(.) with a state-independent log_std parameter, a plain Gaussian sample clipped
  to [-2, 2] and no correction;
- initialisation: flax defaults (lecun-normal weights, zero biases) instead of N(0, 0.1) for all
  parameters (skrl's log_std therefore starts near 0, i.e. std ~ 1);
- warm-up: SB3/SBX takes uniformly random actions for the first learning_starts (1000) steps;
  skrl (random_timesteps 0) acts with its initial policy from the first step;
- replay sampling: SB3's buffer samples with replacement, skrl's RandomMemory(replacement=False)
  without replacement within a batch;
- SBX jit-compiles its update; the compile time falls inside the timed learn() call.
JAX keeps its default CPU threading; torch (used by SB3's replay buffer) is set to 1 thread.

Run: /work/sbxvenv/bin/python benchmarks/peers/sbx_sac_pendulum.py --seed 0 [--timesteps 15000]
Prints one final line: RESULT env_steps=<int> seconds=<float> last20=<float> best20=<float>
"""

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from sbx import SAC


def summarize(returns):
    """last20: mean of the last 20 finished episodes; best20: best mean of 20 consecutive ones."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size == 0:
        return float("nan"), float("nan")
    w = min(20, r.size)
    windows = np.convolve(r, np.ones(w) / w, mode="valid")
    return float(r[-w:].mean()), float(windows.max())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=15000)
    args = parser.parse_args()

    torch.set_num_threads(1)

    stats = gym.wrappers.RecordEpisodeStatistics(gym.make("Pendulum-v1"), buffer_length=10**7)
    # seed=...: SB3 seeds random, numpy, torch, the action space and the env's first reset; SBX its JAX key
    model = SAC(
        "MlpPolicy",
        stats,
        learning_rate=1e-3,
        buffer_size=20000,
        learning_starts=1000,
        batch_size=100,
        tau=0.005,
        gamma=0.98,
        train_freq=1,
        gradient_steps=1,
        policy_delay=1,
        ent_coef="auto_0.2",
        target_entropy="auto",
        replay_buffer_kwargs={"handle_timeout_termination": False},
        policy_kwargs={"net_arch": {"pi": [400, 300], "qf": [400, 300]}, "n_critics": 2},
        seed=args.seed,
        verbose=0,
    )

    start = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    seconds = time.perf_counter() - start

    last20, best20 = summarize(list(stats.return_queue))
    print(f"episodes={len(stats.return_queue)}")
    print(f"RESULT env_steps={model.num_timesteps} seconds={seconds:.3f} last20={last20:.3f} best20={best20:.3f}")


if __name__ == "__main__":
    main()
