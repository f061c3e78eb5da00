"""DQN and DDQN: skrl's ``DQN`` / ``DDQN`` and their default configs, the shell over ``make_dqn``.

The classes check their models and cfg and build a ``DQNConfig`` from it; the functions are
``skrl_jax.agents.dqn.functions``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax

from skrl_jax.agents.configs import DDQN_CFG, DQN_CFG
from skrl_jax.agents.core import AgentFunctions
from skrl_jax.agents.dqn.functions import DQNConfig, decaying_epsilon, make_dqn
from skrl_jax.agents.off_policy.base import OffPolicyAgent
from skrl_jax.agents.off_policy.functions import ReplayConfig
from skrl_jax.agents.off_policy.schedule import compiled_schedule
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.models.base import NOT_GIVEN

DQN_DEFAULT_CONFIG = {
    "gradient_steps": 1,
    "batch_size": 64,
    "discount_factor": 0.99,
    "polyak": 0.005,
    "learning_rate": 1e-3,
    "learning_rate_scheduler": None,
    "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None,
    "state_preprocessor_kwargs": {},
    "random_timesteps": 0,
    "learning_starts": 0,
    "update_interval": 1,
    "target_update_interval": 10,
    "exploration": {"initial_epsilon": 1.0, "final_epsilon": 0.05, "timesteps": 1000},
    "rewards_shaper": None,
    # not a skrl key: skrl 1.4 ends a target at terminated | truncated (False); True bootstraps a
    # truncated episode from its last observation, as skrl 2.x (its *_CFG default)
    "bootstrap_at_truncation": False,
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}
DDQN_DEFAULT_CONFIG = {**DQN_DEFAULT_CONFIG}


class DQN(OffPolicyAgent):
    """Deep Q-Network with skrl's configuration keys, defaults and formulas.

    The update runs every ``update_interval`` steps from ``learning_starts``; skrl tests
    ``timestep % update_interval == 0``, this port updates after the step that completes each
    interval (``(timestep + 1) % update_interval == 0``), the same count of updates. The target
    network moves toward the Q-network (``polyak``) at updates whose timestep is a multiple of
    ``target_update_interval``, as skrl.
    """

    default_config = DQN_DEFAULT_CONFIG
    config_class = DQN_CFG
    required_models = ("q_network", "target_q_network")
    continuous = False
    double = False

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
        q_network = self.models["q_network"]
        if q_network._spec_for("q_network").mixin.needs_key:
            raise TypeError(
                f"{type(self).__name__} needs a DeterministicMixin q_network (one Q-value per action), got "
                f"{q_network._spec_for('q_network').mixin.__name__}"
            )

    def epsilon_schedule(self, timesteps: int) -> Callable[[jax.Array], jax.Array] | None:
        """``epsilon(timestep)``, None for greedy actions: skrl 1.4's ``cfg["exploration"]`` (greedy when
        its ``timesteps`` is 0), or skrl 2.x's ``exploration_scheduler`` (greedy without one)."""
        if "exploration_scheduler" in self.cfg:
            scheduler = self.cfg["exploration_scheduler"]
            return None if scheduler is None else compiled_schedule(scheduler, timesteps, type(self).__name__)
        exploration = self.cfg["exploration"]
        if not exploration["timesteps"]:
            return None
        initial, final, decay = exploration["initial_epsilon"], exploration["final_epsilon"], exploration["timesteps"]
        return decaying_epsilon(initial, final, decay)

    def dqn_config(self, replay_config: ReplayConfig) -> DQNConfig:
        """The ``DQNConfig`` of this agent's cfg over ``replay_config``."""
        cfg = self.cfg
        return DQNConfig(
            replay=replay_config,
            discount_factor=float(cfg["discount_factor"]),
            polyak=float(cfg["polyak"]),
            learning_rate=float(cfg["learning_rate"]),
            # grad_norm_clip stays 0: skrl's DQN has no such key and does not clip
            update_interval=int(cfg["update_interval"]),
            target_update_interval=int(cfg["target_update_interval"]),
            epsilon=self.epsilon_schedule(replay_config.timesteps),
            double=self.double,
        )

    def build_functions(self, replay_config: ReplayConfig) -> AgentFunctions:
        """``make_dqn`` over this agent's models and ``dqn_config(replay_config)``."""
        return make_dqn(self.model_set, self.dqn_config(replay_config))


class DDQN(DQN):
    """Double DQN: the Q-network picks the next action, the target network values it (skrl's ``DDQN``)."""

    default_config = DDQN_DEFAULT_CONFIG
    config_class = DDQN_CFG
    double = True
