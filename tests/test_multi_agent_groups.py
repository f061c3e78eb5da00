"""Grouping agents by shared model instances, and stacking their rows (skrl_jax.multi_agents.groups)."""

import gymnasium as gym
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.multi_agents.groups import group_agents, stack_rows, unstack_rows

AGENTS = ("a", "b", "c")
OBS = gym.spaces.Box(-1, 1, (3,))


def spaces(**different):
    observations = {uid: different.get(uid, OBS) for uid in AGENTS}
    return {"observation_spaces": observations, "action_spaces": dict.fromkeys(AGENTS, gym.spaces.Discrete(2))}


def test_agents_with_the_same_model_instances_form_one_group_in_the_agents_order():
    policy, value, own_policy, own_value = object(), object(), object(), object()
    models = {"a": {"policy": policy, "value": value}, "b": {"policy": own_policy, "value": own_value}}
    models["c"] = {"value": value, "policy": policy}
    groups = group_agents(AGENTS, models, spaces())
    assert [group.agents for group in groups] == [("a", "c"), ("b",)]
    assert groups[0].models["policy"] is policy and groups[1].models["value"] is own_value


def test_partial_sharing_and_different_spaces_are_refused_with_the_agents_named():
    policy = object()
    models = {
        "a": {"policy": policy, "value": object()},
        "b": {"policy": policy, "value": object()},
        "c": {"policy": object()},
    }
    with pytest.raises(ValueError, match=r"models\['b'\]\['policy'\] is also models\['a'\]\['policy'\]"):
        group_agents(AGENTS, models, spaces())
    shared = {"policy": object()}
    with pytest.raises(ValueError, match=r"agents \['a', 'b', 'c'\] share their models, so their observation_spaces"):
        group_agents(AGENTS, dict.fromkeys(AGENTS, shared), spaces(b=gym.spaces.Box(-1, 1, (4,))))
    with pytest.raises(KeyError, match=r"no entry for agent\(s\) \['c'\]"):
        group_agents(AGENTS, {"a": shared, "b": shared}, spaces())


def test_rows_stack_agent_major_and_unstack_back():
    per_agent = {
        uid: {"x": jnp.full((2, 3), index), "y": jnp.arange(2) + 10 * index} for index, uid in enumerate(AGENTS)
    }
    rows = stack_rows(per_agent, AGENTS)
    np.testing.assert_array_equal(rows["x"][:, 0], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(rows["y"], [0, 1, 10, 11, 20, 21])
    back = unstack_rows(rows, AGENTS)
    for uid in AGENTS:
        np.testing.assert_array_equal(back[uid]["x"], per_agent[uid]["x"])
        np.testing.assert_array_equal(back[uid]["y"], per_agent[uid]["y"])
