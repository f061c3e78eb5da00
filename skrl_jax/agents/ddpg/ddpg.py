"""DDPG's shell (skrl's ``DDPG`` and ``DDPG_DEFAULT_CONFIG``): cfg, model checks, and the
``DDPGConfig`` its pure functions (``ddpg/functions.py``, ``make_ddpg``) are built over.

``exploration_settings``, ``ddpg_settings`` and ``check_deterministic_policy`` serve TD3's shell too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skrl_jax.agents.configs import DDPG_CFG
from skrl_jax.agents.core import AgentFunctions
from skrl_jax.agents.ddpg.functions import DDPGConfig, make_ddpg, unit_scale
from skrl_jax.agents.off_policy.base import OffPolicyAgent
from skrl_jax.agents.off_policy.functions import ReplayConfig
from skrl_jax.agents.off_policy.schedule import compiled_schedule
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.models import DeterministicMixin
from skrl_jax.models.base import NOT_GIVEN

DDPG_DEFAULT_CONFIG = {
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
    "rewards_shaper": None,
    # not a skrl key: skrl 1.4 ends a target at terminated | truncated (False); True bootstraps a
    # truncated episode from its last observation, as skrl 2.x (its *_CFG default)
    "bootstrap_at_truncation": False,
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}


def exploration_settings(cfg: Mapping[str, Any], timesteps: int, owner: str) -> dict[str, Any]:
    """The exploration fields of a ``DDPGConfig`` (or ``TD3Config``) from cfg.

    skrl 1.4 (``cfg["exploration"]``): its noise and linear decay. skrl 2.x
    (``cfg["exploration_scheduler"]``, present only in a 2.x agent's internal dict): its noise and
    the scheduler as a function of the traced timestep (1 without one), over the run's ``timesteps``.
    """
    exploration = cfg["exploration"]
    if "exploration_scheduler" in cfg:
        scheduler = cfg["exploration_scheduler"]
        schedule = unit_scale if scheduler is None else compiled_schedule(scheduler, timesteps, owner)
        return {"exploration_noise": exploration["noise"], "exploration_schedule": schedule}
    return {
        "exploration_noise": exploration["noise"],
        "exploration_initial_scale": float(exploration["initial_scale"]),
        "exploration_final_scale": float(exploration["final_scale"]),
        "exploration_timesteps": exploration["timesteps"],
    }


def ddpg_settings(cfg: Mapping[str, Any], replay_config: ReplayConfig, owner: str) -> dict[str, Any]:
    """The fields of a ``DDPGConfig`` from skrl's cfg keys (those TD3 shares with DDPG)."""
    return {
        "replay": replay_config,
        "discount_factor": float(cfg["discount_factor"]),
        "polyak": float(cfg["polyak"]),
        "actor_learning_rate": float(cfg["actor_learning_rate"]),
        "critic_learning_rate": float(cfg["critic_learning_rate"]),
        "grad_norm_clip": float(cfg["grad_norm_clip"]),
        **exploration_settings(cfg, replay_config.timesteps, owner),
    }


def check_deterministic_policy(agent: OffPolicyAgent, critics: tuple[str, ...]) -> None:
    """A ``DeterministicMixin`` policy, not in one model with a critic (checked before anything is traced)."""
    name = type(agent).__name__
    spec = agent.models["policy"]._spec_for("policy")
    if spec.mixin is not DeterministicMixin:
        raise TypeError(
            f"{name} needs a deterministic policy (DeterministicMixin) for 'policy', got {spec.mixin.__name__}"
        )
    targets = tuple(f"target_{critic}" for critic in critics)
    if any(agent.models["policy"] is agent.models[key] for key in (*critics, *targets)):
        raise NotImplementedError(
            f"{name}: the policy and the critic in one model (a shared encoder) is not supported yet; pass separate "
            "policy and critic models"
        )


class DDPG(OffPolicyAgent):
    """Deep Deterministic Policy Gradient with skrl's configuration keys, defaults and formulas.

    The "Q-network / Q1" statistics are those of skrl's PyTorch DDPG: ``Q(s, pi(s))`` of the
    updated critic, computed for the policy loss (its ``critic_values`` variable is reused there);
    skrl's JAX DDPG logs ``Q(s, a)`` of the sampled actions. The exploration noise statistics are
    those of the ``act`` before each update (skrl averages every ``act`` between two writes).
    """

    default_config = DDPG_DEFAULT_CONFIG
    config_class = DDPG_CFG
    required_models = ("policy", "target_policy", "critic", "target_critic")

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
        check_deterministic_policy(self, ("critic",))

    def ddpg_config(self, replay_config: ReplayConfig) -> DDPGConfig:
        """The ``DDPGConfig`` of this agent's cfg over ``replay_config``."""
        return DDPGConfig(**ddpg_settings(self.cfg, replay_config, type(self).__name__))

    def build_functions(self, replay_config: ReplayConfig) -> AgentFunctions:
        return make_ddpg(self.model_set, self.ddpg_config(replay_config))
