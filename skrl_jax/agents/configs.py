"""skrl 2.x's dataclass configurations beside 1.4's dicts, and the one place that maps between them.

Inside, every agent reads a dict with skrl 1.4's keys (``PPO_DEFAULT_CONFIG``'s). An agent built
the 2.x way (a ``PPO_CFG``, ``state_space=``, or 2.x models) takes 2.x's configuration (a
``PPO_CFG`` or a dict of its keys, with 2.x's defaults) and this module translates it:

========================================  ======================================================
skrl 1.4 (dict)                           skrl 2.x (``*_CFG``)
========================================  ======================================================
``lambda``                                ``gae_lambda``
``state_preprocessor`` (observations)     ``observation_preprocessor``
(none)                                    ``state_preprocessor`` (the privileged state)
``clip_predicted_values`` + ``value_clip``  ``value_clip`` (clipping when > 0)
``value_loss_scale`` = 1.0                ``value_loss_scale`` = 2.5
``random_timesteps``, ``learning_starts``   (gone from PPO, A2C, RPO)
``learning_rate``                         ``learning_rate``: a float or (policy, value)
SAC's ``actor_`` / ``critic_`` /            SAC's ``learning_rate``: a float or (actor, critic,
``entropy_learning_rate``                   entropy); TD3's, DDPG's: a float or (actor, critic)
``exploration``: ``noise`` (an instance),   ``exploration_noise`` (a class) and its ``_kwargs``;
``initial_scale``, ``final_scale``,         ``exploration_scheduler(timestep, timesteps)``: the
``timesteps`` (DDPG, TD3)                   noise's scale (1 without one), for the whole run
``exploration``: ``initial_epsilon``,       ``exploration_scheduler(timestep, timesteps)``: epsilon
``final_epsilon``, ``timesteps`` (DQN)      (greedy actions without one)
``smooth_regularization_noise``            ``smooth_regularization_noise`` (a class) and its
(an instance, TD3)                          ``_kwargs``
========================================  ======================================================

Each 2.x configuration class translates itself (``internal``). They all derive from ``StrictCfg``:
a misspelt field, assigned or given to the constructor, is an error that names the closest field.

Where 1.4 and 2.x differ in meaning, the dict the agents read holds an explicit key, which each
API's defaults set: ``bootstrap_at_truncation`` (the off-policy agents; 1.4: False, a target stops
at ``terminated | truncated``; 2.x: True, it stops at ``terminated`` only).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Collection, Mapping
from typing import Any, ClassVar, Literal

# skrl 1.4's name -> 2.x's
RENAMED_IN_2X = {
    "lambda": "gae_lambda",
    "state_preprocessor": "observation_preprocessor",
    "state_preprocessor_kwargs": "observation_preprocessor_kwargs",
}
# the off-policy agents' rates are one key in 2.x
RENAMED_IN_2X.update(
    {
        "actor_learning_rate": "learning_rate (its first entry: (actor, critic[, entropy]))",
        "critic_learning_rate": "learning_rate (its second entry: (actor, critic[, entropy]))",
        "entropy_learning_rate": "learning_rate (its third entry: (actor, critic, entropy))",
    }
)
GONE_IN_2X = {
    "clip_predicted_values": "skrl 2.x clips the predicted values whenever value_clip > 0",
    "random_timesteps": "skrl 2.x's on-policy agents have no random_timesteps",
    "learning_starts": "skrl 2.x's on-policy agents have no learning_starts",
    "exploration": (
        "skrl 2.x's DDPG and TD3 take exploration_noise (a noise class), exploration_noise_kwargs and "
        "exploration_scheduler(timestep, timesteps) -> the noise's scale; its DQN and DDQN take "
        "exploration_scheduler(timestep, timesteps) -> epsilon"
    ),
}
# 2.x's name -> 1.4's (the inside names); of these, a 1.4-style call refuses all but state_preprocessor
RENAMED_BACK = {new: old for old, new in RENAMED_IN_2X.items()}
# keys only skrl 2.x has, named in the error a 1.4-style call gives
ONLY_IN_2X = {
    "exploration_noise": "cfg['exploration']['noise'] (a noise instance)",
    "exploration_noise_kwargs": "cfg['exploration']['noise'] (a noise instance)",
    "exploration_scheduler": "cfg['exploration'] (initial_scale, final_scale / initial_epsilon, final_epsilon, timesteps)",
    "smooth_regularization_noise_kwargs": "cfg['smooth_regularization_noise'] (a noise instance)",
}
# keys a 2.x agent's internal dict may hold beside 1.4's: 2.x semantics with no 1.4 key
INTERNAL_2X_KEYS = ("exploration_scheduler", "privileged_preprocessor", "privileged_preprocessor_kwargs")


def unknown_field_message(cls: type, name: str) -> str:
    """``"<cls> has no field <name>"`` with the closest field (``difflib``), or the fields; an agent
    configuration names a 1.4 key's 2.x counterpart."""
    if issubclass(cls, AgentCfg) and name in RENAMED_IN_2X:
        return f"{cls.__name__} has no field {name!r}; skrl 1.4's {name!r} is {RENAMED_IN_2X[name]!r} in skrl 2.x"
    if issubclass(cls, AgentCfg) and name in GONE_IN_2X:
        return f"{cls.__name__} has no field {name!r}: it is skrl 1.4's ({GONE_IN_2X[name]})"
    known = [field.name for field in dataclasses.fields(cls)]
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"its fields are {sorted(known)}"
    return f"{cls.__name__} has no field {name!r}; {hint}"


