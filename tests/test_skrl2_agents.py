"""skrl 2.x's agent, trainer and script API beside 1.4's: configurations and their translation, the
renamed keys' errors, 2.x's act / record_transition, and the same script in both APIs training alike."""

import dataclasses

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks._examples import load_example
from skrl_jax.agents.a2c import A2C, A2C_CFG
from skrl_jax.agents.configs import DDPG_CFG, DDQN_CFG, DQN_CFG, SAC_CFG, TD3_CFG, ExperimentCfg
from skrl_jax.agents.ppo import PPO, PPO_CFG, PPO_DEFAULT_CONFIG
from skrl_jax.agents.rpo import RPO_CFG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import SequentialTrainer, SequentialTrainerCfg
from tests.models import CARTPOLE_ACTION, CARTPOLE_OBSERVATION, CategoricalPolicy, Value

SHARED_2X = load_example("skrl2_shared_cartpole_ppo")
SHARED_14 = load_example("skrl_shared_cartpole_ppo")


def cartpole_models_2x():
    model = SHARED_2X.Shared(CARTPOLE_OBSERVATION, None, CARTPOLE_ACTION, None)
    return {"policy": model, "value": model}


def separate_models_14():
    return {
        "policy": CategoricalPolicy(CARTPOLE_OBSERVATION, CARTPOLE_ACTION),
        "value": Value(CARTPOLE_OBSERVATION, CARTPOLE_ACTION),
    }


def agent_2x(cfg=None, models=None, **kwargs):
    return PPO(
        models=models or cartpole_models_2x(),
        memory=RandomMemory(memory_size=16, num_envs=2),
        observation_space=CARTPOLE_OBSERVATION,
        state_space=None,
        action_space=CARTPOLE_ACTION,
        cfg=cfg,
        **kwargs,
    )


def test_a_2x_agent_takes_2x_defaults_and_translates_them_to_what_the_update_reads():
    agent = agent_2x({})
    assert agent.skrl_api == "2.x"
    defaults = PPO_CFG()
    assert agent.cfg["lambda"] == defaults.gae_lambda == 0.95
    assert agent.cfg["value_loss_scale"] == 2.5 != PPO_DEFAULT_CONFIG["value_loss_scale"]
    assert agent.cfg["clip_predicted_values"] is True  # 2.x clips whenever value_clip > 0
    assert agent_2x({"value_clip": 0.0}).cfg["clip_predicted_values"] is False
    assert agent.config.loss_settings.value_loss_scale == 2.5

    cfg = PPO_CFG(gae_lambda=0.9, observation_preprocessor=RunningStandardScaler)
    cfg.observation_preprocessor_kwargs = {"size": CARTPOLE_OBSERVATION}
    cfg.experiment.write_interval = 7
    agent = agent_2x(cfg)
    assert agent.cfg["lambda"] == agent.config.lambda_ == 0.9
    assert agent.cfg["state_preprocessor"] is RunningStandardScaler
    assert agent.config.state_preprocessor.size == 4
    assert agent.cfg["experiment"]["write_interval"] == 7

    old = PPO(models=separate_models_14(), cfg={}, observation_space=CARTPOLE_OBSERVATION, action_space=CARTPOLE_ACTION)
    assert old.skrl_api == "1.4" and old.cfg["value_loss_scale"] == 1.0 and old.cfg["clip_predicted_values"] is False
    assert A2C_CFG().mini_batches == 1 and RPO_CFG().alpha == 0.5
    a2c = A2C(models=cartpole_models_2x(), state_space=None, cfg=A2C_CFG(gae_lambda=0.5))
    assert a2c.skrl_api == "2.x" and a2c.config.lambda_ == 0.5


def test_a_key_of_the_other_api_names_its_counterpart():
    with pytest.raises(KeyError, match=r"'lambda' is 'gae_lambda' in skrl 2.x"):
        agent_2x({"lambda": 0.9})
    with pytest.raises(KeyError, match=r"'clip_predicted_values' is skrl 1.4's: skrl 2.x clips .* value_clip > 0"):
        agent_2x({"clip_predicted_values": True})
    with pytest.raises(KeyError, match=r"did you mean 'gae_lambda'"):
        agent_2x({"gae_lamda": 0.9})
    with pytest.raises(KeyError, match=r"'gae_lambda' is skrl 2.x's name for 1.4's 'lambda'.*built the skrl 1.4 way"):
        PPO(models=separate_models_14(), cfg={"gae_lambda": 0.9})
    with pytest.raises(KeyError, match=r"'observation_preprocessor' is skrl 2.x's name for 1.4's 'state_preprocessor'"):
        PPO(models=separate_models_14(), cfg={"observation_preprocessor": RunningStandardScaler})
    with pytest.raises(ValueError, match="privileged states' preprocessor.*no state_space.*observation_preprocessor"):
        agent_2x({"state_preprocessor": RunningStandardScaler})
    with pytest.raises(TypeError, match="cfg must be a PPO_CFG or a dict of its keys, got A2C_CFG"):
        agent_2x(A2C_CFG())


