"""``OffPolicyAgent``: the skrl-shaped shell SAC, TD3, DDPG, DQN and DDQN share: cfg, model
checks, and the ``ReplayConfig`` their ``make_<algo>`` functions are built over
(``off_policy/functions.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import jax

from skrl_jax.agents.base import Agent
from skrl_jax.agents.core import AgentFunctions
from skrl_jax.agents.deployment import DeployedPolicy
from skrl_jax.agents.off_policy.functions import ReplayConfig, replay_specs
from skrl_jax.agents.off_policy.models import ModelSet, role_of
from skrl_jax.core.spaces import compute_space_size
from skrl_jax.models import Model
from skrl_jax.models.base import NOT_GIVEN


class OffPolicyAgent(Agent):
    """The skrl-shaped shell of the off-policy agents.

    Subclasses set ``default_config``, ``required_models`` (cfg keys that must be given),
    ``continuous`` (Box actions; else Discrete), ``online_of`` (target key -> online key) and
    write ``build(num_envs, timesteps) -> AgentFunctions`` with the helpers below.
    """

    optional_models: tuple[str, ...] = ()
    continuous = True

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
        known = set(self.required_models) | set(self.optional_models)
        unknown = sorted(set(models) - known)
        if unknown:
            raise KeyError(f"{name} takes models {sorted(known)}; unknown keys {unknown}")
        super().__init__(models, memory, observation_space, action_space, device, cfg, state_space=state_space)
        cfg = self.cfg
        if not isinstance(cfg["bootstrap_at_truncation"], bool):
            raise TypeError(
                f"{name}: cfg['bootstrap_at_truncation'] must be True (a target stops at terminated only, skrl 2.x) "
                f"or False (at terminated | truncated, skrl 1.4), got {cfg['bootstrap_at_truncation']!r}"
            )
        if cfg.get("learning_rate_scheduler"):
            raise NotImplementedError(
                f"{name}: cfg['learning_rate_scheduler'] is not supported for off-policy agents yet (skrl multiplies "
                "the learning rate by the scheduler's value at every gradient step); set it to None"
            )
        first = self.models[self.required_models[0]]
        self.observation_space = observation_space if observation_space is not None else first.observation_space
        self.action_space = action_space if action_space is not None else first.action_space
        self._check_action_space()
        self._check_models()
        self.model_set = ModelSet({key: model for key, model in self.models.items() if model is not None})
        self.state_preprocessor = (
            cfg["state_preprocessor"](**cfg["state_preprocessor_kwargs"]) if cfg.get("state_preprocessor") else None
        )

    # --- checks before anything is traced --------------------------------------------------------

    def _check_action_space(self) -> None:
        name = type(self).__name__
        if self.continuous and not isinstance(self.action_space, gymnasium.spaces.Box):
            raise TypeError(
                f"{name} needs a continuous (Box) action space, got {self.action_space}; use DQN or DDQN for Discrete actions"
            )
        if not self.continuous and not isinstance(self.action_space, gymnasium.spaces.Discrete):
            raise TypeError(
                f"{name} needs a Discrete action space, got {self.action_space}; use SAC, TD3 or DDPG for Box actions"
            )

    def _check_models(self) -> None:
        name = type(self).__name__
        observation_size = compute_space_size(self.observation_space, occupied_size=True)
        for key, model in self.models.items():
            if model is None:
                continue
            if model.observation_size != observation_size:
                raise ValueError(
                    f"{name}: models[{key!r}] was built for {model.observation_space} but the agent's observation "
                    f"space is {self.observation_space}"
                )
            declared = [role for role in model.roles if role]
            if len(model.roles) > 1 and role_of(key) not in declared:
                raise ValueError(
                    f"{name}: models[{key!r}] declares roles {declared}, none of them {role_of(key)!r}: a model that "
                    f"serves several keys must declare each key's role (e.g. DeterministicMixin.__init__(self, "
                    f"role={role_of(key)!r}))"
                )
        for target, online in self.target_pairs().items():
            self._check_target(target, online)

    def target_pairs(self) -> dict[str, str]:
        """Target key -> online key, for the targets given."""
        return {key: role_of(key) for key in self.models if key.startswith("target_") and self.models[key] is not None}

    def _check_target(self, target: str, online: str) -> None:
        name = type(self).__name__
        target_model, online_model = self.models[target], self.models[online]
        if type(target_model) is not type(online_model):
            raise TypeError(
                f"{name}: models[{target!r}] is a {type(target_model).__name__} but models[{online!r}] is a "
                f"{type(online_model).__name__}: a target must be another instance of its online model's class"
            )
        if target_model is online_model:
            raise ValueError(f"{name}: models[{target!r}] is the same instance as models[{online!r}]; pass a copy")
        shapes = [jax.eval_shape(model.init, jax.random.key(0)) for model in (target_model, online_model)]
        if jax.tree.structure(shapes[0]) != jax.tree.structure(shapes[1]) or any(
            a.shape != b.shape for a, b in zip(jax.tree.leaves(shapes[0]), jax.tree.leaves(shapes[1]))
        ):
            raise ValueError(
                f"{name}: models[{target!r}] and models[{online!r}] have parameters of different shapes; a target "
                "must have the same layers as its online model"
            )

    # --- what the trainers call ------------------------------------------------------------------

    def memory_specs(self) -> dict[str, tuple[int, Any]]:
        return replay_specs(self.observation_space, self.action_space)

    def parameter_keys(self) -> dict[str, Any]:
        return self.model_set.stored

    def deployed_policy(self) -> DeployedPolicy:
        """The policy as it acts after training (what ``skrl_jax.export`` exports): the acting model
        (``policy``; DQN's ``q_network``), its current parameters and the observations' preprocessor
        with its statistics."""
        self._require_init("deployed_policy()")
        role = self.required_models[0]
        model = self.models[role]
        return DeployedPolicy(model, role, model.params, self.state_preprocessor, self.state.learner.state_scaler)

    def make_functions(self, num_envs: int, timesteps: int = 0) -> AgentFunctions:
        return self.build_functions(self.replay_config(num_envs, timesteps))

    def replay_config(self, num_envs: int, timesteps: int = 0) -> ReplayConfig:
        """The ``ReplayConfig`` of this agent's cfg and memory, for ``num_envs`` environments."""
        name = type(self).__name__
        if self.memory is None:
            raise ValueError(f"{name} learns from a replay memory: pass memory=RandomMemory(memory_size, num_envs)")
        cfg = self.cfg
        batch_size = int(cfg["batch_size"])
        capacity = self.memory.memory_size * num_envs
        if batch_size > capacity:
            raise ValueError(f"{name}: batch_size={batch_size} is larger than the memory ({capacity} transitions)")
        return ReplayConfig(
            observation_space=self.observation_space,
            action_space=self.action_space,
            num_envs=num_envs,
            memory_size=self.memory.memory_size,
            batch_size=batch_size,
            gradient_steps=int(cfg["gradient_steps"]),
            learning_starts=int(cfg["learning_starts"]),
            random_timesteps=int(cfg.get("random_timesteps", 0)),
            sample_with_replacement=bool(getattr(self.memory, "replacement", True)),
            bootstrap_at_truncation=cfg["bootstrap_at_truncation"],
            rewards_shaper=cfg.get("rewards_shaper"),
            timesteps=timesteps,
            state_preprocessor=self.state_preprocessor,
        )

    def build_functions(self, replay_config: ReplayConfig) -> AgentFunctions:
        """``make_<algo>(self.model_set, <the algorithm's config of self.cfg and replay_config>)``."""
        raise NotImplementedError(f"{type(self).__name__} must define build_functions(replay_config)")
