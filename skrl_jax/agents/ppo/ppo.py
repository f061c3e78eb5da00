"""PPO (skrl's ``PPO`` and ``PPO_DEFAULT_CONFIG``) over the pure on-policy update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skrl_jax.agents.configs import PPO_CFG
from skrl_jax.agents.on_policy.agent import OnPolicyAgent
from skrl_jax.agents.ppo.losses import PPOLossSettings, ppo_loss

EXPERIMENT_DEFAULT_CONFIG = {
    "directory": "",
    "experiment_name": "",
    "write_interval": "auto",
    "checkpoint_interval": "auto",
    "store_separately": False,
    "wandb": False,
    "wandb_kwargs": {},
}

PPO_DEFAULT_CONFIG = {
    "rollouts": 16,
    "learning_epochs": 8,
    "mini_batches": 2,
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
    "ratio_clip": 0.2,
    "value_clip": 0.2,
    "clip_predicted_values": False,
    "entropy_loss_scale": 0.0,
    "value_loss_scale": 1.0,
    "kl_threshold": 0,
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


class PPO(OnPolicyAgent):
    """Proximal Policy Optimization with skrl's configuration keys, defaults and formulas."""

    default_config = PPO_DEFAULT_CONFIG
    config_class = PPO_CFG
    loss_function = staticmethod(ppo_loss)

    def loss_settings(self, cfg: Mapping[str, Any]) -> PPOLossSettings:
        return PPOLossSettings(
            ratio_clip=float(cfg["ratio_clip"]),
            value_clip=float(cfg["value_clip"]),
            clip_predicted_values=bool(cfg["clip_predicted_values"]),
            value_loss_scale=float(cfg["value_loss_scale"]),
        )


class PPO_RNN(PPO):  # noqa: N801 (skrl's name)
    """skrl's ``PPO_RNN``: PPO with recurrent models (``get_specification()["rnn"]``), trained on
    whole sequences of ``sequence_length`` steps, each from its stored initial hidden state."""

    recurrent = True
