"""skrl's YAML runner: models, memory, agent and trainer from one configuration, as ``skrl.utils.runner``.

    from skrl_jax.envs import wrap_env
    from skrl_jax.utils.runner import Runner

    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync"))
    cfg = Runner.load_cfg_from_yaml("skrl_ppo_cfg.yaml")
    runner = Runner(env, cfg)
    runner.run("train")  # or "eval"

Where it differs from skrl's JAX runner:

- ``models: separate: False`` builds one shared model (the same instance under both keys), whose
  layers are computed once per step and per minibatch; skrl's JAX runner forces ``separate: True``.
- Models are built from the network specification directly (``skrl_jax.utils.network_spec``);
  nothing is generated as source code nor ``eval``-ed.
- A configuration is read as skrl 1.4's or 2.x's (``skrl_api``): 2.x's when it reads the
  ``OBSERVATIONS`` token or has a 2.x-only agent key (``gae_lambda``, ``observation_preprocessor``,
  ...). In 1.4, ``STATES`` are the observations; in 2.x, the environment's privileged state.
- ``trainer: class: CompiledTrainer`` trains on a pure-JAX environment (``wrap_env(gymnax_env)``)
  inside ``jax.jit``.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import importlib
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from skrl_jax import config as library_config
from skrl_jax.envs import JaxEnv, wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models.base import SKRL_APIS
from skrl_jax.resources.noises import GaussianNoise, OrnsteinUhlenbeckNoise
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import (
    COMPILED_TRAINER_DEFAULT_CONFIG,
    SEQUENTIAL_TRAINER_DEFAULT_CONFIG,
    CompiledTrainer,
    SequentialTrainer,
)
from skrl_jax.utils.network_spec import build_models, warn_user

# agent class (lower case) -> (module, class, skrl 1.4's default configuration)
AGENTS = {
    "ppo": ("skrl_jax.agents.ppo", "PPO", "PPO_DEFAULT_CONFIG"),
    "a2c": ("skrl_jax.agents.a2c", "A2C", "A2C_DEFAULT_CONFIG"),
    "rpo": ("skrl_jax.agents.rpo", "RPO", "RPO_DEFAULT_CONFIG"),
    "sac": ("skrl_jax.agents.sac", "SAC", "SAC_DEFAULT_CONFIG"),
    "td3": ("skrl_jax.agents.td3", "TD3", "TD3_DEFAULT_CONFIG"),
    "ddpg": ("skrl_jax.agents.ddpg", "DDPG", "DDPG_DEFAULT_CONFIG"),
    "dqn": ("skrl_jax.agents.dqn", "DQN", "DQN_DEFAULT_CONFIG"),
    "ddqn": ("skrl_jax.agents.ddqn", "DDQN", "DDQN_DEFAULT_CONFIG"),
}
ON_POLICY = ("ppo", "a2c", "rpo")
TRAINERS = {"sequentialtrainer": SequentialTrainer, "compiledtrainer": CompiledTrainer}
TRAINER_DEFAULTS = {
    SequentialTrainer: SEQUENTIAL_TRAINER_DEFAULT_CONFIG,
    CompiledTrainer: COMPILED_TRAINER_DEFAULT_CONFIG,
}
# agent keys whose value names a class (skrl's runner evaluates exactly these)
CLASS_KEYS = {
    "learning_rate_scheduler": {"KLAdaptiveLR": KLAdaptiveLR},
    "state_preprocessor": {"RunningStandardScaler": RunningStandardScaler},
    "observation_preprocessor": {"RunningStandardScaler": RunningStandardScaler},
    "value_preprocessor": {"RunningStandardScaler": RunningStandardScaler},
    "noise": {"GaussianNoise": GaussianNoise, "OrnsteinUhlenbeckNoise": OrnsteinUhlenbeckNoise},
    "exploration_noise": {"GaussianNoise": GaussianNoise, "OrnsteinUhlenbeckNoise": OrnsteinUhlenbeckNoise},
    "smooth_regularization_noise": {"GaussianNoise": GaussianNoise, "OrnsteinUhlenbeckNoise": OrnsteinUhlenbeckNoise},
}
# what marks a configuration as skrl 2.x's: these agent keys, and these tokens in a network
AGENT_KEYS_2X = (
    "gae_lambda",
    "observation_preprocessor",
    "observation_preprocessor_kwargs",
    "exploration_noise",
    "exploration_noise_kwargs",
    "exploration_scheduler",
)
TOKENS_2X = ("OBSERVATIONS", "NUM_OBSERVATIONS", "NUM_STATES")


def _tokens(value: Any) -> set[str]:
    """The upper-case words of a models section's strings (network inputs, layers, outputs)."""
    if isinstance(value, Mapping):
        return set().union(*(_tokens(item) for item in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_tokens(item) for item in value)) if value else set()
    if isinstance(value, str):
        words = "".join(c if c.isalnum() or c == "_" else " " for c in value.replace("Shape.", "")).split()
        return {word for word in words if word.isupper()}
    return set()


