"""Physics environments with brax-style states: brax and MuJoCo Playground (MJX), for the ``CompiledTrainer``.

Both step a state that holds the simulator data (``pipeline_state`` in brax, ``data`` in
Playground), ``obs``, ``reward``, ``done`` and an ``info`` dict. brax's ``EpisodeWrapper`` cuts
episodes at ``episode_length`` steps (reported as truncation; an earlier ``done`` is a
termination) and repeats each action ``action_repeat`` times. When an episode ends, the
environment starts the next one in the same step, in one of two ways (``reset=``):

- ``"fresh"`` (default): a new random reset state, as a gymnasium or gymnax environment gives.
  ``step`` under ``vmap`` computes the reset on every step for every environment and selects it
  where an episode ended; ``batch_step`` (what the ``CompiledTrainer`` calls) computes the resets
  only on steps where some episode ended, with the same values.
- ``"cached"``: back to the state the environment started from, as brax's ``AutoResetWrapper``
  and Playground's ``wrap_for_brax_training`` do by default. Only the simulator data, the
  observation and the step counter are reset (the rest of ``info``, e.g. a task's key, runs on).
  No reset is computed after the first, but every episode of one environment starts from the
  same state: the start states vary across the parallel environments, not over time.

Actions are in [-1, 1] (the actuators' control range in both libraries).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.core.checkpoints import register_dataclass_nodes
from skrl_jax.core.validation import Choice, check_positive_int
from skrl_jax.envs.jax_env import EpisodeState, JaxEnv

RESET_MODES = ("fresh", "cached")
CPU_PHYSICS = "jax"  # the MJX implementation load_playground_env picks: the fastest on CPU (playground_physics.py)


class ResetState(NamedTuple):
    """The wrapped environment's state and, with ``reset="cached"``, the one its episodes restart from."""

    current: Any
    first: Any


def _simulator_field(state: Any) -> str:
    return "data" if hasattr(state, "data") else "pipeline_state"


class PhysicsEnv(JaxEnv):
    """An environment whose ``reset(key)`` / ``step(state, action)`` return brax-style states,
    cut into episodes by brax's ``EpisodeWrapper`` and restarted as ``reset`` says."""

    def __init__(self, env: Any, episode_length: int, action_repeat: int, reset: str, what: str) -> None:
        from brax.envs.wrappers.training import EpisodeWrapper

        Choice(RESET_MODES).check(reset, f"{what}: reset")
        self.episode_length = check_positive_int(episode_length, f"{what}: episode_length")
        self.action_repeat = check_positive_int(action_repeat, f"{what}: action_repeat")
        self.reset_mode = reset
        self.env = EpisodeWrapper(env, episode_length=self.episode_length, action_repeat=self.action_repeat)
        self.num_envs = 1
        register_dataclass_nodes(jax.eval_shape(self.env.reset, jax.random.key(0)))  # so runs can be checkpointed

    def reset_env(self, key: jax.Array) -> tuple[jax.Array, ResetState]:
        state = self.env.reset(key)
        return state.obs, ResetState(state, state if self.reset_mode == "cached" else None)

    def _advance(self, state: ResetState, action: Any) -> tuple:
        """One step with no restart: ``(stepped, done, truncated)``."""
        stepped = self.env.step(state.current, jnp.reshape(action, self.action_space.shape))
        return stepped, stepped.done > 0, stepped.info["truncation"] > 0

    def _restart(self, key: jax.Array, state: ResetState, stepped: Any) -> Any:
        """The state the next episode starts from."""
        if self.reset_mode == "fresh":
            return self.env.reset(key)
        field = _simulator_field(stepped)
        info = dict(stepped.info, steps=jnp.zeros_like(stepped.info["steps"]))
        return stepped.replace(**{field: getattr(state.first, field)}, obs=state.first.obs, info=info)

    def step_env(self, key: jax.Array, state: ResetState, action: Any) -> tuple:
        stepped, done, truncated = self._advance(state, action)
        restart = self._restart(key, state, stepped)
        current = jax.tree.map(lambda reset, step: jnp.where(done, reset, step), restart, stepped)
        info = {"final_observation": stepped.obs}
        return current.obs, ResetState(current, state.first), stepped.reward, done & ~truncated, truncated, info

    def batch_step(self, keys: jax.Array, states: EpisodeState, actions: jax.Array) -> tuple:
        """With ``reset="fresh"``: every environment steps, then, only if an episode ended somewhere
        in the batch, fresh resets are computed and taken where one did (a ``lax.cond`` outside the
        ``vmap``, so it really skips; under a ``vmap`` over seeds it computes both branches again).
        The same values as ``vmap(step)``, without a reset per environment per step."""
        if self.reset_mode != "fresh":
            return super().batch_step(keys, states, actions)

        def advance(key, state, action):
            stepped, done, truncated = self._advance(state.env_state, action)
            outputs = (stepped.obs, ResetState(stepped, None), stepped.reward, done & ~truncated, truncated, {})
            return self._count_episodes(state, outputs)

        observations, states, rewards, terminated, truncated, info = jax.vmap(advance)(keys, states, actions)
        done = terminated | truncated

        def restart(observations, states):
            fresh_observations, fresh = jax.vmap(self.reset)(keys)
            where = lambda new, old: jnp.where(jnp.reshape(done, done.shape + (1,) * (old.ndim - 1)), new, old)  # noqa: E731
            env_state = jax.tree.map(where, fresh.env_state, states.env_state)
            return where(fresh_observations, observations), states._replace(env_state=env_state)

        observations, states = jax.lax.cond(jnp.any(done), restart, lambda *both: both, observations, states)
        return observations, states, rewards, terminated, truncated, info


