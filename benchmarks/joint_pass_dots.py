"""What a joint pass costs when ``compute`` builds the trunk's input: dot products in the optimized HLO.

SAC's compiled update with twin Q-heads on one trunk (one model under both critic keys) runs three
joint passes of the critics (targets, critics' loss, actor's loss). The trunk reads
``[states, actions]``, either built in ``compute`` per role (``jnp.concatenate``, a new array each
time) or concatenated inside the trunk from the inputs' own arrays. The figures are the dot
products XLA keeps after optimisation (its own common-subexpression elimination included):

- concatenating in compute, with the joint pass's merge (``skrl_jax.models.joint``);
- the same with the merge switched off (``joint.deduplicate`` replaced by the identity here): XLA alone;
- the inputs' own arrays, with the merge.

Run: python benchmarks/joint_pass_dots.py   (writes benchmarks/results/joint_pass_dots.json)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from unittest import mock

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

from skrl_jax.agents.sac import SAC  # noqa: E402
from skrl_jax.memories import RandomMemory  # noqa: E402
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model, joint  # noqa: E402

OBSERVATION = gym.spaces.Box(-8.0, 8.0, (3,), np.float32)
ACTION = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)


class Trunk(nn.Module):
    """Reads ``[states, actions]``: given both arrays it concatenates them itself."""

    @nn.compact
    def __call__(self, states: jax.Array, actions: jax.Array | None = None) -> jax.Array:
        x = states if actions is None else jnp.concatenate([states, actions], axis=-1)
        return nn.relu(nn.Dense(64)(nn.relu(nn.Dense(64)(x))))


class TwinCritic(DeterministicMixin, Model):
    """Twin Q-heads on one trunk that ``compute`` feeds a fresh ``concatenate`` per role (or, with
    ``inputs_own_arrays``, the inputs' own arrays, which the trunk concatenates)."""

    def __init__(self, observation_space, action_space, inputs_own_arrays: bool = False):
        Model.__init__(self, observation_space, action_space)
        DeterministicMixin.__init__(self, role="critic_1")
        DeterministicMixin.__init__(self, role="critic_2")
        self.inputs_own_arrays = inputs_own_arrays

    def setup(self):
        self.trunk = Trunk()
        self.q1, self.q2 = nn.Dense(1), nn.Dense(1)

    def compute(self, inputs, role):
        if self.inputs_own_arrays:
            features = self.trunk(inputs["states"], inputs["taken_actions"])
        else:
            features = self.trunk(jnp.concatenate([inputs["states"], inputs["taken_actions"]], axis=-1))
        return (self.q1 if role == "critic_1" else self.q2)(features), {}


class Actor(GaussianMixin, Model):
    def __init__(self, observation_space, action_space):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, clip_actions=True)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.relu, nn.Dense(self.num_actions)])
        self.log_std = self.param("log_std", nn.initializers.zeros, (self.num_actions,))

    def compute(self, inputs, role):
        return self.net(inputs["states"]), self.log_std, {}


def compiled_update_dots(inputs_own_arrays: bool = False) -> int:
    """Dot products in the optimized HLO of SAC's compiled update with the twin critic on one trunk."""
    critic = TwinCritic(OBSERVATION, ACTION, inputs_own_arrays)
    target = TwinCritic(OBSERVATION, ACTION, inputs_own_arrays)
    models = {
        "policy": Actor(OBSERVATION, ACTION),
        "critic_1": critic,
        "critic_2": critic,
        "target_critic_1": target,
        "target_critic_2": target,
    }
    agent = SAC(models=models, memory=RandomMemory(64), cfg={"batch_size": 16, "learning_starts": 0})
    functions = agent.make_functions(num_envs=1)
    state = functions.init(jax.random.key(0))
    hlo = jax.jit(functions.update).lower(state, jax.random.key(1), 10).compile().as_text()
    return len(re.findall(r"= \S+ dot\(", hlo))


def main() -> None:
    merged = compiled_update_dots()
    with mock.patch.object(joint, "deduplicate", lambda jaxpr: jaxpr):
        unmerged = compiled_update_dots()
    own_arrays = compiled_update_dots(inputs_own_arrays=True)
    print("dot products in the optimized HLO of SAC's compiled update (twin critics on one trunk):")
    print(f"| trunk fed concatenate() built in compute, joint pass merged | {merged} |")
    print(f"| the same, merge switched off (XLA's own CSE only)           | {unmerged} |")
    print(f"| trunk fed the inputs' own arrays, joint pass merged         | {own_arrays} |")
    write_results(
        "joint_pass_dots",
        {"concatenate_merged": merged, "concatenate_unmerged": unmerged, "own_arrays_merged": own_arrays},
    )


if __name__ == "__main__":
    main()
