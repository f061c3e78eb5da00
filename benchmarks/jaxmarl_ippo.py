"""IPPO on JaxMARL's MPE simple spread: JaxMARL's own baseline beside our IPPO, in one process.

The peer is JaxMARL's feed-forward MPE IPPO (``benchmarks/peers/jaxmarl_ippo_ff_mpe.py``, vendored
at a pinned commit) on its own configuration: 16 environments x 128 steps, 4 epochs x 4
minibatches, lr 2.5e-4 annealed linearly to 0, discount 0.99, GAE 0.95, clip 0.2, entropy 0.01,
value coefficient 0.5 on half the squared error, gradient norm 0.5, separate 64-64 tanh actor and
critic, one set of parameters for the 3 agents; its 10M env steps cut to 2M (the budget of
``examples/ippo_mpe.py``), the same for every system.

Ours: ``examples/ippo_mpe.py``'s ``make_trainer``: ``IPPO`` with skrl's configuration keys set to
the same numbers (``value_loss_scale`` 0.25: the peer's 0.5 x 0.5; ``clip_predicted_values`` with
``value_clip`` 0.2; the learning rate annealed by ``optax.linear_schedule`` per epoch, the peer's
per update) and the same networks and initialisation (orthogonal: sqrt 2 hidden, 0.01 logits,
1 value), one policy and one value passed under every agent's keys, so the three agents are one
group: one forward pass over their stacked rows. The environment is the same JaxMARL environment
through ``JaxMARLWrapper``. Also run: the shared network with each agent's one-hot ID after its
observations (``AgentIDs``: 21 inputs instead of 18), and each agent with models of its own
("per-agent"), three groups.

Known differences, not matched: the peer normalises advantages per minibatch (ours over the
rollout, as skrl) and clips the value loss as ``max(unclipped, clipped)`` (ours skrl's clipped
prediction); its Adam's eps is 1e-5 (ours optax's default, 1e-8).

Timing: each system's whole run compiled first (``lower().compile()``, not timed), then the
compiled call alone. The return: the team return (all agents' rewards summed over an episode),
the mean over the last 5% of the updates of what each logs (the peer: its ``MPELogWrapper``'s
``returned_episode_returns``; ours: the mean return of the episodes that ended in the update).

Run: python benchmarks/jaxmarl_ippo.py [--seeds 5] [--env-steps 2000000]
Writes benchmarks/results/jaxmarl_ippo.json and prints the table; ``--table`` prints it from the file.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import jax
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _examples import load_example  # noqa: E402
from _results import RESULTS, interleaved, write_results  # noqa: E402
from peers import jaxmarl_ippo_ff_mpe as peer  # noqa: E402

ippo_mpe = load_example("ippo_mpe")

SYSTEMS = (
    "JaxMARL ippo_ff_mpe",
    "skrl_jax IPPO, shared",
    "skrl_jax IPPO, shared + agent IDs",
    "skrl_jax IPPO, per-agent",
)


def run_ours(config: dict, seed: int, shared: bool, agent_ids: bool = False) -> dict:
    trainer = ippo_mpe.make_trainer(config["TOTAL_TIMESTEPS"], shared=shared, progress=False, agent_ids=agent_ids)
    key = jax.random.key(seed)
    start = time.perf_counter()
    compiled = jax.jit(trainer.make_train()).lower(key).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    _, metrics = jax.block_until_ready(compiled(key))
    seconds = time.perf_counter() - start
    env_steps = trainer.num_updates * trainer.update_interval * trainer.num_envs
    return {
        "env_steps_per_second": env_steps / seconds,
        "final_return": ippo_mpe.final_return(metrics["episode_return"]),
        "compile_seconds": compile_seconds,
        "env_steps": env_steps,
    }


def run_peer(config: dict, seed: int) -> dict:
    result = peer.run([seed], config["TOTAL_TIMESTEPS"])
    return {
        "env_steps_per_second": result["env_steps"] / result["seconds"][0],
        "final_return": result["final_return"][0],
        "compile_seconds": result["compile_seconds"][0],
        "env_steps": result["env_steps"],
    }


def describe(row: dict) -> str:
    return (
        f"{row['env_steps_per_second']:,.0f} env steps/s, team return {row['final_return']:.1f} "
        f"(compile {row['compile_seconds']:.1f} s)"
    )


def table(result: dict) -> list[str]:
    runs = result["runs"]
    peer_speed = statistics.median(run["env_steps_per_second"] for run in runs[SYSTEMS[0]])
    lines = [
        "| system | env steps x seeds | env steps/s (median) | vs JaxMARL | team return: mean [worst] | commit |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for system in SYSTEMS:
        rows = runs.get(system)
        if not rows:
            continue
        speed = statistics.median(run["env_steps_per_second"] for run in rows)
        returns = [run["final_return"] for run in rows]
        lines.append(
            f"| {system} | {rows[0]['env_steps']:,} x {len(rows)} | {speed:,.0f} | {speed / peer_speed:.2f}x | "
            f"{np.mean(returns):.1f} [{min(returns):.1f}] | {result.get('commit', 'unknown')} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--env-steps", type=int, default=ippo_mpe.ENV_STEPS)
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    path = RESULTS / "jaxmarl_ippo.json"
    if not args.table:
        config = {**peer.CONFIG, "TOTAL_TIMESTEPS": args.env_steps}
        systems = {
            SYSTEMS[0]: lambda seed: run_peer(config, seed),
            SYSTEMS[1]: lambda seed: run_ours(config, seed, shared=True),
            SYSTEMS[2]: lambda seed: run_ours(config, seed, shared=True, agent_ids=True),
            SYSTEMS[3]: lambda seed: run_ours(config, seed, shared=False),
        }
        runs = interleaved(systems, args.seeds, "MPE simple spread", describe)
        write_results("jaxmarl_ippo", {"settings": config, "runs": runs})
    print("\n".join(table(json.loads(path.read_text()))))


if __name__ == "__main__":
    main()
