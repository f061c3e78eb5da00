"""skrl's agent API at the edge: 1.4's and 2.x's configurations and method signatures.

``SkrlAgentAPI`` is what ``Agent`` adds on top of its host driver: it picks the API a user builds
an agent with, turns the cfg (1.4's dict, or 2.x's ``*_CFG`` through ``agents/configs.py``) into
the one dict the agents read, and binds ``act`` / ``record_transition`` by that API's signature to
the driver's ``act_observations`` / ``record_observations``. Nothing below it asks which API was used.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.agents.configs import INTERNAL_2X_KEYS, AgentCfg, check_no_2x_keys, make_cfg
from skrl_jax.core.validation import Choice, Factory, Keywords, Number, check_config

_POSITIVE_INT = Number(integer=True, low=1)


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
    "state_preprocessor_update": Choice(("minibatch", "rollout")),
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


@jax.jit
def _concatenate_states(observations: jax.Array, states: jax.Array) -> jax.Array:
    # one compiled call per step (host arrays transfer as its arguments)
    return jnp.concatenate([jnp.asarray(observations, jnp.float32), jnp.asarray(states, jnp.float32)], -1)


def with_states(
    observations: Any, states: Any, size: int, space: Any, where: str, label: str = "states (privileged)"
) -> Any:
    """``concatenate([observations, states], -1)`` after checking that ``states`` has ``size`` values
    per row of ``observations`` (a ``ValueError`` from ``where``, naming ``label`` and ``space``)."""
    shape, states_shape = tuple(np.shape(observations)), tuple(np.shape(states))
    if states_shape[:-1] != shape[:-1] or states_shape[-1:] != (size,):
        raise ValueError(f"{where}: expected {label} of shape {(*shape[:-1], size)} for {space}, got {states_shape}")
    return _concatenate_states(observations, states)


class SkrlAgentAPI:
    """skrl 1.4's and 2.x's agent API over the host driver's ``act_observations`` / ``record_observations``."""

    config_class: type | None = None  # skrl 2.x's dataclass (PPO_CFG, ...); None: 1.4's API only
    records_privileged_states = False  # whether it takes skrl 2.x's privileged states (a state_space)

    def _resolve_config(self, cfg: Any, state_space_given: bool) -> dict[str, Any]:
        """Set ``skrl_api`` and the memory's API default (replay sampling with replacement in 1.4,
        without in 2.x), and return the checked cfg dict the agent reads."""
        name = type(self).__name__
        self.skrl_api = self._choose_api(cfg, state_space_given)
        if hasattr(self.memory, "default_replacement"):  # replacement=None: the API's default
            self.memory.default_replacement(self.skrl_api == "1.4")
        cfg = self._internal_config(cfg)
        check_config(cfg, AGENT_CFG_RULES, name)
        if cfg.get("experiment", {}).get("wandb"):
            raise NotImplementedError(
                f"{name}: cfg['experiment']['wandb']=True is not supported: skrl_jax writes TensorBoard "
                "event files only. Set it to False, and sync the experiment directory to Weights & Biases with "
                "`wandb sync <experiment directory>` if you use it"
            )
        return cfg

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

    def skrl_preprocessor_names(self) -> dict[str, str]:
        """skrl's checkpoint module names of the preprocessors in this agent's API -> what they
        standardise: 1.4's ``state_preprocessor`` is the observations'; 2.x's is the privileged
        states', its ``observation_preprocessor`` the observations'."""
        if self.skrl_api == "2.x":
            return {
                "observation_preprocessor": "observations",
                "state_preprocessor": "privileged",
                "value_preprocessor": "values",
            }
        return {"state_preprocessor": "observations", "value_preprocessor": "values"}

    def enable_training_mode(self, enabled: bool = True) -> None:
        """skrl 2.x's name for ``set_mode("train" if enabled else "eval")``."""
        self.set_mode("train" if enabled else "eval")

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
            return actions, self.outputs_with_log_prob(outputs, log_prob)
        return self.act_observations(**arguments)

    def outputs_with_log_prob(self, outputs: Any, log_prob: Any) -> Any:
        """skrl 2.x's ``act`` outputs: ``outputs`` with ``outputs["log_prob"]`` (a deterministic role has none)."""
        return outputs if log_prob is None else {**outputs, "log_prob": log_prob}

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
        return with_states(observations, states, self.privileged_size, self.state_space, f"{name}.{what}")

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

    # --- skrl's names for the logger and the checkpointer --------------------------------------

    def track_episodes(self, rewards: Any, terminated: Any, truncated: Any, timestep: int) -> None:
        self.logger.track_episodes(rewards, terminated, truncated, timestep)

    def track_data(self, tag: str, value: float) -> None:
        self.logger.track_data(tag, value)

    def write_tracking_data(self, timestep: int, timesteps: int) -> None:
        self.logger.write_tracking_data(timestep)

    @property
    def episode_returns(self) -> list[float]:
        """The return of every finished episode, in order (the trainers report them)."""
        return self.logger.episode_returns

    @property
    def tracking_data(self) -> dict[str, list[float]]:
        return self.logger.tracking_data

    @property
    def experiment_dir(self) -> Path | None:
        return self.logger.experiment_dir

    def checkpoint_state(self) -> dict[str, Any]:
        """The pytree a checkpoint holds: the agent state (parameters, optimizer, scalers, memory) and the key."""
        self._require_init("saving or loading a checkpoint")
        return {"state": self.state, "key": self.key}

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything needed to continue training to ``path`` (atomically)."""
        return self.checkpointer.save(
            path, self.checkpoint_state(), {"timestep": self.timestep, "updates": self.updates}
        )

    def load(self, path: str | os.PathLike) -> None:
        """Continue from a checkpoint written by ``save`` (checked against this agent's trees), or load
        the models and preprocessors of one written by skrl itself (a JAX agent's pickle, read without
        running code, or a PyTorch agent's ``.pt``: ``skrl_jax.agents.skrl_checkpoints``)."""
        from skrl_jax.agents.skrl_checkpoints import checkpoint_format, load_skrl_checkpoint

        if Path(path).is_file() and checkpoint_format(path) != "skrl_jax":
            report = load_skrl_checkpoint(self, path)
            for model, pairs in report.mapping.items():
                print(f"{path} -> models[{model!r}]:\n" + "\n".join(f"  {ours} <- {theirs}" for ours, theirs in pairs))
            return
        state, meta = self.checkpointer.load(path, self.checkpoint_state())
        self.state, self.key = state["state"], state["key"]
        self.updates = int(meta.get("updates", 0))
        self.timestep = self.resume_timestep = int(meta.get("timestep", 0))

    def write_checkpoint(self, timestep: int, timesteps: int) -> Path:
        """``checkpoints/agent_<timestep>.ckpt`` in the experiment directory, and ``best_agent.ckpt``
        when the mean return of the last episodes is the best so far (as skrl)."""
        meta = {"timestep": self.timestep, "updates": self.updates}
        tree = self.checkpoint_state()
        return self.checkpointer.write(timestep, tree, meta, self.logger.mean_episode_return, self.parameter_keys())
