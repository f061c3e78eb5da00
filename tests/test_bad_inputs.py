"""Bad input through the public API: each gets a Python error naming the argument or cfg key, what
was expected and what came, before anything is compiled (or a NaN inside jit where values are
not known). One test per kind of mistake; the README's failure table names them."""

import flax.linen as nn
import gymnasium as gym
import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from skrl_jax import config
from skrl_jax.agents.a2c import A2C
from skrl_jax.agents.dqn import DQN
from skrl_jax.agents.ppo import PPO
from skrl_jax.agents.rpo import RPO
from skrl_jax.agents.sac import SAC
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import (
    CategoricalHead,
    DeterministicHead,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultiCategoricalHead,
    MultivariateGaussianMixin,
    shared_model,
)
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer
from tests.models import (
    CARTPOLE_ACTION,
    CARTPOLE_OBSERVATION,
    PENDULUM_ACTION,
    PENDULUM_OBSERVATION,
    CategoricalPolicy,
    CategoricalShared,
    SharedModel,
    Value,
)
from tests.test_off_policy import dqn_models, sac_models

QUIET = {"experiment": {"write_interval": 0, "checkpoint_interval": 0}}
TRAINER = {"headless": True, "disable_progressbar": True}


def pendulum_ppo(rollouts=4, num_envs=2, **cfg):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    return PPO(
        models={"policy": model, "value": model},
        memory=RandomMemory(rollouts, num_envs),
        cfg={"rollouts": rollouts, "mini_batches": 1, "learning_epochs": 1, **QUIET, **cfg},
    )


@pytest.fixture
def debug_nans():
    config.set_debug_nans(True)
    yield
    config.set_debug_nans(False)


# 1 -------------------------------------------------------------------------------------------


class NanRewardPendulum(gym.Wrapper):
    """Pendulum whose third step returns a NaN reward."""

    def reset(self, **kwargs):
        self.steps = 0
        return self.env.reset(**kwargs)

    def step(self, action):
        observation, reward, terminated, truncated, info = self.env.step(action)
        self.steps += 1
        return observation, np.nan if self.steps == 3 else reward, terminated, truncated, info


def test_debug_nans_names_what_was_not_finite_the_environment_and_the_timestep(debug_nans):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION).init_state_dict()
    states = jnp.zeros((4, 3)).at[2, 1].set(jnp.nan)
    with pytest.raises(
        ValueError, match=r"SharedModel: observations \(inputs\['states'\]\) are not finite: nan in batch row 2"
    ):
        model.act({"states": states}, "policy")
    with pytest.raises(ValueError, match="observations .* are not finite"):
        model.apply(model.params, states, "value")
    jax.jit(lambda p, x: model.apply(p, x, "value"))(model.params, states)  # traced: not checked

    env = wrap_env(NanRewardPendulum(gym.make("Pendulum-v1")))
    agent = pendulum_ppo(num_envs=1)
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": 6, **TRAINER})
    with pytest.raises(ValueError, match=r"PPO at timestep 7: observations are not finite: inf in environment 0"):
        agent.act(jnp.zeros((1, 3)).at[0, 2].set(jnp.inf), 7, 10)
    with pytest.raises(ValueError, match=r"PPO at timestep 2: rewards are not finite: nan in environment 0"):
        trainer.train()


def test_debug_nans_is_off_by_default():
    assert not config.debug_nans()
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION).init_state_dict()
    actions, _, _ = model.act({"states": jnp.full((2, 3), jnp.nan)}, "policy")
    assert np.isnan(np.asarray(actions)).all()


# 2 -------------------------------------------------------------------------------------------


class ParameterOutputs(GaussianMixin, MultivariateGaussianMixin, DeterministicMixin, Model):
    """Returns parameters of chosen shapes as its outputs, whatever the batch."""

    def __init__(self, observation_space, action_space, log_std_shape=(1,), mean_shape=None, value_shape=None):
        Model.__init__(self, observation_space, action_space)
        GaussianMixin.__init__(self, role="policy")
        MultivariateGaussianMixin.__init__(self, role="multivariate")
        DeterministicMixin.__init__(self, clip_actions=True, role="deterministic")
        self.log_std_shape, self.mean_shape, self.value_shape = log_std_shape, mean_shape, value_shape

    def setup(self):
        self.mean = nn.Dense(self.num_actions)
        self.log_std = self.param("log_std", nn.initializers.zeros, self.log_std_shape)
        self.constant = self.param("constant", nn.initializers.zeros, self.mean_shape or (1,))

    def compute(self, inputs, role):
        states = inputs["states"]
        mean = self.constant if self.mean_shape else self.mean(states)
        if role == "deterministic":
            return (mean if self.value_shape is None else jnp.zeros((*states.shape[:-1], *self.value_shape))), {}
        return mean, self.log_std, {}


