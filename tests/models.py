"""Models the tests share: the seed's shared model ported, and a Categorical + value one."""

import flax.linen as nn
import gymnasium as gym
import numpy as np

from benchmarks._examples import load_example
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model

PENDULUM_OBSERVATION = gym.spaces.Box(low=-8.0, high=8.0, shape=(3,), dtype=np.float32)
PENDULUM_ACTION = gym.spaces.Box(low=-2.0, high=2.0, shape=(1,), dtype=np.float32)
CARTPOLE_OBSERVATION = gym.spaces.Box(low=-np.inf, high=np.inf, shape=(4,), dtype=np.float32)
CARTPOLE_ACTION = gym.spaces.Discrete(2)


# the seed's example as DESIGN.md ports it: one copy, the example's own
SharedModel = load_example("shared_model").SharedModel


class CategoricalShared(CategoricalMixin, DeterministicMixin, Model):
    """Categorical policy and value on one trunk, with no act override (dispatch by role)."""

    def __init__(self, observation_space, action_space, device=None, unnormalized_log_prob=True):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob, role="policy")
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        self.net = nn.Sequential([nn.Dense(16), nn.tanh, nn.Dense(16), nn.tanh])
        self.logits = nn.Dense(self.num_actions)
        self.value = nn.Dense(1)

    def compute(self, inputs, role):
        features = self.net(inputs["states"])
        if role == "policy":
            return self.logits(features), {}
        elif role == "value":
            return self.value(features), {}


class CategoricalPolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.tanh, nn.Dense(32), nn.tanh, nn.Dense(self.num_actions)])

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.tanh, nn.Dense(32), nn.tanh, nn.Dense(1)])

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}
