"""IPPO and MAPPO: skrl's multi-agent API, sharing across agents, JaxMARL in the compiled trainer."""

import dataclasses

import flax.linen as nn
import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax.agents.core import Transition
from skrl_jax.memories import RandomMemory
from skrl_jax.models import (
    CategoricalHead,
    CategoricalMixin,
    DeterministicHead,
    DeterministicMixin,
    Model,
    shared_model,
)
from skrl_jax.multi_agents.ippo import IPPO, IPPO_CFG
from skrl_jax.multi_agents.mappo import MAPPO, MAPPO_CFG
from skrl_jax.trainers.compiled import CompiledTrainer

jaxmarl = pytest.importorskip("jaxmarl")

from skrl_jax.envs import AgentIDs, JaxMARLWrapper, WorldState, wrap_env  # noqa: E402

AGENTS = ("a", "b", "c")
OBSERVATION, ACTION = gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(3)
SPACES = {
    "observation_spaces": dict.fromkeys(AGENTS, OBSERVATION),
    "action_spaces": dict.fromkeys(AGENTS, ACTION),
}


def model(observation_space=OBSERVATION, action_space=ACTION):
    heads = {"policy": CategoricalHead(), "value": DeterministicHead()}
    return shared_model(observation_space, action_space, nn.Sequential([nn.Dense(64), nn.tanh]), heads)


def mpe():
    return JaxMARLWrapper(jaxmarl.make("MPE_simple_spread_v3"))


# --- construction: skrl's two APIs, groups, errors ----------------------------------------------


def test_one_instance_under_every_agent_is_one_group_in_both_apis():
    shared = model()
    models = {uid: {"policy": shared, "value": shared} for uid in AGENTS}
    old = IPPO(AGENTS, models, None, SPACES["observation_spaces"], SPACES["action_spaces"], None, {"rollouts": 8})
    new = IPPO(possible_agents=AGENTS, models=models, state_spaces=None, cfg=IPPO_CFG(rollouts=8), **SPACES)
    assert (old.skrl_api, new.skrl_api) == ("1.4", "2.x")
    for agent in (old, new):
        assert [group.agents for group in agent.groups] == [AGENTS]
    # skrl 2.x's IPPO defaults (value_loss_scale 2.5), 1.4's dict defaults (1.0)
    assert new.group_agents[0].config.loss_settings.value_loss_scale == 2.5
    assert old.group_agents[0].config.loss_settings.value_loss_scale == 1.0


def test_agents_with_their_own_models_are_groups_of_one():
    agent = IPPO(
        possible_agents=AGENTS, models={uid: {"policy": (m := model()), "value": m} for uid in AGENTS}, **SPACES
    )
    assert [group.agents for group in agent.groups] == [("a",), ("b",), ("c",)]


def test_per_agent_cfg_values_must_agree_within_a_group():
    shared = model()
    models = {uid: {"policy": shared, "value": shared} for uid in AGENTS}
    cfg = {"learning_rate": {"a": 1e-3, "b": 1e-3, "c": 3e-4}}
    with pytest.raises(ValueError, match=r"share their models.*learning_rate"):
        IPPO(possible_agents=AGENTS, models=models, cfg=cfg, **SPACES)
    cfg = {"learning_rate": {"a": 1e-3, "b": 2e-3, "c": 3e-4}}
    own = {uid: {"policy": (m := model()), "value": m} for uid in AGENTS}
    agent = IPPO(possible_agents=AGENTS, models=own, cfg=cfg, **SPACES)
    assert [a.config.learning_rate for a in agent.group_agents] == [1e-3, 2e-3, 3e-4]


