"""The skrl "Shared model" page in skrl 2.x's style, ported: one trunk for a Gaussian policy and a value head.

The model is skrl 2.x's snippet with torch's layers as flax's: ``Model.__init__`` takes
``state_space=`` (which makes it a 2.x model), ``compute`` reads ``inputs["observations"]`` and
returns ``mean, {"log_std": ...}``, and ``act`` returns ``(actions, outputs)`` with
``outputs["log_prob"]``. skrl's single-forward-pass trick (``self._shared_output``) is not needed:
a joint call computes the trunk once. examples/shared_model.py is the same model in 1.4's style.

Run: python examples/shared_model_skrl2.py
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
        state_space,
        action_space,
        device,
        clip_actions=False,
        clip_mean_actions=False,
        clip_log_std=True,
        min_log_std=-20,
        max_log_std=2,
        reduction="sum",
    ):
        Model.__init__(
            self,
            observation_space=observation_space,
            state_space=state_space,
            action_space=action_space,
            device=device,
        )
        GaussianMixin.__init__(
            self,
            clip_actions=clip_actions,
            clip_mean_actions=clip_mean_actions,
            clip_log_std=clip_log_std,
            min_log_std=min_log_std,
            max_log_std=max_log_std,
            reduction=reduction,
            role="policy",
        )
        DeterministicMixin.__init__(self, clip_actions=False, role="value")

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])  # shared
        self.mean_layer = nn.Dense(self.num_actions)  # "policy"
        self.log_std_parameter = self.param("log_std_parameter", nn.initializers.zeros, (self.num_actions,))
        self.value_layer = nn.Dense(1)  # "value"

    def act(self, inputs, role):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role=role)
        elif role == "value":
            return DeterministicMixin.act(self, inputs, role=role)

    def compute(self, inputs, role):
        if role == "policy":
            return self.mean_layer(self.net(inputs["observations"])), {"log_std": self.log_std_parameter}
        elif role == "value":
            return self.value_layer(self.net(inputs["observations"])), {}


def main() -> dict:
    env = gym.make("Pendulum-v1")
    models = {"policy": SharedModel(env.observation_space, None, env.action_space, None)}
    models["value"] = models["policy"]  # same instance: shared model
    model = models["policy"]

    params = model.init(jax.random.key(0))
    print("parameters:", jax.tree.map(jnp.shape, params))

    observation, _ = env.reset(seed=0)
    inputs = {"observations": jnp.asarray(observation)[None], "states": None}
    actions, outputs = model.act(inputs, role="policy", params=params, key=jax.random.key(1))
    values, _ = model.act(inputs, role="value", params=params)
    print(f"action {actions[0]}  log-prob {outputs['log_prob'][0, 0]:.4f}  value {values[0, 0]:.4f}")

    # one joint forward pass: the trunk is computed once for both heads
    both = jax.jit(lambda p, o: model.apply(p, {"observations": o}, role=("policy", "value")))(
        params, inputs["observations"]
    )
    print("joint call:", {role: jax.tree.map(jnp.shape, output) for role, output in both.items()})
    env.close()
    return {"params": params, "actions": actions, "values": values}


if __name__ == "__main__":
    main()