def _box(size: int, bound: float) -> gymnasium.spaces.Box:
    limit = np.full((size,), bound, np.float32)
    return gymnasium.spaces.Box(-limit, limit, dtype=np.float32)


class BraxWrapper(PhysicsEnv):
    """A brax environment (optional extra: ``pip install "skrl_jax[brax]"``)."""

    def __init__(self, env: Any, episode_length: int = 1000, action_repeat: int = 1, reset: str = "fresh") -> None:
        super().__init__(env, episode_length, action_repeat, reset, "BraxWrapper")
        self.observation_space = _box(env.observation_size, np.inf)
        self.action_space = _box(env.action_size, 1.0)


class PlaygroundWrapper(PhysicsEnv):
    """A MuJoCo Playground environment (optional extra: ``pip install "skrl_jax[playground]"``), as
    ``mujoco_playground.registry.load`` (or ``load_playground_env``) returns it, not batched.

    ``episode_length`` and ``action_repeat`` default to the task's config. A task whose
    observation is a dict (the locomotion tasks' ``"state"`` / ``"privileged_state"``) is read at
    ``observation_key``.
    """

    def __init__(
        self,
        env: Any,
        episode_length: int | None = None,
        action_repeat: int | None = None,
        reset: str = "fresh",
        observation_key: str = "state",
    ) -> None:
        check_unbatched_playground_env(env)
        config = getattr(env, "_config", None)
        episode_length = episode_length if episode_length is not None else int(getattr(config, "episode_length", 1000))
        action_repeat = action_repeat if action_repeat is not None else int(getattr(config, "action_repeat", 1))
        size = env.observation_size
        self.observation_key = None
        if isinstance(size, Mapping):
            if observation_key not in size:
                raise ValueError(
                    f"PlaygroundWrapper: {type(env).__name__} observes a dict with keys {sorted(size)}; "
                    f"observation_key={observation_key!r} is not one of them"
                )
            self.observation_key, size = observation_key, int(np.prod(size[observation_key]))
        super().__init__(env, episode_length, action_repeat, reset, "PlaygroundWrapper")
        self.observation_space = _box(int(size), np.inf)
        self.action_space = _box(env.action_size, 1.0)

    def _observation(self, observation: Any) -> jax.Array:
        if self.observation_key is not None and isinstance(observation, Mapping):
            observation = observation[self.observation_key]
        return super()._observation(observation)


