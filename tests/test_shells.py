"""Shells that hold, not hide: the trainers drive an agent through its public methods only."""

import ast
from pathlib import Path

import skrl_jax

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
