"""skrl 2.x's off-policy configurations (TD3_CFG, DDPG_CFG, DQN_CFG, DDQN_CFG): their translation,
the exploration scheduler inside the compiled act, the errors, RandomMemory's default that follows
the agent's API, skrl's init_parameters, the TD3 port and a 2.x off-policy runner configuration."""

import math

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks._examples import load_example
from skrl_jax.agents.ddpg import DDPG, DDPG_CFG
from skrl_jax.agents.ddqn import DDQN, DDQN_CFG
from skrl_jax.agents.dqn import DQN, DQN_CFG
from skrl_jax.agents.off_policy.functions import sample_batch
from skrl_jax.agents.off_policy.schedule import compiled_schedule
from skrl_jax.agents.sac import SAC, SAC_CFG
from skrl_jax.agents.td3 import TD3, TD3_CFG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.resources.noises import GaussianNoise, OrnsteinUhlenbeckNoise
from skrl_jax.trainers import SequentialTrainer
from skrl_jax.utils.runner import Runner, scheduler_from_expression
from tests.models import CARTPOLE_ACTION, CARTPOLE_OBSERVATION, PENDULUM_ACTION, PENDULUM_OBSERVATION
from tests.test_off_policy import dqn_models, fill, sac_models
from tests.test_td3_ddpg import ddpg_models, td3_models

TD3_PORT = load_example("skrl2_pendulum_td3_port")


def decaying(timestep, timesteps):  # skrl's examples' scheduler: Python numbers only
    return max(1 - timestep / timesteps, 1e-2)


def act_at(agent, observations, timesteps, timestep_values, key=7):
    """``{timestep: (actions, extras)}`` of the agent's compiled act, one key for all."""
    agent.init({"timesteps": timesteps})
    functions = agent.make_functions(num_envs=observations.shape[0], timesteps=timesteps)
    state = functions.init(jax.random.key(0))
    act = jax.jit(functions.act, static_argnames="deterministic")
    return {t: act(state, observations, jax.random.key(key), t) for t in timestep_values}


# --- the scheduler inside jit --------------------------------------------------------------------------


def test_a_python_scheduler_is_tabulated_over_the_run_and_a_jax_one_is_traced():
    schedule = jax.jit(compiled_schedule(decaying, 1000, "TD3"))
    for timestep in (0, 1, 500, 990, 999):
        np.testing.assert_allclose(schedule(timestep), decaying(timestep, 1000), rtol=1e-6)
    np.testing.assert_allclose(schedule(5000), decaying(999, 1000), rtol=1e-6)  # past the run: its last value

    # a scheduler that traces needs no table, so neither the run's length nor a clamp
    traced = jax.jit(compiled_schedule(lambda t, T: jnp.exp(-t / 100.0), 0, "DQN"))
    np.testing.assert_allclose(traced(250), math.exp(-2.5), rtol=1e-6)

    with pytest.raises(ValueError, match="timesteps are unknown"):
        compiled_schedule(decaying, 0, "TD3")
    with pytest.raises(TypeError, match=r"must be a function \(timestep, timesteps\)"):
        compiled_schedule(0.5, 100, "TD3")
    with pytest.raises(ValueError, match="failed: ZeroDivisionError"):
        compiled_schedule(lambda t, T: 1 / (t - 3) if t > 2 else max(t, 0), 10, "DQN")


# --- translation -------------------------------------------------------------------------------------------