class StrictCfg:
    """The base of the 2.x configuration dataclasses: only their fields can be set.

    ``cfg.gae_lamda = 0.9`` is an ``AttributeError`` and ``PPO_CFG(gae_lamda=0.9)`` a ``TypeError``,
    each naming the closest field (``unknown_field_message``); a dataclass deriving from it needs
    nothing else (``SequentialTrainerCfg`` may too)."""

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if dataclasses.is_dataclass(cls):
            fields = {field.name for field in dataclasses.fields(cls) if field.init}
            for name in kwargs:
                if name not in fields:
                    raise TypeError(unknown_field_message(cls, name))
        return super().__new__(cls)

    def __setattr__(self, name: str, value: Any) -> None:
        if dataclasses.is_dataclass(self) and name not in {field.name for field in dataclasses.fields(self)}:
            raise AttributeError(unknown_field_message(type(self), name))
        super().__setattr__(name, value)


@dataclasses.dataclass(kw_only=True)
class ExperimentCfg(StrictCfg):
    """skrl 2.x's experiment settings (skrl 1.4's ``cfg["experiment"]`` dict)."""

    directory: str = ""
    experiment_name: str = ""
    write_interval: int | Literal["auto"] = "auto"
    checkpoint_interval: int | Literal["auto"] = "auto"
    store_separately: bool = False
    wandb: bool = False
    wandb_kwargs: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(kw_only=True)
class AgentCfg(StrictCfg):
    """Base of the agents' 2.x configurations."""

    experiment: ExperimentCfg = dataclasses.field(default_factory=ExperimentCfg)

    def expand(self) -> None:
        """skrl's hook, called by the agent: a dict ``experiment`` becomes an ``ExperimentCfg``."""
        if isinstance(self.experiment, Mapping):
            self.experiment = make_cfg(ExperimentCfg, self.experiment, "experiment")

    def validate(self) -> bool:
        return True


@dataclasses.dataclass(kw_only=True)
class _OnPolicyCfg(AgentCfg):
    def internal(self, owner: str, shared: bool) -> dict[str, Any]:
        """The 1.4-shaped dict the agent reads (see ``internal_config``)."""
        return internal_config(self, owner, shared)

    rollouts: int = 16
    mini_batches: int = 2
    discount_factor: float = 0.99
    gae_lambda: float = 0.95
    learning_rate: float | tuple[float, float] = 1e-3
    learning_rate_scheduler: Any = None
    learning_rate_scheduler_kwargs: dict | tuple[dict, dict] = dataclasses.field(default_factory=dict)
    observation_preprocessor: Any = None
    observation_preprocessor_kwargs: dict = dataclasses.field(default_factory=dict)
    state_preprocessor: Any = None
    state_preprocessor_kwargs: dict = dataclasses.field(default_factory=dict)
    value_preprocessor: Any = None
    value_preprocessor_kwargs: dict = dataclasses.field(default_factory=dict)
    grad_norm_clip: float = 0.5
    entropy_loss_scale: float = 0.0
    time_limit_bootstrap: bool = False
    rewards_shaper: Callable | None = None
    # not skrl keys (docs/agents/*.md document them): as in the 1.4 dicts
    mixed_precision: bool = False
    shuffle_minibatches: bool = True
    recompute_advantages: bool = False
    state_preprocessor_update: str = "minibatch"
    role_learning_rate_scale: dict | None = None
    trunk_value_loss_scale: float | None = None
    sharing_diagnostics: bool = False