@pytest.mark.parametrize(
    "settings, role, message",
    [
        (
            {"log_std_shape": (2,)},
            "policy",
            r"returned log_std of shape \(2,\) for GaussianMixin, which does not fit mean_actions of shape \(8, 1\)",
        ),
        (
            {"log_std_shape": (8, 2)},
            "multivariate",
            r"returned log_std of shape \(8, 2\) for MultivariateGaussianMixin",
        ),
        ({"mean_shape": (1,)}, "policy", r"returned mean_actions of shape \(1,\) for GaussianMixin; expected \(8, 1\)"),
        (
            {"value_shape": (2,)},
            "deterministic",
            r"returned actions of shape \(8, 2\) for DeterministicMixin; expected \(8, 1\)",
        ),
        ({"value_shape": ()}, "deterministic", r"returned actions of shape \(8,\) for DeterministicMixin"),
    ],
)
def test_outputs_of_the_wrong_shape_name_the_model_role_and_shapes(settings, role, message):
    model = ParameterOutputs(PENDULUM_OBSERVATION, PENDULUM_ACTION, **settings)
    params = model.init(jax.random.key(0))
    inputs = {"states": jnp.zeros((8, 3))}
    with pytest.raises(ValueError, match=rf"ParameterOutputs.compute\(inputs, role='{role}'\) {message}"):
        model.act(inputs, role, params=params, key=jax.random.key(1))
    with pytest.raises(ValueError, match=message):  # shapes are static: the same error inside jit
        jax.jit(lambda p, k: model.act(inputs, role, params=p, key=k))(params, jax.random.key(1))


def test_log_std_of_either_documented_shape_is_accepted():
    for log_std_shape in [(1,), (8, 1), ()]:
        model = ParameterOutputs(PENDULUM_OBSERVATION, PENDULUM_ACTION, log_std_shape=log_std_shape)
        actions, log_prob, _ = model.act(
            {"states": jnp.zeros((8, 3))}, "policy", params=model.init(jax.random.key(0)), key=jax.random.key(1)
        )
        assert actions.shape == (8, 1) and log_prob.shape == (8, 1)


# 3 -------------------------------------------------------------------------------------------


def test_categorical_taken_actions_out_of_range_or_not_whole_are_refused():
    model = CategoricalPolicy(CARTPOLE_OBSERVATION, CARTPOLE_ACTION).init_state_dict()
    params, states = model.params, jnp.zeros((3, 4))

    def log_prob_of(taken, **kwargs):
        return model.act({"states": states, "taken_actions": taken}, "policy", **kwargs)[1]

    in_range = r"must be whole action indices in \[0, 2\) \(Discrete\(2\)\)"
    for taken, got in [([[0], [2], [1]], r"got 2 at index \(1, 0\)"), ([[0], [-1], [1]], r"got -1 at index \(1, 0\)")]:
        with pytest.raises(
            ValueError,
            match=rf"CategoricalMixin: taken_actions for role 'policy' of CategoricalPolicy {in_range}, {got}",
        ):
            log_prob_of(jnp.asarray(taken), params=params, key=jax.random.key(0))  # eager, pure
        with pytest.raises(ValueError, match=got):
            log_prob_of(jnp.asarray(taken))  # eager, through the model's compiled call
    with pytest.raises(ValueError, match=r"got 1\.5 at index \(2, 0\)"):
        log_prob_of(jnp.asarray([[0.0], [1.0], [1.5]]))
    with pytest.raises(TypeError, match="must be action indices .*, got dtype complex64"):
        log_prob_of(jnp.asarray([[0], [1], [1]], jnp.complex64), params=params, key=jax.random.key(0))

    # inside jit the values are not known: such an action's log-probability is NaN (not a wrapped index)
    traced = jax.jit(lambda taken: log_prob_of(taken, params=params, key=jax.random.key(0)))
    log_prob = np.asarray(traced(jnp.asarray([[2], [-1], [1]])))[:, 0]
    assert np.isnan(log_prob[:2]).all() and np.isfinite(log_prob[2])
    log_prob = np.asarray(traced(jnp.asarray([[1.5], [0.0], [1.0]])))[:, 0]
    assert np.isnan(log_prob[0]) and np.isfinite(log_prob[1:]).all()  # whole floats (skrl's float memory) are fine

    multi = shared_model(
        CARTPOLE_OBSERVATION, gym.spaces.MultiDiscrete([3, 2]), trunk=None, heads={"policy": MultiCategoricalHead()}
    )
    with pytest.raises(
        ValueError,
        match=r"MultiCategoricalMixin: .*whole action indices in \[0, 2\) for branch 1 .*, got 2 at index \(0, 1\)",
    ):
        multi.act(
            {"states": jnp.zeros((1, 4)), "taken_actions": jnp.asarray([[2, 2]])},
            "policy",
            params=multi.init(jax.random.key(0)),
            key=jax.random.key(0),
        )