def test_td3_cfg_translates_rates_noise_classes_and_keeps_the_scheduler():
    cfg = TD3_CFG(learning_rate=(1e-3, 2e-3), exploration_scheduler=decaying, policy_delay=3)
    cfg.exploration_noise = GaussianNoise
    cfg.exploration_noise_kwargs = {"mean": 0.0, "std": 0.1, "device": None}
    cfg.smooth_regularization_noise = OrnsteinUhlenbeckNoise
    cfg.smooth_regularization_noise_kwargs = {"theta": 0.15, "sigma": 0.2, "base_scale": 1.0}
    agent = TD3(models=td3_models(), memory=RandomMemory(64), cfg=cfg, state_space=None)
    assert agent.skrl_api == "2.x"
    assert (agent.cfg["actor_learning_rate"], agent.cfg["critic_learning_rate"]) == (1e-3, 2e-3)
    assert agent.cfg["exploration"]["noise"] == GaussianNoise(mean=0.0, std=0.1)
    assert agent.cfg["smooth_regularization_noise"] == OrnsteinUhlenbeckNoise(theta=0.15, sigma=0.2, base_scale=1.0)
    assert agent.cfg["exploration_scheduler"] is decaying and agent.cfg["policy_delay"] == 3

    ddpg = DDPG(models=ddpg_models(), memory=RandomMemory(64), state_space=None, cfg={"learning_rate": 5e-4})
    assert ddpg.cfg["actor_learning_rate"] == ddpg.cfg["critic_learning_rate"] == 5e-4
    assert ddpg.cfg["exploration"]["noise"] is None and ddpg.cfg["exploration_scheduler"] is None

    dqn = DQN(models=dqn_models(), memory=RandomMemory(64), cfg=DQN_CFG(target_update_interval=4))
    assert dqn.skrl_api == "2.x" and dqn.cfg["target_update_interval"] == 4
    assert DDQN(models=dqn_models(), memory=RandomMemory(64), cfg=DDQN_CFG()).double
    # a 1.4 agent keeps 1.4's exploration and has no scheduler key
    old = TD3(
        models=td3_models(), memory=RandomMemory(64), cfg={"smooth_regularization_noise": GaussianNoise(0.0, 0.2)}
    )
    assert "exploration_scheduler" not in old.cfg


def test_each_api_names_the_other_apis_keys():
    with pytest.raises(KeyError, match=r"'exploration' is skrl 1.4's: skrl 2.x's DDPG and TD3 take exploration_noise"):
        TD3(models=td3_models(), state_space=None, cfg={"exploration": {"noise": GaussianNoise(0.0, 0.1)}})
    with pytest.raises(KeyError, match=r"'critic_learning_rate' is 'learning_rate \(its second entry"):
        DDPG(models=ddpg_models(), state_space=None, cfg={"critic_learning_rate": 1e-3})
    with pytest.raises(KeyError, match=r"'exploration_scheduler' is skrl 2.x's; skrl 1.4's is cfg\['exploration'\]"):
        DQN(models=dqn_models(), memory=RandomMemory(64), cfg={"exploration_scheduler": decaying})
    with pytest.raises(KeyError, match=r"'exploration_noise' is skrl 2.x's"):
        DDPG(models=ddpg_models(), memory=RandomMemory(64), cfg={"exploration_noise": GaussianNoise})
    with pytest.raises(TypeError, match=r"exploration_noise is a noise class in skrl 2.x"):
        TD3(models=td3_models(), state_space=None, cfg=TD3_CFG(exploration_noise=GaussianNoise(0.0, 0.1)))
    with pytest.raises(TypeError, match=r"exploration_noise=GaussianNoise with exploration_noise_kwargs=\{'sigma'"):
        DDPG(
            models=ddpg_models(),
            state_space=None,
            cfg=DDPG_CFG(exploration_noise=GaussianNoise, exploration_noise_kwargs={"sigma": 1}),
        )
    with pytest.raises(ValueError, match=r"learning_rate must be one rate or \(actor, critic\)"):
        DDPG(models=ddpg_models(), state_space=None, cfg=DDPG_CFG(learning_rate=(1e-3, 1e-3, 1e-3)))


# --- acting ------------------------------------------------------------------------------------------------


