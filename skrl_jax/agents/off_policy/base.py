"""What SAC, TD3, DDPG, DQN and DDQN share: the learner, the replay memory, the agent shell.

The state is ``AgentState(learner=OffPolicyLearner, memory=MemoryState, carry=noise state or
None)``. ``record`` writes each transition into the replay ring buffer; ``update`` runs after
every step from ``learning_starts`` and makes ``gradient_steps`` steps, each on a uniform
sample of ``batch_size`` transitions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp

from skrl_jax.agents.base import Agent
from skrl_jax.agents.core import AgentFunctions, AgentState, Transition, shape_rewards
from skrl_jax.agents.off_policy.models import ModelSet, polyak_update, role_of
from skrl_jax.core.spaces import compute_space_size, sample_space
from skrl_jax.memories.random import MemoryState, memory_add, memory_init, memory_sample
from skrl_jax.models import Model
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.resources.preprocessors import RunningStandardScaler, ScalerState

REPLAY_TENSORS = ("states", "actions", "rewards", "next_states", "terminated", "truncated")


class OffPolicyLearner(NamedTuple):
    """``params`` by stored model key (see ``ModelSet.param_keys``), one optax state per optimizer
    name ("policy", "critic", ...), algorithm scalars (e.g. SAC's log entropy coefficient), the
    state scaler and the number of gradient steps made."""

    params: dict[str, Any]
    opt_states: dict[str, Any]
    scalars: dict[str, jax.Array]
    state_scaler: ScalerState | None
    gradient_steps: jax.Array


class Batch(NamedTuple):
    """A sample of transitions, each ``(batch_size, size)``; ``dones`` is where a target stops:
    terminated | truncated, or terminated only with ``cfg["bootstrap_at_truncation"]`` (skrl 2.x's
    default; 1.4's is False)."""

    states: jax.Array
    actions: jax.Array
    rewards: jax.Array
    next_states: jax.Array
    dones: jax.Array


def replay_specs(observation_space: Any, action_space: Any) -> dict[str, tuple[int, Any]]:
    observation_size = compute_space_size(observation_space, occupied_size=True)
    sizes = {
        "states": observation_size,
        "actions": compute_space_size(action_space, occupied_size=True),
        "rewards": 1,
        "next_states": observation_size,
        "terminated": 1,
        "truncated": 1,
    }
    dtypes = {"terminated": jnp.bool_, "truncated": jnp.bool_}
    return {name: (size, dtypes.get(name, jnp.float32)) for name, size in sizes.items()}


def standardize(preprocessor: RunningStandardScaler | None, state: ScalerState | None, x: jax.Array) -> jax.Array:
    return x if preprocessor is None else preprocessor.standardize(state, x)


def value_statistics(prefix: str, values: jax.Array) -> dict[str, jax.Array]:
    return {f"{prefix}_max": values.max(), f"{prefix}_min": values.min(), f"{prefix}_mean": values.mean()}


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

    def make_functions(self, num_envs: int, timesteps: int = 0) -> AgentFunctions:
        name = type(self).__name__
        if self.memory is None:
            raise ValueError(f"{name} learns from a replay memory: pass memory=RandomMemory(memory_size, num_envs)")
        batch_size = int(self.cfg["batch_size"])
        capacity = self.memory.memory_size * num_envs
        if batch_size > capacity:
            raise ValueError(f"{name}: batch_size={batch_size} is larger than the memory ({capacity} transitions)")
        return self.build(num_envs, timesteps)

    def build(self, num_envs: int, timesteps: int) -> AgentFunctions:
        raise NotImplementedError

    # --- pure building blocks for subclasses -----------------------------------------------------

    def init_memory(self, num_envs: int) -> MemoryState:
        return memory_init(self.memory.memory_size, num_envs, self.memory_specs())

    def initial_params(self, key: jax.Array, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Given or fresh parameters of each stored model; targets start as copies of their online models."""
        fresh = self.model_set.init(key)
        params = {name: (params or {}).get(name, fresh[name]) for name in fresh}
        return self.polyak_targets(params, 1.0)

    def make_record(self, timesteps: int) -> Callable[..., AgentState]:
        shaper = self.cfg.get("rewards_shaper")

        def record(state: AgentState, transition: Transition, extras: Mapping[str, Any], timestep: jax.Array):
            rewards = shape_rewards(transition, timestep, timesteps, shaper)
            row = {
                "states": transition.observations,
                "actions": transition.actions,
                "rewards": rewards,
                "next_states": transition.next_observations,
                "terminated": transition.terminated,
                "truncated": transition.truncated,
            }
            carry = extras.get("carry", state.carry)
            return state._replace(memory=memory_add(state.memory, row), carry=carry)

        return record

    def sample_batch(self, memory: MemoryState, key: jax.Array) -> Batch:
        replacement = getattr(self.memory, "replacement", True)
        sample = memory_sample(memory, key, REPLAY_TENSORS, int(self.cfg["batch_size"]), replacement)
        # skrl 1.4 ends a target at terminated | truncated; skrl 2.x only at terminated (a truncated
        # episode's target bootstraps from its last observation): each API's default of the cfg key
        if self.cfg["bootstrap_at_truncation"]:
            ends = sample["terminated"]
        else:
            ends = sample["terminated"] | sample["truncated"]
        dones = ends.astype(jnp.float32)
        return Batch(sample["states"], sample["actions"], sample["rewards"], sample["next_states"], dones)

    def random_actions(self, key: jax.Array, batch: int) -> jax.Array:
        """Uniform actions over the action space (skrl's ``random_timesteps``)."""
        actions = sample_space(self.action_space, key, (batch,))
        return jnp.reshape(actions, (batch, -1)).astype(jnp.float32 if self.continuous else jnp.int32)

    def polyak_targets(self, params: dict[str, Any], polyak: float | jax.Array, names: Sequence[str] | None = None):
        """``params`` with each target (of ``names``, all by default) moved toward its online model."""
        keys = self.model_set.param_keys
        # a target instance passed under two keys (twin targets) is stored, and moved, once
        pairs = {
            keys[target]: keys[online]
            for target, online in self.target_pairs().items()
            if names is None or target in names
        }
        params = dict(params)
        for target, online in pairs.items():
            params[target] = polyak_update(params[target], params[online], polyak)
        return params

    def make_update(
        self, step: Callable[..., tuple], with_timestep: bool = False
    ) -> Callable[..., tuple[AgentState, dict[str, jax.Array]]]:
        """``update(state, key, timestep)``: ``gradient_steps`` calls of ``step(learner, memory, key)
        -> (learner, metrics, finite)`` (``step(learner, memory, key, timestep)`` with
        ``with_timestep``); metrics are averaged over the steps, and ``nan_at`` is the first step
        whose losses were not finite (-1 if none)."""
        gradient_steps = int(self.cfg["gradient_steps"])

        def update(state: AgentState, key: jax.Array, timestep: jax.Array) -> tuple[AgentState, dict[str, jax.Array]]:
            if with_timestep:
                call = step

                def step_at(learner, memory, key):
                    return call(learner, memory, key, timestep)

            else:
                step_at = step
            if gradient_steps == 1:
                learner, metrics, finite = step_at(state.learner, state.memory, key)
                nan_at = jnp.where(finite, -1, 0).astype(jnp.int32)
                return state._replace(learner=learner), {**metrics, "nan_at": nan_at}

            def body(carry, inputs):
                learner, nan_at = carry
                step_key, index = inputs
                learner, metrics, finite = step_at(learner, state.memory, step_key)
                return (learner, jnp.where((nan_at < 0) & ~finite, index, nan_at)), metrics

            start = (state.learner, -jnp.ones((), jnp.int32))
            steps = (jax.random.split(key, gradient_steps), jnp.arange(gradient_steps, dtype=jnp.int32))
            (learner, nan_at), history = jax.lax.scan(body, start, steps)
            metrics = {name: values.mean() for name, values in history.items()}
            return state._replace(learner=learner), {**metrics, "nan_at": nan_at}

        return update
