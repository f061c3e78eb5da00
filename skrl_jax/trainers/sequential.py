"""SequentialTrainer: skrl's host training loop with a progress bar."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np
import tqdm

from skrl_jax.agents.base import Agent, merge_config
from skrl_jax.agents.configs import StrictCfg
from skrl_jax.core.validation import check_positive_int
from skrl_jax.envs.jax_env import JaxEnv
from skrl_jax.trainers.checks import check_env_fits_agent

SEQUENTIAL_TRAINER_DEFAULT_CONFIG = {
    "timesteps": 100000,
    "headless": False,
    "render_interval": 1,  # skrl 2.x's
    "disable_progressbar": False,
    "close_environment_at_exit": True,
    "environment_info": "episode",
    "stochastic_evaluation": False,
}


@dataclasses.dataclass(kw_only=True)
class SequentialTrainerCfg(StrictCfg):
    """skrl 2.x's trainer configuration (the same keys as the 1.4 dict, plus ``render_interval``)."""

    timesteps: int = 100000
    headless: bool = False
    render_interval: int = 1
    disable_progressbar: bool | None = False
    close_environment_at_exit: bool = True
    environment_info: str = "episode"
    stochastic_evaluation: bool = False


class SequentialTrainer:
    """Step the environment, let the agent act, record and update (skrl's loop).

    ``headless=False`` renders only environments created with a ``render_mode``.
    """

    def __init__(
        self,
        env: Any,
        agents: Agent | list[Agent],
        agents_scope: list[int] | None = None,
        cfg: Mapping[str, Any] | SequentialTrainerCfg | None = None,
        *,
        scopes: list[int] | None = None,
    ):
        """skrl 1.4's ``(env, agents, agents_scope=None, cfg=None)`` or 2.x's keywords ``(*, env, agents,
        scopes=None, cfg=SequentialTrainerCfg | dict)``."""
        if isinstance(agents_scope, Mapping):
            # skrl's signature is (env, agents, agents_scope=None, cfg=None): a cfg passed third lands here
            raise TypeError(
                f"SequentialTrainer(env, agents, agents_scope=None, cfg=None): agents_scope got a dict "
                f"{agents_scope!r}; pass the trainer's configuration as cfg={agents_scope!r}"
            )
        if agents_scope and scopes:
            raise TypeError("SequentialTrainer: give agents_scope (skrl 1.4) or scopes (skrl 2.x), not both")
        if dataclasses.is_dataclass(cfg):
            cfg = dataclasses.asdict(cfg)
        self.cfg = merge_config(SEQUENTIAL_TRAINER_DEFAULT_CONFIG, cfg, "SequentialTrainer")
        if isinstance(agents, (list, tuple)):
            if len(agents) != 1:
                raise NotImplementedError(f"SequentialTrainer trains one agent in this version, got {len(agents)}")
            agents = agents[0]
        if not isinstance(agents, Agent):
            raise TypeError(f"SequentialTrainer trains skrl_jax agents (PPO, SAC, ...), got {type(agents).__name__}")
        if isinstance(env, JaxEnv):
            raise TypeError(
                f"SequentialTrainer steps host environments (gymnasium) one call at a time; {type(env).__name__} is a "
                "pure-JAX environment (gymnax, brax, MuJoCo Playground, JaxMARL): train it with CompiledTrainer(env, agent, cfg)"
            )
        self.timesteps = check_positive_int(self.cfg["timesteps"], "SequentialTrainer: cfg['timesteps']")
        check_env_fits_agent(env, agents)
        if agents.privileged_size and getattr(env, "state_space", None) is None:
            raise ValueError(
                f"SequentialTrainer: the agent was built with state_space={agents.state_space} (privileged states) but "
                "the environment has no state_space (env.state() is None); build the agent with state_space=None"
            )
        memory, env_envs = agents.memory, getattr(env, "num_envs", None)
        if memory is not None and env_envs is not None and memory.num_envs != env_envs:
            raise ValueError(
                f"SequentialTrainer: the agent's memory was made for num_envs={memory.num_envs} but the environment "
                f"runs {env_envs}: create it as RandomMemory(memory_size, num_envs=env.num_envs)"
            )
        self.env = env
        self.agents = agents
        self.headless = bool(self.cfg["headless"])
        self.disable_progressbar = bool(self.cfg["disable_progressbar"])
        self.agents.init(trainer_cfg=self.cfg)

    def _progress(self, description: str, start: int = 0) -> tqdm.tqdm:
        return tqdm.trange(
            start,
            self.timesteps,
            disable=self.disable_progressbar,
            file=sys.stdout,
            desc=description,
            mininterval=0.5,
        )

    def _track_environment_info(self, infos: Any) -> None:
        """skrl's ``environment_info``: each scalar in ``infos[environment_info]`` is tracked as "Info / <name>"."""
        info = infos.get(self.cfg["environment_info"]) if isinstance(infos, Mapping) else None
        if not isinstance(info, Mapping):
            return
        for name, value in info.items():
            value = np.asarray(value)
            if value.size == 1 and np.issubdtype(value.dtype, np.number):
                self.agents.track_data(f"Info / {name}", float(value.reshape(())))

    def _observed(self, observations: Any) -> Any:
        """What the agent acts on: the observations, with the environment's privileged states
        (``env.state()``) for an agent built with a ``state_space`` (skrl 2.x)."""
        if not self.agents.privileged_size:
            return observations
        return self.agents.with_privileged_states(observations, self.env.state(), "train (env.state())")

    def _episode_over(self) -> bool:
        """A multi-agent host environment (PettingZoo) does not reset itself: its episode is over when
        no agent is left (skrl's trainers reset it then); vector environments reset themselves."""
        return getattr(self.env, "possible_agents", None) is not None and not self.env.agents

    def _render(self) -> None:
        if not self.headless and getattr(self.env, "render_mode", None) is not None:
            self.env.render()

    def train(self) -> None:
        """skrl's loop, from timestep 0, or after ``agent.load(checkpoint)`` from the checkpoint's
        timestep. Ctrl-C (KeyboardInterrupt) writes a last checkpoint, closes the environment
        and is raised again."""
        agent = self.agents
        agent.set_mode("train")
        states = self._observed(self.env.reset()[0])
        timestep, agent.resume_timestep = agent.resume_timestep, 0
        progress = self._progress("train", timestep)
        try:
            for timestep in progress:
                agent.pre_interaction(timestep, self.timesteps)
                actions = agent.act_observations(states, timestep, self.timesteps)[0]
                observations, rewards, terminated, truncated, infos = self.env.step(actions)
                # the transition ends on the episode's last observation where one ended (the wrapper's
                # final_states: the same array as the observations when none did)
                final = infos.get("final_states", observations) if isinstance(infos, Mapping) else observations
                next_states = self._observed(observations)
                final_states = next_states if final is observations else self._observed(final)
                self._render()
                agent.record_observations(
                    states, actions, rewards, final_states, terminated, truncated, infos, timestep, self.timesteps
                )
                self._track_environment_info(infos)
                agent.post_interaction(timestep, self.timesteps)
                states = self._observed(self.env.reset()[0]) if self._episode_over() else next_states
                if not self.disable_progressbar and timestep % 1000 == 0 and agent.episode_returns:
                    # the examples' final figure: the mean return of the last 20 episodes
                    last_20 = float(np.mean(agent.episode_returns[-20:]))
                    progress.set_postfix(return_last_20=f"{last_20:.1f}", refresh=False)
        except KeyboardInterrupt:
            path = agent.write_checkpoint(timestep, self.timesteps)
            print(f"\ninterrupted at timestep {timestep}: checkpoint written to {path}", file=sys.stderr)
            self.env.close()
            raise
        finally:
            progress.close()
            agent.logger.close_writer()
        if self.cfg["close_environment_at_exit"]:
            self.env.close()

    def eval(self) -> None:
        """Act without learning: the greedy action unless ``stochastic_evaluation``.

        skrl takes ``outputs["mean_actions"]`` where the policy has one (Gaussian) and the sampled
        action otherwise; here every agent's greedy action is used (the mean for a Gaussian, the
        most likely action for a Categorical, no exploration noise for TD3 / DDPG, argmax Q for DQN).
        """
        agent = self.agents
        agent.set_mode("eval")
        states = self._observed(self.env.reset()[0])
        greedy = not self.cfg["stochastic_evaluation"]
        for timestep in self._progress("eval"):
            actions = agent.act_observations(states, timestep, self.timesteps, deterministic=greedy)[0]
            next_states, rewards, terminated, truncated, infos = self.env.step(actions)
            self._render()
            agent.track_episodes(rewards, terminated, truncated, timestep)
            self._track_environment_info(infos)
            states = self._observed(self.env.reset()[0] if self._episode_over() else next_states)
        if self.cfg["close_environment_at_exit"]:
            self.env.close()
