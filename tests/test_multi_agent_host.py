"""IPPO and MAPPO in skrl's host loop: PettingZoo's MPE through the SequentialTrainer."""

import os

import jax
import numpy as np
import pytest

from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.multi_agents.ippo import IPPO
from skrl_jax.multi_agents.mappo import MAPPO, MAPPO_CFG
from skrl_jax.trainers import SequentialTrainer
from skrl_jax.utils.model_instantiators import categorical_model, deterministic_model

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
simple_spread = pytest.importorskip("mpe2.simple_spread_v3")

HIDDEN = [{"name": "net", "input": "STATES", "layers": [32], "activations": "tanh"}]


def spread():
    return wrap_env(simple_spread.parallel_env(N=3, max_cycles=25))


def test_ippo_trains_on_pettingzoo_and_resumes_at_its_timestep(tmp_path):
    env = spread()
    observation, action = env.observation_space("agent_0"), env.action_space("agent_0")
    policy = categorical_model(observation_space=observation, action_space=action, network=HIDDEN, output="ACTIONS")
    value = deterministic_model(observation_space=observation, action_space=action, network=HIDDEN, output="ONE")
    models = {uid: {"policy": policy, "value": value} for uid in env.possible_agents}
    memories = {uid: RandomMemory(memory_size=25, num_envs=1) for uid in env.possible_agents}
    cfg = {"rollouts": 25, "mini_batches": 3, "learning_epochs": 2, "experiment": {"directory": str(tmp_path)}}
    agent = IPPO(env.possible_agents, models, memories, env.observation_spaces, env.action_spaces, None, cfg)
    before = jax.tree.leaves(policy.params) if policy.params is not None else None
    trainer = SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 100, "disable_progressbar": True})
    trainer.train()
    # 25-step episodes: the loop reset the environment after each one (PettingZoo does not)
    assert len(agent.episode_returns) == 4
    assert agent.updates == 4 and agent.timestep == 100
    after = jax.tree.leaves(policy.params)
    assert before is None or any(not np.allclose(x, y) for x, y in zip(before, after))
    path = agent.save(tmp_path / "ippo.ckpt")
    again = IPPO(env.possible_agents, models, memories, env.observation_spaces, env.action_spaces, None, cfg)
    SequentialTrainer(env=spread(), agents=again, cfg={"timesteps": 150, "disable_progressbar": True})
    again.load(path)
    assert again.timestep == 100  # skrl restarts at 0 (IsaacLab #4047); a resumed run goes on from here
    for x, y in zip(jax.tree.leaves(agent.state.learner), jax.tree.leaves(again.state.learner)):
        np.testing.assert_array_equal(x, y)


def test_mappo_reads_pettingzoo_state_through_the_host_loop():
    env = spread()
    uid = "agent_0"
    observation, action, state = env.observation_space(uid), env.action_space(uid), env.state_spaces[uid]
    # skrl 2.x's instantiators: OBSERVATIONS are the agent's own, STATES the global state (env.state())
    own = [{"name": "net", "input": "OBSERVATIONS", "layers": [32], "activations": "tanh"}]
    policy = categorical_model(
        observation_space=observation, state_space=state, action_space=action, network=own, output="ACTIONS"
    )
    value = deterministic_model(
        observation_space=observation, state_space=state, action_space=action, network=HIDDEN, output="ONE"
    )
    agent = MAPPO(
        possible_agents=env.possible_agents,
        models={a: {"policy": policy, "value": value} for a in env.possible_agents},
        memories={a: RandomMemory(memory_size=25, num_envs=1) for a in env.possible_agents},
        observation_spaces=env.observation_spaces,
        state_spaces=env.state_spaces,
        action_spaces=env.action_spaces,
        cfg=MAPPO_CFG(rollouts=25, mini_batches=1, learning_epochs=1),
    )
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": 50, "disable_progressbar": True}).train()
    assert agent.updates == 2
    # the value's input is the global state (the 3 agents' 18 observations), the policy's the agent's own
    assert {x.shape for x in jax.tree.leaves(value.params) if x.ndim == 2} == {(54, 32), (32, 1)}
    assert {x.shape for x in jax.tree.leaves(policy.params) if x.ndim == 2} == {(18, 32), (32, 5)}


def test_the_skrl_docs_mappo_script_trains_with_one_pair_per_agent_or_one_for_all():
    from benchmarks._examples import load_example

    script = load_example("skrl2_mappo_pettingzoo")
    for share, groups in ((False, 3), (True, 1)):
        env = script.make_env()
        agent = script.make_agent(env, share=share, rollouts=50, mini_batches=2, learning_epochs=1)
        assert len(agent.groups) == groups
        SequentialTrainer(cfg={"timesteps": 100, "disable_progressbar": True}, env=env, agents=agent).train()
        assert agent.updates == 2 and len(agent.episode_returns) == 4


def test_memory_is_refused_naming_memories():
    env = spread()
    uid = "agent_0"
    model = categorical_model(
        observation_space=env.observation_space(uid),
        action_space=env.action_space(uid),
        network=HIDDEN,
        output="ACTIONS",
    )
    with pytest.raises(TypeError, match=r"takes memories=.*skrl #429"):
        IPPO(
            possible_agents=env.possible_agents,
            models={a: {"policy": model, "value": model} for a in env.possible_agents},
            memory={a: RandomMemory(16) for a in env.possible_agents},
        )