def test_a_misspelt_config_field_is_an_error_naming_the_closest_field():
    cfg = PPO_CFG()
    with pytest.raises(AttributeError, match=r"^PPO_CFG has no field 'gae_lamda'; did you mean 'gae_lambda'\?$"):
        cfg.gae_lamda = 0.9
    assert not hasattr(cfg, "gae_lamda") and cfg.gae_lambda == 0.95
    with pytest.raises(TypeError, match=r"^PPO_CFG has no field 'gae_lamda'; did you mean 'gae_lambda'\?$"):
        PPO_CFG(gae_lamda=0.9)
    with pytest.raises(
        AttributeError, match=r"^ExperimentCfg has no field 'write_intervall'; did you mean 'write_interval'"
    ):
        cfg.experiment.write_intervall = 7
    with pytest.raises(TypeError, match=r"^ExperimentCfg has no field 'directry'; did you mean 'directory'"):
        ExperimentCfg(directry="runs")
    for cls in (PPO_CFG, RPO_CFG, A2C_CFG, SAC_CFG, TD3_CFG, DDPG_CFG, DQN_CFG, DDQN_CFG):
        with pytest.raises(
            AttributeError, match=rf"^{cls.__name__} has no field 'discount_factr'; did you mean 'discount_factor'"
        ):
            cls().discount_factr = 0.9
        with pytest.raises(
            TypeError, match=rf"^{cls.__name__} has no field 'discount_factr'; did you mean 'discount_factor'"
        ):
            cls(discount_factr=0.9)
    # no close field: the fields; a 1.4 key: its 2.x name
    with pytest.raises(AttributeError, match=r"has no field 'zzz'; its fields are \[.*'gae_lambda'.*\]$"):
        cfg.zzz = 1
    with pytest.raises(AttributeError, match=r"skrl 1.4's 'lambda' is 'gae_lambda' in skrl 2.x"):
        setattr(cfg, "lambda", 0.9)

    # known fields assign, as before, and reach the agent
    cfg.gae_lambda = 0.9
    cfg.experiment.write_interval = 7
    cfg = dataclasses.replace(cfg, rollouts=8)
    assert (cfg.gae_lambda, cfg.rollouts, cfg.experiment.write_interval) == (0.9, 8, 7)
    agent = agent_2x(cfg)
    assert agent.cfg["lambda"] == 0.9 and agent.cfg["rollouts"] == 8 and agent.cfg["experiment"]["write_interval"] == 7

    trainer_cfg = SequentialTrainerCfg()  # the trainer's 2.x configuration too
    with pytest.raises(AttributeError, match="SequentialTrainerCfg has no field 'timestep'; did you mean 'timesteps'"):
        trainer_cfg.timestep = 10
    with pytest.raises(TypeError, match="did you mean 'headless'"):
        SequentialTrainerCfg(headles=True)


def test_a_learning_rate_pair_scales_the_value_of_separate_models_and_is_refused_for_a_shared_one():
    models = {
        "policy": CategoricalPolicy(CARTPOLE_OBSERVATION, CARTPOLE_ACTION),
        "value": Value(CARTPOLE_OBSERVATION, CARTPOLE_ACTION),
    }
    agent = agent_2x({"learning_rate": (1e-3, 4e-3)}, models=models)
    assert agent.cfg["learning_rate"] == 1e-3 and agent.cfg["role_learning_rate_scale"] == {"value": 4.0}
    assert agent_2x({"learning_rate": (2e-3, 2e-3)}).cfg["learning_rate"] == 2e-3
    with pytest.raises(ValueError, match="one shared model trained by one optimizer"):
        agent_2x({"learning_rate": (1e-3, 4e-3)})


def test_2x_act_and_record_transition_take_observations_and_states_and_refuse_1x_calls():
    agent = agent_2x({"rollouts": 16})
    agent.init(trainer_cfg=SequentialTrainerCfg(timesteps=16))
    observations = jnp.ones((2, 4))
    actions, outputs = agent.act(observations, None, timestep=0, timesteps=16)
    assert actions.shape == (2, 1) and outputs["log_prob"].shape == (2, 1)
    agent.record_transition(
        observations=observations,
        states=None,
        actions=actions,
        rewards=jnp.ones((2, 1)),
        next_observations=observations,
        next_states=None,
        terminated=jnp.zeros((2, 1), bool),
        truncated=jnp.zeros((2, 1), bool),
        infos={},
        timestep=0,
        timesteps=16,
    )
    assert int(agent.memory.state.index) == 1
    np.testing.assert_array_equal(agent.memory.get_tensor_by_name("actions")[0], actions)
    with pytest.raises(TypeError, match=r"built the skrl 2.x way; act\(states, timestep, timesteps"):
        agent.act(observations, 0, 16)
    with pytest.raises(TypeError, match=r"record_transition.*built the skrl 2.x way"):
        agent.record_transition(observations, actions, jnp.ones((2, 1)), observations, None, None, {}, 1, 16)
    with pytest.raises(ValueError, match="got states .* built with state_space=None"):
        agent.act(observations, jnp.ones((2, 3)), timestep=1, timesteps=16)
    old = PPO(models=separate_models_14(), memory=RandomMemory(16, 2), cfg={"rollouts": 16})
    old.init()
    actions, log_prob, outputs = old.act(observations, 0, 16)
    assert log_prob.shape == (2, 1)
    with pytest.raises(TypeError, match=r"built the skrl 1.4 way; act\(observations, states=None, \*, timestep"):
        old.act(observations, None, timestep=0, timesteps=16)


