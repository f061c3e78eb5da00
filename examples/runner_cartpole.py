"""Train from a skrl runner YAML on CartPole-v1: gymnasium's (host loop) or gymnax's (compiled).

    python examples/runner_cartpole.py examples/runner/skrl_docs_cartpole_ppo.yaml
    python examples/runner_cartpole.py examples/runner/skrl_docs_cartpole_ppo.yaml --gymnax
    python examples/runner_cartpole.py examples/runner/isaaclab_style_pendulum_ppo.yaml --env Pendulum-v1

The YAML is read by ``skrl_jax.utils.runner.Runner`` as it is, except that ``--gymnax`` sets
``trainer.class`` to CompiledTrainer (what a pure-JAX environment needs) and ``--timesteps``
replaces ``trainer.timesteps``. The trainer shows its progress bar; the last line printed is the
mean return of the last 20 episodes.
"""

import argparse

import gymnasium as gym
import numpy as np

from skrl_jax.envs import wrap_env
from skrl_jax.trainers import last_episodes_return
from skrl_jax.utils.runner import Runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cfg", help="a skrl runner YAML file")
    parser.add_argument("--gymnax", action="store_true", help="gymnax's environment and the CompiledTrainer")
    parser.add_argument("--env", default="CartPole-v1", help="environment id (gymnasium's, or gymnax's with --gymnax)")
    parser.add_argument("--num-envs", type=int, default=4, help="parallel environments")
    parser.add_argument("--timesteps", type=int, default=None, help="replaces trainer.timesteps")
    args = parser.parse_args()

    cfg = Runner.load_cfg_from_yaml(args.cfg)
    cfg.setdefault("trainer", {})
    if args.timesteps is not None:
        cfg["trainer"]["timesteps"] = args.timesteps
    if args.gymnax:
        import gymnax

        env = gymnax.make(args.env)[0]
        cfg["trainer"]["class"] = "CompiledTrainer"
        cfg["trainer"]["num_envs"] = args.num_envs
    else:
        env = wrap_env(gym.make_vec(args.env, num_envs=args.num_envs, vectorization_mode="sync"))
        cfg["trainer"]["headless"] = True

    runner = Runner(env, cfg)
    print(f"skrl {runner.skrl_api} configuration; models: {sorted(runner.models)}", end="")
    shared = len({id(model) for model in runner.models.values()}) < len(runner.models)
    print(" (one shared model)" if shared else " (separate models)")
    result = runner.run("train")
    if args.gymnax:
        _, metrics = result
        mean = float(last_episodes_return(metrics, 20))
    else:
        returns = runner.agent.episode_returns[-20:]
        mean = float(np.mean(returns)) if returns else float("nan")
    print(f"mean return of the last 20 episodes: {mean:.1f}")


if __name__ == "__main__":
    main()
