"""Models the tests share: the seed's shared model ported, and a Categorical + value one."""

import flax.linen as nn
import gymnasium as gym
import numpy as np

from skrl_jax.models import CategoricalMixin, DeterministicMixin, GaussianMixin, Model

PENDULUM_OBSERVATION = gym.spaces.Box(low=-8.0, high=8.0, shape=(3,), dtype=np.float32)
PENDULUM_ACTION = gym.spaces.Box(low=-2.0, high=2.0, shape=(1,), dtype=np.float32)
CARTPOLE_OBSERVATION = gym.spaces.Box(low=-np.inf, high=np.inf, shape=(4,), dtype=np.float32)
CARTPOLE_ACTION = gym.spaces.Discrete(2)


class SharedModel(GaussianMixin, DeterministicMixin, Model):
    """The seed's example as DESIGN.md ports it, unchanged."""

    def __init__(
        self,
        observation_space,
        action_space,
        device=None,
        clip_actions=False,
        clip_log_std=True,
        min_log_std=-20,
        max_log_std=2,
        reduction="sum",
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction, role="policy")
        DeterministicMixin.__init__(self, clip_actions, role="value")

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])
        self.mean_layer = nn.Dense(self.num_actions)
        self.log_std_parameter = self.param("log_std_parameter", nn.initializers.zeros, (self.num_actions,))
        self.value_layer = nn.Dense(1)

    def act(self, inputs, role, **kwargs):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role, **kwargs)
        elif role == "value":
            return DeterministicMixin.act(self, inputs, role, **kwargs)

    def compute(self, inputs, role):
        if role == "policy":
            return self.mean_layer(self.net(inputs["states"])), self.log_std_parameter, {}
        elif role == "value":
            return self.value_layer(self.net(inputs["states"])), {}


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