def test_ddpg_2x_noise_is_scaled_by_the_scheduler_for_the_whole_run():
    # zero observations and flax's zero biases: the policy's action is 0, so the action is the added noise
    observations = jnp.zeros((3, 3))
    constant_noise = {"exploration_noise": GaussianNoise, "exploration_noise_kwargs": {"mean": 0.5, "std": 0.0}}

    agent = DDPG(
        models=ddpg_models(),
        memory=RandomMemory(64, 3),
        state_space=None,
        cfg=DDPG_CFG(exploration_scheduler=decaying, **constant_noise),
    )
    acted = act_at(agent, observations, 100, (0, 50, 99, 150))
    for timestep, (actions, _) in acted.items():
        np.testing.assert_allclose(actions, 0.5 * decaying(min(timestep, 99), 100), rtol=1e-5)

    # without a scheduler: the noise unscaled, at every step (1.4 decays it and stops after its timesteps)
    unscaled = DDPG(models=ddpg_models(), memory=RandomMemory(64, 3), state_space=None, cfg=DDPG_CFG(**constant_noise))
    for actions, _ in act_at(unscaled, observations, 100, (0, 99, 150)).values():
        np.testing.assert_allclose(actions, 0.5, rtol=1e-6)
    old = DDPG(
        models=ddpg_models(), memory=RandomMemory(64, 3), cfg={"exploration": {"noise": GaussianNoise(0.5, 0.0)}}
    )
    acted = act_at(old, observations, 100, (50, 150))
    np.testing.assert_allclose(acted[50][0], 0.5 * (0.5 * (1 - 1e-3) + 1e-3), rtol=1e-5)
    np.testing.assert_array_equal(acted[150][0], 0.0)


def test_dqn_2x_explores_by_the_scheduler_and_is_greedy_without_one():
    envs = 512
    observations = jnp.ones((envs, 4))

    def explored(actions, greedy):
        return float(np.mean(np.asarray(actions) != np.asarray(greedy)))

    greedy_agent = DQN(
        models=dqn_models(), memory=RandomMemory(16, envs), state_space=None, cfg=DQN_CFG(random_timesteps=100)
    )
    acted = act_at(greedy_agent, observations, 200, (0, 150))
    greedy = acted[150][0]
    assert explored(acted[0][0], greedy) == 0.0  # no scheduler: greedy, random_timesteps unused (skrl 2.x)
    assert "epsilon" not in acted[0][1]

    def switch(timestep, timesteps):  # a Python conditional: tabulated
        return 0.0 if timestep < timesteps // 2 else 1.0

    agent = DQN(
        models=dqn_models(), memory=RandomMemory(16, envs), state_space=None, cfg=DQN_CFG(exploration_scheduler=switch)
    )
    acted = act_at(agent, observations, 200, (0, 99, 100, 199))
    assert explored(acted[0][0], greedy) == explored(acted[99][0], greedy) == 0.0
    # epsilon 1: uniform actions, half of which differ from the greedy one
    assert 0.4 < explored(acted[100][0], greedy) < 0.6 and 0.4 < explored(acted[199][0], greedy) < 0.6
    assert [float(acted[t][1]["epsilon"]) for t in (0, 100)] == [0.0, 1.0]

    skrl_example = DQN(
        models=dqn_models(),
        memory=RandomMemory(16, envs),
        state_space=None,
        cfg=DQN_CFG(exploration_scheduler=lambda t, T: max(math.exp(-10 * t / T), 0.05)),
    )
    acted = act_at(skrl_example, observations, 1000, (0, 100, 999))
    for timestep in (0, 100, 999):
        np.testing.assert_allclose(acted[timestep][1]["epsilon"], max(math.exp(-10 * timestep / 1000), 0.05), rtol=1e-6)


# --- memory and parameters -----------------------------------------------------------------------------------


