"""``Agent``: skrl's agent API (act / record_transition / post_interaction) over an agent's pure functions."""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime
import difflib
import inspect
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax import config as library_config
from skrl_jax.agents.configs import INTERNAL_2X_KEYS, AgentCfg, check_no_2x_keys, make_cfg
from skrl_jax.agents.core import AgentFunctions, AgentState, Transition
from skrl_jax.core.spaces import check_space, compute_space_size
from skrl_jax.core.validation import Factory, Keywords, Number, check_config, raise_if_not_finite
from skrl_jax.models.base import NOT_GIVEN

_POSITIVE_INT = Number(integer=True, low=1)


@jax.jit
def _concatenate_states(observations: jax.Array, states: jax.Array) -> jax.Array:
    # one compiled call per step (host arrays transfer as its arguments)
    return jnp.concatenate([jnp.asarray(observations, jnp.float32), jnp.asarray(states, jnp.float32)], -1)


_COUNT = Number(integer=True, low=0)
_NON_NEGATIVE = Number(low=0)
_UNIT_INTERVAL = Number(low=0, high=1)
_LEARNING_RATE = Number(low=0)
_INTERVAL = Number(integer=True, low=0, words=("auto",))

# what each cfg key of skrl's agents accepts; a key means the same in every agent. skrl checks
# none of these: a discount_factor of 1.5 or rollouts=0 fails (or diverges) much later there.
AGENT_CFG_RULES = {
    "rollouts": _POSITIVE_INT,
    "learning_epochs": _POSITIVE_INT,
    "mini_batches": _POSITIVE_INT,
    "batch_size": _POSITIVE_INT,
    "gradient_steps": _POSITIVE_INT,
    "policy_delay": _POSITIVE_INT,
    "update_interval": _POSITIVE_INT,
    "target_update_interval": _POSITIVE_INT,
    "random_timesteps": _COUNT,
    "learning_starts": _COUNT,
    "discount_factor": Number(low=0, high=1, note="skrl does not check it; above 1 the returns grow without bound"),
    "lambda": _UNIT_INTERVAL,
    "polyak": _UNIT_INTERVAL,
    "initial_epsilon": _UNIT_INTERVAL,
    "final_epsilon": _UNIT_INTERVAL,
    "learning_rate": _LEARNING_RATE,
    "actor_learning_rate": _LEARNING_RATE,
    "critic_learning_rate": _LEARNING_RATE,
    "entropy_learning_rate": _LEARNING_RATE,
    "grad_norm_clip": _NON_NEGATIVE,
    "ratio_clip": _NON_NEGATIVE,
    "value_clip": _NON_NEGATIVE,
    "kl_threshold": _NON_NEGATIVE,
    "entropy_loss_scale": _NON_NEGATIVE,
    "value_loss_scale": _NON_NEGATIVE,
    "trunk_value_loss_scale": Number(low=0, words=(None,)),
    "alpha": _NON_NEGATIVE,
    "smooth_regularization_clip": _NON_NEGATIVE,
    "initial_entropy_value": Number(low=0, above=True),
    "target_entropy": Number(words=(None,)),
    "initial_scale": _NON_NEGATIVE,
    "final_scale": _NON_NEGATIVE,
    "timesteps": Number(integer=True, low=0, words=(None,)),
    "write_interval": _INTERVAL,
    "checkpoint_interval": _INTERVAL,
    "learning_rate_scheduler": Factory(
        "e.g. from skrl_jax.resources.schedulers import KLAdaptiveLR, then learning_rate_scheduler=KLAdaptiveLR"
    ),
    "state_preprocessor": Factory(
        "e.g. from skrl_jax.resources.preprocessors import RunningStandardScaler, then state_preprocessor=RunningStandardScaler"
    ),
    "value_preprocessor": Factory(
        "e.g. from skrl_jax.resources.preprocessors import RunningStandardScaler, then value_preprocessor=RunningStandardScaler"
    ),
    "rewards_shaper": Factory("a function rewards_shaper(rewards, timestep, timesteps) -> rewards"),
    "learning_rate_scheduler_kwargs": Keywords(),
    "state_preprocessor_kwargs": Keywords(),
    "value_preprocessor_kwargs": Keywords(),
}


