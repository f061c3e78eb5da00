"""``OnPolicyAgent``: the skrl-shaped shell PPO, A2C and RPO share: cfg, model checks, ``make_functions``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp

from skrl_jax.agents.base import Agent
from skrl_jax.agents.core import AgentFunctions
from skrl_jax.agents.deployment import DeployedPolicy
from skrl_jax.agents.on_policy.functions import make_on_policy_functions, rnn_specs, rollout_specs
from skrl_jax.agents.on_policy.update import ActorCritic, LossFunction, OnPolicyConfig, make_gradients
from skrl_jax.agents.sharing import check_group_scales
from skrl_jax.core.spaces import compute_space_size
from skrl_jax.models import Model
from skrl_jax.models.base import NOT_GIVEN


def _instantiate(factory: Any, kwargs: Mapping[str, Any]) -> Any:
    return None if not factory else factory(**kwargs)


class OnPolicyAgent(Agent):
    """skrl's on-policy agent API; subclasses set ``default_config``, ``loss_function`` and
    ``loss_settings(cfg)``.

    With ``models["policy"] is models["value"]`` one parameter tree is trained by one
    optimizer on the summed loss with one joint forward pass per minibatch; with two models, one
    optimizer trains both, clipped by their joint gradient norm (as skrl's PyTorch backend).
    """

    required_models = ("policy", "value")
    loss_function: LossFunction
    learning_epochs_key: str | None = "learning_epochs"
    uses_alpha = False
    records_privileged_states = True
    recurrent = False  # the *_RNN agents: recurrent models, trained on sequences

    def __init__(
        self,
        models: Mapping[str, Model],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Any = None,
        *,
        state_space: Any = NOT_GIVEN,
    ) -> None:
        name = type(self).__name__
        super().__init__(models, memory, observation_space, action_space, device, cfg, state_space=state_space)
        cfg = self.cfg
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
        self.config = OnPolicyConfig(
            rollouts=int(cfg["rollouts"]),
            learning_epochs=int(cfg[self.learning_epochs_key]) if self.learning_epochs_key else 1,
            mini_batches=int(cfg["mini_batches"]),
            discount_factor=float(cfg["discount_factor"]),
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
            random_timesteps=int(cfg["random_timesteps"]),
            learning_starts=int(cfg["learning_starts"]),
            rewards_shaper=cfg["rewards_shaper"],
            time_limit_bootstrap=bool(cfg["time_limit_bootstrap"]),
            mixed_precision=bool(cfg["mixed_precision"]),
            shuffle_minibatches=bool(cfg["shuffle_minibatches"]),
            recompute_advantages=bool(cfg["recompute_advantages"]),
            state_preprocessor_update=cfg["state_preprocessor_update"],
            privileged_size=self.privileged_size,
            privileged_preprocessor=_instantiate(
                cfg.get("privileged_preprocessor"), cfg.get("privileged_preprocessor_kwargs") or {}
            ),
        )
        compute_dtype = jnp.bfloat16 if self.config.mixed_precision else None
        extra_inputs = None if self.config.alpha is None else {"alpha": self.config.alpha}
        self.actor_critic = ActorCritic(self.policy, self.value, compute_dtype, extra_inputs)
        self.shared = self.actor_critic.shared
        self._check_recurrence()
        self._check_recomputed_advantages()
        self.config = dataclasses.replace(self.config, **self._sharing_settings(cfg))

    def _check_recomputed_advantages(self) -> None:
        if not self.config.recompute_advantages:
            return
        name = type(self).__name__
        if self.actor_critic.recurrent_names:
            raise ValueError(f"{name}: recompute_advantages (brax's PPO estimate) takes feed-forward models only")
        if self.config.value_preprocessor is not None:
            raise ValueError(
                f"{name}: recompute_advantages reads the value model's raw values: it cannot be combined with a "
                "value_preprocessor (set one of them to None / False)"
            )

    def _check_recurrence(self) -> None:
        name = type(self).__name__
        recurrent = self.actor_critic.recurrent_names
        if recurrent and not self.recurrent:
            raise TypeError(
                f"{name} got a recurrent model (models[{recurrent[0]!r}].get_specification() has 'rnn'): use {name}_RNN "
                f"(from skrl_jax.agents.{name.lower()} import {name}_RNN), which trains on sequences and carries the "
                "hidden state"
            )
        if self.recurrent and not recurrent:
            base = name.removesuffix("_RNN")
            raise TypeError(
                f"{name} needs a recurrent model (get_specification() returning {{'rnn': {{'sequence_length': ..., "
                f"'sizes': [...]}}}}) for 'policy' or 'value', but both are feed-forward: use {base} for them"
            )

    def _sharing_settings(self, cfg: Mapping[str, Any]) -> dict[str, Any]:
        """The trunk controls (cfg keys skrl does not have), checked against the models' parameter groups."""
        name = type(self).__name__
        settings: dict[str, Any] = {"sharing_diagnostics": bool(cfg["sharing_diagnostics"])}
        scales, trunk_scale = cfg["role_learning_rate_scale"], cfg["trunk_value_loss_scale"]
        if scales is None and trunk_scale is None and not settings["sharing_diagnostics"]:
            return settings  # nothing reads the parameter groups: no tracing of the models for them
        groups = self.actor_critic.parameter_groups
        settings["learning_rate_scales"] = tuple(check_group_scales(scales, groups, name).items())
        has_trunk = any(group == "trunk" for trees in groups.values() for group in trees.values())
        if not has_trunk and (trunk_scale is not None or settings["sharing_diagnostics"]):
            key = "trunk_value_loss_scale" if trunk_scale is not None else "sharing_diagnostics"
            found = "the policy and value are separate models" if not self.shared else "the model's roles share none"
            raise ValueError(
                f"{name}: cfg[{key!r}] needs a trunk, a parameter subtree both the policy and the value read, "
                f"but {found} (check model.parameter_roles())"
            )
        if trunk_scale is not None:
            head_scale = self.value_loss_weight(cfg)
            if head_scale == 0 and trunk_scale != 0:
                raise ValueError(
                    f"{name}: cfg['trunk_value_loss_scale']={trunk_scale} needs a value loss: value_loss_scale is 0"
                )
            settings["trunk_value_weight"] = float(trunk_scale) / head_scale if head_scale else 0.0
        return settings

    def parameter_groups(self) -> dict[str, dict[str, str]]:
        """``{model key: {top-level parameter subtree: group}}``, the groups
        ``cfg["role_learning_rate_scale"]`` names: ``"trunk"`` (a shared model's subtree both roles
        read), ``"policy"``, ``"value"`` (one role's own), ``"unused"`` (read by neither)."""
        return self.actor_critic.parameter_groups

    def make_gradients(self) -> Callable:
        """``gradients(params, scaler_state, minibatch, key) -> (grads, loss, aux)``: the pure
        function whose gradient each minibatch step applies (before clipping and Adam), with the
        trunk's value weight applied and, with ``sharing_diagnostics``, the diagnostics in ``aux``.
        ``params`` is ``{"policy": ...}`` (shared) or ``{"policy": ..., "value": ...}``, ``minibatch``
        an ``on_policy.update.Minibatch`` of raw states."""
        return make_gradients(self.actor_critic, self.config, self.loss_function)

    def deployed_policy(self) -> DeployedPolicy:
        """The policy as it acts after training (what ``skrl_jax.export`` exports): the policy model and
        role, its current parameters and the observations' preprocessor with its statistics."""
        self._require_init("deployed_policy()")
        scaler = self.state.learner.state_scaler
        if self.config.privileged_preprocessor is not None:
            scaler = scaler[0]  # (observations', privileged states') scalers: the policy reads the first
        # RPO's compute perturbs the mean by U(-alpha, alpha): alpha 0 acts with the mean itself
        inputs = {} if self.config.alpha is None else {"alpha": 0.0, "key": jax.random.key(0)}
        return DeployedPolicy(self.policy, "policy", self.policy.params, self.config.state_preprocessor, scaler, inputs)

    def value_loss_weight(self, cfg: Mapping[str, Any]) -> float:
        """The value loss's weight in the agent's loss (``value_loss_scale``; A2C's is 1)."""
        return float(cfg.get("value_loss_scale", 1.0))

    def loss_settings(self, cfg: Mapping[str, Any]) -> Any:
        return None

    def _memory_buffer(self) -> Any:
        return self.state.memory.rollout

    def _set_memory_buffer(self, buffer: Any) -> None:
        self.state = self.state._replace(memory=self.state.memory._replace(rollout=buffer))

    def memory_specs(self) -> dict[str, tuple[int, Any]]:
        return {
            **rollout_specs(self.observation_space, self.action_space, self.privileged_size),
            **rnn_specs(self.actor_critic),
        }

    def make_functions(self, num_envs: int, timesteps: int = 0) -> AgentFunctions:
        """PPO / A2C / RPO as pure functions (``on_policy/functions.py``); checks the rollout fits."""
        name = type(self).__name__
        batch = self.config.rollouts * num_envs
        if batch % self.config.mini_batches:
            raise ValueError(
                f"{name}: a rollout of {self.config.rollouts} steps x {num_envs} environments = {batch} samples does "
                f"not divide into mini_batches={self.config.mini_batches}"
            )
        length = self.actor_critic.sequence_length
        if self.recurrent and self.config.rollouts % length:
            raise ValueError(
                f"{name}: the sequence_length {length} (get_specification()['rnn']) does not divide "
                f"cfg['rollouts']={self.config.rollouts}: a rollout is cut into whole sequences per environment"
            )
        sequences = batch // length
        if self.recurrent and sequences % self.config.mini_batches:
            raise ValueError(
                f"{name}: a rollout of {self.config.rollouts} steps x {num_envs} environments holds {sequences} sequences "
                f"of {length} steps, which do not divide into mini_batches={self.config.mini_batches}"
            )
        if self.config.recompute_advantages and num_envs % self.config.mini_batches:
            raise ValueError(
                f"{name}: with recompute_advantages a minibatch is whole environment rollouts, but {num_envs} "
                f"environments do not divide into mini_batches={self.config.mini_batches}"
            )
        if self.memory is not None and self.memory.memory_size != self.config.rollouts:
            raise ValueError(
                f"{name}: the memory holds {self.memory.memory_size} steps but cfg['rollouts'] is {self.config.rollouts}"
            )
        return make_on_policy_functions(
            self.actor_critic, self.config, self.loss_function, self.action_space, num_envs, timesteps
        )