def test_bad_inputs_name_the_agents_and_what_was_expected():
    shared = model()
    models = {uid: {"policy": shared, "value": shared} for uid in AGENTS}
    spaces = dict(SPACES, action_spaces={"a": ACTION, "b": ACTION, "c": gym.spaces.Discrete(4)})
    with pytest.raises(ValueError, match=r"agents \['a', 'b', 'c'\] share their models, so their action_spaces"):
        IPPO(possible_agents=AGENTS, models=models, **spaces)
    with pytest.raises(KeyError, match=r"memories has no memory for agent\(s\) \['c'\]"):
        IPPO(possible_agents=AGENTS, models=models, memories={"a": RandomMemory(16), "b": RandomMemory(16)}, **SPACES)
    with pytest.raises(TypeError, match="memories must be a dict"):
        IPPO(possible_agents=AGENTS, models=models, memories=RandomMemory(16), **SPACES)
    with pytest.raises(ValueError, match="MAPPO needs state_spaces"):
        MAPPO(possible_agents=AGENTS, models=models, **SPACES)
    with pytest.raises(KeyError, match="gae_lambda"):
        IPPO(possible_agents=AGENTS, models=models, state_spaces=None, cfg={"lambda": 0.9}, **SPACES)


# --- the host API: dicts keyed by agent -----------------------------------------------------------


@pytest.mark.parametrize("api", ["1.4", "2.x"])
def test_host_act_record_and_update_speak_dicts_keyed_by_agent(api):
    shared = model()
    models = {uid: {"policy": shared, "value": shared} for uid in AGENTS}
    memories = {uid: RandomMemory(memory_size=4, num_envs=2) for uid in AGENTS}
    cfg = {"rollouts": 4, "mini_batches": 2, "learning_epochs": 1}
    if api == "1.4":
        agent = IPPO(AGENTS, models, memories, SPACES["observation_spaces"], SPACES["action_spaces"], None, cfg)
    else:
        agent = IPPO(possible_agents=AGENTS, models=models, memories=memories, cfg=IPPO_CFG(**cfg), **SPACES)
    agent.init({"timesteps": 8})
    rng = np.random.default_rng(0)
    observations = {uid: rng.uniform(-1, 1, (2, 4)).astype(np.float32) for uid in AGENTS}
    before = jax.tree.leaves(shared.params)
    for timestep in range(4):
        if api == "1.4":
            actions, log_prob, outputs = agent.act(observations, timestep, 8)
        else:
            actions, outputs = agent.act(observations, None, timestep=timestep, timesteps=8)
            log_prob = {uid: outputs[uid]["log_prob"] for uid in AGENTS}
        assert set(actions) == set(AGENTS) and all(np.shape(actions[uid]) == (2, 1) for uid in AGENTS)
        assert all(np.shape(log_prob[uid]) == (2, 1) for uid in AGENTS)
        step = {
            "actions": actions,
            "rewards": {uid: np.ones((2, 1), np.float32) for uid in AGENTS},
            "terminated": {uid: np.zeros((2, 1), bool) for uid in AGENTS},
            "truncated": {uid: np.zeros((2, 1), bool) for uid in AGENTS},
            "infos": {},
            "timestep": timestep,
            "timesteps": 8,
        }
        if api == "1.4":
            agent.record_transition(states=observations, next_states=observations, **step)
        else:
            agent.record_transition(observations=observations, next_observations=observations, **step)
        agent.post_interaction(timestep, 8)
    assert agent.updates == 1
    assert any(not np.allclose(x, y) for x, y in zip(before, jax.tree.leaves(shared.params)))
    assert {"Loss / Policy loss (a)", "Loss / Value loss (c)"} <= set(agent.tracking_data)
    bad = dict(observations, b=np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"observations\['b'\] at timestep 4 hold 3 environments"):
        agent.act(bad, 4, 8) if api == "1.4" else agent.act(bad, None, timestep=4, timesteps=8)


# --- JaxMARL in the compiled trainer ----------------------------------------------------------------