def test_random_memory_replacement_default_follows_the_agents_api():
    memory_2x, memory_14, explicit = RandomMemory(64), RandomMemory(64), RandomMemory(64, replacement=True)
    SAC(models=sac_models(True), memory=memory_2x, state_space=None)
    SAC(models=sac_models(True), memory=memory_14)
    SAC(models=sac_models(True), memory=explicit, state_space=None)
    assert (memory_2x.replacement, memory_14.replacement, explicit.replacement) == (False, True, True)
    assert RandomMemory(8).replacement is True  # on its own: skrl 1.4's default
    # a 2.x agent's batch: distinct transitions (1.4's may repeat one)
    smoothing = {
        "smooth_regularization_noise": GaussianNoise,
        "smooth_regularization_noise_kwargs": {"mean": 0, "std": 0.2},
    }
    agent = TD3(models=td3_models(), memory=RandomMemory(64), state_space=None, cfg=TD3_CFG(batch_size=32, **smoothing))
    agent.init()
    state = fill(agent.make_functions(num_envs=1), agent.state, 40, 1, 3)
    batch = sample_batch(agent.replay_config(num_envs=1), state.memory, jax.random.key(0))
    assert len(np.unique(np.asarray(batch.states), axis=0)) == 32
    with pytest.raises(TypeError, match="replacement must be True, False or None"):
        RandomMemory(8, replacement="no")


def test_the_agent_resolves_the_memorys_replacement_default_and_the_memory_holds_no_api():
    memory = RandomMemory(8)
    assert not hasattr(memory, "skrl_api")
    assert (memory.default_replacement(False), memory.replacement) == (False, False)
    assert (memory.default_replacement(True), memory.replacement) == (True, True)
    for given in (True, False):  # a replacement given to the constructor stays
        explicit = RandomMemory(8, replacement=given)
        assert explicit.default_replacement(not given) is given and explicit.replacement is given
    with pytest.raises(TypeError, match="expected True or False, got None"):
        memory.default_replacement(None)

    # each agent resolves it at construction: the last one given the memory
    SAC(models=sac_models(True), memory=memory, state_space=None)
    assert memory.replacement is False and not hasattr(memory, "skrl_api")
    SAC(models=sac_models(True), memory=memory)
    assert memory.replacement is True
    # the memory's own sampling reads the resolved value: without replacement, 8 distinct of 8
    memory = RandomMemory(8)
    SAC(models=sac_models(True), memory=memory, state_space=None)
    memory.create_tensor("index", 1)
    for step in range(8):
        memory.add_samples(index=jnp.full((1, 1), float(step)))
    drawn = [np.asarray(memory.sample(["index"], 8)[0][0]).ravel() for _ in range(5)]
    assert all(sorted(batch) == list(range(8)) for batch in drawn)
    memory.default_replacement(True)
    drawn = [np.asarray(memory.sample(["index"], 8)[0][0]).ravel() for _ in range(5)]
    assert any(len(set(batch)) < 8 for batch in drawn)  # 8 draws of 8 with replacement: a repeat (p > 0.99)


