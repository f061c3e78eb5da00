"""Host-loop speed: env steps per second of a whole PPO training run on gymnasium CartPole-v1.

Same settings on both sides (skrl's CartPole PPO example: 4 envs, rollouts 32, 8 epochs x 8
minibatches, lr 5e-4 with KL-adaptive scheduler, 32-32 ELU networks, running scalers); skrl's
JAX PPO runs in a subprocess, ours in this process: once with separate policy / value models
(skrl's example) and once with one shared model. Timing includes compilation.

Run: python benchmarks/host_speed.py [--env-steps 20000]   (needs `pip install "skrl[jax]==1.4.3"`, here or in a
bench venv whose python SKRL_PYTHON names)
"""

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import flax.linen as nn
import gymnasium as gym

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402
from skrl_parity_ports import CartPolePolicy, CartPoleValue, cartpole_cfg  # noqa: E402

from skrl_jax import config  # noqa: E402
from skrl_jax.agents.ppo import PPO  # noqa: E402
from skrl_jax.envs import wrap_env  # noqa: E402
from skrl_jax.memories import RandomMemory  # noqa: E402
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model  # noqa: E402
from skrl_jax.trainers import SequentialTrainer  # noqa: E402

NUM_ENVS = 4


class Shared(CategoricalMixin, DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])
        self.logits = nn.Dense(self.num_actions)
        self.value = nn.Dense(1)

    def compute(self, inputs, role):
        return (
            (self.logits(self.net(inputs["states"])), {})
            if role == "policy"
            else (self.value(self.net(inputs["states"])), {})
        )


def run_ours(shared: bool, env_steps: int) -> float:
    config.set_seed(0)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync"))
    env.reset(seed=0)
    if shared:
        model = Shared(env.observation_space, env.action_space)
        models = {"policy": model, "value": model}
    else:
        models = {
            "policy": CartPolePolicy(env.observation_space, env.action_space),
            "value": CartPoleValue(env.observation_space, env.action_space),
        }
    cfg = cartpole_cfg(env)  # skrl's cartpole PPO settings, as in the skrl run
    # as in the skrl run: no TensorBoard writes or checkpoints inside the timed loop
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
    agent = PPO(models=models, memory=RandomMemory(32, NUM_ENVS), cfg=cfg)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": env_steps // NUM_ENVS, "headless": True, "disable_progressbar": True}
    )
    start = time.perf_counter()
    trainer.train()
    return env_steps / (time.perf_counter() - start)


def skrl_python() -> str | None:
    """The interpreter that runs skrl: $SKRL_PYTHON (a bench venv's python) or this one if skrl imports."""
    python = os.environ.get("SKRL_PYTHON")
    if python:
        return python
    return sys.executable if importlib.util.find_spec("skrl") is not None else None


def run_skrl(env_steps: int) -> float | None:
    python = skrl_python()
    if python is None:
        print(
            'skrl is not installed: pip install "skrl[jax]==1.4.3" here, or in a bench venv named by SKRL_PYTHON=<its python>, '
            "to measure it side by side"
        )
        return None
    script = Path(__file__).resolve().parent / "skrl_cartpole_ppo.py"
    output = subprocess.run(
        [python, str(script), str(env_steps // NUM_ENVS)], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"env_steps=(\d+) seconds=([\d.]+)", output)
    return int(match.group(1)) / float(match.group(2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env-steps", type=int, default=20_000)
    args = parser.parse_args()
    print(f"skrl JAX PPO, {args.env_steps} env steps ...", flush=True)
    skrl = run_skrl(args.env_steps)
    print(f"skrl_jax PPO, separate models, {args.env_steps} env steps ...", flush=True)
    separate = run_ours(shared=False, env_steps=args.env_steps)
    print(f"skrl_jax PPO, shared model, {args.env_steps} env steps ...", flush=True)
    shared = run_ours(shared=True, env_steps=args.env_steps)
    print("\n| run | env steps/s | ratio to skrl JAX |\n| --- | --- | --- |")
    for name, value in (
        ("skrl 1.4.3 JAX PPO (separate models)", skrl),
        ("skrl_jax PPO, separate models", separate),
        ("skrl_jax PPO, shared model", shared),
    ):
        ratio = f"{value / skrl:.1f}x" if skrl and value else "-"
        print(f"| {name} | {value:.0f} | {ratio} |" if value else f"| {name} | not measured | - |")
    write_results(
        "host_speed",
        {
            "env_steps": args.env_steps,
            "steps_per_second": {"skrl_jax_ppo": skrl, "ours_separate": separate, "ours_shared": shared},
            "ratio_to_skrl": {"separate": separate / skrl if skrl else None, "shared": shared / skrl if skrl else None},
        },
    )


if __name__ == "__main__":
    main()
