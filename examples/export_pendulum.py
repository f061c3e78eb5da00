"""Train, export, deploy: PPO on Pendulum, exported to ONNX and StableHLO, played by onnxruntime alone.

1. trains PPO with one trunk for the policy and value heads (examples/compiled_pendulum.py's
   settings: observation and value scalers, KL-adaptive learning rate) compiled on gymnax
   Pendulum-v1, and saves the agent's checkpoint (``agent.save``);
2. exports the policy with the command line, from the checkpoint and ``build_agent`` below:
   ``python -m skrl_jax.export examples/export_pendulum.py:build_agent --checkpoint ... --output ...``
   (the value head that shares the trunk is left out, the observation scaler's statistics are
   folded in, the action is the greedy one);
3. plays gymnasium's Pendulum-v1 with the ``.onnx`` in onnxruntime alone
   (``examples/play_onnx_pendulum.py``, another process that imports neither jax nor skrl_jax),
   beside the same episodes played by the JAX policy.

Run: python examples/export_pendulum.py [--timesteps 100352] [--episodes 10] [--output-dir exported]
Last line: the ONNX policy's mean return on gymnasium Pendulum-v1, and the JAX policy's on the same episodes.
"""

import argparse
import subprocess
import sys
from pathlib import Path

import flax.linen as nn
import gymnasium as gym
import gymnax
import jax
import numpy as np

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.export import policy_function
from skrl_jax.models import DeterministicHead, GaussianHead, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import CompiledTrainer

NUM_ENVS = 4
ROLLOUTS = 1024


def environment():
    return wrap_env(gymnax.make("Pendulum-v1")[0])


def build_agent(initialise: bool = True) -> PPO:
    """The agent as training builds it: what the export command rebuilds before it loads the
    checkpoint (initialised for NUM_ENVS environments, so that the checkpoint's rollout fits)."""
    env = environment()
    trunk = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])
    heads = {"policy": GaussianHead(), "value": DeterministicHead()}
    model = shared_model(env.observation_space, env.action_space, trunk, heads)
    cfg = dict(PPO_DEFAULT_CONFIG)
    cfg.update(
        rollouts=ROLLOUTS,
        learning_epochs=10,
        mini_batches=32,
        discount_factor=0.95,
        learning_rate=1e-3,
        learning_rate_scheduler=KLAdaptiveLR,
        learning_rate_scheduler_kwargs={"kl_threshold": 0.008},
        value_loss_scale=0.5,
        time_limit_bootstrap=True,
        state_preprocessor=RunningStandardScaler,
        state_preprocessor_kwargs={"size": env.observation_space},
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1},
    )
    agent = PPO(
        models={"policy": model, "value": model},
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    if initialise:
        agent.init({"num_envs": NUM_ENVS})
    return agent


def play_with_jax(agent, episodes: int, seed: int) -> list[float]:
    """The same episodes as play_onnx_pendulum.play, acted by the JAX policy (greedy)."""
    act = jax.jit(policy_function(agent.deployed_policy()))
    env = gym.make("Pendulum-v1")
    returns = []
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            action = np.asarray(act(observation[None].astype(np.float32)))[0]
            observation, reward, terminated, truncated, _ = env.step(action)
            total, done = total + float(reward), terminated or truncated
        returns.append(total)
    return returns


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=100_352, help="steps of each of the 4 environments")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--output-dir", type=Path, default=Path("exported"))
    args = parser.parse_args()
    agent = build_agent(initialise=False)
    trainer = CompiledTrainer(environment(), agent, cfg={"timesteps": args.timesteps, "num_envs": NUM_ENVS})
    trainer.train(jax.random.key(0))
    checkpoint = agent.save(args.output_dir / "pendulum_agent.ckpt")
    print(f"trained {args.timesteps * NUM_ENVS:,} env steps; checkpoint {checkpoint}")

    example = Path(__file__).resolve()
    for artefact in ("pendulum_policy.onnx", "pendulum_policy.stablehlo"):
        command = [sys.executable, "-m", "skrl_jax.export", f"{example}:build_agent"]
        command += ["--checkpoint", str(checkpoint), "--output", str(args.output_dir / artefact)]
        print("$", " ".join(command[1:]))
        subprocess.run(command, check=True)

    player = example.parent / "play_onnx_pendulum.py"
    onnx = args.output_dir / "pendulum_policy.onnx"
    played = subprocess.run(
        [sys.executable, str(player), str(onnx), "--episodes", str(args.episodes)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(played)
    onnx_return = float(played.split("mean return ")[1].split()[0])
    jax_return = float(np.mean(play_with_jax(agent, args.episodes, 0)))
    print(
        f"gymnasium Pendulum-v1, {args.episodes} episodes: ONNX policy (onnxruntime) mean return {onnx_return:.1f}, "
        f"JAX policy {jax_return:.1f}"
    )


if __name__ == "__main__":
    main()
