"""A2C (skrl's ``A2C`` and ``A2C_DEFAULT_CONFIG``): one pass over the rollout, no clipping."""

from __future__ import annotations

from skrl_jax.agents.a2c.losses import a2c_loss
from skrl_jax.agents.configs import A2C_CFG
from skrl_jax.agents.on_policy.agent import OnPolicyAgent
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG

A2C_DEFAULT_CONFIG = {
    "rollouts": 16,
    "mini_batches": 1,
    "discount_factor": 0.99,
    "lambda": 0.95,
    "learning_rate": 1e-3,
    "learning_rate_scheduler": None,
    "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None,
    "state_preprocessor_kwargs": {},
    "value_preprocessor": None,
    "value_preprocessor_kwargs": {},
    "random_timesteps": 0,
    "learning_starts": 0,
    "grad_norm_clip": 0.5,
    "entropy_loss_scale": 0.0,
    "rewards_shaper": None,
    "time_limit_bootstrap": False,
    "mixed_precision": False,
    "shuffle_minibatches": True,  # not a skrl key: skrl slices the memory in order (False)
    "recompute_advantages": False,  # not a skrl key: GAE at every minibatch from the current values (brax's PPO)
    # not a skrl key: when the state preprocessor learns, "minibatch" (skrl: each minibatch of the first
    # epoch) or "rollout" (brax's PPO: once from the whole rollout, before the first epoch)
    "state_preprocessor_update": "minibatch",
    # not skrl keys: steering a shared trunk (docs/sharing.md)
    "role_learning_rate_scale": None,  # {"trunk" | "policy" | "value": multiplier of learning_rate}; 0 freezes
    "trunk_value_loss_scale": None,  # the value loss's weight at the trunk (None: as on the value head)
    "sharing_diagnostics": False,  # trunk gradient cosine, norm ratio, each role's share, in the metrics
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}


class A2C(OnPolicyAgent):
    """Advantage Actor-Critic with skrl's configuration keys, defaults and formulas."""

    default_config = A2C_DEFAULT_CONFIG
    config_class = A2C_CFG
    loss_function = staticmethod(a2c_loss)
    learning_epochs_key = None


class A2C_RNN(A2C):  # noqa: N801 (skrl's name)
    """skrl's ``A2C_RNN``: A2C with recurrent models, trained on whole sequences (as ``PPO_RNN``)."""

    recurrent = True
