"""``OnPolicyAgent``: the stateful shell PPO, A2C and RPO share over the pure act / update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax import config as library_config
from skrl_jax.agents.base import Agent, merge_config
from skrl_jax.agents.on_policy.update import (
    ActorCritic,
    LossFunction,
    OnPolicyConfig,
    Rollout,
    TrainState,
    init_train_state,
    make_act,
    make_update,
)
from skrl_jax.models import Model
from skrl_jax.utils.spaces import compute_space_size, sample_space

MEMORY_TENSORS = ("states", "actions", "rewards", "terminated", "truncated", "log_prob", "values")

TRACKED_METRICS = {
    "policy_loss": "Loss / Policy loss",
    "value_loss": "Loss / Value loss",
    "entropy_loss": "Loss / Entropy loss",
    "stddev": "Policy / Standard deviation",
    "learning_rate": "Learning / Learning rate",
    "kl_divergence": "Policy / KL divergence",
}


def _instantiate(factory: Any, kwargs: Mapping[str, Any]) -> Any:
    return None if not factory else factory(**kwargs)


class OnPolicyAgent(Agent):
    """skrl's on-policy agent API; subclasses set ``default_config``, ``loss_function`` and
    ``loss_settings(cfg)``.

    With ``models["policy"] is models["value"]`` one parameter tree is trained by one
    optimizer on the summed loss with one joint forward pass per minibatch; with two models,
    each has its own optimizer (as skrl's JAX backend).
    """

    default_config: Mapping[str, Any] = {}
    loss_function: LossFunction
    learning_epochs_key: str | None = "learning_epochs"
    uses_alpha = False

    def __init__(
        self,
        models: Mapping[str, Model],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        name = type(self).__name__
        cfg = merge_config(self.default_config, cfg, name)
        missing = [role for role in ("policy", "value") if role not in models or models[role] is None]
        if missing:
            raise KeyError(f"{name} needs models {['policy', 'value']}; missing {missing} (got {sorted(models)})")
        super().__init__(models, memory, observation_space, action_space, device, cfg)
        self.policy: Model = models["policy"]
        self.value: Model = models["value"]
        policy_spec = self.policy._spec_for("policy")
        if not policy_spec.mixin.needs_key:
            raise TypeError(
                f"{name} needs a stochastic policy (Gaussian, Categorical, MultiCategorical or MultivariateGaussian "
                f"mixin) for role 'policy', got {policy_spec.mixin.__name__}"
            )
        self.observation_space = observation_space if observation_space is not None else self.policy.observation_space
        self.action_space = action_space if action_space is not None else self.policy.action_space
        for role, model in (("policy", self.policy), ("value", self.value)):
            if compute_space_size(self.observation_space, occupied_size=True) != model.observation_size:
                raise ValueError(
                    f"{name}: models[{role!r}] was built for {model.observation_space} but the agent's observation "
                    f"space is {self.observation_space}"
                )
        if compute_space_size(self.action_space) != self.policy.num_actions:
            raise ValueError(
                f"{name}: the policy was built for {self.policy.action_space} but the agent's action space is {self.action_space}"
            )
        self.actor_critic = ActorCritic(self.policy, self.value)
        self.shared = self.actor_critic.shared

        self._rollouts = int(cfg["rollouts"])
        self._rollout = 0
        self._random_timesteps = int(cfg["random_timesteps"])
        self._learning_starts = int(cfg["learning_starts"])
        self._rewards_shaper = cfg["rewards_shaper"]
        self._time_limit_bootstrap = bool(cfg["time_limit_bootstrap"])
        self._discount_factor = float(cfg["discount_factor"])
        self.update_config = OnPolicyConfig(
            learning_epochs=int(cfg[self.learning_epochs_key]) if self.learning_epochs_key else 1,
            mini_batches=int(cfg["mini_batches"]),
            discount_factor=self._discount_factor,
            lambda_=float(cfg["lambda"]),
            learning_rate=float(cfg["learning_rate"]),
            grad_norm_clip=float(cfg["grad_norm_clip"]),
            kl_threshold=float(cfg.get("kl_threshold", 0) or 0),
            entropy_loss_scale=float(cfg["entropy_loss_scale"]),
            loss_settings=self.loss_settings(cfg),
            scheduler=_instantiate(cfg["learning_rate_scheduler"], cfg["learning_rate_scheduler_kwargs"]),
            state_preprocessor=_instantiate(cfg["state_preprocessor"], cfg["state_preprocessor_kwargs"]),
            value_preprocessor=_instantiate(cfg["value_preprocessor"], cfg["value_preprocessor_kwargs"]),
            alpha=float(cfg["alpha"]) if self.uses_alpha else None,
        )
        if self.update_config.mini_batches < 1 or self.update_config.learning_epochs < 1:
            raise ValueError(f"{name}: mini_batches and learning epochs must be >= 1")
        self._act_key, self._update_key = jax.random.split(library_config.default_key(1))
        act = make_act(self.actor_critic, self.update_config)

        # acting reads only the parameters and scalers: passing the whole train state (optimizer
        # moments included) would cost a pytree flattening per environment step
        def act_step(params, state_scaler, value_scaler, states, key, timestep, random=False):
            acting_state = TrainState(params, None, None, state_scaler, value_scaler, None)
            key = jax.random.fold_in(key, timestep)
            taken_actions = None
            if random:  # skrl's random_timesteps: uniform actions, scored by the policy
                key, sample_key = jax.random.split(key)
                taken_actions = sample_space(self.action_space, sample_key, (states.shape[0],))
                taken_actions = taken_actions.reshape(states.shape[0], -1).astype(jnp.float32)
            return act(acting_state, states, key, taken_actions=taken_actions)

        self._act = jax.jit(act_step, static_argnames="random")
        self._update = jax.jit(make_update(self.actor_critic, self.update_config, self.loss_function))
        self.train_state: TrainState | None = None
        self._current = None
        self._current_next_states = None

    def loss_settings(self, cfg: Mapping[str, Any]) -> Any:
        return None

    # --- skrl's API ----------------------------------------------------------------------

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        super().init(trainer_cfg)
        for index, model in enumerate(dict.fromkeys([self.policy, self.value])):
            if model.params is None:
                extra_inputs = {} if self.update_config.alpha is None else {"alpha": self.update_config.alpha}
                model.init_state_dict(inputs=extra_inputs, key=library_config.default_key(100 + index))
        if self.memory is not None:
            num_envs = self.memory.num_envs
            batch = self.memory.memory_size * num_envs
            if batch % self.update_config.mini_batches:
                raise ValueError(
                    f"{type(self).__name__}: a rollout of {self.memory.memory_size} steps x {num_envs} environments = "
                    f"{batch} samples does not divide into mini_batches={self.update_config.mini_batches}"
                )
            if self.memory.memory_size != self._rollouts:
                raise ValueError(
                    f"{type(self).__name__}: the memory holds {self.memory.memory_size} steps but cfg['rollouts'] is {self._rollouts}"
                )
            sizes = {
                "states": self.observation_space,
                "actions": self.action_space,
                "rewards": 1,
                "terminated": 1,
                "truncated": 1,
                "log_prob": 1,
                "values": 1,
            }
            dtypes = {"terminated": jnp.bool_, "truncated": jnp.bool_}
            for tensor in MEMORY_TENSORS:
                self.memory.create_tensor(tensor, sizes[tensor], dtypes.get(tensor, jnp.float32))
        self.train_state = init_train_state(self.actor_critic, self.update_config)
        self.set_mode("eval")

    def act(self, states: jax.Array, timestep: int, timesteps: int) -> tuple[jax.Array, jax.Array, dict]:
        """``(actions, log_prob, outputs)`` from one compiled call that also computes the value."""
        if self.train_state is None:
            raise RuntimeError(f"call {type(self).__name__}.init() before act()")
        state = self.train_state
        self._current = self._act(
            state.params,
            state.state_scaler,
            state.value_scaler,
            states,
            self._act_key,
            timestep,
            random=timestep < self._random_timesteps,
        )
        return self._current.actions, self._current.log_prob, self._current.outputs

    def record_transition(
        self,
        states: jax.Array,
        actions: jax.Array,
        rewards: jax.Array,
        next_states: jax.Array,
        terminated: jax.Array,
        truncated: jax.Array,
        infos: Any,
        timestep: int,
        timesteps: int,
    ) -> None:
        super().record_transition(
            states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps
        )
        if self.memory is None:
            return
        self._current_next_states = next_states
        if self._rewards_shaper is not None:
            rewards = self._rewards_shaper(rewards, timestep, timesteps)
        values = self._current.values
        if self._time_limit_bootstrap:
            rewards = rewards + self._discount_factor * values * truncated
        self.memory.add_samples(
            states=states,
            actions=actions,
            rewards=rewards,
            terminated=terminated,
            truncated=truncated,
            log_prob=self._current.log_prob,
            values=values,
        )

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        self._rollout += 1
        if not self._rollout % self._rollouts and timestep >= self._learning_starts:
            self.set_mode("train")
            self._update_parameters(timestep, timesteps)
            self.set_mode("eval")
        super().post_interaction(timestep, timesteps)

    def checkpoint_state(self) -> dict[str, Any]:
        if self.train_state is None:
            raise RuntimeError(f"call {type(self).__name__}.init() before saving or loading a checkpoint")
        return {"train_state": self.train_state, "act_key": self._act_key, "update_key": self._update_key}

    def checkpoint_meta(self) -> dict[str, Any]:
        return {**super().checkpoint_meta(), "rollout": self._rollout, "shared": self.shared}

    def restore_checkpoint(self, state: dict[str, Any], meta: Mapping[str, Any]) -> None:
        self.train_state = state["train_state"]
        self._act_key, self._update_key = state["act_key"], state["update_key"]
        self._rollout = int(meta.get("rollout", 0))
        self.policy.params = self.train_state.params["policy"]
        if not self.shared:
            self.value.params = self.train_state.params["value"]

    def _update_parameters(self, timestep: int, timesteps: int) -> dict[str, float]:
        tensors = self.memory.state.tensors
        rollout = Rollout(**{name: tensors[name] for name in MEMORY_TENSORS}, next_states=self._current_next_states)
        key = jax.random.fold_in(self._update_key, timestep)
        train_state, metrics = self._update(self.train_state, rollout, key)
        metrics = {name: np.asarray(value).item() for name, value in jax.device_get(metrics).items()}
        if metrics["nan_at"] >= 0:
            epochs_done, minibatch = divmod(int(metrics["nan_at"]), self.update_config.mini_batches)
            raise FloatingPointError(
                f"{type(self).__name__}: the loss became NaN/inf at timestep {timestep} (update "
                f"{int(self.train_state.updates)}, epoch {epochs_done}, minibatch {minibatch}); the parameters from "
                "before this update are kept"
            )
        self.train_state = train_state
        self.policy.params = train_state.params["policy"]
        if not self.shared:
            self.value.params = train_state.params["value"]
        for name, tag in TRACKED_METRICS.items():
            if name == "entropy_loss" and not self.update_config.entropy_loss_scale:
                continue
            if name == "learning_rate" and self.update_config.scheduler is None:
                continue
            if name == "stddev" and not np.isfinite(metrics[name]):
                continue
            self.track_data(tag, metrics[name])
        return metrics