# 4 -------------------------------------------------------------------------------------------


def test_gaussian_taken_actions_of_the_wrong_width_are_refused():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    params = model.init(jax.random.key(0))
    states = jnp.zeros((8, 3))
    for taken in (jnp.zeros((8, 2)), jnp.zeros((8,))):
        message = rf"GaussianMixin: taken_actions for role 'policy' of SharedModel must have shape \(8, 1\) .*, got \({taken.shape[0]},"
        with pytest.raises(ValueError, match=message):
            model.act({"states": states, "taken_actions": taken}, "policy", params=params, key=jax.random.key(0))
        with pytest.raises(ValueError, match=message):
            jax.jit(
                lambda p, t: model.act(
                    {"states": states, "taken_actions": t}, "policy", params=p, key=jax.random.key(0)
                )
            )(params, taken)


# 5 -------------------------------------------------------------------------------------------


def test_get_entropy_of_an_unknown_role_is_refused():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    _, _, outputs = model.act(
        {"states": jnp.zeros((2, 3))}, "policy", params=model.init(jax.random.key(0)), key=jax.random.key(1)
    )
    with pytest.raises(
        ValueError, match=r"unknown role 'polcy' for SharedModel: the declared roles are 'policy', 'value'"
    ):
        model.get_entropy(outputs, "polcy")
    assert np.isfinite(np.asarray(model.get_entropy(outputs, "policy"))).all()


# 6 -------------------------------------------------------------------------------------------


def test_sequential_trainer_refuses_actions_the_environment_does_not_take_and_bad_timesteps():
    env = wrap_env(gym.make("Acrobot-v1"))  # 6 observations, Discrete(3) actions
    model = CategoricalShared(env.observation_space, gym.spaces.Discrete(2))
    agent = PPO(models={"policy": model, "value": model}, memory=RandomMemory(4), cfg={"rollouts": 4, **QUIET})
    with pytest.raises(ValueError, match=r"the policy acts in Discrete\(2\) but the environment takes Discrete\(3\)"):
        SequentialTrainer(env, agent, cfg={"timesteps": 8, **TRAINER})
    agent = pendulum_ppo(num_envs=1)
    env = wrap_env(gym.make("Pendulum-v1"))
    with pytest.raises(ValueError, match=r"SequentialTrainer: cfg\['timesteps'\] must be an int >= 1, got -5"):
        SequentialTrainer(env, agent, cfg={"timesteps": -5, **TRAINER})
    with pytest.raises(TypeError, match=r"cfg\['timesteps'\] must be an int >= 1, got 2\.5 \(float\)"):
        SequentialTrainer(env, agent, cfg={"timesteps": 2.5, **TRAINER})
    with pytest.raises(TypeError, match="SequentialTrainer trains skrl_jax agents .*, got str"):
        SequentialTrainer(env, "PPO", cfg=TRAINER)


# 7 -------------------------------------------------------------------------------------------


