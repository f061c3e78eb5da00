"""CompiledTrainer: the whole training run as one jit-compiled program over a pure-JAX environment.

    trainer = CompiledTrainer(env, agent, cfg={"timesteps": 125_000, "num_envs": 4})
    runner, metrics = trainer.train(jax.random.key(0))      # compiled chunks, progress bar
    train = trainer.make_train()                            # pure: key -> (runner, metrics)
    runners, metrics = jax.jit(jax.vmap(train))(keys)       # one call, many seeds

Rollouts are a ``lax.scan`` over steps of ``vmap``-ed environments; each update is the agent's
own pure update function (the one its host loop calls). ``timesteps`` counts steps of the
vectorised environment, as skrl's trainers do: the run sees ``timesteps * num_envs`` env steps.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import tqdm
from jax.sharding import NamedSharding, PartitionSpec

from skrl_jax.agents.base import Agent, merge_config
from skrl_jax.agents.core import AgentState, Transition, finite_tree
from skrl_jax.core.distributed import host_copy, is_writer, place
from skrl_jax.core.validation import check_positive_int
from skrl_jax.envs.jax_env import JaxEnv
from skrl_jax.envs.multi_agent import MultiAgentJaxEnv
from skrl_jax.trainers.checks import check_env_fits_agent
from skrl_jax.trainers.sharding import environment_shardings, make_mesh, resolve_devices

# the episode statistics written to TensorBoard, under skrl's tags (the agent adds its own metrics)
EPISODE_TAGS = {
    "episode_return": "Reward / Total reward (mean)",
    "episode_length": "Episode / Total timesteps (mean)",
}

COMPILED_TRAINER_DEFAULT_CONFIG = {
    "timesteps": 100_000,
    "num_envs": 4,
    "updates_per_chunk": None,
    "disable_progressbar": False,
    "devices": None,
    # skrl's SequentialTrainer keys, accepted so that a script's trainer cfg can be given as it is;
    # a compiled run never renders nor closes a host environment, and its metrics are its info
    "headless": True,
    "render_interval": 1,
    "close_environment_at_exit": True,
    "environment_info": "episode",
    "stochastic_evaluation": False,
}


class RunnerState(NamedTuple):
    """Everything that changes across a run; a pytree (``vmap`` it for seeds)."""

    agent_state: AgentState
    env_state: Any
    observations: jax.Array
    key: jax.Array
    timestep: jax.Array  # steps of the vectorised environment done


def _check_env(env: Any, agent: Agent) -> None:
    if not isinstance(env, JaxEnv):
        raise TypeError(
            f"CompiledTrainer needs a pure-JAX environment (skrl_jax.envs.JaxEnv, e.g. wrap_env(gymnax_env)), got {type(env).__name__}"
        )
    check_env_fits_agent(env, agent)


def parameters(learner: Any) -> Any:
    """The parameters in a learner state (a tuple of learners for a multi-agent agent: theirs)."""
    return jax.tree.map(lambda part: part.params, learner, is_leaf=lambda part: hasattr(part, "params"))


def _skipped_metrics(shapes: Mapping[str, Any]) -> dict[str, jax.Array]:
    """What an update that did not run reports: NaN, and no NaN step (``nan_at`` -1)."""
    return {
        name: jnp.full(
            shape.shape,
            jnp.nan if jnp.issubdtype(shape.dtype, jnp.floating) else -1 if name == "nan_at" else 0,
            shape.dtype,
        )
        for name, shape in shapes.items()
    }


class CompiledTrainer:
    """Train any agent (its ``AgentFunctions``) on a ``JaxEnv`` inside ``jax.jit``.

    cfg keys: ``timesteps`` (steps of the vectorised environment), ``num_envs``,
    ``updates_per_chunk`` (updates per compiled call of ``train``; by default about a
    twentieth of the run, so the progress bar moves), ``disable_progressbar`` and ``devices``
    (None: one device; N or a list of devices: the environments, and every array with an
    environment axis, are split over them, the rest replicated; ``trainers/sharding.py``). An
    "update" here is one iteration: ``update_interval`` environment steps (the agent's rollout,
    or one step off-policy), then the agent's update when it is due.
    """

    def __init__(self, env: JaxEnv, agents: Agent | list[Agent], cfg: Mapping[str, Any] | None = None):
        if dataclasses.is_dataclass(cfg):
            cfg = dataclasses.asdict(cfg)  # skrl 2.x's trainer cfg object
        self.cfg = merge_config(COMPILED_TRAINER_DEFAULT_CONFIG, cfg, "CompiledTrainer")
        agent = agents[0] if isinstance(agents, (list, tuple)) else agents
        if not isinstance(agent, Agent):
            raise TypeError(f"CompiledTrainer trains skrl_jax agents (PPO, A2C, RPO, ...), got {type(agent).__name__}")
        _check_env(env, agent)
        if agent.privileged_size and not isinstance(env, MultiAgentJaxEnv):
            raise NotImplementedError(
                f"CompiledTrainer: {type(agent).__name__} was built with state_space={agent.state_space} (skrl 2.x's "
                "privileged states), which only the SequentialTrainer passes in this version (a pure-JAX environment "
                "has no state()); build it with state_space=None"
            )
        self.env = env
        self.agents = agent
        self.num_envs = check_positive_int(self.cfg["num_envs"], "CompiledTrainer: cfg['num_envs']")
        self.timesteps = check_positive_int(self.cfg["timesteps"], "CompiledTrainer: cfg['timesteps']")
        if self.cfg["updates_per_chunk"] is not None:
            check_positive_int(self.cfg["updates_per_chunk"], "CompiledTrainer: cfg['updates_per_chunk']")
        self.functions = agent.make_functions(self.num_envs, self.timesteps)
        self.update_interval = self.functions.update_interval
        self.num_updates = self.timesteps // self.update_interval
        if self.timesteps % self.update_interval:
            lower, upper = self.num_updates * self.update_interval, (self.num_updates + 1) * self.update_interval
            nearest = f"timesteps={lower} or {upper}" if lower else f"timesteps={upper}"
            message = (
                f"CompiledTrainer: cfg['timesteps']={self.timesteps} is not a multiple of the update length "
                f"({self.update_interval} steps: the agent's rollouts / update_interval)"
            )
            if not lower:
                raise ValueError(f"{message}, and is less than one update; pass {nearest}")
            # a warning, not an error: a budget given in round numbers (125_000 steps) is common
            warnings.warn(
                f"{message}: the run stops after {self.num_updates} updates ({lower} timesteps); pass {nearest} "
                "to say so",
                stacklevel=2,
            )
        requested = self.cfg["updates_per_chunk"] or max(1, self.num_updates // 20)
        self.updates_per_chunk = max(
            d for d in range(1, min(requested, self.num_updates) + 1) if self.num_updates % d == 0
        )
        self.devices = resolve_devices(self.cfg["devices"], self.num_envs)

        def run_chunk(runner: RunnerState) -> tuple[RunnerState, dict[str, jax.Array]]:
            return self.run_updates(runner, self.updates_per_chunk)  # looked up when traced

        if self.devices is None:
            self.mesh = self.runner_shardings = None
            self._compiled_chunk = jax.jit(run_chunk)
            self._compiled_init = jax.jit(self.init)
        else:
            self.mesh = make_mesh(self.devices)
            self.runner_shardings = environment_shardings(self._runner_shapes, self.num_envs, self.mesh)
            replicated = NamedSharding(self.mesh, PartitionSpec())
            self._compiled_chunk = jax.jit(
                run_chunk, in_shardings=(self.runner_shardings,), out_shardings=(self.runner_shardings, replicated)
            )
            self._compiled_init = jax.jit(self.init, out_shardings=self.runner_shardings)
        agent.start_experiment(self.timesteps)  # the logger and the checkpointer; no host state

    @property
    def rollouts(self) -> int:
        """Environment steps per update (the agent's ``update_interval``)."""
        return self.update_interval

    # --- pure functions ---------------------------------------------------------------------

    def init(self, key: jax.Array) -> RunnerState:
        """A fresh agent state and environments, all from ``key`` (pure)."""
        return self._init(self.functions, self.num_envs, key)

    def _init(self, functions: Any, num_envs: int, key: jax.Array) -> RunnerState:
        agent_key, env_key, run_key = jax.random.split(key, 3)
        agent_state = functions.init(agent_key)
        observations, env_state = jax.vmap(self.env.reset)(jax.random.split(env_key, num_envs))
        observations = self.agent_observations(observations, env_state)
        return RunnerState(agent_state, env_state, observations, run_key, jnp.zeros((), jnp.int32))

    def agent_observations(self, observations: Any, env_state: Any) -> Any:
        """What the agent's functions take: the environment's observations, with each agent's global
        state after its observations for a multi-agent agent built with ``state_spaces``."""
        if not self.agents.privileged_size:
            return observations
        return self.agents.with_privileged_states(observations, self.env.states(observations, env_state))

    def _runner_shapes(self, num_envs: int) -> RunnerState:
        functions = (
            self.functions if num_envs == self.num_envs else self.agents.make_functions(num_envs, self.timesteps)
        )
        return jax.eval_shape(functools.partial(self._init, functions, num_envs), jax.random.key(0))

    def run_updates(self, runner: RunnerState, num_updates: int) -> tuple[RunnerState, dict[str, jax.Array]]:
        """``num_updates`` iterations (``update_interval`` env steps + the update) as one ``lax.scan``
        (pure); metrics have a leading ``num_updates`` axis."""
        functions = self.functions

        def environment_step(carry, _):
            agent_state, env_state, observations, key, timestep = carry
            key, act_key, env_key = jax.random.split(key, 3)
            actions, extras = functions.act(agent_state, observations, act_key, timestep)
            next_observations, env_state, rewards, terminated, truncated, info = self.env.batch_step(
                jax.random.split(env_key, self.num_envs), env_state, actions
            )
            column = functools.partial(jax.tree.map, lambda x: x[:, None])  # (num_envs,) -> (num_envs, 1), per agent
            transition = Transition(
                observations,
                actions,
                column(rewards),
                self.agent_observations(info["final_observation"], env_state),
                column(terminated),
                column(truncated),
            )
            next_observations = self.agent_observations(next_observations, env_state)
            agent_state = functions.record(agent_state, transition, extras, timestep)
            episodes = (info["episode_done"], info["episode_return"], info["episode_length"])
            return (agent_state, env_state, next_observations, key, timestep + 1), episodes

        def iteration(runner: RunnerState, _):
            key, rollout_key, update_key = jax.random.split(runner.key, 3)
            carry = (runner.agent_state, runner.env_state, runner.observations, rollout_key, runner.timestep)
            (agent_state, env_state, observations, _, timestep), episodes = jax.lax.scan(
                environment_step, carry, None, length=self.update_interval
            )
            last = timestep - 1
            if functions.learning_starts > 0:
                shapes = jax.eval_shape(functions.update, agent_state, update_key, last)[1]
                agent_state, metrics = jax.lax.cond(
                    functions.update_due(last),
                    functions.update,
                    lambda state, key, step: (state, _skipped_metrics(shapes)),
                    agent_state,
                    update_key,
                    last,
                )
            else:
                agent_state, metrics = functions.update(agent_state, update_key, last)
            done, returns, lengths = episodes
            count = done.sum()
            metrics = dict(
                metrics,
                episode_return=jnp.where(count > 0, (returns * done).sum() / jnp.maximum(count, 1), jnp.nan),
                episode_length=jnp.where(count > 0, (lengths * done).sum() / jnp.maximum(count, 1), jnp.nan),
                episodes=count,
                params_finite=finite_tree(parameters(agent_state.learner)),
            )
            return RunnerState(agent_state, env_state, observations, key, timestep), metrics

        return jax.lax.scan(iteration, runner, None, length=num_updates)

    def run_chunk(self, runner: RunnerState) -> tuple[RunnerState, dict[str, jax.Array]]:
        """One compiled call of ``updates_per_chunk`` updates (compiled once for the whole run)."""
        return self._compiled_chunk(runner)

    def make_train(self):
        """``train(key) -> (RunnerState, metrics)``: the whole run, pure; ``jax.jit`` / ``jax.vmap`` it."""

        def train(key: jax.Array) -> tuple[RunnerState, dict[str, jax.Array]]:
            return self.run_updates(self.init(key), self.num_updates)

        return train

    def make_evaluate(self, num_episodes: int = 10, max_steps: int = 1000):
        """``evaluate(agent_state, key) -> returns (num_episodes,)`` of the greedy policy (pure)."""
        functions = self.functions

        def evaluate(agent_state: AgentState, key: jax.Array) -> jax.Array:
            reset_key, run_key = jax.random.split(key)
            observations, env_state = jax.vmap(self.env.reset)(jax.random.split(reset_key, num_episodes))
            observations = self.agent_observations(observations, env_state)
            # a recurrent agent's episodes start from its initial carry (zero hidden states)
            agent_carry = None if functions.init_carry is None else functions.init_carry(num_episodes)

            def step(carry, key):
                observations, env_state, agent_carry, returns, running = carry
                act_key, env_key = jax.random.split(key)
                state = agent_state if agent_carry is None else agent_state._replace(carry=agent_carry)
                actions, extras = functions.act(state, observations, act_key, jnp.int32(0), deterministic=True)
                observations, env_state, rewards, _, _, info = self.env.batch_step(
                    jax.random.split(env_key, num_episodes), env_state, actions
                )
                observations = self.agent_observations(observations, env_state)
                finished = info["episode_done"]
                agent_carry = functions.next_carry(agent_carry, extras, finished[:, None])
                # a multi-agent environment's reward is summed over its agents (skrl's total reward)
                returns = returns + jnp.where(running, sum(jax.tree.leaves(rewards)), 0.0)
                return (observations, env_state, agent_carry, returns, running & ~finished), None

            carry = (observations, env_state, agent_carry, jnp.zeros(num_episodes), jnp.ones(num_episodes, bool))
            (_, _, _, returns, _), _ = jax.lax.scan(step, carry, jax.random.split(run_key, max_steps))
            return returns

        return evaluate

    # --- the host loop over compiled chunks --------------------------------------------------

    def train(
        self, key: jax.Array | None = None, runner: RunnerState | None = None
    ) -> tuple[RunnerState, dict[str, np.ndarray]]:
        """Run the whole training in compiled chunks of ``updates_per_chunk`` updates.

        Between chunks the host shows progress, checks for NaN, writes TensorBoard data (skrl's
        tags, at the agent's ``write_interval``) and checkpoints (``checkpoints/runner_<timestep>.ckpt``
        at its ``checkpoint_interval``); Ctrl-C writes a checkpoint of the last finished chunk and
        is raised again. Pass ``runner`` (e.g. from ``load``) to continue a run from a chunk
        boundary. The final state becomes the agent's (``agent.state``, which its models read).
        Returns the final state and the metrics of the updates run.
        """
        from skrl_jax import config as library_config

        if runner is None:
            runner = self._compiled_init(library_config.default_key(2) if key is None else key)
        elif self.runner_shardings is not None:
            runner = place(host_copy(runner), self.runner_shardings)
        done = int(runner.timestep) // self.update_interval
        if done % self.updates_per_chunk:
            raise ValueError(f"a run can continue only from a chunk boundary; this state has {done} updates")
        chunks = []
        env_steps_per_update = self.update_interval * self.num_envs
        first_chunk = done // self.updates_per_chunk
        with tqdm.tqdm(
            total=self.num_updates * env_steps_per_update,
            initial=done * env_steps_per_update,
            unit="step",
            file=sys.stdout,
            disable=self.cfg["disable_progressbar"],
        ) as progress:
            try:
                for chunk in range(first_chunk, self.num_updates // self.updates_per_chunk):
                    runner, metrics = self.run_chunk(runner)
                    metrics = jax.device_get(metrics)
                    chunks.append(metrics)
                    self._raise_on_nan(metrics, chunk)
                    self._after_chunk(runner, metrics, chunk)
                    progress.update(self.updates_per_chunk * env_steps_per_update)
                    returns = metrics["episode_return"][np.isfinite(metrics["episode_return"])]
                    if returns.size:
                        progress.set_postfix(mean_return=f"{returns[-1]:.1f}", refresh=False)
            except KeyboardInterrupt:
                path = self._checkpoint_path(runner)
                self.save(path, runner)
                print(f"\ninterrupted: the last finished chunk is saved in {path}", file=sys.stderr)
                raise
            finally:
                self.agents.logger.close_writer()
        self._store(runner)
        if not chunks:
            return runner, {}
        return runner, {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}

    def _checkpoint_path(self, runner: RunnerState):
        return self.agents.experiment_dir / "checkpoints" / f"runner_{int(runner.timestep)}.ckpt"

    def _after_chunk(self, runner: RunnerState, metrics: Mapping[str, np.ndarray], chunk: int) -> None:
        agent = self.agents
        first_update = chunk * self.updates_per_chunk
        if agent.logger.write_interval > 0 and is_writer():
            # at each multiple of write_interval: the mean of each metric over the updates since the last write
            tags = {**EPISODE_TAGS, **self.functions.metric_tags}
            since = 0
            for index in range(self.updates_per_chunk):
                before = (first_update + index) * self.update_interval
                timestep = before + self.update_interval
                if timestep // agent.logger.write_interval == before // agent.logger.write_interval:
                    continue
                for name, tag in tags.items():
                    values = np.asarray(metrics[name][since : index + 1], np.float64)
                    values = values[np.isfinite(values)]
                    if values.size:
                        agent.logger.add_scalar(tag, float(values.mean()), timestep)
                since = index + 1
            agent.logger.writer.flush()
        if agent.checkpointer.interval > 0:
            before = first_update * self.update_interval
            after = (first_update + self.updates_per_chunk) * self.update_interval
            if after // agent.checkpointer.interval > before // agent.checkpointer.interval:
                self.save(self._checkpoint_path(runner), runner)

    def save(self, path: Any, runner: RunnerState) -> Any:
        """Write ``runner`` (agent state, environments, key, timestep) atomically."""
        from skrl_jax.core.checkpoints import save_checkpoint

        runner = host_copy(runner)  # every process takes part; process 0 writes
        meta = {"agent": type(self.agents).__name__, "timestep": int(runner.timestep)}
        return save_checkpoint(path, runner, "compiled-runner", meta) if is_writer() else Path(path)

    def load(self, path: Any) -> RunnerState:
        """A runner state saved by ``save``, checked against this trainer's; ``train(runner=...)`` continues it."""
        from skrl_jax.core.checkpoints import load_checkpoint

        # a whole copy on this host: a run over several processes resumes in any number of them
        target = host_copy(self._compiled_init(jax.random.key(0)))
        runner, _ = load_checkpoint(path, target, "compiled-runner")
        return runner if self.runner_shardings is None else place(runner, self.runner_shardings)

    def _raise_on_nan(self, metrics: Mapping[str, np.ndarray], chunk: int) -> None:
        bad = np.nonzero((metrics["nan_at"] >= 0) | ~metrics["params_finite"])[0]
        if bad.size:
            update = chunk * self.updates_per_chunk + int(bad[0])
            raise FloatingPointError(
                f"CompiledTrainer: NaN/inf in the loss or the parameters at update {update} "
                f"(env step {(update + 1) * self.update_interval * self.num_envs}); training stopped after that chunk"
            )

    def _store(self, runner: RunnerState) -> None:
        timestep = int(runner.timestep)
        self.agents.adopt_run(
            runner.agent_state, self.functions, self.num_envs, timestep, timestep // self.update_interval
        )
