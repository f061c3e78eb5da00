"""Multi-agent on-policy functions: groups of agents that share models run one batched pass each."""

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.agents.core import Transition
from skrl_jax.agents.ppo import PPO
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
from skrl_jax.multi_agents.functions import make_multi_agent_functions
from skrl_jax.multi_agents.groups import group_agents

AGENTS = ("a", "b", "c")
OBSERVATION, ACTION = gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2)
NUM_ENVS = 3


def model():
    return shared_model(OBSERVATION, ACTION, nn.Dense(8), {"policy": CategoricalHead(), "value": DeterministicHead()})


def functions_for(models):
    spaces = {"observation_spaces": dict.fromkeys(AGENTS, OBSERVATION), "action_spaces": dict.fromkeys(AGENTS, ACTION)}
    groups = group_agents(AGENTS, models, spaces)
    shells = [PPO(models=dict(group.models), cfg={"rollouts": 4, "mini_batches": 2}) for group in groups]
    per_group = [shell.make_functions(len(group.agents) * NUM_ENVS) for group, shell in zip(groups, shells)]
    return groups, make_multi_agent_functions(groups, per_group)


def observations(key):
    keys = jax.random.split(key, len(AGENTS))
    return {uid: jax.random.uniform(k, (NUM_ENVS, 4), minval=-1, maxval=1) for uid, k in zip(AGENTS, keys)}


def test_shared_agents_act_in_one_pass_and_train_one_parameter_subtree():
    shared, own = model(), model()
    models = {"a": {"policy": shared, "value": shared}, "b": {"policy": own, "value": own}}
    models["c"] = models["a"]
    groups, functions = functions_for(models)
    assert [group.agents for group in groups] == [("a", "c"), ("b",)]
    state = functions.init(jax.random.key(0))
    assert len(state.learner) == 2  # one parameter set for a and c, one for b
    actions, extras = functions.act(state, observations(jax.random.key(1)), jax.random.key(2), jnp.zeros((), jnp.int32))
    assert set(actions) == set(AGENTS) and all(actions[uid].shape[0] == NUM_ENVS for uid in AGENTS)

    def dots(functions):
        state = functions.init(jax.random.key(0))
        jaxpr = jax.make_jaxpr(lambda s, o: functions.act(s, o, jax.random.key(2), jnp.zeros((), jnp.int32)))
        return str(jaxpr(state, observations(jax.random.key(1)))).count("dot_general")

    separate = {uid: {"policy": m, "value": m} for uid, m in zip(AGENTS, (model(), model(), model()))}
    # each group runs its trunk and heads once over its stacked rows: 2 groups cost 2/3 of 3
    assert dots(functions) * 3 == dots(functions_for(separate)[1]) * 2

    before = jax.tree.leaves(state.learner[0].params)
    for step in range(4):
        obs = observations(jax.random.key(10 + step))
        actions, extras = functions.act(state, obs, jax.random.key(20 + step), jnp.asarray(step))
        column = {uid: jnp.ones((NUM_ENVS, 1)) for uid in AGENTS}
        flags = {uid: jnp.zeros((NUM_ENVS, 1), bool) for uid in AGENTS}
        transition = Transition(
            obs, {uid: a.reshape(NUM_ENVS, -1) for uid, a in actions.items()}, column, obs, flags, flags
        )
        state = functions.record(state, transition, extras, jnp.asarray(step))
    state, metrics = functions.update(state, jax.random.key(3), jnp.asarray(3))
    assert {"policy_loss (a)", "policy_loss (b)", "policy_loss (c)"} <= set(metrics)
    assert metrics["policy_loss (a)"] is metrics["policy_loss (c)"]
    after = jax.tree.leaves(state.learner[0].params)
    assert any(not np.allclose(x, y) for x, y in zip(before, after))
    assert functions.metric_tags["policy_loss (c)"] == "Loss / Policy loss (c)"