def test_sequential_trainer_with_the_cfg_passed_as_agents_scope():
    env = wrap_env(gym.make("Pendulum-v1"))
    with pytest.raises(
        TypeError,
        match=r"agents_scope got a dict \{'timesteps': 8\}; pass the trainer's configuration as cfg=\{'timesteps': 8\}",
    ):
        SequentialTrainer(env, pendulum_ppo(num_envs=1), {"timesteps": 8})


# 8 -------------------------------------------------------------------------------------------


def test_compiled_trainer_timesteps_num_envs_and_chunks():
    env = wrap_env(gymnax.make("CartPole-v1")[0])
    model = shared_model(
        env.observation_space, env.action_space, None, {"policy": CategoricalHead(), "value": DeterministicHead()}
    )
    agent = PPO(models={"policy": model, "value": model}, cfg={"rollouts": 16, "mini_batches": 1, **QUIET})
    for key, value, error, message in [
        ("num_envs", 0, ValueError, "must be an int >= 1, got 0"),
        ("num_envs", -2, ValueError, "must be an int >= 1, got -2"),
        ("num_envs", 2.0, TypeError, r"must be an int >= 1, got 2\.0 \(float\)"),
        ("updates_per_chunk", -3, ValueError, "must be None or an int >= 1, got -3|must be an int >= 1, got -3"),
        (
            "timesteps",
            8,
            ValueError,
            r"=8 is not a multiple of the update length \(16 steps.*pass timesteps=16",
        ),
    ]:
        with pytest.raises(error, match=rf"CompiledTrainer: cfg\['{key}'\].*{message}"):
            CompiledTrainer(env, agent, cfg={"num_envs": 2, key: value})
    with pytest.warns(
        UserWarning,
        match=r"timesteps'\]=40 is not a multiple of the update length \(16 steps.*stops after 2 updates \(32 timesteps\); pass timesteps=32 or 48",
    ):
        trainer = CompiledTrainer(env, agent, cfg={"timesteps": 40, "num_envs": 2, "disable_progressbar": True})
    assert trainer.num_updates == 2


# 9 -------------------------------------------------------------------------------------------


def on_policy(agent_class, **cfg):
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    return agent_class(models={"policy": model, "value": model}, cfg=cfg)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: on_policy(PPO, rollouts=0), ValueError, r"PPO: cfg\['rollouts'\] must be an int >= 1, got 0"),
        (lambda: on_policy(PPO, rollouts=-5), ValueError, r"PPO: cfg\['rollouts'\] must be an int >= 1, got -5"),
        (
            lambda: on_policy(PPO, mini_batches=2.5),
            TypeError,
            r"PPO: cfg\['mini_batches'\] must be an int >= 1, got 2\.5 \(float\)",
        ),
        (lambda: on_policy(PPO, learning_epochs=0), ValueError, r"cfg\['learning_epochs'\] must be an int >= 1, got 0"),
        (
            lambda: on_policy(PPO, discount_factor=1.5),
            ValueError,
            r"PPO: cfg\['discount_factor'\] must be a number in \[0, 1\], got 1\.5 \(skrl does not check it",
        ),
        (
            lambda: on_policy(PPO, **{"lambda": -1}),
            ValueError,
            r"PPO: cfg\['lambda'\] must be a number in \[0, 1\], got -1",
        ),
        (lambda: on_policy(PPO, ratio_clip=-0.2), ValueError, r"cfg\['ratio_clip'\] must be a number >= 0, got -0\.2"),
        (lambda: on_policy(PPO, value_clip=-1), ValueError, r"cfg\['value_clip'\] must be a number >= 0"),
        (
            lambda: on_policy(PPO, experiment={"write_interval": -1}),
            ValueError,
            r"cfg\['experiment'\]\['write_interval'\] must be 'auto' or an int >= 0, got -1",
        ),
        (lambda: on_policy(A2C, rollouts=0), ValueError, r"A2C: cfg\['rollouts'\] must be an int >= 1, got 0"),
        (lambda: on_policy(RPO, alpha=-0.5), ValueError, r"RPO: cfg\['alpha'\] must be a number >= 0, got -0\.5"),
        (
            lambda: SAC(models=sac_models(), cfg={"batch_size": 0}),
            ValueError,
            r"SAC: cfg\['batch_size'\] must be an int >= 1, got 0",
        ),
        (
            lambda: SAC(models=sac_models(), cfg={"gradient_steps": 0}),
            ValueError,
            r"SAC: cfg\['gradient_steps'\] must be an int >= 1",
        ),
        (
            lambda: SAC(models=sac_models(), cfg={"polyak": 1.5}),
            ValueError,
            r"SAC: cfg\['polyak'\] must be a number in \[0, 1\], got 1\.5",
        ),
        (
            lambda: SAC(models=sac_models(), cfg={"discount_factor": 1.01}),
            ValueError,
            r"SAC: cfg\['discount_factor'\] must be a number in \[0, 1\]",
        ),
        (
            lambda: DQN(models=dqn_models(), cfg={"exploration": {"initial_epsilon": 2}}),
            ValueError,
            r"DQN: cfg\['exploration'\]\['initial_epsilon'\] must be a number in \[0, 1\], got 2",
        ),
    ],
)
def test_numeric_cfg_values_out_of_range_are_refused_at_construction(make, error, message):
    with pytest.raises(error, match=message):
        make()


