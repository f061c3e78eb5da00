"""PPO on a MuJoCo Playground task: Playground's own training path (brax's ``ppo.train``) beside ours.

Both sides step the same environment (``registry.load(task)`` with MJX's JAX physics, cached
resets as ``wrap_for_brax_training`` does) with Playground's PPO settings for the task
(``dm_control_suite_params.brax_ppo_config``: unroll 30, 16 epochs, discount 0.995, lr 1e-3,
entropy 1e-2, clip 0.3, reward scaling 10, observation normalisation), cut to this machine:
``--num-envs`` (default 256, Playground: 2048) environments, ``--minibatches`` x
``--batch-size`` sequences of 30 steps per update (4 x 64: one unroll per environment) and
``--env-steps`` in all. brax's default networks on both sides (policy 4 x 32, value 5 x 256,
swish); brax's policy is a tanh-squashed Normal with a state-dependent scale, ours skrl's
Gaussian with a state-independent log std, clipped to [-1, 1] (not yet the same head).

Timing excludes compilation and evaluation on both sides: brax's own ``training/sps`` of its
last training epoch (after the first, compiling one); ours, the compiled run timed on its own.
The physics floor (``playground_physics.py``'s ``cached`` row) is measured here too, same batch.
Greedy return: brax's last evaluation (``eval/episode_reward``), ours ``make_evaluate``, 1,000 steps.

Status (work in progress): brax's side runs (with the one-line ``device_put_replicated`` shim
below); ours diverges at these settings (the parameters turn NaN in the second update, after a
first update with KL 0.72), which the script reports as a ``FloatingPointError`` instead of a
figure. Not yet the same policy head either; see issue 23's note.

Run: python benchmarks/playground_ppo.py [--task CartpoleBalance] [--env-steps 1000000] [--seeds 1]
Writes benchmarks/results/playground_ppo.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import flax.linen as nn
import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402
from playground_physics import timed, wrapped_floor  # noqa: E402

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG  # noqa: E402
from skrl_jax.envs import load_playground_env  # noqa: E402
from skrl_jax.models import DeterministicHead, GaussianHead, shared_model  # noqa: E402
from skrl_jax.resources.preprocessors import RunningStandardScaler  # noqa: E402
from skrl_jax.trainers import CompiledTrainer  # noqa: E402

UNROLL = 30


def mlp(sizes: tuple[int, ...]) -> nn.Module:
    layers = []
    for size in sizes:
        layers += [nn.Dense(size, kernel_init=nn.initializers.lecun_uniform()), nn.swish]
    return nn.Sequential(layers)


def playground_settings(task: str, args: argparse.Namespace) -> dict:
    from mujoco_playground.config import dm_control_suite_params

    settings = dict(dm_control_suite_params.brax_ppo_config(task))
    settings.update(num_envs=args.num_envs, batch_size=args.batch_size, num_minibatches=args.minibatches)
    settings.update(num_timesteps=args.env_steps, num_evals=3, num_resets_per_eval=0)
    return settings


def replicate_on_devices(tree, devices):
    """A shim for brax 0.14.2 on jax >= 0.10, which removed ``jax.device_put_replicated``: the same
    leading device axis, on one device (the only case here)."""
    if len(devices) != 1:
        raise NotImplementedError("the shim replicates over one device")
    return jax.device_put(jax.tree.map(lambda leaf: jax.numpy.asarray(leaf)[None], tree), devices[0])


def run_brax(task: str, settings: dict, seed: int) -> tuple[float, float]:
    from brax.training.agents.ppo import train as brax_ppo

    if not hasattr(jax, "device_put_replicated"):
        jax.device_put_replicated = replicate_on_devices
    from mujoco_playground import registry, wrapper

    env = registry.load(task, config_overrides={"impl": "jax"})
    records = []
    brax_ppo.train(
        environment=env,
        wrap_env_fn=wrapper.wrap_for_brax_training,
        seed=seed,
        progress_fn=lambda step, metrics: records.append(dict(metrics)),
        **settings,
    )
    sps = [r["training/sps"] for r in records if "training/sps" in r]
    return sps[-1], float(records[-1]["eval/episode_reward"])


def run_ours(task: str, settings: dict, seed: int) -> tuple[float, float, float]:
    env = load_playground_env(task, reset="cached", episode_length=settings["episode_length"])
    policy = shared_model(
        env.observation_space, env.action_space, mlp((32,) * 4), {"policy": GaussianHead(clip_actions=True)}
    )
    value = shared_model(env.observation_space, env.action_space, mlp((256,) * 5), {"value": DeterministicHead()})
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=settings["unroll_length"],
        learning_epochs=settings["num_updates_per_batch"],
        mini_batches=settings["num_minibatches"],
        discount_factor=settings["discounting"],
        learning_rate=settings["learning_rate"],
        entropy_loss_scale=settings["entropy_cost"],
        ratio_clip=0.3,
        clip_predicted_values=False,
        value_loss_scale=0.25,  # brax: 0.5 * vf_loss_coefficient (0.5) * mean squared error
        grad_norm_clip=0,
        rewards_shaper=lambda rewards, *_: rewards * settings["reward_scaling"],
        state_preprocessor=RunningStandardScaler,
        state_preprocessor_kwargs={"size": env.observation_space},
        experiment={"write_interval": 0, "checkpoint_interval": 0},
    )
    cfg["lambda"] = 0.95
    agent = PPO(models={"policy": policy, "value": value}, cfg=cfg)
    per_update = settings["num_envs"] * settings["unroll_length"]
    timesteps = max(1, settings["num_timesteps"] // per_update) * settings["unroll_length"]
    trainer = CompiledTrainer(
        env, agent, cfg={"timesteps": timesteps, "num_envs": settings["num_envs"], "disable_progressbar": True}
    )
    key = jax.random.key(seed)
    train = jax.jit(trainer.make_train()).lower(key).compile()
    start = time.perf_counter()
    runner, metrics = jax.block_until_ready(train(key))
    if not all(np.all(np.isfinite(np.asarray(metrics[name]))) for name in ("policy_loss", "value_loss")):
        raise FloatingPointError(f"skrl_jax PPO diverged on {task}: policy_loss {metrics['policy_loss']}")
    seconds = time.perf_counter() - start
    evaluate = jax.jit(trainer.make_evaluate(16, settings["episode_length"]))
    greedy = float(np.mean(evaluate(runner.agent_state, jax.random.key(seed + 1000))))
    return timesteps * settings["num_envs"] / seconds, greedy, timesteps * settings["num_envs"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="CartpoleBalance")
    parser.add_argument("--env-steps", type=int, default=1_000_000)
    parser.add_argument("--num-envs", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--minibatches", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    settings = playground_settings(args.task, args)
    floor_env = load_playground_env(args.task, reset="cached")
    floor, _ = timed(*wrapped_floor(floor_env, args.num_envs, 200), args.num_envs, 200)
    print(f"physics floor ({args.num_envs} envs, cached resets): {floor:,.0f} env steps/s", flush=True)
    brax_rows, our_rows = [], []
    for seed in range(args.seeds):  # interleaved: brax then ours, seed by seed
        brax_sps, brax_return = run_brax(args.task, settings, seed)
        print(f"seed {seed} brax ppo.train: {brax_sps:,.0f} env steps/s, greedy return {brax_return:.1f}", flush=True)
        our_sps, our_return, steps = run_ours(args.task, settings, seed)
        print(f"seed {seed} skrl_jax PPO:   {our_sps:,.0f} env steps/s, greedy return {our_return:.1f}", flush=True)
        brax_rows.append((brax_sps, brax_return))
        our_rows.append((our_sps, our_return))
    brax_sps, our_sps = (statistics.median(r[0] for r in rows) for rows in (brax_rows, our_rows))
    print(
        f"\n| {args.task}, {args.env_steps:,} env steps, {args.seeds} seed(s) | env steps/s (median) | vs brax | greedy return mean [worst] |"
    )
    print("| --- | --- | --- | --- |")
    print(f"| physics floor | {floor:,.0f} | {floor / brax_sps:.2f}x | - |")
    for name, rows, sps in (("brax ppo.train", brax_rows, brax_sps), ("skrl_jax PPO, separate", our_rows, our_sps)):
        returns = [r[1] for r in rows]
        print(f"| {name} | {sps:,.0f} | {sps / brax_sps:.2f}x | {np.mean(returns):.1f} [{min(returns):.1f}] |")
    write_results(
        "playground_ppo",
        {
            "task": args.task,
            "settings": {k: v for k, v in settings.items() if isinstance(v, (int, float, str, bool))},
            "floor": floor,
            "brax": brax_rows,
            "ours": our_rows,
            "ratio": our_sps / brax_sps,
        },
    )


if __name__ == "__main__":
    main()