def test_jaxmarl_time_limit_ends_are_truncated_and_the_next_observation_is_the_reset_one():
    env = wrap_env(jaxmarl.make("MPE_simple_spread_v3"))
    assert isinstance(env, JaxMARLWrapper) and env.possible_agents == ("agent_0", "agent_1", "agent_2")
    observations, state = env.reset(jax.random.key(0))
    actions = dict.fromkeys(env.possible_agents, jnp.zeros((1,), jnp.int32))
    step = jax.jit(env.step)
    returns = 0.0
    for count in range(1, 27):
        observations, state, rewards, terminated, truncated, info = step(jax.random.key(count), state, actions)
        returns += sum(float(r) for r in rewards.values())
        if count < 26:
            assert not any(bool(v) for v in {**terminated, **truncated}.values())
    # MPE ends at its time limit on the 26th step: truncated for every agent, never terminated
    assert all(bool(truncated[uid]) and not bool(terminated[uid]) for uid in env.possible_agents)
    assert bool(info["episode_done"]) and int(info["episode_length"]) == 26
    np.testing.assert_allclose(float(info["episode_return"]), returns, rtol=1e-5)
    assert not all(np.allclose(info["final_observation"][uid], observations[uid]) for uid in env.possible_agents)
    env = JaxMARLWrapper(jaxmarl.make("MPE_simple_spread_v3"), time_limit=False)
    _, state = env.reset(jax.random.key(0))
    for count in range(1, 27):
        _, state, _, terminated, truncated, _ = env.step(jax.random.key(count), state, actions)
    assert all(bool(terminated[uid]) and not bool(truncated[uid]) for uid in env.possible_agents)


def mpe_ippo(shared: bool, **cfg):
    env = mpe()
    observation, action = env.observation_spaces["agent_0"], env.action_spaces["agent_0"]
    one = model(observation, action)
    models = {
        uid: {"policy": one if shared else (m := model(observation, action)), "value": one if shared else m}
        for uid in env.possible_agents
    }
    cfg = {"rollouts": 26, "mini_batches": 2, "learning_epochs": 2, "learning_rate": 1e-3, **cfg}
    agent = IPPO(
        possible_agents=env.possible_agents,
        models=models,
        cfg=cfg,
        **{"observation_spaces": env.observation_spaces, "action_spaces": env.action_spaces},
    )
    return env, agent


def test_time_limit_bootstrap_adds_the_discounted_value_of_the_last_observation_at_truncation():
    env, agent = mpe_ippo(True, time_limit_bootstrap=True, discount_factor=0.9)
    trainer = CompiledTrainer(env, agent, {"timesteps": 26, "num_envs": 2, "disable_progressbar": True})
    runner = trainer.init(jax.random.key(0))
    functions = trainer.functions
    # record one step whose env reached its time limit, and read the reward the rollout holds
    actions, extras = functions.act(runner.agent_state, runner.observations, jax.random.key(1), jnp.int32(0))
    rewards = {uid: jnp.full((2, 1), 0.5) for uid in env.possible_agents}
    flags = {uid: jnp.zeros((2, 1), bool) for uid in env.possible_agents}
    truncated = {uid: jnp.array([[True], [False]]) for uid in env.possible_agents}
    step = Transition(runner.observations, actions, rewards, runner.observations, flags, truncated)
    state = functions.record(runner.agent_state, step, extras, jnp.int32(0))
    recorded = state.memory[0].rollout.tensors["rewards"][0, :, 0]  # rows agent-major: agent_0's 2 envs, ...
    values = jnp.concatenate([extras[0]["values"][i * 2 : i * 2 + 2, 0] for i in range(3)])
    expected = 0.5 + 0.9 * values * jnp.tile(jnp.array([1.0, 0.0]), 3)
    np.testing.assert_allclose(recorded, expected, rtol=1e-5)


