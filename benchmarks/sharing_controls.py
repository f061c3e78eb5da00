"""The trunk controls and their gradient diagnostics on CartPole: examples/sharing_controls.py, with its figures kept.

Runs the example's four settings (``default``; ``trunk_value_loss_scale=0.0``, the value gradient
stopped at the trunk; ``trunk_value_loss_scale=0.1``; ``role_learning_rate_scale={"trunk": 0.5}``)
with the example's own ``run``: PPO with one shared model on gymnax CartPole-v1,
examples/compiled_cartpole.py's settings (PureJaxRL's), ``--seeds`` seeds of a setting vmapped in
one compiled call, the diagnostics on. Per setting: the greedy return (10 episodes per seed: mean,
worst, seeds >= 475) and the diagnostics over the first and the last tenth of the updates (the
cosine of the policy's and the value's gradients on the trunk, their norm ratio value / policy, the
value loss's share of the trunk's step).

Writes benchmarks/results/sharing_controls.json, then prints its table (the example's, with the
run's commit and date in a last row), and draws the diagnostics per update in ``--plot``
(benchmarks/figures/sharing_controls.png, the docs' figure).

Run: python benchmarks/sharing_controls.py [--seeds 8] [--timesteps 124928] [--plot FILE] [--table]
``--table`` prints the table from the results file, running nothing (docs/sharing.md's table).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _examples import load_example  # noqa: E402
from _results import read_results, write_results  # noqa: E402

sharing_controls = load_example("sharing_controls")


def table(result: dict) -> list[str]:
    """The rows of a results record: the example's table, then the run's size, commit and date."""
    return [
        *sharing_controls.table(result["settings"]),
        f"| {result['seeds']} seeds x {result['env_steps_per_seed']:,} env steps per setting; greedy return over "
        f"10 episodes per seed | commit {result['commit']} | {result['date'][:10]} | | | | |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=124_928, help="steps of the 4 vectorised envs per seed")
    parser.add_argument(
        "--plot", default=str(HERE / "figures" / "sharing_controls.png"), help="where to draw the diagnostics"
    )
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("sharing_controls"))))
        return
    results = {}
    for label, settings in sharing_controls.SETTINGS.items():
        results[label] = sharing_controls.run(settings, args.seeds, args.timesteps)
        print(f"{label}: {args.seeds} seeds in {results[label]['seconds']:.0f} s (compile included)", flush=True)
    rollouts, num_envs = sharing_controls.ROLLOUTS, sharing_controls.NUM_ENVS
    write_results(
        "sharing_controls",
        {
            "seeds": args.seeds,
            "timesteps": args.timesteps,
            "env_steps_per_seed": (args.timesteps // rollouts) * rollouts * num_envs,
            "settings": sharing_controls.summary(results),
        },
    )
    print()
    print("\n".join(table(read_results("sharing_controls"))))
    import matplotlib

    matplotlib.use("Agg")
    sharing_controls.plot(results, args.plot)


if __name__ == "__main__":
    main()