# 10 ------------------------------------------------------------------------------------------


def test_learning_rate_and_scheduler_of_the_wrong_type_name_the_key():
    with pytest.raises(TypeError, match=r"PPO: cfg\['learning_rate'\] must be a number >= 0, got 'fast' \(str\)"):
        on_policy(PPO, learning_rate="fast")
    with pytest.raises(TypeError, match=r"PPO: cfg\['learning_rate'\] must be a number >= 0, got None \(NoneType\)"):
        on_policy(PPO, learning_rate=None)
    with pytest.raises(
        TypeError,
        match=r"PPO: cfg\['learning_rate_scheduler'\] must be None or a class / callable, got 'KLAdaptiveLR' \(str\); "
        r"e\.g\. from skrl_jax\.resources\.schedulers import KLAdaptiveLR.*not its name as a string",
    ):
        on_policy(PPO, learning_rate_scheduler="KLAdaptiveLR")
    with pytest.raises(TypeError, match=r"SAC: cfg\['actor_learning_rate'\] must be a number >= 0, got '1e-3' \(str\)"):
        SAC(models=sac_models(), cfg={"actor_learning_rate": "1e-3"})


# 11 ------------------------------------------------------------------------------------------


def test_a_memory_for_another_number_of_environments_is_refused():
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"))
    agent = pendulum_ppo(num_envs=3)
    with pytest.raises(ValueError, match=r"the agent's memory was made for num_envs=3 but the environment runs 2"):
        SequentialTrainer(env, agent, cfg={"timesteps": 8, **TRAINER})
    agent.init()
    with pytest.raises(
        ValueError,
        match=r"PPO: the observations at timestep 0 hold 2 environments \(shape \(2, 3\)\) but the memory was made for num_envs=3",
    ):
        agent.act(jnp.zeros((2, 3)), 0, 8)
    agent.act(jnp.zeros((1, 3)), 0, 8, deterministic=True)  # evaluation records nothing: any batch
    with pytest.raises(ValueError, match="RandomMemory: memory_size must be an int >= 1, got 0"):
        RandomMemory(0)
    with pytest.raises(TypeError, match=r"RandomMemory: num_envs must be an int >= 1, got 2\.5 \(float\)"):
        RandomMemory(8, num_envs=2.5)


# 12 ------------------------------------------------------------------------------------------


def test_wrap_env_with_a_wrapper_that_does_not_fit_the_environment():
    with pytest.raises(
        TypeError,
        match=r"wrap_env\(env, wrapper='gymnax'\): .* is a gymnasium environment, not a gymnax one; pass wrapper='auto' or wrapper='gymnasium'",
    ):
        wrap_env(gym.make("CartPole-v1"), wrapper="gymnax")
    with pytest.raises(TypeError, match=r"wrapper='brax'\): .* is a gymnax environment"):
        wrap_env(gymnax.make("CartPole-v1")[0], wrapper="brax")
    with pytest.raises(
        ValueError, match=r"unknown wrapper 'isaaclab'; expected one of 'auto', 'gymnasium', 'gymnax', 'brax'"
    ):
        wrap_env(gym.make("CartPole-v1"), wrapper="isaaclab")


# 13 ------------------------------------------------------------------------------------------


