"""Our PPO on brax's settings computes brax's PPO loss: the minibatch gradient of the agent
``examples/playground_ppo.py``'s ``make_brax_style_trainer`` builds (what ``benchmarks/brax_ppo.py``
runs) against brax's own ``compute_ppo_loss`` on the same parameters, normaliser and data."""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from benchmarks._examples import load_example
from skrl_jax.agents.on_policy.update import AdvantageInputs, Minibatch
from skrl_jax.resources.preprocessors import ScalerState

brax_envs = pytest.importorskip("brax.envs")
from brax.training import types  # noqa: E402
from brax.training.acme import running_statistics, specs  # noqa: E402
from brax.training.agents.ppo import losses as brax_losses  # noqa: E402
from brax.training.agents.ppo import networks as brax_networks  # noqa: E402

from benchmarks.brax_ppo import brax_settings  # noqa: E402
from skrl_jax.envs import BraxWrapper  # noqa: E402

SEQUENCES = 8
# the benchmark's settings (discount, GAE lambda, clip, reward scaling, ...) on one minibatch of 8 rollouts
SETTINGS = dict(brax_settings(0), num_envs=SEQUENCES, num_minibatches=1, num_updates_per_batch=1)
STEPS = SETTINGS["unroll_length"]
SETTINGS["num_timesteps"] = SEQUENCES * STEPS


class Case(NamedTuple):
    env: BraxWrapper
    networks: Any  # brax's PPONetworks
    normaliser: Any  # brax's running statistics
    brax_data: Any  # brax's Transition, (SEQUENCES, STEPS, ...)
    brax_params: Any
    ours: dict
    scaler: ScalerState
    minibatch: Minibatch


@pytest.fixture(scope="module")
def case():
    """Both sides on hopper's spaces (11 observations, 3 actions): brax's networks, our agent with
    brax's parameters copied in, a normaliser both read alike, and a batch of ``SEQUENCES`` rollouts
    of ``STEPS`` steps with terminations and time limits (brax's layout and ours)."""
    env = BraxWrapper(brax_envs.get_environment("hopper", backend="spring"), episode_length=1000, reset="cached")
    observation_size, action_size = env.observation_space.shape[0], env.action_space.shape[0]
    networks = brax_networks.make_ppo_networks(
        observation_size, action_size, preprocess_observations_fn=running_statistics.normalize
    )
    policy = networks.policy_network.init(jax.random.key(0))["params"]
    value = networks.value_network.init(jax.random.key(1))["params"]
    ours = {
        "policy": {
            "trunk": {f"layers_{2 * i}": policy[f"hidden_{i}"] for i in range(4)},
            "policy_head": policy["hidden_4"],
        },
        "value": {
            "trunk": {f"layers_{2 * i}": value[f"hidden_{i}"] for i in range(5)},
            "value_head": value["hidden_5"],
        },
    }
    rng = np.random.default_rng(0)

    def normal(*shape):
        return jnp.asarray(rng.normal(size=shape), jnp.float32)

    observations = 2.0 * normal(SEQUENCES, STEPS + 1, observation_size) + 1.0
    normaliser = running_statistics.update(
        running_statistics.init_state(specs.Array((observation_size,), jnp.float32)), observations
    )
    scaler = ScalerState(normaliser.mean, normaliser.std**2, jnp.full((1,), float(SEQUENCES * (STEPS + 1))))
    samples = 0.7 * normal(SEQUENCES, STEPS, action_size)  # before the tanh: what the log-probabilities are of
    done = rng.random((SEQUENCES, STEPS)) < 0.1
    truncated = done & (rng.random((SEQUENCES, STEPS)) < 0.4)
    rewards = normal(SEQUENCES, STEPS)
    # the behaviour policy: brax's, on parameters a little away from the current ones
    behaviour = jax.tree.map(lambda x: x + 0.05 * jax.random.normal(jax.random.key(5), x.shape), policy)
    behaviour_logits = networks.policy_network.apply(normaliser, {"params": behaviour}, observations[:, :STEPS])
    behaviour_log_prob = networks.parametric_action_distribution.log_prob(behaviour_logits, samples)
    brax_data = types.Transition(
        observation=observations[:, :STEPS],
        action=jnp.tanh(samples),
        reward=rewards,
        discount=1.0 - done.astype(jnp.float32),
        next_observation=observations[:, 1:],
        extras={
            "state_extras": {"truncation": truncated.astype(jnp.float32)},
            "policy_extras": {
                "raw_action": samples,
                "log_prob": behaviour_log_prob,
                "distribution_params": behaviour_logits,
            },
        },
    )
    rows = lambda x: x.reshape(SEQUENCES * STEPS, -1)  # noqa: E731
    zeros = jnp.zeros((SEQUENCES * STEPS, 1))
    minibatch = Minibatch(
        states=rows(observations[:, :STEPS]),
        actions=rows(samples),
        log_prob=rows(behaviour_log_prob),
        values=zeros,
        returns=zeros,
        advantages=zeros,
        gae=AdvantageInputs(
            (SETTINGS["reward_scaling"] * rewards)[..., None],  # our rewards_shaper scales them as they are recorded
            (done & ~truncated)[..., None],
            truncated[..., None],
            observations[:, STEPS],
        ),
    )
    brax_params = brax_losses.PPONetworkParams(policy={"params": policy}, value={"params": value})
    return Case(env, networks, normaliser, brax_data, brax_params, ours, scaler, minibatch)


