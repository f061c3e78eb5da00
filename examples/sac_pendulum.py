"""SAC on Pendulum-v1 with twin critics on ONE shared trunk (skrl's SAC Pendulum example's settings).

The critic is one model that declares ``DeterministicMixin`` twice (roles ``critic_1`` and
``critic_2``, the seed page's rule for a mixin used twice); the same instance goes to both critic
keys and a second instance to both target keys. The trunk reads ``inputs["states"]`` and
``inputs["taken_actions"]`` as they come, so a joint pass computes it once for both Q-heads.

skrl's example settings: 1 environment, 15,000 timesteps, batch 100, learning_starts 1000,
discount 0.98, a replay memory of 20,000 sampled without replacement, 400-300 ReLU networks with
every parameter drawn from N(0, 0.1), the policy's mean ``2 * tanh`` and its actions clipped.

Run: python examples/sac_pendulum.py [--seed 0] [--timesteps 15000] [--separate]
     python examples/sac_pendulum.py --compiled --seeds 8 [--timesteps 50000]   (gymnax, seeds vmapped)
The final line is the measure of its row in docs/benchmarks.md: the mean return of the last 20 episodes.
"""

import argparse
import time

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax import config
from skrl_jax.agents.sac import SAC, SAC_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer

INIT = nn.initializers.normal(0.1)  # skrl's example: model.init_parameters("normal", stddev=0.1)


def dense(features: int) -> nn.Dense:
    return nn.Dense(features, kernel_init=INIT, bias_init=INIT)


class Actor(GaussianMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=True, widths=(400, 300)):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std=True, min_log_std=-5, max_log_std=2, reduction="sum")
        self.widths = widths

    def setup(self):
        first, second = self.widths
        self.net = nn.Sequential([dense(first), nn.relu, dense(second), nn.relu, dense(self.num_actions)])
        self.log_std = self.param("log_std", INIT, (self.num_actions,))

    def compute(self, inputs, role):
        return 2 * nn.tanh(self.net(inputs["states"])), self.log_std, {}  # Pendulum's torque is in [-2, 2]


class Trunk(nn.Module):
    """The critics' shared layers, called with the states and the actions."""

    widths: tuple[int, int] = (400, 300)

    @nn.compact
    def __call__(self, states, actions):
        x = nn.relu(dense(self.widths[0])(jnp.concatenate([states, actions], axis=-1)))
        return nn.relu(dense(self.widths[1])(x))


class TwinCritic(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, widths=(400, 300)):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, role="critic_1")
        DeterministicMixin.__init__(self, role="critic_2")
        self.widths = widths

    def setup(self):
        self.trunk = Trunk(self.widths)
        self.q1, self.q2 = dense(1), dense(1)

    def compute(self, inputs, role):
        features = self.trunk(inputs["states"], inputs["taken_actions"])
        if role == "critic_1":
            return self.q1(features), {}
        elif role == "critic_2":
            return self.q2(features), {}


class Critic(DeterministicMixin, Model):
    """skrl's example critic: one Q-network per critic key (for the separate-critics comparison)."""

    def __init__(self, observation_space, action_space, device=None, widths=(400, 300)):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)
        self.widths = widths

    def setup(self):
        self.trunk, self.q = Trunk(self.widths), dense(1)

    def compute(self, inputs, role):
        return self.q(self.trunk(inputs["states"], inputs["taken_actions"])), {}


def make_agent(observation_space, action_space, num_envs: int = 1, shared: bool = True, widths=(400, 300)) -> SAC:
    policy = Actor(observation_space, action_space, widths=widths)
    if shared:
        critic = TwinCritic(observation_space, action_space, widths=widths)
        target = TwinCritic(observation_space, action_space, widths=widths)
        critics = {"critic_1": critic, "critic_2": critic, "target_critic_1": target, "target_critic_2": target}
    else:
        names = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
        critics = {name: Critic(observation_space, action_space, widths=widths) for name in names}
    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg["discount_factor"] = 0.98
    cfg["batch_size"] = 100
    cfg["random_timesteps"] = 0
    cfg["learning_starts"] = 1000
    cfg["learn_entropy"] = True
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
    memory = RandomMemory(memory_size=20_000, num_envs=num_envs, replacement=False)
    return SAC(models={"policy": policy, **critics}, memory=memory, cfg=cfg)


def train(seed: int = 0, timesteps: int = 15_000, shared: bool = True, progress: bool = True) -> tuple[SAC, float]:
    """The host loop on gymnasium Pendulum-v1; returns the agent and the env steps per second."""
    config.set_seed(seed)
    env = wrap_env(gym.make("Pendulum-v1"))
    env.reset(seed=seed)
    agent = make_agent(env.observation_space, env.action_space, shared=shared)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": not progress}
    )
    start = time.perf_counter()
    trainer.train()
    return agent, timesteps / (time.perf_counter() - start)


COMPILED_WIDTHS = (64, 64)


def make_compiled_trainer(
    timesteps: int = 50_000, shared: bool = True, progress: bool = True, widths=COMPILED_WIDTHS
) -> CompiledTrainer:
    """The same agent on gymnax Pendulum-v1, the whole run in one compiled program. The networks
    are 64-64 by default: vmapped seeds multiply the update's cost, and 400-300 networks x 8 seeds x
    50,000 updates would take hours on a 2-core CPU."""
    import gymnax

    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    agent = make_agent(env.observation_space, env.action_space, shared=shared, widths=widths)
    return CompiledTrainer(env, agent, cfg={"timesteps": timesteps, "num_envs": 1, "disable_progressbar": not progress})


def last_returns(episode_returns: np.ndarray, count: int = 20) -> float:
    finished = episode_returns[np.isfinite(episode_returns)]
    return float(finished[-count:].mean())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=None)
    parser.add_argument("--separate", action="store_true", help="four critic models instead of the twin trunk")
    parser.add_argument("--compiled", action="store_true", help="gymnax Pendulum, seeds vmapped in one call")
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args()
    if args.compiled:
        trainer = make_compiled_trainer(args.timesteps or 50_000, shared=not args.separate)
        train_seeds = jax.jit(jax.vmap(trainer.make_train()))
        keys = jax.random.split(jax.random.key(args.seed), args.seeds)
        start = time.perf_counter()
        _, metrics = jax.block_until_ready(train_seeds(keys))
        seconds = time.perf_counter() - start
        finals = [last_returns(np.asarray(returns)) for returns in metrics["episode_return"]]
        print(f"{args.seeds} seeds x {trainer.timesteps} env steps in {seconds:.0f} s (compile included)")
        print(f"mean return of the last 20 episodes: mean {np.mean(finals):.1f}, worst {np.min(finals):.1f}")
    else:
        agent, steps_per_second = train(args.seed, args.timesteps or 15_000, shared=not args.separate)
        print(f"{steps_per_second:.0f} env steps/s")
        print(f"mean return of the last 20 episodes: {np.mean(agent.episode_returns[-20:]):.1f}")
