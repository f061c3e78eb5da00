"""How close our agents come to skrl's own outputs after loading skrl's own checkpoints.

For each fixture in tests/fixtures/skrl_checkpoints/ (written by skrl 1.4.3 / 2.1.1 itself, with its outputs on
64 observations), the checkpoint is loaded into our agent built with the same models (the fixture script's own
model classes, run with skrl_jax's imports: tests/test_skrl_checkpoints.py's agents) and the largest absolute
differences are printed: standardised observations, mean actions, log-probabilities of the given actions, and
values (Q-values for SAC's critics). The PyTorch fixtures need torch (they are left out without it).

Run: python benchmarks/skrl_checkpoint_parity.py [--table]
Writes benchmarks/results/skrl_checkpoint_parity.json (committed) and prints the table; ``--table`` prints it from
that file without running anything.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _results import RESULTS, write_results  # noqa: E402

import tests.test_skrl_checkpoints as fixtures  # noqa: E402


def largest(ours, skrls) -> float:
    return float(np.max(np.abs(np.asarray(ours) - np.asarray(skrls))))


def policy_outputs(model, params, inputs):
    """(mean actions, log-probabilities) from a 1.4 ``(actions, log_prob, outputs)`` or 2.x ``(actions, outputs)`` act."""
    result = model.act(inputs, "policy", params=params, key=jax.random.key(0))
    outputs = result[-1]
    log_prob = result[1] if len(result) == 3 else outputs["log_prob"]
    return outputs["mean_actions"], log_prob


def jax_ppo(name: str, agent) -> dict[str, float]:
    io = np.load(fixtures.FIXTURES / f"{name}_io.npz")
    agent.load(fixtures.FIXTURES / f"{name}.pickle")
    learner = agent.state.learner
    states = agent.config.state_preprocessor.standardize(learner.state_scaler, io["observations"])
    inputs = {"states": states, "taken_actions": io["actions"]}
    if agent.policy.skrl_api == "2.x":
        inputs = {"observations": states, "taken_actions": io["actions"]}
    mean, log_prob = policy_outputs(agent.policy, learner.params["policy"], inputs)
    values = agent.value.apply(
        learner.params["value"], {key: inputs[key] for key in inputs if key != "taken_actions"}, "value"
    )[0]
    return {
        "observations": largest(states, io["states"]),
        "mean_actions": largest(mean, io["mean_actions"]),
        "log_prob": largest(log_prob, io["log_prob"]),
        "largest |log_prob|": float(np.max(np.abs(io["log_prob"]))),
        "values": largest(values, io["values"]),
    }


def jax_sac() -> dict[str, float]:
    agent, io = fixtures.sac(), np.load(fixtures.FIXTURES / "sac_skrl_1.4.3_jax_io.npz")
    agent.load(fixtures.FIXTURES / "sac_skrl_1.4.3_jax.pickle")
    learner = agent.state.learner
    states = agent.state_preprocessor.standardize(learner.state_scaler, io["observations"])
    inputs = {"states": states, "taken_actions": io["actions"]}
    mean, log_prob = policy_outputs(agent.models["policy"], learner.params["policy"], inputs)
    critics = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    q_values = max(largest(agent.models[c].apply(learner.params[c], inputs, c)[0], io[c]) for c in critics)
    return {
        "observations": largest(states, io["states"]),
        "mean_actions": largest(mean, io["mean_actions"]),
        "log_prob": largest(log_prob, io["log_prob"]),
        "largest |log_prob|": float(np.max(np.abs(io["log_prob"]))),
        "values": q_values,
    }


def torch_shared(version: str) -> dict[str, float]:
    agent, model = fixtures.shared_port(version)
    name = f"ppo_shared_skrl_{version}_torch"
    io = np.load(fixtures.FIXTURES / f"{name}_io.npz")
    agent.load(fixtures.FIXTURES / f"{name}.pt")
    learner = agent.state.learner
    states = agent.config.state_preprocessor.standardize(learner.state_scaler, io["observations"])
    outputs = model.joint_act(
        {"states": states, "taken_actions": io["actions"]},
        ("policy", "value"),
        params=learner.params["policy"],
        key=jax.random.key(0),
    )
    policy = outputs["policy"]
    log_prob, policy_out = (policy[1], policy[2]) if len(policy) == 3 else (policy[1]["log_prob"], policy[1])
    return {
        "observations": largest(states, io["states"]),
        "mean_actions": largest(policy_out["mean_actions"], io["mean_actions"]),
        "log_prob": largest(log_prob, io["log_prob"]),
        "largest |log_prob|": float(np.max(np.abs(io["log_prob"]))),
        "values": largest(outputs["value"][0], io["values"]),
    }


def print_table(results: dict, commit: str) -> None:
    print(
        "| checkpoint written by | observations | mean actions | log-prob (largest \\|log-prob\\|) | values | commit |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name, found in results.items():
        print(
            f"| {name} | {found['observations']:.1e} | {found['mean_actions']:.1e} | {found['log_prob']:.1e} "
            f"({found['largest |log_prob|']:.1f}) | {found['values']:.1e} | {commit} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        recorded = json.loads((RESULTS / "skrl_checkpoint_parity.json").read_text())
        print_table(recorded["max_abs_differences"], recorded["commit"])
        return
    rows = {
        "skrl 1.4.3 JAX PPO (separate models)": lambda: jax_ppo("ppo_skrl_1.4.3_jax", fixtures.ppo()),
        "skrl 2.1.1 JAX PPO (separate models)": lambda: jax_ppo(
            "ppo_skrl_2.1.1_jax",
            fixtures.ppo_2x(
                {
                    "policy": fixtures.Policy2(fixtures.OBSERVATIONS, None, fixtures.ACTIONS),
                    "value": fixtures.Value2(fixtures.OBSERVATIONS, None, fixtures.ACTIONS),
                }
            ),
        ),
        "skrl 1.4.3 JAX SAC (twin critics, targets)": jax_sac,
    }
    if importlib.util.find_spec("torch"):
        rows["skrl 1.4.3 PyTorch PPO (shared model)"] = lambda: torch_shared("1.4.3")
        rows["skrl 2.1.1 PyTorch PPO (shared model)"] = lambda: torch_shared("2.1.1")
    else:
        print("torch is not installed: the PyTorch fixtures are left out")
    results = {name: measure() for name, measure in rows.items()}
    path = write_results("skrl_checkpoint_parity", {"max_abs_differences": results})
    print_table(results, json.loads(path.read_text())["commit"])


if __name__ == "__main__":
    main()