def brax_loss(case: Case, entropy_cost: float, key: jax.Array):
    def loss(params):
        return brax_losses.compute_ppo_loss(
            params,
            case.normaliser,
            case.brax_data,
            key,
            case.networks,
            entropy_cost=entropy_cost,
            discounting=SETTINGS["discounting"],
            reward_scaling=SETTINGS["reward_scaling"],
            gae_lambda=SETTINGS["gae_lambda"],
            clipping_epsilon=SETTINGS["clipping_epsilon"],
        )

    return jax.value_and_grad(loss, has_aux=True)(case.brax_params)


def our_gradients(case: Case, entropy_cost: float):
    agent = (
        load_example("playground_ppo")
        .make_brax_style_trainer(case.env, dict(SETTINGS, entropy_cost=entropy_cost), progress=False)
        .agents
    )
    return jax.jit(agent.make_gradients())


def test_ppo_loss_and_gradient_equal_braxs(case):
    key = jax.random.key(3)
    (brax_total, brax_terms), brax_grads = brax_loss(case, 0.0, key)
    grads, total, terms = our_gradients(case, 0.0)(case.ours, case.scaler, case.minibatch, key)
    np.testing.assert_allclose(total, brax_total, rtol=1e-5)
    np.testing.assert_allclose(terms["policy_loss"], brax_terms["policy_loss"], rtol=1e-5)
    np.testing.assert_allclose(terms["value_loss"], brax_terms["v_loss"], rtol=1e-5)
    assert float(brax_terms["policy_loss"]) != 0.0 and float(brax_terms["v_loss"]) > 0.0
    for ours_name, brax_name, layers in (("policy", "policy", 5), ("value", "value", 6)):
        brax_layers = getattr(brax_grads, brax_name)["params"]
        ours_layers = [grads[ours_name]["trunk"][f"layers_{2 * i}"] for i in range(layers - 1)]
        ours_layers.append(grads[ours_name][f"{ours_name}_head"])
        for i, layer in enumerate(ours_layers):
            expected = brax_layers[f"hidden_{i}"]
            scale = float(jnp.abs(expected["kernel"]).max())
            assert scale > 0.0
            for name in ("kernel", "bias"):
                np.testing.assert_allclose(layer[name], expected[name], rtol=1e-4, atol=1e-5 * scale)


def test_entropy_bonus_and_its_gradient_equal_braxs_in_expectation(case):
    """Both estimate the squashed Gaussian's entropy at one fresh sample (their keys draw different
    samples), so the bonus and its gradient at the policy's output layer are compared as means over
    many keys, within 6 standard errors."""
    keys = jax.random.split(jax.random.key(11), 400)
    gradients = our_gradients(case, 0.01)

    def both(key):
        (_, brax_terms), brax_grads = brax_loss(case, 0.01, key)
        grads, _, terms = gradients(case.ours, case.scaler, case.minibatch, key)
        head = (brax_grads.policy["params"]["hidden_4"]["kernel"], grads["policy"]["policy_head"]["kernel"])
        return (brax_terms["entropy_loss"], terms["entropy_loss"]), head

    (brax, mine), (brax_head, our_head) = jax.lax.map(both, keys, batch_size=50)
    for theirs, ours in ((brax, mine), (brax_head, our_head)):
        theirs, ours = np.asarray(theirs), np.asarray(ours)
        error = np.sqrt((theirs.var(axis=0) + ours.var(axis=0)) / len(keys))
        difference = np.abs(ours.mean(axis=0) - theirs.mean(axis=0))
        assert np.all(difference <= 6 * error + 1e-6 * np.abs(theirs).max())
    assert float(np.mean(brax)) < 0.0
    # the entropy's part of the head's gradient is what varies with the key: it is there to compare
    assert float(np.asarray(brax_head).std(axis=0).max()) > 0.0