@dataclasses.dataclass(kw_only=True)
class PPO_CFG(_OnPolicyCfg):  # noqa: N801 (skrl's name)
    """skrl 2.x's PPO configuration (skrl 2.1.1's fields and defaults, and this library's own keys)."""

    learning_epochs: int = 8
    ratio_clip: float = 0.2
    value_clip: float = 0.2
    value_loss_scale: float = 2.5
    kl_threshold: float = 0.0


@dataclasses.dataclass(kw_only=True)
class RPO_CFG(PPO_CFG):  # noqa: N801 (skrl's name)
    """skrl 2.x's RPO configuration."""

    alpha: float = 0.5


@dataclasses.dataclass(kw_only=True)
class A2C_CFG(_OnPolicyCfg):  # noqa: N801 (skrl's name)
    """skrl 2.x's A2C configuration."""

    mini_batches: int = 1


@dataclasses.dataclass(kw_only=True)
class _ReplayCfg(AgentCfg):
    """The fields skrl 2.x's off-policy configurations have in common (skrl 2.1.1's defaults)."""

    gradient_steps: int = 1
    batch_size: int = 64
    discount_factor: float = 0.99
    polyak: float = 0.005
    learning_rate_scheduler: Any = None
    learning_rate_scheduler_kwargs: dict | tuple = dataclasses.field(default_factory=dict)
    observation_preprocessor: Any = None
    observation_preprocessor_kwargs: dict = dataclasses.field(default_factory=dict)
    state_preprocessor: Any = None
    state_preprocessor_kwargs: dict = dataclasses.field(default_factory=dict)
    random_timesteps: int = 0
    learning_starts: int = 0
    rewards_shaper: Callable | None = None
    # not a skrl key (2.x's semantics made explicit; the 1.4 dicts default it to False): a target
    # stops at terminated only, a truncated episode's bootstraps from its last observation
    bootstrap_at_truncation: bool = True
    # the networks of 1.4's <network>_learning_rate keys, in the order of 2.x's learning_rate tuple
    rate_networks: ClassVar[tuple[str, ...]] = ()

    def internal(self, owner: str, shared: bool) -> dict[str, Any]:
        values = _common_internal(self, owner)
        if self.rate_networks:
            values.update(_rates(values.pop("learning_rate"), self.rate_networks, owner))
        for key in ("learning_rate_scheduler", "learning_rate_scheduler_kwargs"):
            values[key] = _one_of_tuple(values[key], key, owner)
        return values


@dataclasses.dataclass(kw_only=True)
class SAC_CFG(_ReplayCfg):  # noqa: N801 (skrl's name)
    """skrl 2.x's SAC configuration (skrl 2.1.1's fields and defaults, and this library's own keys).

    ``learning_rate`` is one rate or the ``(actor, critic, entropy)`` triple (1.4's
    ``actor_learning_rate``, ``critic_learning_rate``, ``entropy_learning_rate``)."""

    learning_rate: float | tuple[float, float, float] = 1e-3
    grad_norm_clip: float = 0
    learn_entropy: bool = True
    initial_entropy_value: float = 0.2
    target_entropy: float | None = None
    # not skrl keys (docs/agents/*.md document them): as in SAC_DEFAULT_CONFIG
    actor_gradient_to_encoder: bool = False
    sharing_diagnostics: bool = False

    rate_networks: ClassVar[tuple[str, ...]] = ("actor", "critic", "entropy")


@dataclasses.dataclass(kw_only=True)
class DDPG_CFG(_ReplayCfg):  # noqa: N801 (skrl's name)
    """skrl 2.x's DDPG configuration (skrl 2.1.1's fields and defaults).

    ``learning_rate`` is one rate or the ``(actor, critic)`` pair. ``exploration_noise`` is a noise
    class built with ``exploration_noise_kwargs``; ``exploration_scheduler(timestep, timesteps)``
    scales its samples (see ``skrl_jax.agents.off_policy.schedule``), and without one the noise is
    added unscaled for the whole run (1.4 decays it from ``initial_scale`` to ``final_scale``)."""

    learning_rate: float | tuple[float, float] = 1e-3
    grad_norm_clip: float = 0
    exploration_noise: Any = None
    exploration_noise_kwargs: dict = dataclasses.field(default_factory=dict)
    exploration_scheduler: Callable[[int, int], float] | None = None

    rate_networks: ClassVar[tuple[str, ...]] = ("actor", "critic")

    def internal(self, owner: str, shared: bool) -> dict[str, Any]:
        values = super().internal(owner, shared)
        noise = _noise(
            values.pop("exploration_noise"), values.pop("exploration_noise_kwargs"), "exploration_noise", owner
        )
        # the scale comes from exploration_scheduler (kept: its presence marks 2.x's exploration)
        values["exploration"] = {"noise": noise, "initial_scale": 1.0, "final_scale": 1.0, "timesteps": None}
        return values


