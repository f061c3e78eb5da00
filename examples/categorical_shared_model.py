"""A Categorical policy and a value head on one trunk, for a Discrete action space (CartPole).

No act override is needed: each role belongs to a different mixin, so act dispatches by role.
Run: python examples/categorical_shared_model.py
"""

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp

from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model


class SharedCategorical(CategoricalMixin, DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, unnormalized_log_prob=True):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob, role="policy")
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        self.net = nn.Sequential([nn.Dense(64), nn.tanh, nn.Dense(64), nn.tanh])
        self.logits_layer = nn.Dense(self.num_actions)
        self.value_layer = nn.Dense(1)

    def compute(self, inputs, role):
        if role == "policy":
            return self.logits_layer(self.net(inputs["states"])), {}
        elif role == "value":
            return self.value_layer(self.net(inputs["states"])), {}


def main() -> dict:
    env = gym.make("CartPole-v1")
    model = SharedCategorical(env.observation_space, env.action_space)
    model.init_state_dict(key=jax.random.key(0))  # parameters held on the model for eager calls
    print("roles reading each subtree:", {k: sorted(v) for k, v in model.parameter_roles().items()})

    observation, _ = env.reset(seed=0)
    episode_return, steps, done = 0.0, 0, False
    while not done:
        actions, log_prob, outputs = model.act(jnp.asarray(observation)[None], "policy")  # eager, one compiled call
        observation, reward, terminated, truncated, _ = env.step(int(actions[0, 0]))
        episode_return, steps, done = episode_return + reward, steps + 1, terminated or truncated
    probabilities = jax.nn.softmax(outputs["net_output"][0])
    print(f"untrained policy: return {episode_return} in {steps} steps; last action probabilities {probabilities}")
    env.close()
    return {"return": episode_return, "steps": steps}


if __name__ == "__main__":
    main()