def test_a_model_that_does_not_call_model_init_is_refused_at_construction():
    class Forgetful(Model):
        def __init__(self, observation_space, action_space):
            self.size = 8

    class Subclass(Forgetful):
        pass

    for cls in (Forgetful, Subclass):
        with pytest.raises(
            TypeError,
            match=rf"{cls.__name__}.__init__ did not call Model.__init__\(self, observation_space, action_space, \.\.\.\)",
        ):
            cls(PENDULUM_OBSERVATION, PENDULUM_ACTION)


# 14 ------------------------------------------------------------------------------------------


def test_params_of_another_model_and_keys_that_are_not_keys():
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION)
    other = Value(CARTPOLE_OBSERVATION, CARTPOLE_ACTION)
    states = jnp.zeros((2, 3))
    with pytest.raises(
        ValueError,
        match=r"params do not match SharedModel's parameters for roles \['policy'\]:\n  /log_std_parameter: missing from params",
    ):
        model.act(states, "policy", params=other.init(jax.random.key(0)), key=jax.random.key(0))
    params = model.init(jax.random.key(0))
    wrong = {**params, "mean_layer": {**params["mean_layer"], "kernel": jnp.zeros((32, 2))}}
    with pytest.raises(ValueError, match=r"/mean_layer/kernel: expected float32\[32, 1\], found float32\[32, 2\]"):
        model.apply(wrong, states, "policy")
    with pytest.raises(ValueError, match=r"/critic: in params but not expected"):
        model.apply({**params, "critic": {"kernel": jnp.zeros(2)}}, states, "value")
    with pytest.raises(ValueError, match=r"pass params\['params'\]"):
        model.apply({"params": params}, states, "value")
    with pytest.raises(TypeError, match="params must be the parameter tree of SharedModel .*, got list"):
        model.apply([params], states, "value")
    params_of_one_role = model.init(jax.random.key(0), roles=("value",))
    assert model.apply(params_of_one_role, states, "value").__len__() == 2  # another role's layers may be missing

    for key, got in [
        (0, r"got 0 \(int\)"),
        (jnp.zeros(3), r"got an array of shape \(3,\) and dtype float32"),
        (jax.random.split(jax.random.key(0), 2), r"got an array of shape \(2,\) and dtype key"),
    ]:
        with pytest.raises(TypeError, match=rf"SharedModel.act: key must be one JAX PRNG key .*, {got}"):
            model.act(states, "policy", params=params, key=key)
    with pytest.raises(TypeError, match=r"SharedModel.init: key must be one JAX PRNG key"):
        model.init(5)
    model.act(states, "policy", params=params, key=jax.random.PRNGKey(0))  # a legacy key is a key


# 15 ------------------------------------------------------------------------------------------


def test_a_dict_observation_missing_an_entry_names_it():
    space = gym.spaces.Dict({"position": gym.spaces.Box(-1, 1, (2,)), "velocity": gym.spaces.Box(-1, 1, (1,))})
    model = shared_model(space, PENDULUM_ACTION, None, {"value": DeterministicHead()})
    params = model.init(jax.random.key(0))
    message = r"the Dict observation has missing entries \['velocity'\]; expected the entries \['position', 'velocity'\], got \['position'\]"
    with pytest.raises(KeyError, match=message):
        model.apply(params, {"position": jnp.zeros((1, 2))}, "value")
    with pytest.raises(KeyError, match=message):
        model.apply(params, {"states": {"position": jnp.zeros((1, 2))}}, "value")


# 16 ------------------------------------------------------------------------------------------


def test_saving_under_a_file_or_onto_a_folder_names_the_path(tmp_path):
    blocker = tmp_path / "runs"
    blocker.write_text("not a folder")
    model = SharedModel(PENDULUM_OBSERVATION, PENDULUM_ACTION).init_state_dict()
    target = blocker / "checkpoints" / "model.ckpt"
    with pytest.raises(NotADirectoryError, match=rf"cannot save to {target}: {blocker} is a file, not a folder"):
        model.save(target)
    agent = pendulum_ppo()
    agent.init()
    with pytest.raises(NotADirectoryError, match=rf"{blocker} is a file"):
        agent.save(blocker / "agent.ckpt")
    with pytest.raises(IsADirectoryError, match=rf"cannot save to {tmp_path}: it is a folder"):
        model.save(tmp_path)
