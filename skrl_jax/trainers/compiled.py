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

import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import tqdm

from skrl_jax.agents.base import merge_config
from skrl_jax.agents.on_policy.agent import TRACKED_METRICS, OnPolicyAgent
from skrl_jax.agents.on_policy.update import Rollout, TrainState, init_train_state, make_act, make_update
from skrl_jax.envs.jax_env import JaxEnv
from skrl_jax.utils.spaces import compute_space_size

# the metrics written to TensorBoard after each chunk, under skrl's tags
CHUNK_TAGS = {
    "episode_return": "Reward / Total reward (mean)",
    "episode_length": "Episode / Total timesteps (mean)",
    **TRACKED_METRICS,
}

COMPILED_TRAINER_DEFAULT_CONFIG = {
    "timesteps": 100_000,
    "num_envs": 4,
    "updates_per_chunk": None,
    "disable_progressbar": False,
}


class RunnerState(NamedTuple):
    """Everything that changes across updates; a pytree (``vmap`` it for seeds)."""

    train_state: TrainState
    env_state: Any
    observations: jax.Array
    key: jax.Array


def _check_env(env: Any, agent: OnPolicyAgent) -> None:
    if not isinstance(env, JaxEnv):
        raise TypeError(
            f"CompiledTrainer needs a pure-JAX environment (skrl_jax.envs.JaxEnv, e.g. wrap_env(gymnax_env)), got {type(env).__name__}"
        )
    model_size = agent.policy.observation_size
    env_size = compute_space_size(env.observation_space, occupied_size=True)
    if env_size != model_size:
        raise ValueError(
            f"the environment's observations have {env_size} values ({env.observation_space}) but the models were "
            f"built for {model_size} ({agent.policy.observation_space})"
        )
    policy_space, env_space = agent.policy.action_space, env.action_space
    same = type(policy_space) is type(env_space)
    if same and isinstance(env_space, gymnasium.spaces.Discrete):
        same = int(policy_space.n) == int(env_space.n)
    elif same:
        same = compute_space_size(policy_space) == compute_space_size(env_space)
    if not same:
        raise ValueError(
            f"the policy acts in {policy_space} but the environment takes {env_space}: its actions would fall outside "
            "the environment's action space"
        )


def greedy_actions(model: Any, outputs: Mapping[str, jax.Array]) -> jax.Array:
    """The most likely action: ``mean_actions`` (Gaussian), else the argmax of each branch's logits."""
    if "mean_actions" in outputs:
        return outputs["mean_actions"]
    net_output = outputs["net_output"]
    space = model.action_space
    if isinstance(space, gymnasium.spaces.MultiDiscrete):
        branches = jnp.split(net_output, np.cumsum(space.nvec.reshape(-1))[:-1].tolist(), axis=-1)
        return jnp.stack([jnp.argmax(branch, axis=-1) for branch in branches], axis=-1).astype(jnp.int32)
    return jnp.argmax(net_output, axis=-1, keepdims=True).astype(jnp.int32)


