"""What the off-policy agents (SAC, TD3, DDPG, DQN, DDQN) share: learner, replay memory, model sets."""

from skrl_jax.agents.off_policy.base import OffPolicyAgent
from skrl_jax.agents.off_policy.functions import Batch, OffPolicyLearner, ReplayConfig, replay_specs
from skrl_jax.agents.off_policy.models import ModelSet, polyak_update, role_of

__all__ = [
    "Batch",
    "ModelSet",
    "OffPolicyAgent",
    "OffPolicyLearner",
    "ReplayConfig",
    "polyak_update",
    "replay_specs",
    "role_of",
]
