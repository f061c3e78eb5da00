"""TD3's shell (skrl's ``TD3`` and ``TD3_DEFAULT_CONFIG``): cfg, model checks, and the ``TD3Config``
its pure functions (``td3/functions.py``, ``make_td3``) are built over.
"""

from __future__ import annotations

import warnings

from skrl_jax.agents.configs import TD3_CFG
from skrl_jax.agents.core import AgentFunctions
from skrl_jax.agents.ddpg.ddpg import check_deterministic_policy, ddpg_settings
from skrl_jax.agents.off_policy.base import OffPolicyAgent
from skrl_jax.agents.off_policy.functions import ReplayConfig
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.agents.td3.functions import CRITICS, TARGETS, TD3Config, make_td3
from skrl_jax.models.base import NOT_GIVEN

TD3_DEFAULT_CONFIG = {
    "gradient_steps": 1,
    "batch_size": 64,
    "discount_factor": 0.99,
    "polyak": 0.005,
    "actor_learning_rate": 1e-3,
    "critic_learning_rate": 1e-3,
    "learning_rate_scheduler": None,
    "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None,
    "state_preprocessor_kwargs": {},
    "random_timesteps": 0,
    "learning_starts": 0,
    "grad_norm_clip": 0,
    "exploration": {
        "noise": None,
        "initial_scale": 1.0,
        "final_scale": 1e-3,
        "timesteps": None,
    },
    "policy_delay": 2,
    "smooth_regularization_noise": None,
    "smooth_regularization_clip": 0.5,
    "rewards_shaper": None,
    # not a skrl key: skrl 1.4 ends a target at terminated | truncated (False); True bootstraps a
    # truncated episode from its last observation, as skrl 2.x (its *_CFG default)
    "bootstrap_at_truncation": False,
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}


class TD3(OffPolicyAgent):
    """Twin Delayed DDPG with skrl's configuration keys, defaults and formulas.

    As skrl's PyTorch TD3, both critics are trained by one optimizer on the sum of their losses
    (skrl's JAX TD3 steps each critic with the second critic's gradient, which this port does not
    copy). The policy and all targets are updated after every ``policy_delay``-th critic step
    (counted by ``learner.gradient_steps``, across updates, as skrl's counter); "Loss / Policy
    loss" is reported for those steps only (NaN, so not logged, in an update without one).
    The smoothing noise's state (an Ornstein-Uhlenbeck noise's) is kept in
    ``learner.scalars["smooth_noise"]``, one per sampled transition, as skrl keeps it in the noise.
    """

    default_config = TD3_DEFAULT_CONFIG
    config_class = TD3_CFG
    required_models = ("policy", "target_policy", *CRITICS, *TARGETS)

    def __init__(
        self,
        models,
        memory=None,
        observation_space=None,
        action_space=None,
        device=None,
        cfg=None,
        *,
        state_space=NOT_GIVEN,
    ) -> None:
        super().__init__(models, memory, observation_space, action_space, device, cfg, state_space=state_space)
        check_deterministic_policy(self, CRITICS)
        if self.cfg["smooth_regularization_noise"] is None:  # skrl's warning
            warnings.warn(
                "TD3: no smooth regularization noise specified to reduce variance during training", stacklevel=2
            )

    def td3_config(self, replay_config: ReplayConfig) -> TD3Config:
        """The ``TD3Config`` of this agent's cfg over ``replay_config``."""
        cfg = self.cfg
        return TD3Config(
            **ddpg_settings(cfg, replay_config, type(self).__name__),
            policy_delay=int(cfg["policy_delay"]),
            smooth_regularization_noise=cfg["smooth_regularization_noise"],
            smooth_regularization_clip=float(cfg["smooth_regularization_clip"]),
        )

    def build_functions(self, replay_config: ReplayConfig) -> AgentFunctions:
        return make_td3(self.model_set, self.td3_config(replay_config))
