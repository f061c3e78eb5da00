"""MAPPO on PettingZoo's MPE simple spread, written from skrl 2.x's MAPPO documentation (JAX tab).

skrl ships MAPPO examples only for Isaac Lab and Bi-DexHands, which do not run here, so this script
follows skrl 2.x's docs (``docs/source/snippets/multi_agents_basic_usage.py``, ``[start-mappo-jax]``)
and the model style of its JAX examples: a policy reading ``inputs["observations"]`` (the agent's
own) and a centralised value reading ``inputs["states"]`` (the environment's global state,
``env.state()``: the three agents' observations), one pair per agent as the docs build them
(``--share``: one pair for all agents). Only the imports differ from skrl's (and ``memories=``,
which skrl's docs misspell as ``memory=``: skrl #429).

Run: python examples/skrl2_mappo_pettingzoo.py [--timesteps 50000] [--seed 0] [--share]
The last line: the mean team return (every agent's reward summed over an episode) of the last 20 episodes.
"""

import argparse
import os

import flax.linen as nn

from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model
from skrl_jax.multi_agents.mappo import MAPPO, MAPPO_CFG
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import SequentialTrainer
from skrl_jax.utils import set_seed


# define models (stochastic and deterministic models) using mixins
class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, state_space, action_space, device=None, unnormalized_log_prob=True, **kwargs):
        Model.__init__(
            self,
            observation_space=observation_space,
            state_space=state_space,
            action_space=action_space,
            device=device,
            **kwargs,
        )
        CategoricalMixin.__init__(self, unnormalized_log_prob)

    @nn.compact  # marks the given module method allowing inlined submodules
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["observations"]))
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(self.num_actions)(x), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, state_space, action_space, device=None, **kwargs):
        Model.__init__(
            self,
            observation_space=observation_space,
            state_space=state_space,
            action_space=action_space,
            device=device,
            **kwargs,
        )
        DeterministicMixin.__init__(self)

    @nn.compact  # marks the given module method allowing inlined submodules
    def __call__(self, inputs, role):
        x = nn.tanh(nn.Dense(64)(inputs["states"]))  # the global state: centralised training
        x = nn.tanh(nn.Dense(64)(x))
        return nn.Dense(1)(x), {}


def make_env():
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # mpe2 imports pygame
    from mpe2 import simple_spread_v3

    return wrap_env(simple_spread_v3.parallel_env(N=3, max_cycles=25))


def make_agent(env, share: bool = False, rollouts: int = 250, **cfg_changes) -> MAPPO:
    """skrl's docs' MAPPO over ``env``; ``cfg_changes`` set ``MAPPO_CFG`` fields."""
    device = env.device

    # instantiate the agent's models
    models = {}
    for agent_name in env.possible_agents:
        if share and models:  # the same instances under every agent's keys: one network for all
            models[agent_name] = models[env.possible_agents[0]]
            continue
        models[agent_name] = {}
        spaces = (env.observation_space(agent_name), env.state_space(agent_name), env.action_space(agent_name))
        models[agent_name]["policy"] = Policy(*spaces, device)
        models[agent_name]["value"] = Value(*spaces, device)

    memories = {
        name: RandomMemory(memory_size=rollouts, num_envs=env.num_envs, device=device) for name in env.possible_agents
    }

    # adjust some configuration if necessary
    cfg_agent = MAPPO_CFG()
    cfg_agent.rollouts = rollouts
    cfg_agent.learning_epochs = 5
    cfg_agent.mini_batches = 5
    cfg_agent.discount_factor = 0.99
    cfg_agent.gae_lambda = 0.95
    cfg_agent.learning_rate = 5e-4
    cfg_agent.entropy_loss_scale = 0.01
    cfg_agent.observation_preprocessor = RunningStandardScaler
    cfg_agent.observation_preprocessor_kwargs = {
        "size": env.observation_space(env.possible_agents[0]),
        "device": device,
    }
    cfg_agent.state_preprocessor = RunningStandardScaler
    cfg_agent.state_preprocessor_kwargs = {"size": env.state_space(env.possible_agents[0]), "device": device}
    cfg_agent.experiment.write_interval = 0  # skrl's examples write TensorBoard data and checkpoints: not here
    cfg_agent.experiment.checkpoint_interval = 0
    for name, value in cfg_changes.items():
        setattr(cfg_agent, name, value)

    # instantiate the agent
    return MAPPO(
        possible_agents=env.possible_agents,
        models=models,
        memories=memories,
        cfg=cfg_agent,
        observation_spaces=env.observation_spaces,
        state_spaces=env.state_spaces,
        action_spaces=env.action_spaces,
        device=device,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--share", action="store_true", help="one policy and one value for all agents")
    args = parser.parse_args()
    set_seed(args.seed)
    env = make_env()
    agent = make_agent(env, share=args.share)
    trainer = SequentialTrainer(cfg={"timesteps": args.timesteps, "headless": True}, env=env, agents=agent)
    trainer.train()
    returns = agent.episode_returns
    print(f"episodes: {len(returns)}")
    print(f"mean team return of the last 20 episodes: {sum(returns[-20:]) / len(returns[-20:]):.1f}")
