"""Shells that hold, not hide: the trainers drive an agent through its public methods only."""

import ast
import inspect
from pathlib import Path

import gymnasium as gym
import gymnax
import jax
import numpy as np
import pytest

import skrl_jax
from skrl_jax.agents.base import Agent
from skrl_jax.agents.ppo import PPO
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.trainers import CompiledTrainer
from tests.models import CategoricalShared

TRAINERS = Path(skrl_jax.__file__).parent / "trainers"


def private_agent_reads(source: str) -> list[str]:
    """``agent._name`` / ``self.agent._name`` reads in ``source`` (dunders aside)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        if name == "agent":
            found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return sorted(found)


def test_the_scan_finds_a_private_read():
    assert private_agent_reads(
        "def f(agent, self):\n    agent._act(1)\n    self.agent._state\n    agent.__class__\n"
    ) == [
        "line 2: agent._act",
        "line 3: self.agent._state",
    ]


def test_the_trainers_read_no_private_attribute_of_an_agent():
    reads = {path.name: private_agent_reads(path.read_text()) for path in sorted(TRAINERS.glob("*.py"))}
    assert {name: found for name, found in reads.items() if found} == {}


# --- the host driver, its logger and checkpointer ---------------------------------------------

AGENTS = Path(skrl_jax.__file__).parent / "agents"


def long_functions(source: str, limit: int) -> list[str]:
    """Functions of ``source`` longer than ``limit`` lines, their nested functions included."""
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno + 1 > limit
    ]


def test_the_length_scan_counts_nested_functions():
    body = "\n".join(f"        x{index} = {index}" for index in range(5))
    source = f"def outer():\n    def inner():\n{body}\n    return inner\n"
    assert long_functions(source, 6) == ["outer (8 lines)"]
    assert long_functions(source, 8) == []


def test_no_function_in_agents_is_over_80_lines():
    found = {str(p.relative_to(AGENTS)): long_functions(p.read_text(), 80) for p in sorted(AGENTS.rglob("*.py"))}
    assert {name: functions for name, functions in found.items() if functions} == {}


def test_the_host_driver_is_at_most_300_lines():
    lines, _ = inspect.getsourcelines(Agent)
    assert len(lines) <= 300


def cartpole_ppo(memory=None):
    observation_space, action_space = gym.spaces.Box(-np.inf, np.inf, (4,)), gym.spaces.Discrete(2)
    model = CategoricalShared(observation_space, action_space)
    cfg = {
        "rollouts": 4,
        "learning_epochs": 1,
        "mini_batches": 1,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    return model, PPO({"policy": model, "value": model}, memory, observation_space, action_space, cfg=cfg)


def test_reading_the_parameters_runs_nothing():
    model, agent = cartpole_ppo(RandomMemory(4, num_envs=2))
    agent.init({"timesteps": 8})
    observations = np.zeros((2, 4), np.float32)
    actions, _, _ = agent.act(observations, 0, 8)
    rewards, flags = np.ones((2, 1), np.float32), np.zeros((2, 1), bool)
    agent.record_transition(observations, actions, rewards, observations, flags, flags, {}, 0, 8)
    # the pending transition holds host arrays: writing it would transfer them, which the guard refuses
    with jax.transfer_guard("disallow"):
        params = model.params
        with pytest.raises(Exception, match="[Dd]isallowed"):
            agent.state  # noqa: B018 (reading the state writes the pending transition)
    assert params is agent.state.learner.params["policy"]


def test_the_compiled_trainer_builds_no_host_state_and_hands_its_state_back():
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    model = CategoricalShared(env.observation_space, env.action_space)
    cfg = {
        "rollouts": 8,
        "learning_epochs": 1,
        "mini_batches": 1,
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = PPO({"policy": model, "value": model}, cfg=cfg)
    trainer = CompiledTrainer(env, agent, {"num_envs": 2, "timesteps": 16, "disable_progressbar": True})
    assert agent.state is None and agent.functions is None
    runner, _ = trainer.train(jax.random.key(0))
    assert agent.state is runner.agent_state and (agent.timestep, agent.updates) == (16, 2)
    assert model.params is runner.agent_state.learner.params["policy"]
    actions, _, _ = agent.act(np.zeros((3, 4), np.float32), 16, 16, deterministic=True)
    assert np.shape(actions) == (3, 1)


# --- skrl 1.4 and 2.x meet at the edge ---------------------------------------------------------

PACKAGE = Path(skrl_jax.__file__).parent
# the adapters: where the API a user chose is read (Model.__init__ turns it into ModelConventions)
ADAPTERS = {
    "agents/adapters.py",
    "agents/configs.py",
    "multi_agents/adapters.py",
    "utils/runner.py",
    "utils/network_spec.py",
}


def api_reads(source: str) -> list[str]:
    """Reads of an attribute ``skrl_api`` in ``source``, as ``function: line``; an assignment is no read."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Attribute) and child.attr == "skrl_api" and isinstance(child.ctx, ast.Load):
                found.append(f"{function}: line {child.lineno}")
            elif isinstance(child, ast.Constant) and child.value == "skrl_api":  # getattr(x, "skrl_api")
                found.append(f"{function}: line {child.lineno}")
            visit(child, name)

    visit(ast.parse(source), "<module>")
    return found


def test_the_api_scan_finds_reads_and_skips_assignments():
    source = 'def f(m):\n    m.skrl_api = "2.x"\n    if m.skrl_api == "2.x":\n        getattr(m, "skrl_api", "1.4")\n'
    assert api_reads(source) == ["f: line 3", "f: line 4"]


def test_nothing_under_the_adapters_reads_the_api():
    reads = {
        str(path.relative_to(PACKAGE)): api_reads(path.read_text())
        for path in sorted(PACKAGE.rglob("*.py"))
        if str(path.relative_to(PACKAGE)) not in ADAPTERS
    }
    reads = {name: found for name, found in reads.items() if found}
    # Model.__init__ is the models' adapter: it picks the conventions from the API it is given
    reads["models/base.py"] = [read for read in reads.get("models/base.py", []) if not read.startswith("__init__:")]
    assert {name: found for name, found in reads.items() if found} == {}