def test_the_2x_trainer_takes_keywords_and_its_cfg_object():
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync"))
    agent = agent_2x({"rollouts": 16, "mini_batches": 2})
    cfg = SequentialTrainerCfg(timesteps=40, headless=True, disable_progressbar=True)
    trainer = SequentialTrainer(env=env, agents=agent, scopes=None, cfg=cfg)
    assert trainer.cfg["timesteps"] == 40 and dataclasses.asdict(cfg)["render_interval"] == 1
    trainer.train()
    assert agent.updates == 2
    with pytest.raises(TypeError, match="not both"):
        SequentialTrainer(env=env, agents=agent, agents_scope=[2], scopes=[2], cfg=cfg)


@pytest.mark.parametrize("compiled", [False, True])
def test_the_shared_cartpole_script_trains_alike_in_both_apis(compiled):
    """The two example scripts are one task in two APIs: the same seed gives the same returns,
    in the host loop and in the compiled trainer."""
    timesteps = 300 if not compiled else 1024
    returns = {}
    for name, script in (("1.4", SHARED_14), ("2.x", SHARED_2X)):
        returns[name] = script.train(seed=3, timesteps=timesteps, compiled=compiled, progress=False)
    assert np.isfinite(returns["1.4"]) and returns["1.4"] > 0
    assert returns["1.4"] == returns["2.x"]


def test_the_2x_pendulum_port_reads_as_the_1x_port_but_for_2x_semantics():
    new = load_example("skrl2_pendulum_ppo_port")
    old = load_example("skrl_pendulum_ppo_port")
    env = new.make_env(num_envs=2)
    new_agent, old_agent = new.make_agent(env, rollouts=8), old.make_agent(env, rollouts=8)
    assert new_agent.skrl_api == "2.x" and old_agent.skrl_api == "1.4"

    def without_device(value):  # skrl's 2.x example passes the preprocessors device=env.device
        return {k: v for k, v in value.items() if k != "device"} if isinstance(value, dict) else value

    differing = {key for key in new_agent.cfg if without_device(new_agent.cfg[key]) != old_agent.cfg[key]}
    # 2.x clips the predicted values since value_clip > 0; the 2.x port writes no TensorBoard data
    assert differing == {"clip_predicted_values", "experiment"}
    assert (new_agent.cfg["clip_predicted_values"], old_agent.cfg["clip_predicted_values"]) == (True, False)
    new_agent = new.make_agent(env, rollouts=32)
    new_agent.init(trainer_cfg={"timesteps": 16})
    actions, outputs = new_agent.act(jnp.zeros((2, 3)), None, timestep=0, timesteps=16)
    assert actions.shape == (2, 1) and np.all(np.abs(outputs["mean_actions"]) <= 2.0)
    env.close()


def test_a_2x_scripts_library_lines_run():
    from skrl_jax import config, logger
    from skrl_jax.utils import set_seed

    config.jax.backend = "numpy"
    assert config.jax.backend == "numpy"
    with pytest.raises(ValueError, match='"numpy" or "jax"'):
        config.jax.backend = "torch"
    seed = set_seed(None)
    assert isinstance(seed, int) and config.get_seed() == seed
    np.testing.assert_array_equal(jax.random.key_data(config.jax.key), jax.random.key_data(config.default_key(0)))
    set_seed(0)
    logger.info("skrl's logger")


def test_sac_takes_2x_configuration():
    from skrl_jax.agents.sac import SAC, SAC_CFG
    from tests.test_off_policy import sac_models

    agent = SAC(
        models=sac_models(True),
        memory=RandomMemory(64),
        state_space=None,
        cfg=SAC_CFG(learning_rate=(1e-3, 2e-3, 3e-3)),
    )
    assert agent.skrl_api == "2.x"
    rates = [agent.cfg[f"{net}_learning_rate"] for net in ("actor", "critic", "entropy")]
    assert rates == [1e-3, 2e-3, 3e-3]
    assert (
        SAC(models=sac_models(True), state_space=None, cfg={"learning_rate": 5e-4}).cfg["critic_learning_rate"] == 5e-4
    )
    with pytest.raises(KeyError, match=r"'actor_learning_rate' is 'learning_rate \(its first entry"):
        SAC(models=sac_models(True), state_space=None, cfg={"actor_learning_rate": 1e-3})