def _signature(function: Any) -> inspect.Signature:
    return inspect.signature(function)


# skrl's act / record_transition: 1.4's positional form and 2.x's keywords
API_SIGNATURES = {
    ("act", "1.4"): _signature(lambda states, timestep, timesteps, deterministic=False: None),
    ("act", "2.x"): _signature(lambda observations, states=None, *, timestep, timesteps, deterministic=False: None),
    ("record_transition", "1.4"): _signature(
        lambda states, actions, rewards, next_states, terminated, truncated, infos, timestep, timesteps: None
    ),
    ("record_transition", "2.x"): _signature(
        lambda *, observations, states=None, actions, rewards, next_observations, next_states=None, terminated, truncated, infos, timestep, timesteps: (
            None
        )  # noqa: E501
    ),
}


def merge_config(defaults: Mapping[str, Any], cfg: Mapping[str, Any] | None, owner: str) -> dict[str, Any]:
    """``defaults`` updated with ``cfg``; a key ``defaults`` does not have is a typo and an error."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in (cfg or {}).items():
        if key not in merged:
            close = difflib.get_close_matches(key, list(merged), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {sorted(merged)}"
            raise KeyError(f"unknown {owner} cfg key {key!r}{hint}")
        if isinstance(merged[key], dict) and merged[key] and isinstance(value, Mapping):
            merged[key] = merge_config(merged[key], value, f"{owner}['{key}']")
        else:
            merged[key] = value
    return merged


class Agent:
    """skrl's agent API over the pure ``AgentFunctions`` a subclass builds.

    A subclass provides ``make_functions(num_envs, timesteps) -> AgentFunctions`` (and, when it
    records into a user's memory, ``memory_specs()``); this class holds the one ``AgentState``
    and calls the functions: ``act`` and ``record_transition`` through one compiled call each,
    ``post_interaction`` runs the compiled ``update`` when it is due and writes TensorBoard data
    and checkpoints at skrl's intervals. ``model.params`` and ``memory.state`` read this state.

    ``agent.state.learner.params`` maps model keys to parameter trees; a model passed under
    several keys (a shared policy and value) is stored once, under its first key.
    """

    default_config: Mapping[str, Any] = {}  # skrl's cfg dict: its keys are the only ones accepted
    config_class: type | None = None  # skrl 2.x's dataclass (PPO_CFG, ...); None: 1.4's API only
    records_privileged_states = False  # whether it takes skrl 2.x's privileged states (a state_space)
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
        self.skrl_api = self._choose_api(cfg, state_space is not NOT_GIVEN)
        if hasattr(self.memory, "default_replacement"):  # replacement=None: the API's (2.x: without)
            self.memory.default_replacement(self.skrl_api == "1.4")
        self.cfg = self._internal_config(cfg)
        check_config(self.cfg, AGENT_CFG_RULES, name)
        experiment = self.cfg.get("experiment", {})
        if experiment.get("wandb"):
            raise NotImplementedError(
                f"{type(self).__name__}: cfg['experiment']['wandb']=True is not supported: skrl_jax writes TensorBoard "
                "event files only. Set it to False, and sync the experiment directory to Weights & Biases with "
                "`wandb sync <experiment directory>` if you use it"
            )
        self.training = False
        self.timestep = 0  # timesteps done (saved in checkpoints)
        self.resume_timestep = 0  # where the next SequentialTrainer.train() starts (set by load)
        self.updates = 0  # updates done (saved in checkpoints)
        self.key = library_config.default_key(1)  # acting and updating keys are folded from it
        self._state: AgentState | None = None
        self._pending: tuple | None = None  # a recorded transition not yet written (see act)
        self.functions: AgentFunctions | None = None
        self._extras: Any = None
        self._derived_keys: tuple | None = None
        self.tracking_data: dict[str, list[float]] = collections.defaultdict(list)
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.episode_end_timesteps: list[int] = []
        self._track_rewards: collections.deque = collections.deque(maxlen=100)
        self._track_timesteps: collections.deque = collections.deque(maxlen=100)
        self._cumulative_rewards: np.ndarray | None = None
        self._cumulative_timesteps: np.ndarray | None = None

    def _choose_api(self, cfg: Any, state_space_given: bool) -> str:
        """skrl 2.x's API when the agent is built the 2.x way: a ``*_CFG`` object, ``state_space=``, or
        models built the 2.x way; 1.4's otherwise."""
        name = type(self).__name__
        two = [model for model in self.models.values() if getattr(model, "skrl_api", "1.4") == "2.x"]
        if isinstance(cfg, AgentCfg) or state_space_given or two:
            if self.config_class is None:
                raise NotImplementedError(
                    f"{name} has skrl 1.4's API only in this version (no 2.x configuration yet): build it as "
                    f"{name}(models=..., memory=..., observation_space=..., action_space=..., cfg={{1.4 keys}})"
                    + (", with models built the 1.4 way (Model.__init__ without state_space=)" if two else "")
                )
            if cfg is not None and not isinstance(cfg, (Mapping, self.config_class)):
                raise TypeError(
                    f"{name}: cfg must be a {self.config_class.__name__} or a dict of its keys, got {type(cfg).__name__}"
                )
            return "2.x"
        return "1.4"

    def _internal_config(self, cfg: Any) -> dict[str, Any]:
        """The 1.4-shaped dict every agent reads (``agents/configs.py`` translates a 2.x one)."""
        name = type(self).__name__
        if self.skrl_api == "2.x":
            if not isinstance(cfg, AgentCfg):
                cfg = make_cfg(self.config_class, cfg or {}, name)
            cfg.expand()
            model_ids = [id(model) for model in self.models.values() if model is not None]
            cfg = cfg.internal(name, shared=len(set(model_ids)) < len(model_ids))
            if cfg.get("privileged_preprocessor") is not None and not self.privileged_size:
                raise ValueError(
                    f"{name}: cfg state_preprocessor (skrl 2.x: the privileged states' preprocessor) is set, but "
                    + (
                        "the agent has no state_space (build it with state_space=env.state_space)"
                        if self.records_privileged_states
                        else f"{name} does not take privileged states yet (PPO, A2C and RPO do)"
                    )
                    + "; the observations' preprocessor is observation_preprocessor"
                )
            extra = {key: None for key in INTERNAL_2X_KEYS if key in cfg}
            return merge_config({**self.default_config, **extra}, cfg, name)
        if not isinstance(cfg, Mapping | None):
            raise TypeError(f"{name}: cfg must be a dict of skrl 1.4's keys, got {type(cfg).__name__}")
        check_no_2x_keys(cfg or {}, name, "no state_space= and models built without it", self.default_config)
        return merge_config(self.default_config, cfg, name) if self.default_config else dict(cfg or {})

    def enable_training_mode(self, enabled: bool = True) -> None:
        """skrl 2.x's name for ``set_mode("train" if enabled else "eval")``."""
        self.set_mode("train" if enabled else "eval")

    @property
    def state(self) -> AgentState | None:
        """The one pytree the agent's functions read and write (parameters, optimizer, memory, ...)."""
        self._write_pending()
        return self._state

    @state.setter
    def state(self, value: AgentState | None) -> None:
        self._write_pending()
        self._state = value

    # --- what a subclass provides ----------------------------------------------------------

    def make_functions(self, num_envs: int, timesteps: int = 0) -> AgentFunctions:
        """The agent's pure functions for ``num_envs`` environments and a run of ``timesteps``."""
        raise NotImplementedError(f"{type(self).__name__} must define make_functions(num_envs, timesteps)")

    def memory_specs(self) -> dict[str, tuple[int, Any]]:
        """The tensors the agent records into a memory: name -> (size, dtype)."""
        return {}

    # --- parameters: one place ---------------------------------------------------------------

    def parameter_keys(self) -> dict[str, Any]:
        """Each distinct model under the first key it was passed with (the keys of ``learner.params``)."""
        keys: dict[str, Any] = {}
        for name, model in self.models.items():
            if model is not None and all(model is not other for other in keys.values()):
                keys[name] = model
        return keys

    def _set_params(self, name: str, params: Any) -> None:
        learner = self.state.learner
        self.state = self.state._replace(learner=learner._replace(params={**learner.params, name: params}))

    def _bind(self) -> None:
        for name, model in self.parameter_keys().items():
            model.bind_params(
                lambda name=name: self.state.learner.params[name],
                lambda value, name=name: self._set_params(name, value),
            )
        if self.memory is not None and hasattr(self.memory, "bind_state"):
            self.memory.bind_state(self._memory_buffer, self._set_memory_buffer)

    def _memory_buffer(self) -> Any:
        """The part of ``state.memory`` that the user's memory object shows (all of it by default)."""
        return self.state.memory

    def _set_memory_buffer(self, buffer: Any) -> None:
        self.state = self.state._replace(memory=buffer)

    # --- skrl's API ----------------------------------------------------------------------

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Resolve skrl's ``experiment`` settings ("auto" intervals are a hundredth (writing) and a
        tenth (checkpoints) of the trainer's ``timesteps``; 0 turns them off), build the pure
        functions and the first state (from the parameters the models hold, fresh ones otherwise).
        Calling it again keeps the state."""
        if dataclasses.is_dataclass(trainer_cfg):
            trainer_cfg = dataclasses.asdict(trainer_cfg)  # skrl 2.x's trainers pass their cfg object
        self.trainer_cfg = dict(trainer_cfg or {})
        experiment = dict(self.cfg.get("experiment", {}))
        timesteps = int(self.trainer_cfg.get("timesteps", 0))

        def interval(value: Any, fraction: int) -> int:
            return int(timesteps / fraction) if value == "auto" else int(value or 0)

        self.write_interval = interval(experiment.get("write_interval", "auto"), 100)
        self.checkpoint_interval = interval(experiment.get("checkpoint_interval", "auto"), 10)
        self.store_separately = bool(experiment.get("store_separately", False))
        directory = experiment.get("directory") or os.path.join(os.getcwd(), "runs")
        name = experiment.get("experiment_name") or (
            f"{datetime.datetime.now():%y-%m-%d_%H-%M-%S-%f}_{type(self).__name__}"
        )
        self.experiment_dir = Path(directory) / name
        self.best_return = -np.inf
        self._writer = None

        if self.memory is not None:
            for tensor, (size, dtype) in self.memory_specs().items():
                self.memory.create_tensor(tensor, size, dtype)
        # without a memory (a compiled trainer holds the rollout), the trainer's number of environments
        num_envs = self.memory.num_envs if self.memory is not None else int(self.trainer_cfg.get("num_envs", 1))
        self._num_envs = num_envs
        functions = self.make_functions(num_envs, timesteps)
        if self.state is None:
            held = {name: model.params for name, model in self.parameter_keys().items() if model.params is not None}
            self.state = jax.jit(functions.init)(jax.random.fold_in(self.key, 2), held)
        self.functions = functions
        self._compile(functions, num_envs)
        self._bind()
        self.set_mode("eval")

    def _compile(self, functions: AgentFunctions, num_envs: int) -> None:
        """The compiled calls of the host loop. A step is one call: the transition recorded at the
        previous step is written, then the agent acts (``_step_act``); an update writes the last
        transition first (``_step_update``). The memory is donated: written in place, not copied."""

        def act(learner, carry, observations, key, timestep, deterministic=False):
            state = AgentState(learner, None, carry)  # acting reads only the learner and the carry
            return functions.act(state, observations, jax.random.fold_in(key, timestep), timestep, deterministic)

        def record(memory, carry, pending):
            # recording never reads the learner; a pending timestep < 0 is the placeholder of "nothing yet"
            transition, extras, recorded_at = pending

            def write(memory, carry):
                state = functions.record(AgentState(None, memory, carry), transition, extras, recorded_at)
                return state.memory, state.carry

            return jax.lax.cond(recorded_at >= 0, write, lambda memory, carry: (memory, carry), memory, carry)

        def step_act(learner, memory, carry, pending, observations, key, timestep):
            memory, carry = record(memory, carry, pending)
            return memory, carry, act(learner, carry, observations, key, timestep)

        def step_update(learner, memory, carry, pending, key, timestep):
            memory, carry = record(memory, carry, pending)
            return functions.update(AgentState(learner, memory, carry), jax.random.fold_in(key, timestep), timestep)

        self._act = jax.jit(act, static_argnames="deterministic")
        self._record = jax.jit(record, donate_argnums=0)
        self._step_act = jax.jit(step_act, donate_argnums=1)
        self._step_update = jax.jit(step_update, donate_argnums=1)
        self._nothing_pending = self._placeholder_transition(functions, num_envs)

    def _placeholder_transition(self, functions: AgentFunctions, num_envs: int) -> tuple:
        """A pending record of the shapes a real one has, marked as nothing (timestep -1), so the
        first step runs the same compiled call as every other."""
        size = compute_space_size(self.observation_space, occupied_size=True) + self.privileged_size
        observations = jnp.zeros((num_envs, size), jnp.float32)
        actions, extras = jax.eval_shape(
            functions.act, self._state, observations, jax.random.key(0), jnp.zeros((), jnp.int32)
        )
        zeros = lambda shape: jnp.zeros(shape.shape, shape.dtype)  # noqa: E731
        flags = jnp.zeros((num_envs, 1), bool)
        rewards = jnp.zeros((num_envs, 1), jnp.float32)
        transition = Transition(observations, zeros(actions), rewards, observations, flags, flags)
        return transition, jax.tree.map(zeros, extras), -1

    def _keys(self) -> tuple[jax.Array, jax.Array]:
        """The acting and updating keys (each step folds its timestep in), derived once per ``self.key``."""
        if self._derived_keys is None or self._derived_keys[0] is not self.key:
            self._derived_keys = (self.key, jax.random.fold_in(self.key, 0), jax.random.fold_in(self.key, 1))
        return self._derived_keys[1], self._derived_keys[2]

    def _require_init(self, what: str) -> None:
        if self._state is None:
            raise RuntimeError(f"call {type(self).__name__}.init() before {what}")

    def act(self, *args: Any, **kwargs: Any) -> tuple:
        """skrl's ``act``, in the agent's API (``skrl_api``), from one compiled call:

        - 1.4: ``act(states, timestep, timesteps, deterministic=False) -> (actions, log_prob, outputs)``;
        - 2.x: ``act(observations, states, *, timestep, timesteps, deterministic=False) -> (actions,
          outputs)`` with ``outputs["log_prob"]``; ``states`` (privileged) must be None here.

        ``deterministic`` (not skrl's) gives the greedy action. The transition recorded at the
        previous step is written to the memory in that same call.
        """
        arguments = self._bind_api_call("act", args, kwargs)
        if self.skrl_api == "2.x":
            observations = arguments["observations"]
            arguments["observations"] = self.with_privileged_states(observations, arguments.pop("states"), "act")
            actions, log_prob, outputs = self.act_observations(**arguments)
            return actions, outputs if log_prob is None else {**outputs, "log_prob": log_prob}
        return self.act_observations(**arguments)

    def _bind_api_call(self, method: str, args: tuple, kwargs: dict) -> dict[str, Any]:
        """The arguments of a call to ``act`` / ``record_transition`` by the signature of the agent's API,
        with 1.4's ``states`` as ``observations``; an error names the signature and the API."""
        signature = API_SIGNATURES[(method, self.skrl_api)]
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            other = "1.4" if self.skrl_api == "2.x" else "2.x"
            raise TypeError(
                f"{type(self).__name__}.{method}{signature}: {error} (this agent is built the skrl {self.skrl_api} "
                f"way; {method}{API_SIGNATURES[(method, other)]} is skrl {other}'s)"
            ) from None
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        if self.skrl_api == "1.4":
            arguments["observations"] = arguments.pop("states")
            if "next_states" in arguments:
                arguments["next_observations"] = arguments.pop("next_states")
        return arguments

    def with_privileged_states(self, observations: Any, states: Any, what: str = "act") -> Any:
        """What the agent's functions take as observations: ``observations``, or, for an agent built with a
        ``state_space`` (skrl 2.x's privileged states), ``concatenate([observations, states], -1)``;
        the models get them apart, as ``inputs["observations"]`` and ``inputs["states"]``. The
        trainers call it with ``env.state()``."""
        name = type(self).__name__
        if not self.privileged_size:
            if states is not None:
                raise ValueError(
                    f"{name}.{what}: got states (skrl 2.x's privileged states), but the agent was built with "
                    "state_space=None; build it with state_space=env.state_space to use them"
                )
            return observations
        if states is None:
            raise ValueError(
                f"{name}.{what}: the agent was built with state_space={self.state_space} and needs the privileged "
                "states (env.state()), got None"
            )
        shape, states_shape = tuple(np.shape(observations)), tuple(np.shape(states))
        if states_shape[:-1] != shape[:-1] or states_shape[-1:] != (self.privileged_size,):
            raise ValueError(
                f"{name}.{what}: expected states (privileged) of shape {(*shape[:-1], self.privileged_size)} "
                f"for {self.state_space}, got {states_shape}"
            )
        return _concatenate_states(observations, states)

    def act_observations(
        self, observations: Any, timestep: int, timesteps: int, deterministic: bool = False
    ) -> tuple[Any, Any, dict]:
        """``(actions, log_prob, outputs)`` for the observations, whichever API the agent has: what the
        trainers call, and what skrl's ``act`` calls once it has bound its 1.4 or 2.x signature."""
        states = observations
        self._require_init("act()")
        self._check_host_arrays(timestep, records=not deterministic, observations=states)
        act_key, _ = self._keys()
        if deterministic or self.memory is None:
            state = self.state
            actions, self._extras = self._act(state.learner, state.carry, states, act_key, timestep, deterministic)
        else:
            state, pending = self._state, self._take_pending()
            memory, carry, (actions, self._extras) = self._step_act(
                state.learner, state.memory, state.carry, pending, states, act_key, timestep
            )
            self._state = state._replace(memory=memory, carry=carry)
        return actions, self._extras.get("log_prob"), self._extras.get("outputs", {})

    def record_transition(self, *args: Any, **kwargs: Any) -> None:
        """Track episode statistics and record the transition into the memory, in the agent's API:

        - 1.4: ``record_transition(states, actions, rewards, next_states, terminated, truncated, infos,
          timestep, timesteps)``;
        - 2.x: keywords ``observations, states, actions, rewards, next_observations, next_states,
          terminated, truncated, infos, timestep, timesteps`` (``states``, ``next_states``: None here).

        The write happens in the next ``act`` call's compiled call (one call per step), or as
        soon as the state is read (``agent.state``, ``memory.state``, an update, a checkpoint).
        """
        arguments = self._bind_api_call("record_transition", args, kwargs)
        if self.skrl_api == "2.x":
            for observations, states in (("observations", "states"), ("next_observations", "next_states")):
                arguments[observations] = self.with_privileged_states(
                    arguments[observations], arguments.pop(states), "record_transition"
                )
        self.record_observations(**arguments)

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
        self._check_host_arrays(timestep, observations=states, rewards=rewards, next_observations=next_states)
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

    def _check_host_arrays(self, timestep: int, records: bool = True, **arrays: Any) -> None:
        """What the host loop hands over, checked before it reaches a compiled call: one row per
        environment the memory was made for when it is recorded (a reshape error inside jit
        otherwise) and, with ``skrl_jax.config.set_debug_nans(True)``, finite values."""
        name = type(self).__name__
        num_envs = getattr(self, "_num_envs", None)
        if records and self.memory is not None and num_envs is not None:
            for what, values in arrays.items():
                shape = tuple(getattr(values, "shape", np.shape(values)))
                rows = math.prod(shape) if what == "rewards" else math.prod(shape[:-1])
                if rows != num_envs:
                    raise ValueError(
                        f"{name}: the {what} at timestep {timestep} hold {rows} environments (shape {shape}) but the "
                        f"memory was made for num_envs={num_envs}: create it as RandomMemory(memory_size, "
                        f"num_envs={rows}) to match the environment (env.num_envs)"
                    )
        if library_config.debug_nans():
            for what, values in arrays.items():
                raise_if_not_finite(values, what, f"{name} at timestep {timestep}")

    def _take_pending(self) -> tuple:
        pending, self._pending = self._pending, None
        return pending if pending is not None else self._nothing_pending

    def _write_pending(self) -> None:
        if self._pending is None:
            return
        state = self._state
        memory, carry = self._record(state.memory, state.carry, self._take_pending())
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
        if getattr(self, "write_interval", 0) > 0 and timestep > 1 and not timestep % self.write_interval:
            self.write_tracking_data(timestep, timesteps)
        if getattr(self, "checkpoint_interval", 0) > 0 and not timestep % self.checkpoint_interval:
            self.write_checkpoint(timestep, timesteps)

    def update(self, timestep: int, timesteps: int) -> dict[str, float]:
        """One update from the memory (one compiled call); returns its metrics.

        A loss that is not finite is not trained through: the state from before the update is
        kept and ``FloatingPointError`` names the timestep and the gradient step.
        """
        self._require_init("update()")
        before, pending = self._state, self._take_pending()
        state, metrics = self._step_update(
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

    # --- episode statistics and TensorBoard ------------------------------------------------

    def track_episodes(self, rewards: Any, terminated: Any, truncated: Any, timestep: int) -> None:
        """Episode returns and lengths per environment, as skrl tracks them."""
        rewards = np.asarray(rewards, np.float64).reshape(-1)
        done = (np.asarray(terminated) | np.asarray(truncated)).reshape(-1)
        if self._cumulative_rewards is None:
            self._cumulative_rewards = np.zeros_like(rewards)
            self._cumulative_timesteps = np.zeros(rewards.shape, np.int64)
        self._cumulative_rewards += rewards
        self._cumulative_timesteps += 1
        if done.any():
            finished_returns = self._cumulative_rewards[done].tolist()
            finished_lengths = self._cumulative_timesteps[done].tolist()
            self.episode_returns.extend(finished_returns)
            self.episode_lengths.extend(finished_lengths)
            self.episode_end_timesteps.extend([timestep + 1] * len(finished_returns))
            self._track_rewards.extend(finished_returns)
            self._track_timesteps.extend(finished_lengths)
            self._cumulative_rewards[done] = 0.0
            self._cumulative_timesteps[done] = 0
            self.track_data("Reward / Total reward (max)", np.max(self._track_rewards))
            self.track_data("Reward / Total reward (min)", np.min(self._track_rewards))
            self.track_data("Reward / Total reward (mean)", np.mean(self._track_rewards))
            self.track_data("Episode / Total timesteps (max)", np.max(self._track_timesteps))
            self.track_data("Episode / Total timesteps (min)", np.min(self._track_timesteps))
            self.track_data("Episode / Total timesteps (mean)", np.mean(self._track_timesteps))

    @property
    def mean_episode_return(self) -> float:
        """Mean return of the last (up to) 100 finished episodes; nan before the first one."""
        return float(np.mean(self._track_rewards)) if self._track_rewards else float("nan")

    def track_data(self, tag: str, value: float) -> None:
        self.tracking_data[tag].append(float(value))

    @property
    def writer(self) -> Any:
        """The TensorBoard writer (tensorboardX) of the experiment directory, made on first use."""
        if self._writer is None:
            from tensorboardX import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.experiment_dir))
        return self._writer

    def add_scalar(self, tag: str, value: float, timestep: int) -> None:
        """One TensorBoard scalar under skrl's tag as it is (tensorboardX's ``add_scalar`` would
        rewrite "Loss / Policy loss" as "Loss_/_Policy_loss")."""
        from tensorboardX.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        self.writer._get_file_writer().add_summary(summary, timestep)

    def write_tracking_data(self, timestep: int, timesteps: int) -> None:
        """Write the mean of each tracked value since the last write (skrl's tags) and start anew."""
        for tag, values in self.tracking_data.items():
            if values:
                self.add_scalar(tag, float(np.mean(values)), timestep)
        self.writer.flush()
        self.tracking_data.clear()

    def close_writer(self) -> None:
        """Write out the queued TensorBoard events (a later write opens a new event file)."""
        if getattr(self, "_writer", None) is not None:
            self._writer.close()
            self._writer = None

    # --- checkpoints ---------------------------------------------------------------------

    def checkpoint_state(self) -> dict[str, Any]:
        """The pytree a checkpoint holds: the agent state (parameters, optimizer, scalers, memory) and the key."""
        self._require_init("saving or loading a checkpoint")
        return {"state": self.state, "key": self.key}

    def checkpoint_meta(self) -> dict[str, Any]:
        return {"agent": type(self).__name__, "timestep": self.timestep, "updates": self.updates}

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything needed to continue training to ``path`` (atomically)."""
        from skrl_jax.core.checkpoints import save_checkpoint

        return save_checkpoint(path, self.checkpoint_state(), "agent", self.checkpoint_meta())

    def load(self, path: str | os.PathLike) -> None:
        """Continue from a checkpoint written by ``save`` (checked against this agent's trees)."""
        from skrl_jax.core.checkpoints import CheckpointError, load_checkpoint

        state, meta = load_checkpoint(path, self.checkpoint_state(), "agent")
        if meta.get("agent") != type(self).__name__:
            raise CheckpointError(f"{path} is a {meta.get('agent')} checkpoint, not a {type(self).__name__} one")
        self.state, self.key = state["state"], state["key"]
        self.updates = int(meta.get("updates", 0))
        self.timestep = self.resume_timestep = int(meta.get("timestep", 0))

    def write_checkpoint(self, timestep: int, timesteps: int) -> Path:
        """``checkpoints/agent_<timestep>.ckpt`` in the experiment directory, and ``best_agent.ckpt``
        when the mean return of the last episodes is the best so far (as skrl)."""
        folder = self.experiment_dir / "checkpoints"
        path = self.save(folder / f"agent_{timestep}.ckpt")
        if self.store_separately:
            for name, model in self.parameter_keys().items():
                model.save(folder / f"{name}_{timestep}.ckpt")
        if self._track_rewards and np.mean(self._track_rewards) > self.best_return:
            self.best_return = float(np.mean(self._track_rewards))
            self.save(folder / "best_agent.ckpt")
        return path
