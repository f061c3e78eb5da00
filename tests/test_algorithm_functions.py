"""Every off-policy algorithm as ``make_<algo>(models, config)``: a user builds and runs it with no
agent object, its frozen config's defaults are skrl's (the shell with skrl's default cfg gives the
same numbers), and its update compiles once."""

import dataclasses

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.core import Transition
from skrl_jax.agents.ddpg import DDPG, DDPGConfig, make_ddpg
from skrl_jax.agents.dqn import DDQN, DQN, DQNConfig, make_dqn
from skrl_jax.agents.off_policy import ModelSet, ReplayConfig
from skrl_jax.agents.sac import SAC, SACConfig, make_sac
from skrl_jax.agents.td3 import TD3, TD3Config, make_td3
from skrl_jax.memories import RandomMemory
from tests.models import CARTPOLE_ACTION, CARTPOLE_OBSERVATION, PENDULUM_ACTION, PENDULUM_OBSERVATION
from tests.test_off_policy import dqn_models, sac_models
from tests.test_td3_ddpg import ddpg_models, td3_models

NUM_ENVS, MEMORY_SIZE, BATCH_SIZE = 2, 16, 8
QUIET = {"write_interval": 0, "checkpoint_interval": 0}

# name: (shell, make_<algo>, its config class, models, observation space, action space, config extras)
ALGORITHMS = {
    "SAC": (SAC, make_sac, SACConfig, sac_models, PENDULUM_OBSERVATION, PENDULUM_ACTION, {}),
    "TD3": (TD3, make_td3, TD3Config, td3_models, PENDULUM_OBSERVATION, PENDULUM_ACTION, {}),
    "DDPG": (DDPG, make_ddpg, DDPGConfig, ddpg_models, PENDULUM_OBSERVATION, PENDULUM_ACTION, {}),
    "DQN": (DQN, make_dqn, DQNConfig, dqn_models, CARTPOLE_OBSERVATION, CARTPOLE_ACTION, {}),
    "DDQN": (DDQN, make_dqn, DQNConfig, dqn_models, CARTPOLE_OBSERVATION, CARTPOLE_ACTION, {"double": True}),
}


def fill(functions, state, observation_size, action_space, steps=12, seed=0):
    """``steps`` recorded transitions of random observations and actions (the same for any functions)."""
    rng = np.random.default_rng(seed)
    for step in range(steps):
        observations = jnp.asarray(rng.normal(size=(NUM_ENVS, observation_size)), jnp.float32)
        _, extras = functions.act(state, observations, jax.random.key(step), step)
        if action_space.shape:
            actions = jnp.asarray(rng.uniform(-2, 2, (NUM_ENVS, 1)), jnp.float32)
        else:
            actions = jnp.asarray(rng.integers(0, action_space.n, (NUM_ENVS, 1)), jnp.int32)
        transition = Transition(
            observations,
            actions,
            jnp.asarray(rng.normal(size=(NUM_ENVS, 1)), jnp.float32),
            observations + 0.1,
            jnp.asarray(rng.random((NUM_ENVS, 1)) < 0.2),
            jnp.zeros((NUM_ENVS, 1), bool),
        )
        state = functions.record(state, transition, extras, step)
    return state


def direct_functions(name):
    _, make, config_class, models, observation_space, action_space, extras = ALGORITHMS[name]
    replay = ReplayConfig(observation_space, action_space, NUM_ENVS, MEMORY_SIZE, BATCH_SIZE)
    return make(ModelSet(models()), config_class(replay=replay, **extras)), replay


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_built_without_an_agent_it_learns_as_the_shell_with_skrls_defaults(name):
    shell, _, config_class, models, observation_space, action_space, _ = ALGORITHMS[name]
    functions, replay = direct_functions(name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        replay.batch_size = 4  # a config is fixed once functions are built from it
    agent = shell(
        models=models(),
        memory=RandomMemory(MEMORY_SIZE, num_envs=NUM_ENVS),
        observation_space=observation_space,
        action_space=action_space,
        cfg={"batch_size": BATCH_SIZE, "experiment": QUIET},
    )
    from_shell = agent.make_functions(NUM_ENVS)
    size = observation_space.shape[0]
    results = []
    for built in (functions, from_shell):
        state = fill(built, built.init(jax.random.key(0)), size, action_space)
        results.append(jax.jit(built.update)(state, jax.random.key(1), 11))
    (state, metrics), (shell_state, shell_metrics) = results
    chex.assert_trees_all_close(state.learner, shell_state.learner)
    assert set(metrics) == set(shell_metrics) and int(metrics["nan_at"]) == -1
    before = functions.init(jax.random.key(0)).learner.params
    moved = [not np.allclose(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(state.learner.params))]
    assert any(moved)  # the update trained something


@pytest.mark.parametrize("name", ["SAC", "TD3", "DQN"])
def test_the_update_compiles_once(name):
    functions, replay = direct_functions(name)
    state = fill(functions, functions.init(jax.random.key(0)), replay.observation_space.shape[0], replay.action_space)
    traces = []

    def update(state, key, timestep):  # chex.assert_max_traces would pool the traces of every algorithm
        traces.append(timestep)
        return functions.update(state, key, timestep)

    compiled = jax.jit(update)
    for timestep in range(12, 15):
        state, _ = compiled(state, jax.random.key(timestep), timestep)
    assert len(traces) == 1
    assert int(state.learner.gradient_steps) == 3
