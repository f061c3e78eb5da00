"""Play gymnasium's Pendulum-v1 with an exported ONNX policy, in onnxruntime alone (no jax, no skrl_jax).

What a deployment target runs: the artefact takes raw observations (the observation scaler's
statistics are folded in) and returns the greedy actions, for any number of rows.
Run: python examples/play_onnx_pendulum.py exported/pendulum_policy.onnx [--episodes 10] [--seed 0]
Last line: the mean return over the episodes.
"""

import argparse
import sys

import gymnasium as gym
import numpy as np
import onnxruntime


def play(path: str, episodes: int, seed: int) -> list[float]:
    """The return of each of ``episodes`` episodes (seeds ``seed``, ``seed + 1``, ...) played greedily."""
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    observations_input = session.get_inputs()[0].name
    env = gym.make("Pendulum-v1")
    returns = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            (actions,) = session.run(None, {observations_input: observation[None].astype(np.float32)})
            observation, reward, terminated, truncated, _ = env.step(actions[0])
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return returns


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("policy", help="the .onnx file python -m skrl_jax.export wrote")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    returns = play(args.policy, args.episodes, args.seed)
    assert not any(name.startswith(("jax", "skrl_jax")) for name in sys.modules), "only onnxruntime should run here"
    print(
        f"ONNX policy in onnxruntime alone, gymnasium Pendulum-v1: mean return {np.mean(returns):.1f} over {len(returns)} episodes"
    )


if __name__ == "__main__":
    main()
