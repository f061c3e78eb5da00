"""DQN and DDQN (skrl's ``DQN`` / ``DDQN`` and their default configs) as pure functions over one state.

Models: ``q_network`` and ``target_q_network``, each a ``DeterministicMixin`` model whose
output is one Q-value per action, ``(batch, num_actions)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from skrl_jax.agents.configs import DDQN_CFG, DQN_CFG
from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.dqn.losses import double_q_target, q_loss, q_target
from skrl_jax.agents.gradients import gradient_step, make_optimizer
from skrl_jax.agents.off_policy.base import OffPolicyAgent, OffPolicyLearner, standardize, value_statistics
from skrl_jax.agents.off_policy.models import polyak_update
from skrl_jax.agents.off_policy.schedule import compiled_schedule
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.resources.preprocessors import scaler_update

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

DQN_METRIC_TAGS = {
    "q_network_loss": "Loss / Q-network loss",
    "target_max": "Target / Target (max)",
    "target_min": "Target / Target (min)",
    "target_mean": "Target / Target (mean)",
}


def epsilon(timestep: jax.Array, initial: float, final: float, timesteps: int) -> jax.Array:
    """skrl's epsilon: ``final + (initial - final) * exp(-timestep / timesteps)``."""
    return final + (initial - final) * jnp.exp(-jnp.asarray(timestep, jnp.float32) / timesteps)


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
        return lambda timestep: epsilon(timestep, initial, final, decay)

    def build(self, num_envs: int, timesteps: int) -> AgentFunctions:
        cfg, models, keys = self.cfg, self.model_set, self.model_set.param_keys
        preprocessor = self.state_preprocessor
        optimizer = make_optimizer(float(cfg["learning_rate"]))
        gamma, polyak = float(cfg["discount_factor"]), float(cfg["polyak"])
        epsilon_at = self.epsilon_schedule(timesteps)
        random_timesteps, target_interval = int(cfg["random_timesteps"]), int(cfg["target_update_interval"])
        num_actions = int(self.action_space.n)
        record = self.make_record(timesteps)
        double = self.double

        def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
            params = self.initial_params(key, params)
            learner = OffPolicyLearner(
                params=params,
                opt_states={"q_network": optimizer.init(params[keys["q_network"]])},
                scalars={},
                state_scaler=None if preprocessor is None else preprocessor.initial_state(),
                gradient_steps=jnp.zeros((), jnp.int32),
            )
            return AgentState(learner, self.init_memory(num_envs))

        def q_values(params: Any, states: jax.Array, name: str = "q_network") -> jax.Array:
            values = models.act(params, {"states": states}, [name])[name][0]
            if values.shape[-1] != num_actions:
                raise ValueError(
                    f"{type(self).__name__}: models[{name!r}] must output one Q-value per action, shape (..., "
                    f"{num_actions}) for {self.action_space}; got {values.shape}"
                )
            return values

        def act(state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic=False):
            learner = state.learner
            values = q_values(learner.params, standardize(preprocessor, learner.state_scaler, observations))
            greedy = jnp.argmax(values, axis=-1, keepdims=True).astype(jnp.int32)
            extras = {"outputs": {"q_values": values}}
            if deterministic or epsilon_at is None:
                return greedy, extras
            random_key, explore_key = jax.random.split(key)
            batch = observations.shape[0]
            random = self.random_actions(random_key, batch)
            eps = epsilon_at(timestep)
            explore = (jax.random.uniform(explore_key, (batch, 1)) < eps) | (timestep < random_timesteps)
            return jnp.where(explore, random, greedy), {**extras, "epsilon": eps}

        def step(learner: OffPolicyLearner, memory: Any, key: jax.Array, timestep: jax.Array):
            batch = self.sample_batch(memory, key)
            scaler = learner.state_scaler
            if preprocessor is not None:
                scaler = scaler_update(scaler_update(scaler, batch.states), batch.next_states)
            states = standardize(preprocessor, scaler, batch.states)
            next_states = standardize(preprocessor, scaler, batch.next_states)
            params = learner.params
            next_target = q_values(params, next_states, "target_q_network")
            if double:
                targets = double_q_target(batch.rewards, batch.dones, q_values(params, next_states), next_target, gamma)
            else:
                targets = q_target(batch.rewards, batch.dones, next_target, gamma)

            def loss(q_params):
                values = q_values({**params, keys["q_network"]: q_params}, states)
                return q_loss(values, batch.actions, targets)

            q_params, opt_state, loss_value, _ = gradient_step(
                loss, optimizer, params[keys["q_network"]], learner.opt_states["q_network"]
            )
            params = {**params, keys["q_network"]: q_params}
            target_key = keys["target_q_network"]
            moved = polyak_update(params[target_key], q_params, polyak)
            due = timestep % target_interval == 0
            params[target_key] = jax.tree.map(lambda new, old: jnp.where(due, new, old), moved, params[target_key])
            learner = learner._replace(
                params=params,
                opt_states={"q_network": opt_state},
                state_scaler=scaler,
                gradient_steps=learner.gradient_steps + 1,
            )
            metrics = {"q_network_loss": loss_value, **value_statistics("target", targets)}
            return learner, metrics, jnp.isfinite(loss_value)

        return AgentFunctions(
            init=init,
            act=act,
            record=record,
            update=self.make_update(step, with_timestep=True),
            update_interval=int(cfg["update_interval"]),
            learning_starts=int(cfg["learning_starts"]),
            metric_tags=DQN_METRIC_TAGS,
        )


class DDQN(DQN):
    """Double DQN: the Q-network picks the next action, the target network values it (skrl's ``DDQN``)."""

    default_config = DDQN_DEFAULT_CONFIG
    config_class = DDQN_CFG
    double = True
