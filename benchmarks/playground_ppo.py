"""PPO on a MuJoCo Playground task: Playground's own training path (brax's ``ppo.train``) beside ours.

Both sides step the same environment (``registry.load(task)`` with MJX's JAX physics, cached
resets as ``wrap_for_brax_training`` does) with Playground's PPO settings for the task
(``dm_control_suite_params.brax_ppo_config``: unroll 30, 16 epochs, discount 0.995, lr 1e-3,
entropy 1e-2, clip 0.3, reward scaling 10, observation normalisation), cut to this machine:
``--num-envs`` (default 256, Playground: 2048) environments, ``--minibatches`` x
``--batch-size`` sequences of 30 steps per update (4 x 64: one unroll per environment) and
``--env-steps`` in all. brax's default networks and policy form on both sides: policy 4 x 32,
value 5 x 256, swish, lecun_uniform; a tanh-squashed Normal whose scale (softplus + 0.001) comes
from the policy network (ours: ``TanhGaussianHead``). Ours also runs with one shared trunk of
5 x 256 under both heads (``--shared`` of the example), whose parameter count matches the separate
pair's to about 1% (both printed). Ours takes brax's advantage estimate (``recompute_advantages``:
GAE at every minibatch from the current value model, time-limit steps masked) and brax's entropy
weight (skrl averages the entropy over action dimensions, brax sums it: ``entropy_loss_scale`` is
``entropy_cost`` times the action size). The difference left: brax stores the pre-tanh action, ours
reads it back from the stored action (``TanhGaussianMixin``).

Timing excludes compilation and evaluation on both sides: brax's own ``training/sps`` of its
last training epoch (after the first, compiling one); ours, the compiled run timed on its own.
The physics floor (``playground_physics.py``'s ``cached`` row) is measured here too, same batch.
Greedy return: brax's last evaluation (``eval/episode_reward``), ours ``make_evaluate``, 1,000 steps.

brax 0.14.2's ``ppo.train`` calls ``jax.device_put_replicated``, which jax 0.10 removed: the
script puts a one-device replacement in its place (``replicate_on_devices``), the only shim.

Run: python benchmarks/playground_ppo.py [--task CartpoleBalance CheetahRun] [--env-steps 1000000] [--seeds 3]
Writes benchmarks/results/playground_ppo_<task>.json after each seed (a stopped run keeps the seeds it
finished), then prints the table of the tasks named; ``--table`` prints it from those files without running anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _examples import load_example  # noqa: E402
from _results import RESULTS, interleaved, write_results  # noqa: E402
from does_sharing_pay import parameter_count  # noqa: E402
from playground_physics import timed, wrapped_floor  # noqa: E402

from skrl_jax.envs import load_playground_env  # noqa: E402

playground_ppo = load_example("playground_ppo")


def replicate_on_devices(tree, devices):
    """A shim for brax 0.14.2 on jax >= 0.10, which removed ``jax.device_put_replicated``: the same
    leading device axis, on one device (the only case here)."""
    if len(devices) != 1:
        raise NotImplementedError("the shim replicates over one device")
    return jax.device_put(jax.tree.map(lambda leaf: jax.numpy.asarray(leaf)[None], tree), devices[0])


def train_with_brax(environment, settings: dict, seed: int, **extra) -> tuple[float, float]:
    """brax's ``ppo.train`` on ``environment`` with ``settings``: ``(training/sps of its last epoch,
    its last evaluation's episode reward)``."""
    from brax.training.agents.ppo import train as brax_ppo

    if not hasattr(jax, "device_put_replicated"):
        jax.device_put_replicated = replicate_on_devices
    records = []
    brax_ppo.train(
        environment=environment,
        seed=seed,
        progress_fn=lambda step, metrics: records.append(dict(metrics)),
        **settings,
        **extra,
    )
    sps = [r["training/sps"] for r in records if "training/sps" in r]
    return sps[-1], float(records[-1]["eval/episode_reward"])


def run_brax(task: str, settings: dict, seed: int) -> tuple[float, float]:
    from mujoco_playground import registry, wrapper

    environment = registry.load(task, config_overrides={"impl": "jax"})
    return train_with_brax(environment, settings, seed, wrap_env_fn=wrapper.wrap_for_brax_training)