def test_ippo_on_jaxmarl_learns_and_a_resumed_agent_keeps_its_timestep(tmp_path):
    # JaxMARL's IPPO settings for MPE (128 steps x 16 envs, 4 epochs x 4 minibatches), 82k env steps
    settings = {"rollouts": 128, "mini_batches": 4, "learning_epochs": 4, "learning_rate": 2.5e-4}
    env, agent = mpe_ippo(True, entropy_loss_scale=0.01, **settings)
    trainer = CompiledTrainer(env, agent, {"timesteps": 128 * 40, "num_envs": 16, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    returns = metrics["episode_return"]
    assert returns.shape == (40,) and np.isfinite(returns).all()
    assert returns[-8:].mean() > returns[:8].mean() + 5.0  # spread learnt: the team's distance penalty falls
    assert {"Loss / Policy loss (agent_0)", "Loss / Entropy loss (agent_2)"} <= set(
        trainer.functions.metric_tags.values()
    )
    assert agent.timestep == 128 * 40
    path = agent.save(tmp_path / "ippo.ckpt")
    _, fresh = mpe_ippo(True, entropy_loss_scale=0.01, **settings)
    fresh.init({"num_envs": 16})
    fresh.load(path)
    assert fresh.timestep == 128 * 40
    for x, y in zip(jax.tree.leaves(agent.state.learner), jax.tree.leaves(fresh.state.learner)):
        np.testing.assert_array_equal(x, y)
    # the greedy policy acts on dicts keyed by agent, from the loaded parameters
    observations, _ = jax.vmap(env.reset)(jax.random.split(jax.random.key(3), 16))
    actions, _, _ = fresh.act(observations, 0, 1, deterministic=True)
    assert set(actions) == set(env.possible_agents)


# --- MAPPO: a centralised value over the world state -------------------------------------------------


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, state_space, action_space):
        Model.__init__(self, observation_space=observation_space, state_space=state_space, action_space=action_space)
        CategoricalMixin.__init__(self, role="policy")

    def setup(self):
        self.hidden, self.logits = nn.Dense(16), nn.Dense(self.num_actions)

    def compute(self, inputs, role):
        return self.logits(nn.tanh(self.hidden(inputs["observations"]))), {}


class CentralValue(DeterministicMixin, Model):
    reads = "states"  # the global state (MAPPO)

    def __init__(self, observation_space, state_space, action_space):
        Model.__init__(self, observation_space=observation_space, state_space=state_space, action_space=action_space)
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        self.hidden, self.value = nn.Dense(16), nn.Dense(1)

    def compute(self, inputs, role):
        return self.value(nn.tanh(self.hidden(inputs[self.reads]))), {}


class OwnValue(CentralValue):
    reads = "observations"  # the agent's own (IPPO)


def test_mappo_value_reads_the_world_state_of_all_agents():
    env = WorldState(mpe())
    spaces = {"observation_spaces": env.observation_spaces, "action_spaces": env.action_spaces}
    uid = "agent_0"
    policy = Policy(env.observation_spaces[uid], env.state_spaces[uid], env.action_spaces[uid])
    value = CentralValue(env.observation_spaces[uid], env.state_spaces[uid], env.action_spaces[uid])
    models = {a: {"policy": policy, "value": value} for a in env.possible_agents}
    agent = MAPPO(
        possible_agents=env.possible_agents,
        models=models,
        state_spaces=env.state_spaces,
        cfg=MAPPO_CFG(rollouts=26, mini_batches=2, learning_epochs=2),
        **spaces,
    )
    assert env.state_spaces[uid].shape == (54,)
    trainer = CompiledTrainer(env, agent, {"timesteps": 26 * 4, "num_envs": 4, "disable_progressbar": True})
    runner, metrics = trainer.train(jax.random.key(0))
    assert np.isfinite(metrics["episode_return"]).all()
    # the value's first layer takes the 54 world-state values; the policy's the agent's own 18
    kernels = {
        name: {x.shape for x in jax.tree.leaves(m.params) if x.ndim == 2}
        for name, m in (("value", value), ("policy", policy))
    }
    assert kernels == {"value": {(54, 16), (16, 1)}, "policy": {(18, 16), (16, 5)}}
    # agent_0's value changes when agent_1 moves (its world state does); its policy does not
    observations, env_state = jax.vmap(env.reset)(jax.random.split(jax.random.key(1), 4))
    moved = dict(observations, agent_1=observations["agent_1"] + 1.0)
    state = runner.agent_state

    def act(obs):
        return trainer.functions.act(
            state, trainer.agent_observations(obs, env_state), jax.random.key(2), jnp.int32(0), True
        )[1][0]

    before, after = act(observations), act(moved)
    np.testing.assert_array_equal(before["outputs"]["net_output"][:4], after["outputs"]["net_output"][:4])
    assert not np.allclose(before["values"][:4], after["values"][:4])


def test_mappo_without_a_world_state_in_the_environment_is_refused():
    env = mpe()
    uid = "agent_0"
    state_space = gym.spaces.Box(-np.inf, np.inf, (54,))
    policy = Policy(env.observation_spaces[uid], state_space, env.action_spaces[uid])
    value = CentralValue(env.observation_spaces[uid], state_space, env.action_spaces[uid])
    agent = MAPPO(
        possible_agents=env.possible_agents,
        models={a: {"policy": policy, "value": value} for a in env.possible_agents},
        observation_spaces=env.observation_spaces,
        action_spaces=env.action_spaces,
        state_spaces=dict.fromkeys(env.possible_agents, state_space),
        cfg=dataclasses.asdict(MAPPO_CFG(rollouts=26)),
    )
    with pytest.raises(ValueError, match=r"agent 'agent_0'.*environment has none.*WorldState"):
        CompiledTrainer(env, agent, {"timesteps": 26, "num_envs": 2})


# --- runs: vmap over seeds, resume -------------------------------------------------------------------


def test_vmapped_seeds_equal_single_runs():
    env, agent = mpe_ippo(True, rollouts=26, mini_batches=2, learning_epochs=1)
    trainer = CompiledTrainer(env, agent, {"timesteps": 26 * 3, "num_envs": 4, "disable_progressbar": True})
    train = trainer.make_train()
    keys = jax.random.split(jax.random.key(7), 2)
    runners, metrics = jax.jit(jax.vmap(train))(keys)
    for index in range(2):
        runner, single = jax.jit(train)(keys[index])
        for name in ("episode_return", "policy_loss (agent_0)", "value_loss (agent_2)"):
            np.testing.assert_allclose(metrics[name][index], single[name], rtol=1e-5, atol=1e-6)
        for x, y in zip(jax.tree.leaves(runner.agent_state.learner), jax.tree.leaves(runners.agent_state.learner)):
            np.testing.assert_allclose(y[index], x, rtol=1e-5, atol=1e-6)


def test_a_resumed_compiled_run_is_the_uninterrupted_run_bit_for_bit(tmp_path):
    def trainer():
        env, agent = mpe_ippo(False, rollouts=26, mini_batches=2, learning_epochs=1)
        cfg = {"timesteps": 26 * 4, "num_envs": 4, "updates_per_chunk": 2, "disable_progressbar": True}
        return CompiledTrainer(env, agent, cfg)

    key = jax.random.key(3)
    whole, _ = trainer().train(key)
    first = trainer()
    half, _ = first.run_chunk(first.init(key))
    path = first.save(tmp_path / "runner.ckpt", half)
    second = trainer()
    loaded = second.load(path)
    assert int(loaded.timestep) == 26 * 2
    resumed, metrics = second.train(runner=loaded)
    assert int(resumed.timestep) == int(whole.timestep) == 26 * 4 and metrics["episode_return"].shape == (2,)
    for x, y in zip(jax.tree.leaves(whole), jax.tree.leaves(resumed)):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jax.random.key_data(x), jax.random.key_data(y)
        np.testing.assert_array_equal(x, y)
    assert second.agents.timestep == 26 * 4


# --- the losses, by hand ------------------------------------------------------------------------------


def hand_losses(rewards, values, next_values, dones, new_values, entropy, settings):
    """skrl's PPO value and entropy losses of one minibatch holding the whole rollout, at lr 0 (the policy
    unchanged): GAE per row (an agent's environment) from its own rewards and values."""
    steps = rewards.shape[0]
    advantages = np.zeros_like(rewards)
    running = np.zeros_like(rewards[0])
    for t in reversed(range(steps)):
        following = next_values if t == steps - 1 else values[t + 1]
        delta = rewards[t] + settings["gamma"] * following * (1 - dones[t]) - values[t]
        running = delta + settings["gamma"] * settings["lambda"] * (1 - dones[t]) * running
        advantages[t] = running
    returns = advantages + values
    value_loss = settings["value_loss_scale"] * np.mean((returns - new_values) ** 2)
    return value_loss, -settings["entropy_loss_scale"] * np.mean(entropy)


@pytest.mark.parametrize("kind", ["IPPO", "MAPPO"])
def test_the_value_and_entropy_losses_are_skrls_over_each_agents_own_rows(kind):
    env = WorldState(mpe()) if kind == "MAPPO" else mpe()
    uid = "agent_0"
    state_space = env.state_spaces[uid]
    policy = Policy(env.observation_spaces[uid], state_space, env.action_spaces[uid])
    value = CentralValue(env.observation_spaces[uid], state_space, env.action_spaces[uid])
    if kind == "IPPO":  # the value reads the agent's own observations
        value = OwnValue(env.observation_spaces[uid], state_space, env.action_spaces[uid])
    settings = {"gamma": 0.9, "lambda": 0.8, "value_loss_scale": 0.5, "entropy_loss_scale": 0.03}
    cfg = (MAPPO_CFG if kind == "MAPPO" else IPPO_CFG)(
        rollouts=8,
        mini_batches=1,
        learning_epochs=1,
        learning_rate=0.0,
        discount_factor=settings["gamma"],
        gae_lambda=settings["lambda"],
        value_loss_scale=settings["value_loss_scale"],
        entropy_loss_scale=settings["entropy_loss_scale"],
        value_clip=0.0,
    )
    spaces = {"observation_spaces": env.observation_spaces, "action_spaces": env.action_spaces}
    agent = (MAPPO if kind == "MAPPO" else IPPO)(
        possible_agents=env.possible_agents,
        models={a: {"policy": policy, "value": value} for a in env.possible_agents},
        state_spaces=env.state_spaces,
        cfg=cfg,
        **spaces,
    )
    trainer = CompiledTrainer(env, agent, {"timesteps": 8, "num_envs": 2, "disable_progressbar": True})
    functions, runner = trainer.functions, trainer.init(jax.random.key(0))
    state, observations, env_state = runner.agent_state, runner.observations, runner.env_state
    rows = {name: [] for name in ("rewards", "values", "dones", "entropy")}
    rng = np.random.default_rng(0)
    for step in range(8):
        actions, extras = functions.act(state, observations, jax.random.key(step), jnp.int32(step))
        next_observations, env_state, rewards, terminated, truncated, info = env.batch_step(
            jax.random.split(jax.random.key(100 + step), 2), env_state, actions
        )
        rewards = {
            a: jnp.asarray(rng.normal(size=(2,)), jnp.float32) for a in env.possible_agents
        }  # distinct per agent
        done = {a: jnp.asarray(rng.random(2) < 0.2) for a in env.possible_agents}
        none = {a: jnp.zeros((2, 1), bool) for a in env.possible_agents}
        column = {a: done[a][:, None] for a in env.possible_agents}
        following = trainer.agent_observations(next_observations, env_state)
        transition = Transition(
            observations, actions, {a: r[:, None] for a, r in rewards.items()}, following, column, none
        )
        state = functions.record(state, transition, extras, jnp.int32(step))
        logits = extras[0]["outputs"]["net_output"]
        probabilities = jax.nn.softmax(logits)
        rows["entropy"].append(-(probabilities * jnp.log(probabilities)).sum(-1))
        rows["rewards"].append(jnp.concatenate([rewards[a] for a in env.possible_agents]))
        rows["values"].append(extras[0]["values"][:, 0])
        rows["dones"].append(jnp.concatenate([done[a] for a in env.possible_agents]).astype(jnp.float32))
        observations = following
    last_values = functions.act(state, observations, jax.random.key(99), jnp.int32(8))[1][0]["values"][:, 0]
    state, metrics = functions.update(state, jax.random.key(5), jnp.int32(7))
    arrays = {name: np.stack([np.asarray(x) for x in values]) for name, values in rows.items()}
    value_loss, entropy_loss = hand_losses(
        arrays["rewards"],
        arrays["values"],
        np.asarray(last_values),
        arrays["dones"],
        arrays["values"],  # lr 0: the values the update sees are those recorded
        arrays["entropy"],
        settings,
    )
    np.testing.assert_allclose(metrics["value_loss (agent_1)"], value_loss, rtol=1e-4)
    np.testing.assert_allclose(metrics["entropy_loss (agent_2)"], entropy_loss, rtol=1e-4)


# --- bad input -------------------------------------------------------------------------------------------


def test_models_for_an_agent_the_agents_do_not_have_and_envs_that_differ_are_refused():
    shared = model()
    models = {uid: {"policy": shared, "value": shared} for uid in (*AGENTS, "d")}
    with pytest.raises(KeyError, match=r"models has entries for \['d'\], which are not in possible_agents"):
        IPPO(possible_agents=AGENTS, models=models, **SPACES)
    env = mpe()
    others = ("agent_0", "agent_1", "agent_9")
    agent = IPPO(
        possible_agents=others,
        models={uid: {"policy": shared, "value": shared} for uid in others},
        observation_spaces=dict.fromkeys(others, OBSERVATION),
        action_spaces=dict.fromkeys(others, ACTION),
    )
    with pytest.raises(ValueError, match=r"environment's agents are \['agent_0', 'agent_1', 'agent_2'\].*agent_9"):
        CompiledTrainer(env, agent, {"timesteps": 16, "num_envs": 2})
    agent = IPPO(
        possible_agents=env.possible_agents,
        models={uid: {"policy": shared, "value": shared} for uid in env.possible_agents},
        observation_spaces=dict.fromkeys(env.possible_agents, OBSERVATION),
        action_spaces=dict.fromkeys(env.possible_agents, ACTION),
        cfg={"rollouts": 16},
    )
    with pytest.raises(ValueError, match=r"agent 'agent_0': the environment's observations have 18 values"):
        CompiledTrainer(env, agent, {"timesteps": 16, "num_envs": 2})


def test_a_mappo_value_built_without_a_state_space_is_refused_naming_the_agent():
    env = WorldState(mpe())
    uid = "agent_0"
    policy = Policy(env.observation_spaces[uid], env.state_spaces[uid], env.action_spaces[uid])
    value = OwnValue(env.observation_spaces[uid], None, env.action_spaces[uid])
    with pytest.raises(ValueError, match=r"MAPPO: agent\(s\) \['agent_0', 'agent_1', 'agent_2'\].*value.*state_space"):
        MAPPO(
            possible_agents=env.possible_agents,
            models={a: {"policy": policy, "value": value} for a in env.possible_agents},
            observation_spaces=env.observation_spaces,
            state_spaces=env.state_spaces,
            action_spaces=env.action_spaces,
        )


def test_agent_ids_let_one_shared_policy_tell_the_agents_apart():
    env = AgentIDs(mpe())
    assert env.observation_spaces["agent_1"].shape == (21,)
    observations, state = env.reset(jax.random.key(0))
    np.testing.assert_array_equal(observations["agent_1"][-3:], [0.0, 1.0, 0.0])
    actions = dict.fromkeys(env.possible_agents, jnp.zeros((1,), jnp.int32))
    for count in range(26):
        observations, state, _, _, _, info = env.step(jax.random.key(count), state, actions)
    np.testing.assert_array_equal(info["final_observation"]["agent_2"][-3:], [0.0, 0.0, 1.0])
    one = model(env.observation_spaces["agent_0"], env.action_spaces["agent_0"])
    agent = IPPO(
        possible_agents=env.possible_agents,
        models={uid: {"policy": one, "value": one} for uid in env.possible_agents},
        observation_spaces=env.observation_spaces,
        action_spaces=env.action_spaces,
        cfg={"rollouts": 26, "mini_batches": 2},
    )
    runner, metrics = CompiledTrainer(env, agent, {"timesteps": 52, "num_envs": 2, "disable_progressbar": True}).train(
        jax.random.key(1)
    )
    assert np.isfinite(metrics["episode_return"]).all()
    # the same observation with another agent's ID gives another action distribution
    same = runner.observations["agent_0"]
    swapped = {uid: same.at[:, -3:].set(env.ids[uid]) for uid in env.possible_agents}
    _, extras = CompiledTrainer(env, agent, {"timesteps": 52, "num_envs": 2}).functions.act(
        runner.agent_state, swapped, jax.random.key(2), jnp.int32(0), True
    )
    logits = extras[0]["outputs"]["net_output"].reshape(3, 2, -1)
    assert not np.allclose(logits[0], logits[1])
