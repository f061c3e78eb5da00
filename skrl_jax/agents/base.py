"""``Agent``: the host driver of an agent's pure functions, with skrl's agent API on top.

The driver holds the one ``AgentState`` and calls the agent's ``AgentFunctions`` (``agents/core.py``)
through a few compiled calls: ``act_observations`` and ``record_observations`` (what the trainers
call; skrl's ``act`` / ``record_transition`` bind their 1.4 or 2.x signatures to them in
``agents/adapters.py``) and ``post_interaction`` (the update when it is due). What a run writes
lives beside it: ``agent.logger`` (episode statistics, TensorBoard) and ``agent.checkpointer``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax import config as library_config
from skrl_jax.agents.adapters import SkrlAgentAPI, merge_config  # noqa: F401 (merge_config: the trainers' import)
from skrl_jax.agents.checkpointer import Checkpointer
from skrl_jax.agents.core import AgentFunctions, AgentState, Transition
from skrl_jax.agents.host_calls import HostCalls, check_host_arrays, compile_host_calls
from skrl_jax.agents.logger import ExperimentLogger, experiment_directory, resolve_interval
from skrl_jax.agents.views import StateViews
from skrl_jax.core.spaces import check_space, compute_space_size
from skrl_jax.models.base import NOT_GIVEN


class Agent(StateViews, SkrlAgentAPI):
    """skrl's agent API over the pure ``AgentFunctions`` a subclass builds.

    A subclass provides ``make_functions(num_envs, timesteps) -> AgentFunctions`` (and, when it
    records into a user's memory, ``memory_specs()``); this class holds the one ``AgentState``
    and calls the functions: ``act`` and ``record_transition`` through one compiled call each,
    ``post_interaction`` runs the compiled ``update`` when it is due and writes TensorBoard data
    and checkpoints at skrl's intervals. ``model.params`` reads the parameters in this state.

    ``agent.state.learner.params`` maps model keys to parameter trees; a model passed under
    several keys (a shared policy and value) is stored once, under its first key.
    """

    default_config: Mapping[str, Any] = {}  # skrl's cfg dict: its keys are the only ones accepted
    required_models: tuple[str, ...] = ()  # model keys that must be given

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Any = None,
        *,
        state_space: Any = NOT_GIVEN,
    ) -> None:
        """skrl 1.4's ``(models, memory, observation_space, action_space, device, cfg)``, or 2.x's keywords
        with ``state_space=`` and a ``*_CFG`` (or a dict of its keys): see ``skrl_api``."""
        name = type(self).__name__
        missing = [key for key in self.required_models if models.get(key) is None]
        if missing:
            raise KeyError(
                f"{name} needs models {list(self.required_models)}; missing {missing} (got {sorted(models)})"
            )
        self.models = dict(models)
        for key, model in self.models.items():
            if hasattr(model, "name_roles"):  # mixins declared without role=, as skrl's examples do
                model.name_roles([key.removeprefix("target_")])
        self.memory = memory[0] if isinstance(memory, (tuple, list)) else memory
        self.observation_space = observation_space
        self.action_space = action_space
        self.state_space = None if state_space is NOT_GIVEN else state_space
        self.privileged_size = 0  # > 0: the functions' observations are [observations, privileged states]
        if self.state_space is not None:
            check_space(self.state_space, f"{name}: state space")
            if not self.records_privileged_states:
                raise NotImplementedError(
                    f"{name}: state_space={self.state_space} (skrl 2.x's privileged states) is not supported by "
                    f"{name} yet (PPO, A2C and RPO take them); build it with state_space=None"
                )
            self.privileged_size = compute_space_size(self.state_space, occupied_size=True)
        self.device = device
        self.cfg = self._resolve_config(cfg, state_space is not NOT_GIVEN)
        self._init_driver()

    def _init_driver(self) -> None:
        """The host driver's own state, before any run (what every agent shell starts with)."""
        name = type(self).__name__
        self.training = False
        self.timestep = 0  # timesteps done (saved in checkpoints)
        self.resume_timestep = 0  # where the next SequentialTrainer.train() starts (set by load)
        self.updates = 0  # updates done (saved in checkpoints)
        self.key = library_config.default_key(1)  # acting and updating keys are folded from it
        self.logger = ExperimentLogger()
        self.checkpointer = Checkpointer(name)
        self._state: AgentState | None = None
        self._pending: tuple | None = None  # a recorded transition not yet written (see act)
        self._bound = False
        self.functions: AgentFunctions | None = None
        self._extras: Any = None
        self._derived_keys: tuple | None = None
        self._calls: HostCalls | None = None
        self.num_envs: int | None = None  # set by init: the environments the host loop steps

    @property
    def state(self) -> AgentState | None:
        """The one pytree the agent's functions read and write (parameters, optimizer, memory, ...);
        reading it writes the transition ``record_transition`` left pending, so the memory holds it."""
        self._write_pending()
        return self._state

    @state.setter
    def state(self, value: AgentState | None) -> None:
        self._write_pending()
        self._state = value
        if value is not None and not self._bound:
            self._bind()

    # --- what a subclass provides ----------------------------------------------------------

    def make_functions(self, num_envs: int, timesteps: int = 0) -> AgentFunctions:
        """The agent's pure functions for ``num_envs`` environments and a run of ``timesteps``."""
        raise NotImplementedError(f"{type(self).__name__} must define make_functions(num_envs, timesteps)")

    def memory_specs(self) -> dict[str, tuple[int, Any]]:
        """The tensors the agent records into a memory: name -> (size, dtype)."""
        return {}

    # --- a run --------------------------------------------------------------------------------

    def start_experiment(self, timesteps: int) -> None:
        """Resolve skrl's ``experiment`` settings for a run of ``timesteps`` into the logger and the
        checkpointer ("auto" intervals are a hundredth (writing) and a tenth (checkpoints) of
        ``timesteps``; 0 turns them off). Builds no agent state: ``CompiledTrainer`` calls only this."""
        experiment = dict(self.cfg.get("experiment", {}))
        directory = experiment_directory(experiment, type(self).__name__)
        self.logger.configure(directory, resolve_interval(experiment.get("write_interval", "auto"), timesteps, 100))
        self.checkpointer.configure(
            directory,
            resolve_interval(experiment.get("checkpoint_interval", "auto"), timesteps, 10),
            bool(experiment.get("store_separately", False)),
        )

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """skrl's ``init``: ``start_experiment``, then build the pure functions, their compiled host
        calls and the first state (from the parameters the models hold, fresh ones otherwise).
        Calling it again keeps the state."""
        if dataclasses.is_dataclass(trainer_cfg):
            trainer_cfg = dataclasses.asdict(trainer_cfg)  # skrl 2.x's trainers pass their cfg object
        self.trainer_cfg = dict(trainer_cfg or {})
        timesteps = int(self.trainer_cfg.get("timesteps", 0))
        self.start_experiment(timesteps)
        if self.memory is not None:
            for tensor, (size, dtype) in self.memory_specs().items():
                self.memory.create_tensor(tensor, size, dtype)
        # without a memory, the trainer's number of environments
        num_envs = self.memory.num_envs if self.memory is not None else int(self.trainer_cfg.get("num_envs", 1))
        self.num_envs = num_envs
        functions = self.make_functions(num_envs, timesteps)
        if self.state is None:
            self.state = jax.jit(functions.init)(jax.random.fold_in(self.key, 2), self.held_params())
        self.functions = functions
        self._calls = None
        self._host_calls()  # traced here, as skrl's init prepares everything, not in the first act of a run
        self.set_mode("eval")

    def adopt_run(
        self, state: AgentState, functions: AgentFunctions, num_envs: int, timestep: int, updates: int
    ) -> None:
        """Take the state a run of ``functions`` over ``num_envs`` environments ended with (what
        ``CompiledTrainer`` hands back): the models read its parameters, ``act`` acts from it."""
        self.state, self.functions, self.num_envs = state, functions, num_envs
        self.timestep, self.updates, self._calls = timestep, updates, None

    def _host_calls(self) -> HostCalls:
        """The compiled host calls, made on first use."""
        if self._calls is None:
            self._calls = compile_host_calls(self.functions, self._state, self.example_observations())
        return self._calls

    def example_observations(self) -> Any:
        """Zero observations of the shape ``act`` takes (``(num_envs, observation_size)``, with the
        privileged states after the observations)."""
        size = compute_space_size(self.observation_space, occupied_size=True) + self.privileged_size
        return jnp.zeros((self.num_envs, size), jnp.float32)

    def _keys(self) -> tuple[jax.Array, jax.Array]:
        """The acting and updating keys (each step folds its timestep in), derived once per ``self.key``."""
        if self._derived_keys is None or self._derived_keys[0] is not self.key:
            self._derived_keys = (self.key, jax.random.fold_in(self.key, 0), jax.random.fold_in(self.key, 1))
        return self._derived_keys[1], self._derived_keys[2]

    def _require_init(self, what: str) -> None:
        if self._state is None or self.functions is None:
            raise RuntimeError(f"call {type(self).__name__}.init() before {what}")

    def act_observations(
        self, observations: Any, timestep: int, timesteps: int, deterministic: bool = False
    ) -> tuple[Any, Any, dict]:
        """``(actions, log_prob, outputs)`` for the observations, whichever API the agent has: what the
        trainers call, and what skrl's ``act`` calls once it has bound its 1.4 or 2.x signature."""
        states = observations
        self._require_init("act()")
        check_host_arrays(self, timestep, records=not deterministic, observations=states)
        act_key, _ = self._keys()
        if deterministic or self.memory is None:
            state = self.state
            actions, self._extras = self._host_calls().act(
                state.learner, state.carry, states, act_key, timestep, deterministic
            )
        else:
            state, pending = self._state, self._take_pending()
            memory, carry, (actions, self._extras) = self._host_calls().step_act(
                state.learner, state.memory, state.carry, pending, states, act_key, timestep
            )
            self._state = state._replace(memory=memory, carry=carry)
        return actions, *self.act_results(self._extras)

    def act_results(self, extras: Any) -> tuple[Any, Any]:
        """``(log_prob, outputs)`` that ``act`` returns beside the actions, from what the functions' ``act``
        returned (``extras``)."""
        return extras.get("log_prob"), extras.get("outputs", {})

    def record_observations(
        self,
        observations: Any,
        actions: Any,
        rewards: Any,
        next_observations: Any,
        terminated: Any,
        truncated: Any,
        infos: Any,
        timestep: int,
        timesteps: int,
    ) -> None:
        """Record a transition of observations, in either API (what the trainers call: skrl's
        ``record_transition`` binds its 1.4 or 2.x signature to this)."""
        states, next_states = observations, next_observations
        check_host_arrays(self, timestep, observations=states, rewards=rewards, next_observations=next_states)
        self.track_episodes(rewards, terminated, truncated, timestep)
        if self.memory is None:
            return
        if self._extras is None:
            raise RuntimeError(f"{type(self).__name__}.record_transition() needs the act() call of the same step first")
        self._write_pending()
        self._pending = (
            Transition(states, actions, rewards, next_states, terminated, truncated),
            self._extras,
            timestep,
        )

    def _take_pending(self) -> tuple:
        pending, self._pending = self._pending, None
        return pending if pending is not None else self._host_calls().nothing_pending

    def _write_pending(self) -> None:
        if self._pending is None:
            return
        state = self._state
        memory, carry = self._host_calls().record(state.memory, state.carry, self._take_pending())
        self._state = state._replace(memory=memory, carry=carry)

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        pass

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Update when due (every ``update_interval`` steps from ``learning_starts``), then write
        TensorBoard data and checkpoints at skrl's intervals."""
        if self.memory is not None and self.functions is not None and bool(self.functions.update_due(timestep)):
            self.set_mode("train")
            self.update(timestep, timesteps)
            self.set_mode("eval")
        timestep += 1
        self.timestep = timestep
        write_interval = self.logger.write_interval
        if write_interval > 0 and timestep > 1 and not timestep % write_interval:
            self.write_tracking_data(timestep, timesteps)
        if self.checkpointer.due(timestep):
            self.write_checkpoint(timestep, timesteps)

    def update(self, timestep: int, timesteps: int) -> dict[str, float]:
        """One update from the memory (one compiled call); returns its metrics.

        A loss that is not finite is not trained through: the state from before the update is
        kept and ``FloatingPointError`` names the timestep and the gradient step.
        """
        self._require_init("update()")
        before, pending = self._state, self._take_pending()
        state, metrics = self._host_calls().step_update(
            before.learner, before.memory, before.carry, pending, self._keys()[1], timestep
        )
        metrics = {name: np.asarray(value).item() for name, value in jax.device_get(metrics).items()}
        if metrics["nan_at"] >= 0:
            self._state = state._replace(learner=before.learner)
            raise FloatingPointError(
                f"{type(self).__name__}: the loss became NaN/inf at timestep {timestep} (update {self.updates}, "
                f"{self.functions.describe_gradient_step(int(metrics['nan_at']))}); the parameters from before this "
                "update are kept"
            )
        self._state = state
        self.updates += 1
        for name, tag in self.functions.metric_tags.items():
            if np.isfinite(metrics[name]):
                self.track_data(tag, metrics[name])
        return metrics

    def set_mode(self, mode: str) -> None:
        self.training = mode == "train"