class CompiledTrainer:
    """Train an on-policy agent (PPO, A2C, RPO) on a ``JaxEnv`` inside ``jax.jit``.

    cfg keys: ``timesteps`` (steps of the vectorised environment), ``num_envs``,
    ``updates_per_chunk`` (updates per compiled call of ``train``; by default about a
    twentieth of the run, so the progress bar moves) and ``disable_progressbar``.
    """

    def __init__(self, env: JaxEnv, agents: OnPolicyAgent | list[OnPolicyAgent], cfg: Mapping[str, Any] | None = None):
        self.cfg = merge_config(COMPILED_TRAINER_DEFAULT_CONFIG, cfg, "CompiledTrainer")
        agent = agents[0] if isinstance(agents, (list, tuple)) else agents
        if not isinstance(agent, OnPolicyAgent):
            raise TypeError(f"CompiledTrainer trains PPO, A2C or RPO agents, got {type(agent).__name__}")
        _check_env(env, agent)
        if agent.cfg.get("random_timesteps") or agent.cfg.get("learning_starts"):
            raise NotImplementedError(
                "CompiledTrainer does not support random_timesteps or learning_starts; use SequentialTrainer"
            )
        self.env = env
        self.agents = agent
        self.num_envs = int(self.cfg["num_envs"])
        self.rollouts = agent._rollouts
        batch = self.rollouts * self.num_envs
        if batch % agent.update_config.mini_batches:
            raise ValueError(
                f"a rollout of {self.rollouts} steps x {self.num_envs} environments = {batch} samples does not divide "
                f"into mini_batches={agent.update_config.mini_batches}"
            )
        self.num_updates = int(self.cfg["timesteps"]) // self.rollouts
        if self.num_updates < 1:
            raise ValueError(f"timesteps={self.cfg['timesteps']} is less than one rollout ({self.rollouts} steps)")
        requested = self.cfg["updates_per_chunk"] or max(1, self.num_updates // 20)
        self.updates_per_chunk = max(
            d for d in range(1, min(requested, self.num_updates) + 1) if self.num_updates % d == 0
        )
        self._act = make_act(agent.actor_critic, agent.update_config)
        self._update = make_update(agent.actor_critic, agent.update_config, agent.loss_function)
        self._run_chunk = jax.jit(lambda runner: self.run_updates(runner, self.updates_per_chunk))
        agent.init(trainer_cfg={"timesteps": int(self.cfg["timesteps"])})

    # --- pure functions ---------------------------------------------------------------------

    def init(self, key: jax.Array) -> RunnerState:
        """Fresh parameters, optimizer state and environments, all from ``key`` (pure)."""
        agent = self.agents
        params_key, env_key, run_key = jax.random.split(key, 3)
        extra = {} if agent.update_config.alpha is None else {"alpha": agent.update_config.alpha}
        policy_key, value_key = jax.random.split(params_key)
        params = {"policy": agent.policy.init(policy_key, extra)}
        if not agent.shared:
            params["value"] = agent.value.init(value_key, extra)
        train_state = init_train_state(agent.actor_critic, agent.update_config, params)
        observations, env_state = jax.vmap(self.env.reset)(jax.random.split(env_key, self.num_envs))
        return RunnerState(train_state, env_state, observations, run_key)

    def run_updates(self, runner: RunnerState, num_updates: int) -> tuple[RunnerState, dict[str, jax.Array]]:
        """``num_updates`` rollouts + updates as one ``lax.scan`` (pure); metrics have a leading ``num_updates`` axis."""
        agent = self.agents
        config = agent.update_config
        bootstrap = agent._time_limit_bootstrap
        shaper = agent._rewards_shaper
        timesteps = int(self.cfg["timesteps"])

        def environment_step(carry, _):
            train_state, env_state, observations, key, timestep = carry
            key, act_key, env_key = jax.random.split(key, 3)
            step = self._act(train_state, observations, act_key)
            next_observations, env_state, rewards, terminated, truncated, info = jax.vmap(self.env.step)(
                jax.random.split(env_key, self.num_envs), env_state, step.actions
            )
            rewards, terminated, truncated = rewards[:, None], terminated[:, None], truncated[:, None]
            if shaper is not None:
                rewards = shaper(rewards, timestep, timesteps)
            if bootstrap:
                rewards = rewards + config.discount_factor * step.values * truncated
            transition = (
                observations,
                step.actions.astype(jnp.float32),
                rewards,
                terminated,
                truncated,
                step.log_prob,
                step.values,
            )
            episodes = (info["episode_done"], info["episode_return"], info["episode_length"])
            return (train_state, env_state, next_observations, key, timestep + 1), (transition, episodes)

        def update_step(runner: RunnerState, _):
            key, rollout_key, update_key = jax.random.split(runner.key, 3)
            timestep = runner.train_state.updates * self.rollouts
            carry = (runner.train_state, runner.env_state, runner.observations, rollout_key, timestep)
            (train_state, env_state, observations, _, _), (transitions, episodes) = jax.lax.scan(
                environment_step, carry, None, length=self.rollouts
            )
            rollout = Rollout(*transitions, next_states=observations)
            train_state, metrics = self._update(train_state, rollout, update_key)
            done, returns, lengths = episodes
            count = done.sum()
            metrics = dict(
                metrics,
                episode_return=jnp.where(count > 0, (returns * done).sum() / jnp.maximum(count, 1), jnp.nan),
                episode_length=jnp.where(count > 0, (lengths * done).sum() / jnp.maximum(count, 1), jnp.nan),
                episodes=count,
                params_finite=jnp.all(
                    jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(train_state.params)])
                ),
            )
            return RunnerState(train_state, env_state, observations, key), metrics

        return jax.lax.scan(update_step, runner, None, length=num_updates)

    def make_train(self):
        """``train(key) -> (RunnerState, metrics)``: the whole run, pure; ``jax.jit`` / ``jax.vmap`` it."""

        def train(key: jax.Array) -> tuple[RunnerState, dict[str, jax.Array]]:
            return self.run_updates(self.init(key), self.num_updates)

        return train

    def make_evaluate(self, num_episodes: int = 10, max_steps: int = 1000):
        """``evaluate(train_state, key) -> returns (num_episodes,)`` of the greedy policy (pure)."""
        policy = self.agents.policy

        def evaluate(train_state: TrainState, key: jax.Array) -> jax.Array:
            reset_key, run_key = jax.random.split(key)
            observations, env_state = jax.vmap(self.env.reset)(jax.random.split(reset_key, num_episodes))

            def step(carry, key):
                observations, env_state, returns, running = carry
                act_key, env_key = jax.random.split(key)
                outputs = self._act(train_state, observations, act_key).outputs
                actions = greedy_actions(policy, outputs)
                observations, env_state, rewards, terminated, truncated, _ = jax.vmap(self.env.step)(
                    jax.random.split(env_key, num_episodes), env_state, actions
                )
                returns = returns + jnp.where(running, rewards, 0.0)
                return (observations, env_state, returns, running & ~(terminated | truncated)), None

            carry = (observations, env_state, jnp.zeros(num_episodes), jnp.ones(num_episodes, bool))
            (_, _, returns, _), _ = jax.lax.scan(step, carry, jax.random.split(run_key, max_steps))
            return returns

        return evaluate

    # --- the host loop over compiled chunks --------------------------------------------------

    def train(
        self, key: jax.Array | None = None, runner: RunnerState | None = None
    ) -> tuple[RunnerState, dict[str, np.ndarray]]:
        """Run the whole training in compiled chunks of ``updates_per_chunk`` updates.

        Between chunks the host shows progress, checks for NaN, writes TensorBoard data (skrl's
        tags) and checkpoints (``checkpoints/runner_<timestep>.ckpt`` at the agent's
        ``checkpoint_interval``); Ctrl-C writes a checkpoint of the last finished chunk and is
        raised again. Pass ``runner`` (e.g. from ``load``) to continue a run from a chunk
        boundary. The final parameters are stored on the agent's models. Returns the final
        state and the metrics of the updates run.
        """
        from skrl_jax import config as library_config

        if runner is None:
            runner = jax.jit(self.init)(library_config.default_key(2) if key is None else key)
        done = int(runner.train_state.updates)
        if done % self.updates_per_chunk:
            raise ValueError(f"a run can continue only from a chunk boundary; this state has {done} updates")
        chunks = []
        env_steps_per_update = self.rollouts * self.num_envs
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
                    runner, metrics = self._run_chunk(runner)
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
                self.agents.close_writer()
        self._store(runner.train_state)
        if not chunks:
            return runner, {}
        return runner, {name: np.concatenate([chunk[name] for chunk in chunks]) for name in chunks[0]}

    def _checkpoint_path(self, runner: RunnerState):
        timestep = int(runner.train_state.updates) * self.rollouts
        return self.agents.experiment_dir / "checkpoints" / f"runner_{timestep}.ckpt"

    def _after_chunk(self, runner: RunnerState, metrics: Mapping[str, np.ndarray], chunk: int) -> None:
        agent = self.agents
        first_update = chunk * self.updates_per_chunk
        if agent.write_interval > 0:
            for index in range(self.updates_per_chunk):
                timestep = (first_update + index + 1) * self.rollouts
                for name, tag in CHUNK_TAGS.items():
                    value = float(metrics[name][index])
                    if np.isfinite(value):
                        agent.add_scalar(tag, value, timestep)
            agent.writer.flush()
        if agent.checkpoint_interval > 0:
            before, after = first_update * self.rollouts, (first_update + self.updates_per_chunk) * self.rollouts
            if after // agent.checkpoint_interval > before // agent.checkpoint_interval:
                self.save(self._checkpoint_path(runner), runner)

    def save(self, path: Any, runner: RunnerState) -> Any:
        """Write ``runner`` (parameters, optimizer, scalers, environments, key) atomically."""
        from skrl_jax.utils.checkpoints import save_checkpoint

        meta = {"agent": type(self.agents).__name__, "updates": int(runner.train_state.updates)}
        return save_checkpoint(path, runner, "compiled-runner", meta)

    def load(self, path: Any) -> RunnerState:
        """A runner state saved by ``save``, checked against this trainer's; ``train(runner=...)`` continues it."""
        from skrl_jax.utils.checkpoints import load_checkpoint

        target = jax.jit(self.init)(jax.random.key(0))
        runner, _ = load_checkpoint(path, target, "compiled-runner")
        return runner

    def _raise_on_nan(self, metrics: Mapping[str, np.ndarray], chunk: int) -> None:
        bad = np.nonzero((metrics["nan_at"] >= 0) | ~metrics["params_finite"])[0]
        if bad.size:
            update = chunk * self.updates_per_chunk + int(bad[0])
            raise FloatingPointError(
                f"CompiledTrainer: NaN/inf in the loss or the parameters at update {update} "
                f"(env step {(update + 1) * self.rollouts * self.num_envs}); training stopped after that chunk"
            )

    def _store(self, train_state: TrainState) -> None:
        agent = self.agents
        agent.train_state = train_state
        agent.policy.params = train_state.params["policy"]
        if not agent.shared:
            agent.value.params = train_state.params["value"]