@dataclasses.dataclass(kw_only=True)
class TD3_CFG(DDPG_CFG):  # noqa: N801 (skrl's name)
    """skrl 2.x's TD3 configuration: DDPG's, with the delayed policy and the smoothing noise (a class
    built with ``smooth_regularization_noise_kwargs``)."""

    policy_delay: int = 2
    smooth_regularization_noise: Any = None
    smooth_regularization_noise_kwargs: dict = dataclasses.field(default_factory=dict)
    smooth_regularization_clip: float = 0.5

    def internal(self, owner: str, shared: bool) -> dict[str, Any]:
        values = super().internal(owner, shared)
        values["smooth_regularization_noise"] = _noise(
            values["smooth_regularization_noise"],
            values.pop("smooth_regularization_noise_kwargs"),
            "smooth_regularization_noise",
            owner,
        )
        return values


@dataclasses.dataclass(kw_only=True)
class DQN_CFG(_ReplayCfg):  # noqa: N801 (skrl's name)
    """skrl 2.x's DQN configuration (skrl 2.1.1's fields and defaults).

    ``exploration_scheduler(timestep, timesteps)`` gives epsilon; without one the actions are
    greedy (and ``random_timesteps`` is not used, as skrl 2.x)."""

    learning_rate: float = 1e-3
    update_interval: int = 1
    target_update_interval: int = 10
    exploration_scheduler: Callable[[int, int], float] | None = None


@dataclasses.dataclass(kw_only=True)
class DDQN_CFG(DQN_CFG):  # noqa: N801 (skrl's name)
    """skrl 2.x's DDQN configuration (DQN's fields)."""


def _rates(value: Any, networks: tuple[str, ...], owner: str) -> dict[str, Any]:
    """skrl 2.x's ``learning_rate`` (one rate, or one per network) as 1.4's ``<network>_learning_rate`` keys."""
    rates = tuple(value) if isinstance(value, (tuple, list)) else (value,) * len(networks)
    if len(rates) != len(networks):
        raise ValueError(f"{owner}: cfg learning_rate must be one rate or ({', '.join(networks)}), got {value!r}")
    return {f"{network}_learning_rate": rate for network, rate in zip(networks, rates)}


def _noise(noise_class: Any, kwargs: Mapping[str, Any], what: str, owner: str) -> Any:
    """skrl 2.x's noise class and its keyword arguments as the noise instance 1.4's cfg holds."""
    if noise_class is None:
        return None
    if not isinstance(noise_class, type):
        raise TypeError(
            f"{owner}: cfg {what} is a noise class in skrl 2.x (built with {what}_kwargs), got "
            f"{noise_class!r}: e.g. {what}=GaussianNoise, {what}_kwargs={{'mean': 0.0, 'std': 0.1}}"
        )
    try:
        return noise_class(**kwargs)
    except TypeError as error:
        raise TypeError(f"{owner}: cfg {what}={noise_class.__name__} with {what}_kwargs={kwargs!r}: {error}") from None


def _common_internal(cfg: Any, owner: str) -> dict[str, Any]:
    """The fields of a 2.x configuration under their 1.4 names, the experiment as a dict; 2.x's
    ``state_preprocessor`` (the privileged states') as ``privileged_preprocessor``."""
    values = {field.name: getattr(cfg, field.name) for field in dataclasses.fields(cfg)}
    experiment = values.pop("experiment")
    experiment = dataclasses.asdict(experiment) if dataclasses.is_dataclass(experiment) else dict(experiment)
    privileged = values.pop("state_preprocessor", None), values.pop("state_preprocessor_kwargs", None) or {}
    internal = {RENAMED_BACK.get(key, key): value for key, value in values.items()}
    if privileged[0] is not None:
        internal["privileged_preprocessor"], internal["privileged_preprocessor_kwargs"] = privileged
    internal["experiment"] = experiment
    return internal


def _one_of_tuple(value: Any, what: str, owner: str) -> Any:
    """skrl 2.x's per-network tuple (its expand() makes one from a single entry) with equal entries, as one."""
    if not isinstance(value, (tuple, list)):
        return value
    if all(entry is None or entry == value[0] for entry in value):
        return value[0]
    raise NotImplementedError(
        f"{owner}: cfg {what}={value!r} gives the networks different ones; here one is used for all, so give one"
    )