def run_ours(task: str, settings: dict, seed: int, shared: bool) -> tuple[float, float]:
    trainer = playground_ppo.make_trainer(task, settings, shared=shared, progress=False)
    return playground_ppo.train_and_evaluate(trainer, settings["episode_length"], seed)


SYSTEMS = ("brax ppo.train", "skrl_jax PPO, separate", "skrl_jax PPO, shared trunk")


def table(results: dict[str, dict]) -> list[str]:
    """The table of ``{task: its results record}`` (``playground_ppo_<task>.json``): median env
    steps/s over the seeds, greedy returns' mean and worst, parameter counts."""
    lines = [
        "| task | env steps x seeds | system | parameters | env steps/s | vs brax ppo.train | greedy return: mean [worst] "
        "| commit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for task, result in results.items():
        speed = {name: statistics.median(row[0] for row in result["runs"][name]) for name in SYSTEMS}
        brax, budget = speed["brax ppo.train"], result["settings"]["num_timesteps"]
        seeds = len(result["runs"]["brax ppo.train"])
        lines.append(
            f"| {task} | {budget:,} x {seeds} | physics floor (random actions) | - | {result['floor']:,.0f} | "
            f"{result['floor'] / brax:.2f}x | - | {result.get('commit', 'unknown')} |"
        )
        for name in SYSTEMS:
            returns = [row[1] for row in result["runs"][name]]
            count = f"{result['parameters'][name]:,}" if name in result["parameters"] else "as separate"
            lines.append(
                f"| {task} | {budget:,} x {seeds} | {name} | {count} | {speed[name]:,.0f} | {speed[name] / brax:.2f}x | "
                f"{np.mean(returns):.1f} [{min(returns):.1f}] | {result.get('commit', 'unknown')} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", nargs="+", default=["CartpoleBalance"])
    parser.add_argument("--env-steps", type=int, default=1_000_000)
    parser.add_argument("--num-envs", type=int, default=playground_ppo.NUM_ENVS)
    parser.add_argument("--batch-size", type=int, default=playground_ppo.BATCH_SIZE)
    parser.add_argument("--minibatches", type=int, default=playground_ppo.MINIBATCHES)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--table", action="store_true", help="print the table of the results files of --task; run nothing"
    )
    args = parser.parse_args()
    for task in [] if args.table else args.task:
        settings = playground_ppo.playground_settings(
            task, args.env_steps, args.num_envs, args.batch_size, args.minibatches
        )
        run_task(task, settings, args.seeds)
    print("\nmedian env steps/s over the seeds\n")
    print(
        "\n".join(
            table({task: json.loads((RESULTS / f"playground_ppo_{task}.json").read_text()) for task in args.task})
        )
    )


def run_task(task: str, settings: dict, seeds: int) -> None:
    """Each system once per seed, interleaved, one job at a time; writes ``playground_ppo_<task>.json``."""
    settings = dict(settings, deterministic_eval=True)  # brax's evaluation, greedy as ours
    num_envs = settings["num_envs"]
    floor, _ = timed(*wrapped_floor(load_playground_env(task, reset="cached"), num_envs, 200), num_envs, 200)
    print(f"{task}: physics floor ({num_envs} envs, cached resets): {floor:,.0f} env steps/s", flush=True)
    systems = {
        "brax ppo.train": lambda seed: run_brax(task, settings, seed),
        "skrl_jax PPO, separate": lambda seed: run_ours(task, settings, seed, shared=False),
        "skrl_jax PPO, shared trunk": lambda seed: run_ours(task, settings, seed, shared=True),
    }
    parameters = {
        name: parameter_count(playground_ppo.make_trainer(task, settings, shared, False))
        for name, shared in (("skrl_jax PPO, separate", False), ("skrl_jax PPO, shared trunk", True))
    }
    print(f"parameters: {parameters}", flush=True)
    recorded_settings = {k: v for k, v in settings.items() if isinstance(v, (int, float, str, bool))}
    interleaved(
        systems,
        seeds,
        task,
        after_seed=lambda rows: write_results(
            f"playground_ppo_{task}",
            {"task": task, "parameters": parameters, "settings": recorded_settings, "floor": floor, "runs": rows},
        ),
    )


if __name__ == "__main__":
    main()
