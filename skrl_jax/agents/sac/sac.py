"""SAC (skrl's ``SAC`` and ``SAC_DEFAULT_CONFIG``): the skrl-shaped shell over ``make_sac``
(``sac/functions.py``, where the models SAC takes are described)."""

from __future__ import annotations

from skrl_jax.agents.configs import SAC_CFG
from skrl_jax.agents.core import AgentFunctions
from skrl_jax.agents.off_policy.base import OffPolicyAgent
from skrl_jax.agents.off_policy.functions import ReplayConfig
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.agents.sac.functions import (  # noqa: F401 (SAC_METRIC_TAGS: TD3 reads it here)
    CRITICS,
    SAC_METRIC_TAGS,
    TARGETS,
    SACConfig,
    check_encoder_settings,
    make_sac,
    policy_groups,
)
from skrl_jax.models.base import NOT_GIVEN

SAC_DEFAULT_CONFIG = {
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
    "learn_entropy": True,
    "entropy_learning_rate": 1e-3,
    "initial_entropy_value": 0.2,
    "target_entropy": None,
    "rewards_shaper": None,
    # not a skrl key: with one model for the policy and the critics, whether the actor's loss trains
    # the encoder they share too (False: only the critics' loss does, the DrQ / SAC-AE practice)
    "actor_gradient_to_encoder": False,
    # not a skrl key: the actor's and the critics' gradients on that encoder compared, in the metrics
    "sharing_diagnostics": False,
    # not a skrl key: skrl 1.4 ends a target at terminated | truncated (False); True bootstraps a
    # truncated episode from its last observation, as skrl 2.x (its *_CFG default)
    "bootstrap_at_truncation": False,
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}


class SAC(OffPolicyAgent):
    """Soft Actor-Critic with skrl's configuration keys, defaults and formulas.

    As skrl's PyTorch SAC, both critics are trained by one optimizer on the mean of their losses
    (skrl's JAX SAC steps each critic with the other's gradient, which this port does not copy).
    """

    default_config = SAC_DEFAULT_CONFIG
    config_class = SAC_CFG
    required_models = ("policy", *CRITICS, *TARGETS)

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
        spec = self.models["policy"]._spec_for("policy")
        if not spec.mixin.needs_key:
            raise TypeError(f"SAC needs a stochastic (Gaussian) policy for 'policy', got {spec.mixin.__name__}")
        if any(self.models["policy"] is self.models[key] for key in TARGETS):
            raise ValueError("SAC: the policy cannot be its own critics' target; pass a second instance as the targets")
        if self.cfg["actor_gradient_to_encoder"] or self.cfg["sharing_diagnostics"]:
            groups = policy_groups(self.model_set)
            check_encoder_settings(groups, self.cfg["actor_gradient_to_encoder"], self.cfg["sharing_diagnostics"])

    def sac_config(self, replay_config: ReplayConfig) -> SACConfig:
        """The ``SACConfig`` of this agent's cfg over ``replay_config``."""
        cfg = self.cfg
        target_entropy = cfg["target_entropy"]
        return SACConfig(
            replay=replay_config,
            discount_factor=float(cfg["discount_factor"]),
            polyak=float(cfg["polyak"]),
            actor_learning_rate=float(cfg["actor_learning_rate"]),
            critic_learning_rate=float(cfg["critic_learning_rate"]),
            grad_norm_clip=float(cfg["grad_norm_clip"]),
            learn_entropy=bool(cfg["learn_entropy"]),
            entropy_learning_rate=float(cfg["entropy_learning_rate"]),
            initial_entropy_value=float(cfg["initial_entropy_value"]),
            target_entropy=None if target_entropy is None else float(target_entropy),
            actor_gradient_to_encoder=bool(cfg["actor_gradient_to_encoder"]),
            sharing_diagnostics=bool(cfg["sharing_diagnostics"]),
        )

    def build_functions(self, replay_config: ReplayConfig) -> AgentFunctions:
        return make_sac(self.model_set, self.sac_config(replay_config))