def test_init_parameters_weights_and_biases_redraw_what_skrl_names():
    actor = TD3_PORT.Actor(PENDULUM_OBSERVATION, None, PENDULUM_ACTION, None)
    actor.init_state_dict(role="policy")
    default = actor.params
    hidden = default["Dense_1"]
    assert not np.asarray(hidden["bias"]).any()  # flax: zero biases

    actor.init_parameters(method_name="normal", stddev=0.1)
    for params in (actor.params, actor.init(jax.random.key(3))):  # held ones at once, and every new init
        leaves = jax.tree_util.tree_leaves_with_path(params)
        assert {jax.tree_util.keystr(path) for path, _ in leaves} == {
            jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_leaves_with_path(default)
        }
        np.testing.assert_allclose(np.std(params["Dense_1"]["kernel"]), 0.1, rtol=0.03)  # 400 x 300 draws
        np.testing.assert_allclose(np.std(params["Dense_1"]["bias"]), 0.1, rtol=0.25)
        assert abs(float(np.mean(params["Dense_1"]["kernel"]))) < 0.01
    # each leaf its own key (skrl's JAX models draw every leaf from one key)
    assert not np.array_equal(actor.params["Dense_0"]["kernel"][:, :300], actor.params["Dense_1"]["kernel"][:3])
    np.testing.assert_array_equal(
        actor.init(jax.random.key(3))["Dense_2"]["kernel"], actor.init(jax.random.key(3))["Dense_2"]["kernel"]
    )

    critic = TD3_PORT.Critic(PENDULUM_OBSERVATION, None, PENDULUM_ACTION, None)
    critic.init_state_dict(role="critic_1")
    kernel = critic.params["Dense_0"]["kernel"]
    critic.init_biases("constant", 0.5)
    assert (np.asarray(critic.params["Dense_2"]["bias"]) == 0.5).all()
    np.testing.assert_array_equal(critic.params["Dense_0"]["kernel"], kernel)  # weights untouched
    critic.init_weights("zeros")
    assert not np.asarray(critic.init(jax.random.key(1))["Dense_1"]["kernel"]).any()
    assert (np.asarray(critic.init(jax.random.key(1))["Dense_1"]["bias"]) == 0.5).all()  # rules apply in order

    with pytest.raises(ValueError, match=r"unknown method_name 'normal_'; flax.linen.initializers has"):
        actor.init_parameters("normal_", std=0.1)
    with pytest.raises(TypeError, match=r"flax.linen.initializers.normal"):
        actor.init_parameters("normal", std=0.1)


# --- the port and the runner -------------------------------------------------------------------------------


def test_the_2x_td3_port_trains_in_the_host_loop():
    env = TD3_PORT.make_env()
    agent = TD3_PORT.make_agent(env, random_timesteps=50, learning_starts=100)
    assert agent.skrl_api == "2.x" and agent.memory.replacement is False
    # training starts from init_parameters' N(0, 0.1) draw (flax's default would give 1 / sqrt(400) = 0.05)
    np.testing.assert_allclose(np.std(agent.models["policy"].params["Dense_1"]["kernel"]), 0.1, rtol=0.03)
    SequentialTrainer(
        cfg={"timesteps": 300, "headless": True, "disable_progressbar": True}, env=env, agents=agent
    ).train()
    params = agent.state.learner.params
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(params))
    np.testing.assert_allclose(np.std(params["target_policy"]["Dense_1"]["kernel"]), 0.1, rtol=0.03)
    assert len(agent.episode_returns) == 1
    moved = params["target_policy"]["Dense_2"]["kernel"] - params["policy"]["Dense_2"]["kernel"]
    assert np.abs(np.asarray(moved)).max() > 0


