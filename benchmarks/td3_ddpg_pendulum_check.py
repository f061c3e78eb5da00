"""Learning check (not a test) of TD3 and DDPG on gymnasium Pendulum-v1, host loop, 1 environment.

skrl 1.4.3's Pendulum examples' settings (docs/source/examples/gymnasium/torch_gymnasium_pendulum_td3.py
and ..._ddpg.py): 400-300 ReLU actor ``2 * tanh(.)`` and critic on ``concat(states, actions)``,
every parameter drawn from N(0, 0.1), a replay memory sampled without replacement, batch 100.

- TD3: six models (two separate critics, as the example), memory 20,000, exploration
  GaussianNoise(0, 0.1), smoothing GaussianNoise(0, 0.2) clipped to 0.5, discount 0.98,
  random_timesteps = learning_starts = 1000.
- DDPG: memory 15,000, exploration OrnsteinUhlenbeckNoise(theta 0.15, sigma 0.1, base_scale 1),
  random_timesteps = learning_starts = 100.

The exploration scale decays from 1 to 1e-3 over the run (skrl's default: exploration timesteps
None -> the trainer's timesteps). Prints the mean return of the last 20 episodes and the wall time.

Run: python benchmarks/td3_ddpg_pendulum_check.py [--seed 0] [--seeds 1] [--agent td3 ddpg] [--timesteps 20000] [--table]
(``--table`` prints the table from the results file, running nothing)
"""

import argparse
import sys
import time
from pathlib import Path

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp
import numpy as np

from skrl_jax import config
from skrl_jax.agents.ddpg import DDPG, DDPG_DEFAULT_CONFIG
from skrl_jax.agents.td3 import TD3, TD3_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, Model
from skrl_jax.resources.noises import GaussianNoise, OrnsteinUhlenbeckNoise
from skrl_jax.trainers import SequentialTrainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import read_results, write_results  # noqa: E402

BAR = -250.0
INIT = nn.initializers.normal(0.1)  # skrl's example: model.init_parameters(method_name="normal_", std=0.1)


def dense(features: int) -> nn.Dense:
    return nn.Dense(features, kernel_init=INIT, bias_init=INIT)


class Actor(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)

    def setup(self):
        self.net = nn.Sequential([dense(400), nn.relu, dense(300), nn.relu, dense(self.num_actions)])

    def compute(self, inputs, role):
        return 2 * nn.tanh(self.net(inputs["states"])), {}  # Pendulum-v1's actions are in [-2, 2]


class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)

    def setup(self):
        self.net = nn.Sequential([dense(400), nn.relu, dense(300), nn.relu, dense(1)])

    def compute(self, inputs, role):
        return self.net(jnp.concatenate([inputs["states"], inputs["taken_actions"]], axis=-1)), {}


def make_agent(name: str, env):
    spaces = (env.observation_space, env.action_space)
    experiment = {"write_interval": 0, "checkpoint_interval": 0}
    if name == "td3":
        models = {key: Actor(*spaces) for key in ("policy", "target_policy")}
        models.update({key: Critic(*spaces) for key in ("critic_1", "critic_2", "target_critic_1", "target_critic_2")})
        cfg = {
            "exploration": {**TD3_DEFAULT_CONFIG["exploration"], "noise": GaussianNoise(0.0, 0.1)},
            "smooth_regularization_noise": GaussianNoise(0.0, 0.2),
            "smooth_regularization_clip": 0.5,
            "discount_factor": 0.98,
            "batch_size": 100,
            "random_timesteps": 1000,
            "learning_starts": 1000,
            "experiment": experiment,
        }
        memory = RandomMemory(memory_size=20000, num_envs=env.num_envs, replacement=False)
        return TD3(models=models, memory=memory, cfg=cfg)
    models = {
        "policy": Actor(*spaces),
        "target_policy": Actor(*spaces),
        "critic": Critic(*spaces),
        "target_critic": Critic(*spaces),
    }
    noise = OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.1, base_scale=1.0)
    cfg = {
        "exploration": {**DDPG_DEFAULT_CONFIG["exploration"], "noise": noise},
        "batch_size": 100,
        "random_timesteps": 100,
        "learning_starts": 100,
        "experiment": experiment,
    }
    memory = RandomMemory(memory_size=15000, num_envs=env.num_envs, replacement=False)
    return DDPG(models=models, memory=memory, cfg=cfg)


def run(name: str, seed: int, timesteps: int) -> dict:
    config.set_seed(seed)
    env = wrap_env(gym.make("Pendulum-v1"), verbose=False)
    env.reset(seed=seed)
    agent = make_agent(name, env)
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True})
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    returns = np.asarray(agent.episode_returns)
    return {
        "agent": name.upper(),
        "seed": seed,
        "timesteps": timesteps,
        "episodes": len(returns),
        "first_20_mean": float(returns[:20].mean()),
        "last_20_mean": float(returns[-20:].mean()),
        "best_20_mean": float(max(returns[i : i + 20].mean() for i in range(len(returns) - 19))),
        "wall_seconds": seconds,
        "steps_per_second": timesteps / seconds,
    }


def table(result: dict) -> list[str]:
    """The rows of a results record: per agent, its seeds, the mean and the worst last-20 return, the seeds whose
    last 20 episodes reach the bar and those whose best 20-episode mean did; then the steps, the commit and the
    date."""
    bar = result.get("bar", BAR)
    lines = [
        f"| agent | seeds | last-20 return: mean | worst | last 20 >= {bar:g} | best 20-episode mean >= {bar:g} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for rows in result["runs"].values():
        last = [row["last_20_mean"] for row in rows]
        seeds = [row["seed"] for row in rows]
        lines.append(
            f"| {rows[0]['agent']} | {min(seeds)}-{max(seeds)} | {np.mean(last):.1f} | {np.min(last):.1f} | "
            f"{sum(value >= bar for value in last)}/{len(rows)} | "
            f"{sum(row['best_20_mean'] >= bar for row in rows)}/{len(rows)} |"
        )
    lines.append(
        f"| {result['timesteps']:,} steps, 1 environment | commit {result['commit']} | {result['date'][:10]} | | | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1, help="run seeds seed .. seed + seeds - 1")
    parser.add_argument("--agent", nargs="+", choices=("td3", "ddpg"), default=["td3", "ddpg"])
    parser.add_argument("--timesteps", type=int, default=20000)
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("td3_ddpg_pendulum"))))
        return
    results = {}
    for name in args.agent:
        for seed in range(args.seed, args.seed + args.seeds):
            result = run(name, seed, args.timesteps)
            results.setdefault(name, []).append(result)
            print(
                f"{result['agent']} seed {result['seed']}: {result['timesteps']} timesteps, {result['episodes']} episodes, "
                f"mean return first 20 {result['first_20_mean']:.1f}, last 20 {result['last_20_mean']:.1f}, best 20 "
                f"{result['best_20_mean']:.1f}; wall time {result['wall_seconds']:.1f} s ({result['steps_per_second']:.0f} steps/s)",
                flush=True,
            )
    write_results("td3_ddpg_pendulum", {"timesteps": args.timesteps, "bar": BAR, "runs": results})
    print()
    print("\n".join(table(read_results("td3_ddpg_pendulum"))))


if __name__ == "__main__":
    main()
