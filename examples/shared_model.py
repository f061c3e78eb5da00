"""The skrl "Shared model" page, ported: one trunk for a Gaussian policy and a value head.

Run: python examples/shared_model.py
"""

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp

from skrl_jax.models import DeterministicMixin, GaussianMixin, Model


class SharedModel(GaussianMixin, DeterministicMixin, Model):
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
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])  # shared
        self.mean_layer = nn.Dense(self.num_actions)  # "policy"
        self.log_std_parameter = self.param("log_std_parameter", nn.initializers.zeros, (self.num_actions,))
        self.value_layer = nn.Dense(1)  # "value"

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


def main() -> dict:
    env = gym.make("Pendulum-v1")
    models = {"policy": SharedModel(env.observation_space, env.action_space)}
    models["value"] = models["policy"]
    model = models["policy"]

    params = model.init(jax.random.key(0))
    print("parameters:", jax.tree.map(jnp.shape, params))
    print("roles reading each subtree:", {name: sorted(roles) for name, roles in model.parameter_roles(params).items()})

    observation, _ = env.reset(seed=0)
    states = jnp.asarray(observation)[None]
    actions, log_prob, outputs = model.act({"states": states}, "policy", params=params, key=jax.random.key(1))
    values, _, _ = model.act({"states": states}, "value", params=params)
    print(
        f"action {actions[0]}  log-prob {log_prob[0, 0]:.4f}  mean {outputs['mean_actions'][0]}  value {values[0, 0]:.4f}"
    )

    # one joint forward pass: the trunk is computed once for both heads
    both = jax.jit(lambda p, s: model.apply(p, s, role=("policy", "value")))(params, states)
    print("joint call:", {role: jax.tree.map(jnp.shape, output) for role, output in both.items()})
    env.close()
    return {"params": params, "actions": actions, "values": values}


if __name__ == "__main__":
    main()