def detect_skrl_api(cfg: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``("2.x", reasons)`` when the configuration reads a 2.x token or has a 2.x-only agent key,
    ``("1.4", [])`` otherwise."""
    reasons = [f"the token {token}" for token in TOKENS_2X if token in _tokens(cfg.get("models") or {})]
    agent = cfg.get("agent") if isinstance(cfg.get("agent"), Mapping) else {}
    reasons += [f"the agent key {key!r}" for key in AGENT_KEYS_2X if key in agent]
    return ("2.x" if reasons else "1.4"), reasons


_SCHEDULER_FUNCTIONS = {
    "max": max,
    "min": min,
    "abs": abs,
    **{name: getattr(math, name) for name in ("exp", "log", "sqrt", "cos", "sin", "tanh", "floor", "ceil")},
}
_SCHEDULER_OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


def scheduler_from_expression(source: str | float) -> Callable[[int, int], float]:
    """skrl 2.x's YAML ``exploration_scheduler``, an expression in ``timestep`` and ``timesteps``
    (``max(1 - timestep / timesteps, 1e-2)``), as ``scheduler(timestep, timesteps)``.

    skrl ``eval``-s it; here it is parsed and interpreted: numbers, ``timestep``, ``timesteps``,
    ``+ - * / // % **`` and the functions ``max min abs`` and ``math``'s ``exp log sqrt cos sin
    tanh floor ceil`` (written ``exp(...)`` or ``math.exp(...)``).
    """
    where = "Runner: agent.exploration_scheduler"
    text = str(source).strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"{where}: {text!r} is not a valid expression ({error.msg})") from None
    known = ", ".join(_SCHEDULER_FUNCTIONS)

    def function_name(node: ast.AST) -> str:
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "math":
            name = node.attr
        else:
            name = node.id if isinstance(node, ast.Name) else ast.unparse(node)
        if name not in _SCHEDULER_FUNCTIONS:
            raise ValueError(f"{where}: unknown function {ast.unparse(node)!r} in {text!r}; known: {known}")
        return name

    def interpret(node: ast.AST, names: Mapping[str, float]) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _SCHEDULER_OPERATORS:
            return _SCHEDULER_OPERATORS[type(node.op)](interpret(node.left, names), interpret(node.right, names))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _SCHEDULER_OPERATORS:
            return _SCHEDULER_OPERATORS[type(node.op)](interpret(node.operand, names))
        if isinstance(node, ast.Call) and not node.keywords:
            function = _SCHEDULER_FUNCTIONS[function_name(node.func)]
            return function(*(interpret(argument, names) for argument in node.args))
        raise ValueError(
            f"{where}: {ast.unparse(node)!r} is not supported in {text!r} (supported: numbers, timestep, timesteps, "
            f"+ - * / // % **, and the functions {known})"
        )

    def check(node: ast.AST) -> None:  # refuse bad syntax now, not at the first step
        for child in ast.walk(node):
            if isinstance(child, ast.Call):
                function_name(child.func)
            elif isinstance(child, ast.Name) and child.id not in ("timestep", "timesteps", "math"):
                if not any(isinstance(call, ast.Call) and call.func is child for call in ast.walk(node)):
                    raise ValueError(f"{where}: unknown name {child.id!r} in {text!r}; it reads timestep and timesteps")

    check(tree)

    def scheduler(timestep: int, timesteps: int) -> float:
        return interpret(tree.body, {"timestep": timestep, "timesteps": timesteps})

    return scheduler


def _rewards_shaper(scale: float) -> Callable[..., Any]:
    def rewards_shaper(rewards: Any, *args: Any, **kwargs: Any) -> Any:
        return rewards * scale

    return rewards_shaper


def _resolve_classes(cfg: dict[str, Any], where: str) -> dict[str, Any]:
    """Class names as classes (``CLASS_KEYS``) and ``*_kwargs: null`` as ``{}``, in nested dicts too."""
    for key, value in list(cfg.items()):
        if isinstance(value, dict):
            cfg[key] = _resolve_classes(value, f"{where}.{key}")
        elif key in CLASS_KEYS and isinstance(value, str):
            known = CLASS_KEYS[key]
            if value not in known:
                raise ValueError(f"{where}.{key}: unknown class {value!r}; expected one of {', '.join(known)} or null")
            cfg[key] = known[value]
        elif key.endswith("_kwargs") and value is None:
            cfg[key] = {}
    return cfg


class Runner:
    """Build the models, memory, agent and trainer that a skrl runner configuration describes.

    Reads, from ``cfg``:

    - ``seed``: ``skrl_jax.config.set_seed(seed)`` (None: a random seed), before anything is built;
    - ``models``: ``separate`` and one entry per role (``class``: a mixin name, the mixin's arguments,
      ``network``, ``output``; see ``skrl_jax.utils.network_spec``);
    - ``memory``: ``class: RandomMemory``, ``memory_size`` (-1: the agent's ``rollouts``) and the
      memory's other arguments; the number of environments is the environment's (``env.num_envs``),
      or the CompiledTrainer's ``num_envs``;
    - ``agent``: ``class`` (PPO, A2C, RPO, SAC, TD3, DDPG, DQN, DDQN) and its configuration keys,
      with ``KLAdaptiveLR``, ``RunningStandardScaler``, ``GaussianNoise`` and ``OrnsteinUhlenbeckNoise``
      by name, the preprocessors' ``size`` from the environment's spaces, ``rewards_shaper_scale``;
    - ``trainer``: ``class`` (SequentialTrainer, or CompiledTrainer for a pure-JAX environment) and
      its keys; a key the trainer does not have is dropped with a warning.

    Args:
        env: a wrapped environment (``wrap_env`` is applied when it is not).
        cfg: the configuration (e.g. ``Runner.load_cfg_from_yaml(path)``); it is not modified.
        skrl_api: ``"1.4"`` or ``"2.x"`` to read ``cfg`` as that version's (a 2.x token or key in a
            configuration read as 1.4 is an error); None: found from ``cfg`` (``detect_skrl_api``).
    """

    def __init__(self, env: Any, cfg: Mapping[str, Any], *, skrl_api: str | None = None) -> None:
        if not isinstance(cfg, Mapping):
            raise TypeError(
                f"Runner: cfg must be a dict (e.g. Runner.load_cfg_from_yaml(path)), got {type(cfg).__name__}"
            )
        self._env = wrap_env(env)
        self._cfg = copy.deepcopy(dict(cfg))
        for section in ("models", "agent"):
            if not isinstance(self._cfg.get(section), Mapping):
                got = "it is missing" if section not in self._cfg else f"got {self._cfg[section]!r}"
                raise ValueError(f"Runner: the configuration needs a {section!r} section (a mapping); {got}")
        detected, reasons = detect_skrl_api(self._cfg)
        if skrl_api is None:
            skrl_api = detected
        elif skrl_api not in SKRL_APIS:
            raise ValueError(f"Runner: skrl_api must be one of {SKRL_APIS} or None, got {skrl_api!r}")
        elif skrl_api == "1.4" and reasons:
            raise ValueError(
                f"Runner: the configuration is read as skrl 1.4's (skrl_api='1.4') but has skrl 2.x's "
                f"{', '.join(reasons)}; use 1.4's names (STATES for the observations, lambda, state_preprocessor), "
                "or skrl_api='2.x' / None"
            )
        self.skrl_api = skrl_api
        library_config.set_seed(self._cfg.get("seed"))

        self._agent_name, self._agent_class, self._default_config = self._agent_class_of(self._cfg["agent"])
        self._trainer_class = self._trainer_class_of(self._cfg.get("trainer"))
        self._models = self._generate_models()
        self._memory = self._generate_memory()
        self._agent = self._generate_agent()
        self._trainer = self._generate_trainer()

    # --- skrl's API ---------------------------------------------------------------------------------

    @property
    def agent(self) -> Any:
        """The agent instance."""
        return self._agent

    @property
    def trainer(self) -> SequentialTrainer | CompiledTrainer:
        """The trainer instance."""
        return self._trainer

    @property
    def models(self) -> dict[str, Any]:
        """The models by role (a shared model is the same instance under both of its keys)."""
        return self._models

    @property
    def env(self) -> Any:
        """The wrapped environment."""
        return self._env

    @staticmethod
    def load_cfg_from_yaml(path: str) -> dict:
        """Read a runner configuration from a YAML file (``yaml.safe_load``).

        Unlike skrl's (which logs the error and returns ``{}``), a missing file raises
        ``FileNotFoundError`` and a file that is not a YAML mapping raises ``ValueError``.
        """
        with open(path) as file:
            try:
                cfg = yaml.safe_load(file)
            except yaml.YAMLError as error:
                raise ValueError(f"Runner.load_cfg_from_yaml: {path} is not valid YAML: {error}") from None
        if not isinstance(cfg, dict):
            raise ValueError(f"Runner.load_cfg_from_yaml: {path} must hold a mapping (seed, models, ...), got {cfg!r}")
        return cfg

    def run(self, mode: str = "train") -> Any:
        """Train (``"train"``) or evaluate (``"eval"``).

        With the SequentialTrainer this is ``trainer.train()`` / ``trainer.eval()``. With the
        CompiledTrainer, ``"train"`` returns ``trainer.train()``'s ``(runner state, metrics)`` and
        ``"eval"`` the returns of ``trainer.num_envs`` greedy episodes of the agent's current state.
        """
        if mode not in ("train", "eval"):
            raise ValueError(f"Runner.run: unknown mode {mode!r}; expected 'train' or 'eval'")
        if isinstance(self._trainer, CompiledTrainer):
            if mode == "train":
                return self._trainer.train()
            evaluate = self._trainer.make_evaluate(num_episodes=self._trainer.num_envs)
            if self._agent.state is None:
                raise RuntimeError("Runner.run('eval'): the agent has no state yet; run('train') or load a checkpoint")
            import jax

            return jax.jit(evaluate)(self._agent.state, library_config.default_key(3))
        return self._trainer.train() if mode == "train" else self._trainer.eval()

    # --- building ------------------------------------------------------------------------------------

    def _agent_class_of(self, agent_cfg: Mapping[str, Any]) -> tuple[str, type, dict]:
        name = agent_cfg.get("class")
        if not name:
            raise ValueError(f"Runner: the 'agent.class' field is missing; expected one of {self._agent_names()}")
        key = str(name).lower()
        if key not in AGENTS:
            raise ValueError(
                f"Runner: unknown agent class {name!r} in agent.class; expected one of {self._agent_names()}"
            )
        module_name, class_name, defaults_name = AGENTS[key]
        module = importlib.import_module(module_name)
        agent_class = getattr(module, class_name)
        return key, agent_class, getattr(module, defaults_name)

    @staticmethod
    def _agent_names() -> str:
        return ", ".join(class_name for _, class_name, _ in AGENTS.values())

    def _trainer_class_of(self, trainer_cfg: Any) -> type:
        if trainer_cfg is None:
            if self.skrl_api == "2.x":
                raise ValueError("Runner: the configuration needs a 'trainer' section (class, timesteps, ...)")
            warn_user("Runner: no 'trainer' section; a SequentialTrainer with its defaults is used (as skrl 1.4)")
            trainer_cfg = {}
        if not isinstance(trainer_cfg, Mapping):
            raise ValueError(f"Runner: the 'trainer' section must be a mapping, got {trainer_cfg!r}")
        name = trainer_cfg.get("class")
        if not name:
            if self.skrl_api == "2.x":
                raise ValueError(
                    "Runner: the 'trainer.class' field is missing; expected SequentialTrainer or CompiledTrainer"
                )
            name = "SequentialTrainer"
        trainer_class = TRAINERS.get(str(name).lower())
        if trainer_class is None:
            raise ValueError(
                f"Runner: unknown trainer class {name!r} in trainer.class; expected SequentialTrainer or CompiledTrainer"
            )
        pure = isinstance(self._env, JaxEnv)
        if trainer_class is SequentialTrainer and pure:
            raise ValueError(
                f"Runner: trainer.class is SequentialTrainer, which steps a gymnasium environment, but the environment "
                f"is a pure-JAX one ({type(self._env).__name__}); set trainer.class to CompiledTrainer"
            )
        if trainer_class is CompiledTrainer and not pure:
            raise ValueError(
                f"Runner: trainer.class is CompiledTrainer, which needs a pure-JAX environment (wrap_env(gymnax_env)), "
                f"but the environment is {type(self._env).__name__}; set trainer.class to SequentialTrainer"
            )
        return trainer_class

    def _num_envs(self) -> int:
        if isinstance(self._env, JaxEnv):
            trainer_cfg = self._cfg.get("trainer") or {}
            return int(trainer_cfg.get("num_envs", COMPILED_TRAINER_DEFAULT_CONFIG["num_envs"]))
        return int(getattr(self._env, "num_envs", 1))

    def _generate_models(self) -> dict[str, Any]:
        env = self._env
        state_space = getattr(env, "state_space", None)
        models_cfg = self._cfg["models"]
        if "separate" not in models_cfg:
            warn_user("Runner: models.separate is not given; True (one model per role) is used, as in skrl")
        return build_models(models_cfg, env.observation_space, env.action_space, self.skrl_api, state_space)

    def _generate_memory(self) -> RandomMemory:
        memory_cfg = self._cfg.get("memory")
        if memory_cfg is None:
            if self.skrl_api == "2.x":
                raise ValueError(
                    "Runner: the configuration needs a 'memory' section (class: RandomMemory, memory_size)"
                )
            warn_user("Runner: no 'memory' section; a RandomMemory of the agent's rollouts is used (as skrl 1.4)")
            memory_cfg = {"class": "RandomMemory", "memory_size": -1}
        if not isinstance(memory_cfg, Mapping):
            raise ValueError(f"Runner: the 'memory' section must be a mapping, got {memory_cfg!r}")
        memory_cfg = dict(memory_cfg)
        name = memory_cfg.pop("class", "RandomMemory")
        if str(name).lower() != "randommemory":
            raise ValueError(f"Runner: unknown memory class {name!r} in memory.class; expected RandomMemory")
        if "memory_size" not in memory_cfg:
            raise ValueError("Runner: the 'memory.memory_size' field is missing (-1: the agent's rollouts)")
        if memory_cfg["memory_size"] < 0:
            rollouts = self._cfg["agent"].get("rollouts", self._default_config.get("rollouts"))
            if rollouts is None:
                raise ValueError(
                    f"Runner: memory.memory_size -1 means the agent's rollouts, but {self._agent_class.__name__} has "
                    "no rollouts; give the replay buffer's size"
                )
            memory_cfg["memory_size"] = rollouts
        memory_cfg = _resolve_classes(memory_cfg, "memory")
        return RandomMemory(num_envs=self._num_envs(), **memory_cfg)

    def _agent_cfg(self) -> dict[str, Any]:
        """The agent's configuration: classes resolved, sizes filled, skrl 2.x's compatibility renames."""
        cfg = {key: value for key, value in self._cfg["agent"].items() if key != "class"}
        if self.skrl_api == "2.x":
            cfg = self._compatible_2x(cfg)
        cfg = _resolve_classes(cfg, "agent")
        if "rewards_shaper_scale" in cfg:
            scale = cfg.pop("rewards_shaper_scale")
            # skrl 1.4 always installs the shaper; 2.x only for a scale other than 1
            if scale is not None and (self.skrl_api == "1.4" or float(scale) != 1.0):
                cfg["rewards_shaper"] = _rewards_shaper(float(scale))
        observations = "observation_preprocessor" if self.skrl_api == "2.x" else "state_preprocessor"
        sizes = {observations: self._env.observation_space, "value_preprocessor": 1}
        if self.skrl_api == "2.x":
            sizes["state_preprocessor"] = getattr(self._env, "state_space", None)
        for key, size in sizes.items():
            if cfg.get(key) is not None:
                cfg[f"{key}_kwargs"] = {"size": size, **(cfg.get(f"{key}_kwargs") or {})}
        self._instantiate_noises(cfg)
        return cfg

    def _compatible_2x(self, cfg: dict[str, Any]) -> dict[str, Any]:
        """skrl 2.x's runner's renames of 1.4 keys (with a warning each), and 2.0's PPO / A2C / RPO keys
        that 2.1 removed (``random_timesteps``, ``learning_starts``) dropped when they are 0."""
        if "lambda" in cfg:
            if "gae_lambda" in cfg:
                raise ValueError("Runner: agent has both 'lambda' (skrl 1.4) and 'gae_lambda' (2.x); keep gae_lambda")
            warn_user("Runner: agent.lambda is skrl 1.4's name; read as gae_lambda")
            cfg["gae_lambda"] = cfg.pop("lambda")
        if "clip_predicted_values" in cfg:
            warn_user(
                "Runner: agent.clip_predicted_values is skrl 1.4's; skrl 2.x clips the values when value_clip > 0"
            )
            clip = cfg.pop("clip_predicted_values")
            cfg["value_clip"] = cfg.get("value_clip", 0.2) if clip else 0.0
        if "state_preprocessor" in cfg and "observation_preprocessor" not in cfg:
            warn_user(
                "Runner: agent.state_preprocessor is skrl 1.4's name for the observations'; read as observation_preprocessor"
            )
            cfg["observation_preprocessor"] = cfg.pop("state_preprocessor")
            cfg["observation_preprocessor_kwargs"] = cfg.pop("state_preprocessor_kwargs", None)
        if self._agent_name in ON_POLICY:
            fields = {field.name for field in dataclasses.fields(self._agent_class.config_class)}
            for key in ("random_timesteps", "learning_starts"):
                if key in cfg and key not in fields:
                    if cfg[key]:
                        raise ValueError(
                            f"Runner: agent.{key}={cfg[key]} is not a skrl 2.1 {self._agent_class.__name__} key (2.0 had "
                            "it); use skrl 1.4's configuration for it"
                        )
                    warn_user(f"Runner: agent.{key}: 0 dropped (skrl 2.1's {self._agent_class.__name__} has no {key})")
                    del cfg[key]
        return cfg

    def _instantiate_noises(self, cfg: dict[str, Any]) -> None:
        """skrl 1.4: exploration noises as skrl's runner makes them, the class with its ``*_kwargs``.
        skrl 2.x: the configuration takes the classes and kwargs; ``exploration_scheduler`` is an
        expression in ``timestep`` and ``timesteps`` (see ``scheduler_from_expression``)."""
        if self.skrl_api == "2.x":
            if isinstance(cfg.get("exploration_scheduler"), (str, int, float)):
                cfg["exploration_scheduler"] = scheduler_from_expression(cfg["exploration_scheduler"])
            return
        exploration = cfg.get("exploration")
        if isinstance(exploration, dict) and isinstance(exploration.get("noise"), type):
            exploration["noise"] = exploration["noise"](**(exploration.pop("noise_kwargs", None) or {}))
        elif isinstance(exploration, dict):
            exploration.pop("noise_kwargs", None)
        for key in ("smooth_regularization_noise", "exploration_noise"):
            kwargs = cfg.pop(f"{key}_kwargs", None) or {}
            if isinstance(cfg.get(key), type):
                cfg[key] = cfg[key](**kwargs)

    def _generate_agent(self) -> Any:
        env = self._env
        kwargs = {
            "models": self._models,
            "memory": self._memory,
            "observation_space": env.observation_space,
            "action_space": env.action_space,
            "cfg": self._agent_cfg(),
        }
        if self.skrl_api == "2.x":
            kwargs["state_space"] = getattr(env, "state_space", None)
        return self._agent_class(**kwargs)

    def _generate_trainer(self) -> SequentialTrainer | CompiledTrainer:
        trainer_cfg = dict(self._cfg.get("trainer") or {})
        trainer_cfg.pop("class", None)
        defaults = TRAINER_DEFAULTS[self._trainer_class]
        for key in [key for key in trainer_cfg if key not in defaults]:
            warn_user(
                f"Runner: trainer.{key} is not a {self._trainer_class.__name__} key and is dropped (its keys: "
                f"{', '.join(defaults)})"
            )
            del trainer_cfg[key]
        return self._trainer_class(self._env, self._agent, cfg=trainer_cfg)


__all__ = ["Runner", "detect_skrl_api"]