def make_cfg(cls: type, values: Mapping[str, Any], owner: str) -> Any:
    """``cls(**values)``, with an error naming a 1.4 key's 2.x name, or the closest known key."""
    known = [field.name for field in dataclasses.fields(cls)]
    for key in values:
        if key in known:
            continue
        if key in RENAMED_IN_2X:
            raise KeyError(f"{owner}: cfg key {key!r} is {RENAMED_IN_2X[key]!r} in skrl 2.x ({cls.__name__})")
        if key in GONE_IN_2X:
            raise KeyError(f"{owner}: cfg key {key!r} is skrl 1.4's: {GONE_IN_2X[key]} ({cls.__name__})")
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {sorted(known)}"
        raise KeyError(f"unknown {owner} cfg key {key!r} ({cls.__name__}){hint}")
    cfg = cls(**values)
    if hasattr(cfg, "expand"):
        cfg.expand()
    return cfg


def check_no_2x_keys(cfg: Mapping[str, Any], owner: str, why: str, known: Collection[str] = ()) -> None:
    """A dict given to an agent built the skrl 1.4 way must not hold a key only 2.x has (``known``: the
    agent's 1.4 keys, which pass)."""
    for key in cfg:
        if key in ONLY_IN_2X and key not in known:
            raise KeyError(
                f"{owner}: cfg key {key!r} is skrl 2.x's; skrl 1.4's is {ONLY_IN_2X[key]}, and this {owner} is "
                f"built the skrl 1.4 way ({why}): use it, or build the agent the 2.x way (its *_CFG, or state_space=)"
            )
        if key in RENAMED_BACK:
            raise KeyError(
                f"{owner}: cfg key {key!r} is skrl 2.x's name for 1.4's {RENAMED_BACK[key]!r}, but this {owner} is "
                f"built the skrl 1.4 way ({why}): use {RENAMED_BACK[key]!r}, or build it the 2.x way (a 2.x cfg such "
                f"as PPO_CFG, state_space=..., or models built with state_space=)"
            )


def _one_of_pair(value: Any, what: str, owner: str) -> Any:
    """A (policy, value) pair of equal entries as one; skrl 2.x's expand() turns one into such a pair."""
    if not isinstance(value, (tuple, list)):
        return value
    if len(value) != 2:
        raise ValueError(f"{owner}: cfg {what} must be one value or a (policy, value) pair, got {value!r}")
    if value[1] is None or value[0] == value[1]:
        return value[0]
    raise NotImplementedError(
        f"{owner}: cfg {what}={value!r} gives the policy and the value different ones; here one optimizer "
        f"trains both (as skrl's PyTorch backend), so give one {what}"
    )


def internal_config(cfg: Any, owner: str, shared: bool) -> dict[str, Any]:
    """The 1.4-shaped dict an agent reads, from a 2.x configuration object.

    A ``learning_rate`` pair ``(policy, value)`` of separate models becomes ``learning_rate =
    policy`` and a value learning-rate scale of ``value / policy`` (one optimizer); a shared
    model's trunk has no single owner, so it takes one learning rate.
    """
    values = {field.name: getattr(cfg, field.name) for field in dataclasses.fields(cfg)}
    internal = _common_internal(cfg, owner)
    if "value_clip" in values:
        internal["clip_predicted_values"] = float(values["value_clip"]) > 0
    learning_rate = values.get("learning_rate")
    if isinstance(learning_rate, (tuple, list)) and len(learning_rate) == 2 and learning_rate[0] != learning_rate[1]:
        policy_rate, value_rate = (float(rate) for rate in learning_rate)
        if shared or policy_rate <= 0:
            raise ValueError(
                f"{owner}: cfg learning_rate={tuple(learning_rate)} gives the policy and the value different rates, "
                + (
                    "but they are one shared model trained by one optimizer: give one learning_rate, and steer the "
                    "heads with role_learning_rate_scale={'policy': ..., 'value': ...}"
                    if shared
                    else "with a policy rate of 0"
                )
            )
        scales = dict(internal.get("role_learning_rate_scale") or {})
        scales["value"] = scales.get("value", 1.0) * value_rate / policy_rate
        internal["role_learning_rate_scale"] = scales
        internal["learning_rate"] = policy_rate
    else:
        internal["learning_rate"] = _one_of_pair(learning_rate, "learning_rate", owner)
    for key in ("learning_rate_scheduler", "learning_rate_scheduler_kwargs"):
        if key in internal:
            internal[key] = _one_of_pair(internal[key], key, owner)
    return internal