def is_brax_env(env: Any) -> bool:
    return any(cls.__module__.startswith("brax.") for cls in type(env).__mro__)


def is_playground_env(env: Any) -> bool:
    return any(cls.__module__.startswith("mujoco_playground.") for cls in type(env).__mro__)


def check_unbatched_playground_env(env: Any) -> None:
    """Playground's own training wrappers batch and reset the environment; ours vmap the bare one."""
    if not is_playground_env(env):
        raise TypeError(f"PlaygroundWrapper expects a mujoco_playground environment, got {type(env).__name__}")
    from mujoco_playground import wrapper

    if isinstance(env, wrapper.Wrapper):
        raise TypeError(
            f"PlaygroundWrapper: got a {type(env).__name__} (from Playground's wrap_for_brax_training), which batches "
            "and auto-resets the environment itself; pass the environment registry.load(task) returns: the "
            "CompiledTrainer vmaps it and PlaygroundWrapper(reset=...) restarts its episodes"
        )


def load_playground_env(
    task: str,
    impl: str | None = None,
    reset: str = "fresh",
    episode_length: int | None = None,
    action_repeat: int | None = None,
    config_overrides: dict | None = None,
) -> PlaygroundWrapper:
    """``mujoco_playground.registry.load(task)`` with the physics implementation ``impl``
    (``"jax"``: MJX written in JAX, the default on CPU; ``"warp"``: MuJoCo Warp, built for NVIDIA
    GPUs and Playground's own default, which ``impl=None`` leaves to Playground when JAX's default
    backend is not the CPU; see docs/environments.md for the measured choice), wrapped for the ``CompiledTrainer``.

    Tasks whose robots come from MuJoCo Menagerie (locomotion, manipulation) are refused with
    what to install when Menagerie is not there: this function downloads nothing.
    """
    try:
        from mujoco_playground import dm_control_suite, registry
        from mujoco_playground._src import mjx_env  # where Playground keeps Menagerie: no public name
    except ImportError as error:
        raise ImportError(
            f'load_playground_env({task!r}) needs MuJoCo Playground: pip install "skrl_jax[playground]"'
        ) from error
    if task not in registry.ALL_ENVS:
        raise ValueError(
            f"load_playground_env: unknown task {task!r}; MuJoCo Playground has {', '.join(sorted(registry.ALL_ENVS))}"
        )
    if task not in dm_control_suite.ALL_ENVS and not mjx_env.MENAGERIE_PATH.exists():
        raise FileNotFoundError(
            f"load_playground_env({task!r}): the task's robot comes from MuJoCo Menagerie, which is not installed at "
            f"{mjx_env.MENAGERIE_PATH} (Playground would git-clone it at run time; skrl_jax does not). Install it "
            f"with: git clone https://github.com/google-deepmind/mujoco_menagerie {mjx_env.MENAGERIE_PATH} && "
            f"git -C {mjx_env.MENAGERIE_PATH} checkout {mjx_env.MENAGERIE_COMMIT_SHA}. The DM Control suite tasks "
            "need nothing more: " + ", ".join(dm_control_suite.ALL_ENVS)
        )
    if impl is None and jax.default_backend() != "cpu":
        overrides = dict(config_overrides or {})  # on an accelerator, Playground's own default
    else:
        overrides = {"impl": impl or CPU_PHYSICS, **(config_overrides or {})}
    env = registry.load(task, config_overrides=overrides)
    return PlaygroundWrapper(env, episode_length=episode_length, action_repeat=action_repeat, reset=reset)
