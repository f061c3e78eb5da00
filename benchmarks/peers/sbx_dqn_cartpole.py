"""SBX (Stable Baselines Jax, sbx-rl) DQN on gymnasium CartPole-v1, with skrl's DQN CartPole settings
as far as SBX allows.

Settings taken from skrl's example (skrl repository, tag 1.4.3,
docs/source/examples/gymnasium/torch_gymnasium_cartpole_dqn.py, plus DQN_DEFAULT_CONFIG in
skrl/agents/torch/dqn/dqn.py for the values the example leaves at their defaults):
  1 env, 50,000 timesteps, replay buffer 50,000, learning_starts 100, batch 64, gamma 0.99,
  Adam lr 1e-3, Q-network 64-64 ReLU, train_freq 1 (skrl update_interval 1), gradient_steps 1,
  target network soft-updated every 10 env steps with tau (polyak) 0.005, no gradient clipping.
  Epsilon: skrl decays it exponentially, eps(t) = 0.04 + (1.0 - 0.04) * exp(-t / 1500), not
  linearly; SBX's DQN reads epsilon from its `exploration_schedule` attribute (a function of
  progress_remaining = 1 - t / total_timesteps), so the script sets that attribute to skrl's formula
  after construction. The exploration_* arguments passed to the constructor are then unused
  (they are given skrl's initial/final values for the record).
  Truncated episodes are not bootstrapped, as in skrl (which treats terminated | truncated as done):
  replay_buffer_kwargs={"handle_timeout_termination": False}.

What could not be matched (SBX's fixed design):
- loss: SBX's DQN uses the Huber loss; skrl's the MSE loss;
- initialisation: flax defaults (lecun-normal weights, zero biases) instead of N(0, 0.1) for all
  parameters;
- warm-up: SB3/SBX takes uniformly random actions for the first learning_starts (100) steps;
  skrl already acts epsilon-greedily then (epsilon 1.0 down to ~0.94 over those steps);
- replay sampling: SB3's buffer samples with replacement, skrl's RandomMemory(replacement=False)
  without replacement within a batch;
- SBX jit-compiles its update; the compile time falls inside the timed learn() call.
JAX keeps its default CPU threading; torch (used by SB3's replay buffer) is set to 1 thread.

Run: /work/sbxvenv/bin/python benchmarks/peers/sbx_dqn_cartpole.py --seed 0 [--timesteps 50000]
Prints one final line: RESULT env_steps=<int> seconds=<float> last20=<float> best20=<float>
"""

import argparse
import math
import time

import gymnasium as gym
import numpy as np
import torch
from sbx import DQN

INITIAL_EPSILON = 1.0
FINAL_EPSILON = 0.04
EPSILON_TIMESTEPS = 1500


def summarize(returns):
    """last20: mean of the last 20 finished episodes; best20: best mean of 20 consecutive ones."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size == 0:
        return float("nan"), float("nan")
    w = min(20, r.size)
    windows = np.convolve(r, np.ones(w) / w, mode="valid")
    return float(r[-w:].mean()), float(windows.max())


def skrl_epsilon_schedule(total_timesteps):
    """skrl 1.4.3 DQN.act's epsilon at timestep t, as a function of SB3's progress_remaining."""

    def schedule(progress_remaining):
        timestep = (1.0 - progress_remaining) * total_timesteps
        return FINAL_EPSILON + (INITIAL_EPSILON - FINAL_EPSILON) * math.exp(-timestep / EPSILON_TIMESTEPS)

    return schedule


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=50000)
    args = parser.parse_args()

    torch.set_num_threads(1)

    stats = gym.wrappers.RecordEpisodeStatistics(gym.make("CartPole-v1"), buffer_length=10**7)
    # seed=...: SB3 seeds random, numpy, torch, the action space and the env's first reset; SBX its JAX key
    model = DQN(
        "MlpPolicy",
        stats,
        learning_rate=1e-3,
        buffer_size=50000,
        learning_starts=100,
        batch_size=64,
        tau=0.005,
        gamma=0.99,
        target_update_interval=10,
        exploration_initial_eps=INITIAL_EPSILON,
        exploration_final_eps=FINAL_EPSILON,
        train_freq=1,
        gradient_steps=1,
        replay_buffer_kwargs={"handle_timeout_termination": False},
        policy_kwargs={"net_arch": [64, 64]},
        seed=args.seed,
        verbose=0,
    )
    # skrl's exponential epsilon decay in place of SBX's linear one (see the module docstring)
    model.exploration_schedule = skrl_epsilon_schedule(args.timesteps)

    start = time.perf_counter()
    model.learn(total_timesteps=args.timesteps)
    seconds = time.perf_counter() - start

    last20, best20 = summarize(list(stats.return_queue))
    print(f"episodes={len(stats.return_queue)}")
    print(f"RESULT env_steps={model.num_timesteps} seconds={seconds:.3f} last20={last20:.3f} best20={best20:.3f}")


if __name__ == "__main__":
    main()
