"""Steering a shared trunk, and watching it: PPO on gymnax CartPole-v1 with one model for the policy
and the value, under four settings of the trunk controls, every one with the gradient diagnostics.

- ``default``: the value loss reaches the trunk with its head's weight (``value_loss_scale`` 0.5);
- ``value gradient stops at the trunk``: ``trunk_value_loss_scale=0.0`` (the trunk learns from the
  policy's loss alone; the value head still fits the returns);
- ``trunk value weight 0.1``: ``trunk_value_loss_scale=0.1``;
- ``trunk at half the learning rate``: ``role_learning_rate_scale={"trunk": 0.5}``.

The settings are examples/compiled_cartpole.py's (PureJaxRL's CartPole config, 500,000 env steps);
the seeds of each setting run vmapped in one compiled call. Per setting it prints the greedy return
(10 episodes per seed), and the diagnostics averaged over the first and the last tenth of the
updates: the cosine of the policy's and the value's gradients on the trunk, the norm ratio
value / policy, and the value loss's share of the trunk's step. ``--plot FILE`` draws them.

Run: python examples/sharing_controls.py [--seeds 8] [--timesteps 124928] [--plot sharing_controls.png]
The last line is the README's measure: each setting's mean greedy return over the seeds.
"""

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compiled_cartpole import make_trainer  # noqa: E402

SETTINGS = {
    "default": {},
    "value gradient stops at the trunk": {"trunk_value_loss_scale": 0.0},
    "trunk value weight 0.1": {"trunk_value_loss_scale": 0.1},
    "trunk at half the learning rate": {"role_learning_rate_scale": {"trunk": 0.5}},
}
DIAGNOSTICS = ("trunk_gradient_cosine", "trunk_gradient_norm_ratio", "trunk_value_share")


def run(settings: dict, seeds: int, timesteps: int) -> dict:
    """One setting, ``seeds`` seeds in one compiled call: greedy returns and the diagnostics per update."""
    trainer = make_trainer(timesteps, progress=False, sharing_diagnostics=True, **settings)
    keys = jax.random.split(jax.random.key(0), seeds)
    start = time.perf_counter()
    runners, metrics = jax.block_until_ready(jax.jit(jax.vmap(trainer.make_train()))(keys))
    seconds = time.perf_counter() - start
    evaluate = jax.jit(jax.vmap(trainer.make_evaluate(num_episodes=10, max_steps=500)))
    greedy = np.asarray(evaluate(runners.agent_state, jax.random.split(jax.random.key(1), seeds))).mean(axis=1)
    return {"greedy": greedy, "seconds": seconds, **{name: np.asarray(metrics[name]) for name in DIAGNOSTICS}}


def tenth_mean(per_update: np.ndarray, last: bool) -> float:
    """The mean over seeds and over the first (or last) tenth of the updates."""
    tenth = max(per_update.shape[1] // 10, 1)
    return float(np.mean(per_update[:, -tenth:] if last else per_update[:, :tenth]))


def plot(results: dict, path: str | None = None):
    """The diagnostics per update (mean over seeds, 95% band), one panel each; saved to ``path`` if given."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(DIAGNOSTICS), figsize=(5 * len(DIAGNOSTICS), 3.5))
    for axis, name in zip(axes, DIAGNOSTICS):
        for label, result in results.items():
            values = result[name]
            mean = values.mean(axis=0)
            band = 1.96 * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
            updates = np.arange(1, mean.size + 1)
            axis.plot(updates, mean, label=label)
            axis.fill_between(updates, mean - band, mean + band, alpha=0.2)
        axis.set_title(name)
        axis.set_xlabel("update")
        if name == "trunk_gradient_norm_ratio":
            axis.set_yscale("log")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    if path:
        figure.savefig(path, dpi=120)
        print(f"plot written: {path}")
    return figure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=124_928)
    parser.add_argument("--plot", default=None, help="write the diagnostics' curves to this image file")
    args = parser.parse_args()
    results = {}
    for label, settings in SETTINGS.items():
        results[label] = run(settings, args.seeds, args.timesteps)
        print(f"{label}: {args.seeds} seeds in {results[label]['seconds']:.0f} s (compile included)")
    print(
        "\n| setting | greedy return: mean | worst | >= 475 | cosine first / last tenth "
        "| norm ratio value/policy first / last | value share first / last |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for label, result in results.items():
        greedy = result["greedy"]
        cells = [
            f"{tenth_mean(result[name], False):.3f} / {tenth_mean(result[name], True):.3f}" for name in DIAGNOSTICS
        ]
        print(
            f"| {label} | {greedy.mean():.1f} | {greedy.min():.1f} | {int((greedy >= 475).sum())}/{greedy.size} | "
            + " | ".join(cells)
            + " |"
        )
    if args.plot:
        plot(results, args.plot)
    print(
        f"greedy return (10 episodes), mean over {args.seeds} seeds: "
        + "; ".join(f"{label} {result['greedy'].mean():.1f}" for label, result in results.items())
    )


if __name__ == "__main__":
    main()