def test_scheduler_expressions_are_interpreted_not_evaluated():
    for source, expected in (
        ("max(1 - timestep / timesteps, 1e-2)", decaying),
        ("max(math.exp(-10 * timestep / timesteps), 0.05)", lambda t, T: max(math.exp(-10 * t / T), 0.05)),
        ("0.5 ** (timestep // 100) % 1", lambda t, T: 0.5 ** (t // 100) % 1),
    ):
        scheduler = scheduler_from_expression(source)
        for timestep in (0, 1, 250, 999):
            assert scheduler(timestep, 1000) == expected(timestep, 1000)
    for source, message in (
        ("__import__('os').getcwd()", "unknown function"),
        ("__import__('os')", "unknown function '__import__'"),
        ("max(timestep, steps)", "unknown name 'steps'"),
        ("timestep.real", "not supported"),
        ("max(1 -", "not a valid expression"),
    ):
        with pytest.raises(ValueError, match=message):
            scheduler_from_expression(source)(1, 10)


def test_a_2x_td3_runner_configuration_trains(tmp_path):
    actor = {
        "class": "DeterministicMixin",
        "network": [{"name": "net", "input": "OBSERVATIONS", "layers": [32], "activations": "relu"}],
        "output": "2 * tanh(ACTIONS)",
    }
    critic = {
        "class": "DeterministicMixin",
        "network": [
            {"name": "net", "input": "concatenate([OBSERVATIONS, ACTIONS])", "layers": [32], "activations": "relu"}
        ],
        "output": "ONE",
    }
    roles = ("critic_1", "critic_2", "target_critic_1", "target_critic_2")
    cfg = {
        "seed": 1,
        "models": {"separate": True, "policy": actor, "target_policy": actor, **dict.fromkeys(roles, critic)},
        "memory": {"class": "RandomMemory", "memory_size": 200},
        "agent": {
            "class": "TD3",
            "batch_size": 16,
            "learning_starts": 32,
            "random_timesteps": 16,
            "exploration_noise": "GaussianNoise",
            "exploration_noise_kwargs": {"mean": 0.0, "std": 0.1},
            "exploration_scheduler": "max(1 - timestep / timesteps, 1e-2)",
            "smooth_regularization_noise": "GaussianNoise",
            "smooth_regularization_noise_kwargs": {"mean": 0.0, "std": 0.2},
            "experiment": {"directory": str(tmp_path), "write_interval": 0, "checkpoint_interval": 0},
        },
        "trainer": {"class": "SequentialTrainer", "timesteps": 80, "disable_progressbar": True},
    }
    runner = Runner(wrap_env(gym.make("Pendulum-v1")), cfg)
    agent = runner.agent
    assert runner.skrl_api == agent.skrl_api == "2.x" and agent.memory.replacement is False
    assert agent.cfg["exploration"]["noise"] == GaussianNoise(0.0, 0.1)
    assert agent.cfg["exploration_scheduler"](500, 1000) == 0.5
    runner.run("train")
    assert all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(agent.state.learner.params))


def test_ddqn_cfg_trains_on_cartpole_in_the_host_loop():
    env = wrap_env(gym.make("CartPole-v1"))
    cfg = DDQN_CFG(
        learning_starts=32, batch_size=16, exploration_scheduler=lambda t, T: max(math.exp(-10 * t / T), 0.05)
    )
    cfg.experiment.write_interval = cfg.experiment.checkpoint_interval = 0
    agent = DDQN(
        models=dqn_models(CARTPOLE_OBSERVATION, CARTPOLE_ACTION),
        memory=RandomMemory(memory_size=500, num_envs=1, replacement=False),
        observation_space=env.observation_space,
        state_space=env.state_space,
        action_space=env.action_space,
        cfg=cfg,
    )
    SequentialTrainer(
        cfg={"timesteps": 120, "headless": True, "disable_progressbar": True}, env=env, agents=agent
    ).train()
    assert agent.updates > 0 and agent.episode_returns


# --- skrl's model instantiators and the DQN port ------------------------------------------------------------

DQN_PORT = load_example("skrl2_cartpole_dqn_port")


def test_model_instantiators_build_either_apis_model_from_the_network_specification():
    from skrl_jax.utils.model_instantiators import Shape, deterministic_model, gaussian_model

    network = [{"name": "net", "input": "OBSERVATIONS", "layers": [8, 8], "activations": "relu"}]
    q = deterministic_model(
        observation_space=CARTPOLE_OBSERVATION,
        state_space=None,
        action_space=CARTPOLE_ACTION,
        device=None,
        network=network,
        output="ACTIONS",
    )
    assert q.skrl_api == "2.x"
    params = q.init(jax.random.key(0))
    layers = params["net_container"]
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    hand = x
    for name in ("layers_0", "layers_2"):
        hand = np.maximum(hand @ np.asarray(layers[name]["kernel"]) + np.asarray(layers[name]["bias"]), 0)
    hand = hand @ np.asarray(layers["layers_4"]["kernel"]) + np.asarray(layers["layers_4"]["bias"])
    values = q.act({"observations": jnp.asarray(x), "states": None}, role="q_network", params=params)[0]
    np.testing.assert_allclose(values, hand, rtol=1e-5, atol=1e-6)

    # skrl 1.4's positional call with the arguments from before 1.3: STATES are the observations
    with pytest.warns(DeprecationWarning, match="converted to network/output"):
        policy = gaussian_model(
            PENDULUM_OBSERVATION,
            PENDULUM_ACTION,
            None,
            True,
            input_shape=Shape.STATES,
            hiddens=[16],
            hidden_activation=["elu"],
            output_shape=Shape.ACTIONS,
            output_activation="tanh",
            output_scale=2.0,
        )
    assert policy.skrl_api == "1.4"
    params = policy.init(jax.random.key(1))
    mean = policy.apply(params, {"states": jnp.ones((2, 3))}, "policy")[0]
    assert mean.shape == (2, 1) and float(jnp.abs(mean).max()) <= 2.0
    assert params["log_std_parameter"].shape == (1,)

    with pytest.raises(NotImplementedError, match="generates no source code"):
        deterministic_model(
            observation_space=CARTPOLE_OBSERVATION, network=network, output="ACTIONS", return_source=True
        )
    with pytest.raises(
        ValueError, match="reads STATES, which in a skrl 2.x configuration is the environment's privileged"
    ):
        deterministic_model(
            observation_space=CARTPOLE_OBSERVATION,
            state_space=None,
            action_space=CARTPOLE_ACTION,
            network=[{"name": "net", "input": "STATES", "layers": [8], "activations": "relu"}],
            output="ACTIONS",
        )


def test_the_2x_dqn_port_trains_in_the_host_loop():
    env = DQN_PORT.make_env()
    agent = DQN_PORT.make_agent(env, learning_starts=64)
    assert agent.skrl_api == "2.x" and agent.memory.replacement is False
    q_network = agent.models["q_network"]
    assert 0.08 < float(np.std(q_network.params["net_container"]["layers_2"]["kernel"])) < 0.12  # init_parameters
    SequentialTrainer(
        cfg={"timesteps": 300, "headless": True, "disable_progressbar": True}, env=env, agents=agent
    ).train()
    params = agent.state.learner.params
    assert agent.updates > 0 and all(np.isfinite(leaf).all() for leaf in jax.tree.leaves(params))
    assert len(agent.episode_returns) >= 5


def test_a_2x_target_bootstraps_through_a_truncation_and_the_host_loop_records_the_last_observation():
    from skrl_jax.agents.core import Transition

    def batch_of(agent):
        agent.init()
        functions = agent.make_functions(num_envs=1)
        state = functions.init(jax.random.key(0))
        flags = {"terminated": [0, 0, 1], "truncated": [0, 1, 0]}
        for step in range(3):
            observations = jnp.full((1, 4), float(step))
            terminated, truncated = (jnp.asarray([[bool(flags[name][step])]]) for name in ("terminated", "truncated"))
            transition = Transition(
                observations, jnp.zeros((1, 1), jnp.int32), jnp.ones((1, 1)), observations + 0.5, terminated, truncated
            )
            state = functions.record(state, transition, {}, step)
        batch = sample_batch(agent.replay_config(num_envs=1), state.memory, jax.random.key(1))
        return {int(row[0]): float(done[0]) for row, done in zip(np.asarray(batch.states), np.asarray(batch.dones))}

    cfg = {"batch_size": 3, "learning_starts": 3}
    new = batch_of(DQN(models=dqn_models(), memory=RandomMemory(8, replacement=False), state_space=None, cfg=cfg))
    old = batch_of(DQN(models=dqn_models(), memory=RandomMemory(8, replacement=False), cfg=cfg))
    assert new == {0: 0.0, 1: 0.0, 2: 1.0}  # skrl 2.x: only a termination ends a target
    assert old == {0: 0.0, 1: 1.0, 2: 1.0}  # skrl 1.4: a truncation too
    # the explicit cfg key flips either API
    flipped = {"batch_size": 3, "learning_starts": 3, "bootstrap_at_truncation": True}
    assert batch_of(DQN(models=dqn_models(), memory=RandomMemory(8, replacement=False), cfg=flipped)) == new
    flipped = DQN_CFG(batch_size=3, learning_starts=3, bootstrap_at_truncation=False)
    assert (
        batch_of(DQN(models=dqn_models(), memory=RandomMemory(8, replacement=False), state_space=None, cfg=flipped))
        == old
    )

    # the host loop records the last observation of an episode as its transition's next observation
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    agent = DQN(models=dqn_models(), memory=RandomMemory(64, 2), cfg={"learning_starts": 1000})
    SequentialTrainer(
        env=env, agents=agent, cfg={"timesteps": 40, "headless": True, "disable_progressbar": True}
    ).train()
    tensors = {name: np.asarray(value[:40]) for name, value in agent.memory.state.tensors.items()}
    ended = tensors["terminated"][..., 0]
    assert ended.any()
    last = tensors["next_states"][ended]
    assert ((np.abs(last[:, 2]) > 0.2) | (np.abs(last[:, 0]) > 2.4)).all()  # the pole fell or the cart left


@pytest.mark.filterwarnings("ignore:TD3. no smooth regularization noise")
@pytest.mark.parametrize(
    "agent_class, cfg_class, models", [(SAC, SAC_CFG, sac_models), (TD3, TD3_CFG, td3_models)], ids=["SAC", "TD3"]
)
def test_bootstrap_at_truncation_sets_the_targets_in_either_api(agent_class, cfg_class, models):
    """A replay memory of truncated, non-terminated transitions of reward 1: a target that stops at
    the truncation is the reward (1); one that bootstraps adds the discounted next value. The cfg
    key, not the API, decides."""
    from skrl_jax.agents.core import Transition

    def targets(cfg, **api):
        agent = agent_class(models=models(), memory=RandomMemory(8, replacement=False), cfg=cfg, **api)
        agent.init()
        functions = agent.make_functions(num_envs=1)
        state = functions.init(jax.random.key(0))
        for step in range(4):
            observations = jnp.asarray([[np.cos(step), np.sin(step), 0.1 * step]], jnp.float32)
            transition = Transition(
                observations,
                jnp.full((1, 1), 0.5),
                jnp.ones((1, 1)),
                observations + 0.5,
                jnp.zeros((1, 1), bool),  # not terminated
                jnp.ones((1, 1), bool),  # truncated
            )
            state = functions.record(state, transition, {}, step)
        _, metrics = functions.update(state, jax.random.key(1), 4)
        return np.asarray([metrics[f"target_{name}"] for name in ("min", "max", "mean")])

    old_default = targets({"batch_size": 4})
    old_flipped = targets({"batch_size": 4, "bootstrap_at_truncation": True})
    new_default = targets(cfg_class(batch_size=4), state_space=None)
    new_flipped = targets(cfg_class(batch_size=4, bootstrap_at_truncation=False), state_space=None)
    np.testing.assert_array_equal(old_default, [1.0, 1.0, 1.0])  # skrl 1.4: the truncation ends the target
    np.testing.assert_array_equal(new_flipped, [1.0, 1.0, 1.0])
    assert np.all(np.abs(new_default - 1.0) > 1e-4)  # skrl 2.x: r + gamma * next value
    np.testing.assert_allclose(old_flipped, new_default, rtol=1e-6)  # the key, not the API
    with pytest.raises(TypeError, match=r"cfg\['bootstrap_at_truncation'\] must be True .* or False .*, got 'yes'"):
        agent_class(models=models(), memory=RandomMemory(8), cfg={"bootstrap_at_truncation": "yes"})
