"""The mixins' distribution math against hand-written formulas and scipy.stats.

Every reference value here is computed with numpy / scipy from the parameters the test
chose, never by calling skrl_jax's own distribution functions.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
import scipy.stats
from gymnasium import spaces

from skrl_jax.models import (
    CategoricalHead,
    CategoricalMixin,
    DeterministicHead,
    GaussianHead,
    GaussianMixin,
    Model,
    MultiCategoricalHead,
    MultiCategoricalMixin,
    MultivariateGaussianHead,
    MultivariateGaussianMixin,
    shared_model,
)

OBS_DIM = 3
OBS_SPACE = spaces.Box(-10.0, 10.0, shape=(OBS_DIM,), dtype=np.float32)
ROLE = "policy"
RTOL = 1e-5
ATOL = 1e-5
N = 8  # one batch size for the exact checks (eager JAX compiles per shape)
N_SAMPLES = 20000  # one batch size for the statistical checks


def build(action_space, head, kernel=None, bias=None, log_std=None):
    """A trunk-less one-head model whose head computes ``states @ kernel + bias``.

    Returns ``(model, params)`` with the head's parameters overwritten by the given values
    (kernel defaults to zeros so that the output is exactly ``bias``).
    """
    model = shared_model(OBS_SPACE, action_space, trunk=None, heads={ROLE: head})
    params = model.init(jax.random.key(0))
    head_params = params[f"{ROLE}_head"]
    out_size = head_params["bias"].shape[-1]
    if kernel is None:
        kernel = np.zeros((OBS_DIM, out_size), np.float32)
    if bias is None:
        bias = np.zeros(out_size, np.float32)
    params = dict(params)
    params[f"{ROLE}_head"] = {
        "kernel": jnp.asarray(np.asarray(kernel, np.float32)),
        "bias": jnp.asarray(np.asarray(bias, np.float32)),
    }
    if log_std is not None:
        assert f"{ROLE}_log_std" in params
        params[f"{ROLE}_log_std"] = jnp.asarray(np.asarray(log_std, np.float32))
    return model, params


def random_states(n, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, OBS_DIM)).astype(np.float32)


def linear(states, kernel, bias):
    """The head's output, in float64 numpy."""
    return np.asarray(states, np.float64) @ np.asarray(kernel, np.float64) + np.asarray(bias, np.float64)


def np_log_softmax(logits):
    logits = np.asarray(logits, np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def np_gather(values, indices):
    """values (N, n), indices (N,) -> (N, 1)."""
    return np.asarray(values)[np.arange(len(indices)), np.asarray(indices)][:, None]


# Gaussian -------------------------------------------------------------------------------

BOX2 = spaces.Box(-5.0, 5.0, shape=(2,), dtype=np.float32)
G_KERNEL = np.array([[0.5, -0.3], [0.2, 0.1], [-0.4, 0.7]], np.float32)
G_BIAS = np.array([0.3, -0.8], np.float32)
G_LOG_STD = np.array([-0.4, 0.25], np.float32)


def gaussian_case(reduction, n=N):
    model, params = build(BOX2, GaussianHead(reduction=reduction), G_KERNEL, G_BIAS, G_LOG_STD)
    states = random_states(n)
    taken = np.random.default_rng(1).normal(0.0, 1.5, size=(n, 2)).astype(np.float32)
    actions, log_prob, outputs = model.act(
        {"states": jnp.asarray(states), "taken_actions": jnp.asarray(taken)}, ROLE, params=params, key=jax.random.key(3)
    )
    mean = linear(states, G_KERNEL, G_BIAS)
    per_dim = scipy.stats.norm.logpdf(taken, loc=mean, scale=np.exp(G_LOG_STD.astype(np.float64)))
    return model, actions, log_prob, outputs, mean, per_dim


@pytest.mark.parametrize(
    "reduction, reference",
    [
        ("sum", lambda x: x.sum(axis=-1, keepdims=True)),
        ("mean", lambda x: x.mean(axis=-1, keepdims=True)),
        ("prod", lambda x: x.prod(axis=-1, keepdims=True)),
        ("none", lambda x: x),
    ],
)
def test_gaussian_log_prob_matches_scipy(reduction, reference):
    n = N
    _, actions, log_prob, _, _, per_dim = gaussian_case(reduction, n)
    expected = reference(per_dim)
    assert actions.shape == (n, 2)
    assert log_prob.shape == ((n, 2) if reduction == "none" else (n, 1))
    np.testing.assert_allclose(np.asarray(log_prob), expected, rtol=RTOL, atol=ATOL)


def test_gaussian_log_prob_of_own_sample_when_no_taken_actions():
    model, params = build(BOX2, GaussianHead(), G_KERNEL, G_BIAS, G_LOG_STD)
    states = random_states(5)
    actions, log_prob, _ = model.act({"states": jnp.asarray(states)}, ROLE, params=params, key=jax.random.key(8))
    mean = linear(states, G_KERNEL, G_BIAS)
    expected = scipy.stats.norm.logpdf(np.asarray(actions, np.float64), mean, np.exp(G_LOG_STD.astype(np.float64)))
    np.testing.assert_allclose(np.asarray(log_prob), expected.sum(-1, keepdims=True), rtol=RTOL, atol=1e-4)


def test_gaussian_outputs_and_entropy():
    _, _, _, outputs, mean, _ = gaussian_case("sum")
    model, params = build(BOX2, GaussianHead(), G_KERNEL, G_BIAS, G_LOG_STD)
    assert {"mean_actions", "log_std", "stddev"} <= set(outputs)
    np.testing.assert_allclose(np.asarray(outputs["mean_actions"]), mean, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np.broadcast_to(outputs["log_std"], (2,)), G_LOG_STD, rtol=RTOL)
    np.testing.assert_allclose(np.broadcast_to(outputs["stddev"], (2,)), np.exp(G_LOG_STD), rtol=RTOL)

    entropy = np.asarray(model.get_entropy(outputs, ROLE))
    expected = scipy.stats.norm(scale=np.exp(G_LOG_STD.astype(np.float64))).entropy()
    assert entropy.shape[-1] == 2
    np.testing.assert_allclose(np.broadcast_to(entropy, (N, 2)), np.broadcast_to(expected, (N, 2)), rtol=RTOL)
    # skrl's JAX backend passes the stddev array instead of the outputs dict.
    from_stddev = np.asarray(model.get_entropy(jnp.asarray(np.exp(G_LOG_STD)), ROLE))
    np.testing.assert_allclose(from_stddev, expected, rtol=RTOL)


def test_gaussian_log_std_is_clipped():
    raw_log_std = np.array([-3.0, 2.0], np.float32)
    low, high = -1.0, 0.5
    clipped = np.array([-1.0, 0.5])
    model, params = build(
        BOX2, GaussianHead(min_log_std=low, max_log_std=high), bias=np.array([0.2, -0.1]), log_std=raw_log_std
    )
    taken = np.random.default_rng(4).normal(0.0, 1.5, size=(N, 2)).astype(np.float32)
    _, log_prob, outputs = model.act(
        {"states": jnp.asarray(random_states(N)), "taken_actions": jnp.asarray(taken)},
        ROLE,
        params=params,
        key=jax.random.key(0),
    )
    np.testing.assert_allclose(np.broadcast_to(outputs["log_std"], (2,)), clipped, rtol=RTOL)
    np.testing.assert_allclose(np.broadcast_to(outputs["stddev"], (2,)), np.exp(clipped), rtol=RTOL)
    expected = scipy.stats.norm.logpdf(taken, [0.2, -0.1], np.exp(clipped)).sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(log_prob), expected, rtol=RTOL, atol=ATOL)
    expected_entropy = scipy.stats.norm(scale=np.exp(clipped)).entropy()
    np.testing.assert_allclose(np.asarray(model.get_entropy(outputs, ROLE)), expected_entropy, rtol=RTOL)


def test_gaussian_log_std_not_clipped_when_disabled():
    raw_log_std = np.array([-3.0, 2.0], np.float32)
    model, params = build(
        BOX2,
        GaussianHead(clip_log_std=False, min_log_std=-1.0, max_log_std=0.5),
        bias=np.array([0.2, -0.1]),
        log_std=raw_log_std,
    )
    taken = np.random.default_rng(4).normal(0.0, 1.5, size=(N, 2)).astype(np.float32)
    _, log_prob, outputs = model.act(
        {"states": jnp.asarray(random_states(N)), "taken_actions": jnp.asarray(taken)},
        ROLE,
        params=params,
        key=jax.random.key(0),
    )
    np.testing.assert_allclose(np.broadcast_to(outputs["log_std"], (2,)), raw_log_std, rtol=RTOL)
    expected = scipy.stats.norm.logpdf(taken, [0.2, -0.1], np.exp(raw_log_std.astype(np.float64)))
    np.testing.assert_allclose(np.asarray(log_prob), expected.sum(-1, keepdims=True), rtol=RTOL, atol=ATOL)


BOUNDED = spaces.Box(np.array([-1.0, 0.0], np.float32), np.array([0.5, 2.0], np.float32), dtype=np.float32)


@pytest.mark.parametrize("head_class", [GaussianHead, MultivariateGaussianHead])
def test_gaussian_clip_actions(head_class):
    n = N_SAMPLES
    states = jnp.asarray(random_states(n))
    low, high = BOUNDED.low, BOUNDED.high
    # log_std = 2 is the default max: std e**2 (e**4 for the multivariate formula), far wider than the box.
    clipped_model, params = build(BOUNDED, head_class(clip_actions=True), bias=[0.0, 1.0], log_std=[2.0, 2.0])
    actions, _, _ = clipped_model.act({"states": states}, ROLE, params=params, key=jax.random.key(1))
    actions = np.asarray(actions)
    assert actions.shape == (n, 2)
    assert np.all(actions >= low) and np.all(actions <= high)
    # the bounds are actually reached (the clip is not a no-op on this wide distribution)
    assert np.mean(actions == low) > 0.1 and np.mean(actions == high) > 0.1

    free_model, params = build(BOUNDED, head_class(clip_actions=False), bias=[0.0, 1.0], log_std=[2.0, 2.0])
    actions, _, _ = free_model.act({"states": states}, ROLE, params=params, key=jax.random.key(1))
    actions = np.asarray(actions)
    assert np.any(actions < low) and np.any(actions > high)


def test_gaussian_sample_statistics():
    n = N_SAMPLES
    mean = np.array([0.5, -1.0], np.float32)
    log_std = np.array([-0.5, 0.3], np.float32)
    model, params = build(BOX2, GaussianHead(), bias=mean, log_std=log_std)
    actions, _, _ = model.act({"states": jnp.zeros((n, OBS_DIM))}, ROLE, params=params, key=jax.random.key(42))
    actions = np.asarray(actions, np.float64)
    std = np.exp(log_std.astype(np.float64))
    # 5 standard errors of the sample mean / sample std
    np.testing.assert_allclose(actions.mean(0), mean, atol=float(5 * std.max() / np.sqrt(n)))
    np.testing.assert_allclose(actions.std(0), std, rtol=5 / np.sqrt(2 * n))
    # the two dimensions are independent
    assert abs(np.corrcoef(actions.T)[0, 1]) < 0.04


@pytest.mark.parametrize("head", [GaussianHead(reduction="avg"), MultiCategoricalHead(reduction="avg")])
def test_invalid_reduction_raises(head):
    space = BOX2 if isinstance(head, GaussianHead) else spaces.MultiDiscrete([3, 2])
    with pytest.raises(ValueError) as info:
        shared_model(OBS_SPACE, space, trunk=None, heads={ROLE: head})
    message = str(info.value)
    assert "avg" in message
    for allowed in ("mean", "sum", "prod", "none"):
        assert allowed in message


def test_invalid_reduction_raises_in_subclass():
    class Policy(GaussianMixin, Model):
        def __init__(self, obs, act, **kwargs):
            Model.__init__(self, obs, act)
            GaussianMixin.__init__(self, **kwargs)

    with pytest.raises(ValueError, match="reduction"):
        Policy(OBS_SPACE, BOX2, reduction="avg")
    Policy(OBS_SPACE, BOX2, reduction="prod")  # a valid one is accepted


# Categorical ----------------------------------------------------------------------------

DISCRETE4 = spaces.Discrete(4)
C_KERNEL = np.array([[0.4, -0.2, 0.1, 0.9], [-0.6, 0.3, 0.0, 0.2], [0.1, 0.5, -0.7, -0.3]], np.float32)
C_BIAS = np.array([0.2, -0.5, 1.0, 0.0], np.float32)


def test_categorical_from_logits():
    n = N
    model, params = build(DISCRETE4, CategoricalHead(unnormalized_log_prob=True), C_KERNEL, C_BIAS)
    states = random_states(n)
    taken = np.array([0, 1, 2, 3, 2, 0, 3, 1], np.int32)
    actions, log_prob, outputs = model.act(
        {"states": jnp.asarray(states), "taken_actions": jnp.asarray(taken[:, None])},
        ROLE,
        params=params,
        key=jax.random.key(0),
    )
    logits = linear(states, C_KERNEL, C_BIAS)
    log_probs = np_log_softmax(logits)
    assert actions.shape == (n, 1) and jnp.issubdtype(actions.dtype, jnp.integer)
    assert np.all((np.asarray(actions) >= 0) & (np.asarray(actions) < 4))
    assert log_prob.shape == (n, 1)
    np.testing.assert_allclose(np.asarray(log_prob), np_gather(log_probs, taken), rtol=RTOL, atol=ATOL)
    assert "net_output" in outputs
    np.testing.assert_allclose(np.asarray(outputs["net_output"]), logits, rtol=RTOL, atol=ATOL)

    entropy = np.asarray(model.get_entropy(outputs, ROLE))
    assert entropy.shape == (n,)
    np.testing.assert_allclose(entropy, scipy.stats.entropy(np.exp(log_probs), axis=-1), rtol=RTOL, atol=ATOL)

    # taken_actions given flat, shape (N,), are accepted as well
    _, flat_log_prob, _ = model.act(
        {"states": jnp.asarray(states), "taken_actions": jnp.asarray(taken)}, ROLE, params=params, key=jax.random.key(0)
    )
    np.testing.assert_allclose(np.asarray(flat_log_prob), np.asarray(log_prob))


def test_categorical_from_probabilities():
    n = N
    # unnormalised positive "probabilities": skrl divides by their sum
    raw = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    model, params = build(DISCRETE4, CategoricalHead(unnormalized_log_prob=False), bias=raw)
    taken = np.array([0, 1, 2, 3, 3, 2, 1, 0], np.int32)
    actions, log_prob, outputs = model.act(
        {"states": jnp.asarray(random_states(n)), "taken_actions": jnp.asarray(taken[:, None])},
        ROLE,
        params=params,
        key=jax.random.key(0),
    )
    probs = raw / raw.sum()
    assert actions.shape == (n, 1) and jnp.issubdtype(actions.dtype, jnp.integer)
    assert log_prob.shape == (n, 1)
    np.testing.assert_allclose(np.asarray(log_prob), np.log(probs)[taken][:, None], rtol=RTOL, atol=ATOL)
    assert "net_output" in outputs
    np.testing.assert_allclose(np.asarray(outputs["net_output"]), np.tile(raw, (n, 1)), rtol=RTOL)
    entropy = np.asarray(model.get_entropy(outputs, ROLE))
    assert entropy.shape == (n,)
    np.testing.assert_allclose(entropy, np.full(n, scipy.stats.entropy(probs)), rtol=RTOL)


@pytest.mark.parametrize("unnormalized", [True, False])
def test_categorical_sample_frequencies(unnormalized):
    n = N_SAMPLES
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    bias = np.log(probs) + 1.7 if unnormalized else probs * 5.0
    model, params = build(DISCRETE4, CategoricalHead(unnormalized_log_prob=unnormalized), bias=bias)
    actions, _, _ = model.act({"states": jnp.zeros((n, OBS_DIM))}, ROLE, params=params, key=jax.random.key(7))
    frequencies = np.bincount(np.asarray(actions).reshape(-1), minlength=4) / n
    # standard error at most sqrt(0.25 / n) = 0.0035
    np.testing.assert_allclose(frequencies, probs, atol=0.015)


# MultiCategorical -----------------------------------------------------------------------

MULTI = spaces.MultiDiscrete([3, 2])
M_KERNEL = np.array([[0.4, -0.2, 0.1, 0.9, -0.5], [-0.6, 0.3, 0.0, 0.2, 0.8], [0.1, 0.5, -0.7, -0.3, 0.2]], np.float32)
M_BIAS = np.array([0.2, -0.5, 1.0, 0.0, 0.6], np.float32)
M_TAKEN = np.array([[0, 1], [2, 0], [1, 1], [2, 1], [0, 0], [1, 0], [2, 1], [0, 1]], np.int32)


def multi_reference(states):
    logits = linear(states, M_KERNEL, M_BIAS)
    return np_log_softmax(logits[:, :3]), np_log_softmax(logits[:, 3:])


@pytest.mark.parametrize(
    "reduction, reference",
    [
        ("sum", lambda x: x.sum(axis=-1, keepdims=True)),
        ("mean", lambda x: x.mean(axis=-1, keepdims=True)),
        ("prod", lambda x: x.prod(axis=-1, keepdims=True)),
        ("none", lambda x: x),
    ],
)
def test_multicategorical_log_prob_and_entropy(reduction, reference):
    n = len(M_TAKEN)
    model, params = build(MULTI, MultiCategoricalHead(reduction=reduction), M_KERNEL, M_BIAS)
    states = random_states(n)
    actions, log_prob, outputs = model.act(
        {"states": jnp.asarray(states), "taken_actions": jnp.asarray(M_TAKEN)},
        ROLE,
        params=params,
        key=jax.random.key(0),
    )
    branch0, branch1 = multi_reference(states)
    per_branch = np.concatenate([np_gather(branch0, M_TAKEN[:, 0]), np_gather(branch1, M_TAKEN[:, 1])], axis=-1)
    assert actions.shape == (n, 2) and jnp.issubdtype(actions.dtype, jnp.integer)
    assert np.all(np.asarray(actions) < np.array([3, 2])) and np.all(np.asarray(actions) >= 0)
    assert log_prob.shape == ((n, 2) if reduction == "none" else (n, 1))
    np.testing.assert_allclose(np.asarray(log_prob), reference(per_branch), rtol=RTOL, atol=ATOL)
    assert "net_output" in outputs

    entropy = np.asarray(model.get_entropy(outputs, ROLE))
    entropies = np.stack(
        [scipy.stats.entropy(np.exp(branch0), axis=-1), scipy.stats.entropy(np.exp(branch1), axis=-1)], axis=-1
    )
    assert entropy.shape == ((n, 2) if reduction == "none" else (n, 1))
    np.testing.assert_allclose(entropy, reference(entropies), rtol=RTOL, atol=ATOL)


def test_multicategorical_from_probabilities():
    raw = np.array([1.0, 1.0, 2.0, 3.0, 1.0], np.float32)
    model, params = build(MULTI, MultiCategoricalHead(unnormalized_log_prob=False, reduction="none"), bias=raw)
    _, log_prob, _ = model.act(
        {"states": jnp.asarray(random_states(len(M_TAKEN))), "taken_actions": jnp.asarray(M_TAKEN)},
        ROLE,
        params=params,
        key=jax.random.key(0),
    )
    p0, p1 = raw[:3] / raw[:3].sum(), raw[3:] / raw[3:].sum()
    expected = np.stack([np.log(p0)[M_TAKEN[:, 0]], np.log(p1)[M_TAKEN[:, 1]]], axis=-1)
    np.testing.assert_allclose(np.asarray(log_prob), expected, rtol=RTOL, atol=ATOL)


def test_multicategorical_branches_sampled_independently():
    n = N_SAMPLES
    # equal (uniform) logits and equal sizes: sampling both branches with one key would give
    # identical columns; independent branches agree with probability 1/3.
    model, params = build(spaces.MultiDiscrete([3, 3]), MultiCategoricalHead(), bias=np.zeros(6))
    actions, _, _ = model.act({"states": jnp.zeros((n, OBS_DIM))}, ROLE, params=params, key=jax.random.key(5))
    actions = np.asarray(actions)
    agreement = np.mean(actions[:, 0] == actions[:, 1])
    assert abs(agreement - 1 / 3) < 0.02

    # joint frequencies factorise into the per-branch probabilities
    logits = np.array([0.0, 1.0, -1.0, 0.5, -0.5], np.float32)
    model, params = build(MULTI, MultiCategoricalHead(), bias=logits)
    actions, _, _ = model.act({"states": jnp.zeros((n, OBS_DIM))}, ROLE, params=params, key=jax.random.key(6))
    actions = np.asarray(actions)
    p0, p1 = scipy.special.softmax(logits[:3]), scipy.special.softmax(logits[3:])
    joint = np.zeros((3, 2))
    np.add.at(joint, (actions[:, 0], actions[:, 1]), 1.0)
    np.testing.assert_allclose(joint / n, np.outer(p0, p1), atol=0.015)


# Multivariate Gaussian --------------------------------------------------------------------

MV_LOG_STD = np.array([-0.3, 0.2], np.float32)


def test_multivariate_gaussian_matches_scipy():
    n = N
    model, params = build(BOX2, MultivariateGaussianHead(), G_KERNEL, G_BIAS, MV_LOG_STD)
    states = random_states(n)
    taken = np.random.default_rng(2).normal(0.0, 1.5, size=(n, 2)).astype(np.float32)
    actions, log_prob, outputs = model.act(
        {"states": jnp.asarray(states), "taken_actions": jnp.asarray(taken)}, ROLE, params=params, key=jax.random.key(0)
    )
    mean = linear(states, G_KERNEL, G_BIAS)
    # skrl: scale_tril = diag(exp(log_std) ** 2), so covariance = diag(exp(log_std) ** 4)
    cov = np.diag(np.exp(MV_LOG_STD.astype(np.float64)) ** 4)
    expected = np.array([scipy.stats.multivariate_normal(mean[i], cov).logpdf(taken[i]) for i in range(n)])
    assert actions.shape == (n, 2)
    assert log_prob.shape == (n, 1)
    np.testing.assert_allclose(np.asarray(log_prob), expected[:, None], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(np.asarray(outputs["mean_actions"]), mean, rtol=RTOL, atol=ATOL)

    entropy = np.asarray(model.get_entropy(outputs, ROLE))
    assert entropy.shape == (n,)
    expected_entropy = scipy.stats.multivariate_normal(np.zeros(2), cov).entropy()
    np.testing.assert_allclose(entropy, np.full(n, expected_entropy), rtol=RTOL, atol=ATOL)


def test_multivariate_gaussian_sample_statistics():
    n = N_SAMPLES
    mean = np.array([0.5, -1.0], np.float32)
    model, params = build(BOX2, MultivariateGaussianHead(), bias=mean, log_std=MV_LOG_STD)
    actions, _, _ = model.act({"states": jnp.zeros((n, OBS_DIM))}, ROLE, params=params, key=jax.random.key(4))
    actions = np.asarray(actions, np.float64)
    std = np.exp(MV_LOG_STD.astype(np.float64)) ** 2  # sqrt of the covariance diag(exp(log_std) ** 4)
    np.testing.assert_allclose(actions.mean(0), mean, atol=float(5 * std.max() / np.sqrt(n)))
    np.testing.assert_allclose(actions.std(0), std, rtol=5 / np.sqrt(2 * n))


def test_multivariate_gaussian_log_std_clipping():
    model, params = build(
        BOX2, MultivariateGaussianHead(min_log_std=-0.5, max_log_std=0.1), bias=[0.0, 0.0], log_std=[-2.0, 1.0]
    )
    taken = np.random.default_rng(5).normal(0.0, 1.0, size=(N, 2)).astype(np.float32)
    _, log_prob, outputs = model.act(
        {"states": jnp.zeros((N, OBS_DIM)), "taken_actions": jnp.asarray(taken)},
        ROLE,
        params=params,
        key=jax.random.key(0),
    )
    clipped = np.array([-0.5, 0.1])
    np.testing.assert_allclose(np.broadcast_to(outputs["log_std"], (2,)), clipped, rtol=RTOL)
    cov = np.diag(np.exp(clipped) ** 4)
    expected = scipy.stats.multivariate_normal(np.zeros(2), cov).logpdf(taken)
    np.testing.assert_allclose(np.asarray(log_prob), expected[:, None], rtol=RTOL, atol=ATOL)


# Deterministic ----------------------------------------------------------------------------

D_KERNEL = np.array([[3.0, -2.0], [1.0, 4.0], [-2.5, 0.5]], np.float32)
D_BIAS = np.array([0.1, 1.0], np.float32)


@pytest.mark.parametrize("clip", [True, False])
def test_deterministic(clip):
    n = N
    model, params = build(BOUNDED, DeterministicHead(units=None, clip_actions=clip), D_KERNEL, D_BIAS)
    states = random_states(n)
    actions, log_prob, outputs = model.act({"states": jnp.asarray(states)}, ROLE, params=params)
    assert log_prob is None
    assert isinstance(outputs, dict)
    raw = linear(states, D_KERNEL, D_BIAS)
    # the chosen weights push many outputs outside the box
    assert np.any(raw < BOUNDED.low) and np.any(raw > BOUNDED.high)
    expected = np.clip(raw, BOUNDED.low, BOUNDED.high) if clip else raw
    np.testing.assert_allclose(np.asarray(actions), expected, rtol=RTOL, atol=ATOL)
    # the same as compute's output (through apply), clipped if asked
    computed = np.asarray(model.apply(params, {"states": jnp.asarray(states)}, ROLE)[0])
    np.testing.assert_allclose(computed, raw, rtol=RTOL, atol=ATOL)
    if not clip:
        np.testing.assert_array_equal(np.asarray(actions), computed)


# Action-space checks --------------------------------------------------------------------


@pytest.mark.parametrize(
    "head, space, expected, came",
    [
        (GaussianHead(), spaces.Discrete(3), "Box", "Discrete"),
        (MultivariateGaussianHead(), spaces.Discrete(3), "Box", "Discrete"),
        (CategoricalHead(), BOX2, "Discrete", "Box"),
        (MultiCategoricalHead(), spaces.Discrete(3), "MultiDiscrete", "Discrete"),
    ],
)
def test_mixins_refuse_wrong_action_space(head, space, expected, came):
    with pytest.raises(TypeError) as info:
        shared_model(OBS_SPACE, space, trunk=None, heads={ROLE: head})
    message = str(info.value)
    assert head.mixin.__name__ in message
    assert expected in message
    assert came in message


@pytest.mark.parametrize(
    "mixin, space, expected, came",
    [
        (GaussianMixin, spaces.Discrete(3), "Box", "Discrete"),
        (MultivariateGaussianMixin, spaces.MultiDiscrete([2, 2]), "Box", "MultiDiscrete"),
        (CategoricalMixin, BOX2, "Discrete", "Box"),
        (MultiCategoricalMixin, spaces.Discrete(3), "MultiDiscrete", "Discrete"),
    ],
)
def test_mixin_subclasses_refuse_wrong_action_space(mixin, space, expected, came):
    class Policy(mixin, Model):
        def __init__(self, obs, act):
            Model.__init__(self, obs, act)
            mixin.__init__(self)

        def setup(self):
            self.net = nn.Dense(2)

        def compute(self, inputs, role):
            return self.net(inputs["states"]), {}

    with pytest.raises(TypeError) as info:
        Policy(OBS_SPACE, space)
    message = str(info.value)
    assert expected in message and came in message


# vmap -------------------------------------------------------------------------------------


def _vmapped_log_prob(model, params, states, taken, keys):
    def single(s, a, k):
        return model.act({"states": s, "taken_actions": a}, ROLE, params=params, key=k)[1]

    return jax.vmap(single)(states, taken, keys)


@pytest.mark.parametrize("reduction", ["sum", "none"])
def test_vmap_gaussian_log_prob(reduction):
    n = N
    model, params = build(BOX2, GaussianHead(reduction=reduction), G_KERNEL, G_BIAS, G_LOG_STD)
    states = jnp.asarray(random_states(n))
    taken = jnp.asarray(np.random.default_rng(3).normal(size=(n, 2)).astype(np.float32))
    keys = jax.random.split(jax.random.key(0), n)
    vmapped = _vmapped_log_prob(model, params, states, taken, keys)
    _, batched, _ = model.act({"states": states, "taken_actions": taken}, ROLE, params=params, key=keys[0])
    assert vmapped.shape == batched.shape
    np.testing.assert_allclose(np.asarray(vmapped), np.asarray(batched), rtol=RTOL, atol=ATOL)


def test_vmap_categorical_log_prob():
    n = N
    model, params = build(DISCRETE4, CategoricalHead(), C_KERNEL, C_BIAS)
    states = jnp.asarray(random_states(n))
    taken = jnp.asarray(np.array([[0], [3], [1], [2], [3], [0], [1], [2]], np.int32))
    keys = jax.random.split(jax.random.key(0), n)
    vmapped = _vmapped_log_prob(model, params, states, taken, keys)
    _, batched, _ = model.act({"states": states, "taken_actions": taken}, ROLE, params=params, key=keys[0])
    assert vmapped.shape == batched.shape == (n, 1)
    np.testing.assert_allclose(np.asarray(vmapped), np.asarray(batched), rtol=RTOL, atol=ATOL)
    # and unbatched actions come out as (1,) per row, (n, 1) under vmap
    actions = jax.vmap(lambda s, k: model.act({"states": s}, ROLE, params=params, key=k)[0])(states, keys)
    assert actions.shape == (n, 1)


def test_vmap_multicategorical_log_prob():
    n = len(M_TAKEN)
    model, params = build(MULTI, MultiCategoricalHead(reduction="none"), M_KERNEL, M_BIAS)
    states = jnp.asarray(random_states(n))
    keys = jax.random.split(jax.random.key(0), n)
    vmapped = _vmapped_log_prob(model, params, states, jnp.asarray(M_TAKEN), keys)
    _, batched, _ = model.act(
        {"states": states, "taken_actions": jnp.asarray(M_TAKEN)}, ROLE, params=params, key=keys[0]
    )
    assert vmapped.shape == batched.shape == (n, 2)
    np.testing.assert_allclose(np.asarray(vmapped), np.asarray(batched), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("clip", [True, False])
def test_vmap_deterministic(clip):
    n = N
    model, params = build(BOUNDED, DeterministicHead(units=None, clip_actions=clip), D_KERNEL, D_BIAS)
    states = jnp.asarray(random_states(n))
    vmapped = jax.vmap(lambda s: model.act({"states": s}, ROLE, params=params)[0])(states)
    batched = model.act({"states": states}, ROLE, params=params)[0]
    assert vmapped.shape == batched.shape == (n, 2)
    np.testing.assert_allclose(np.asarray(vmapped), np.asarray(batched), rtol=RTOL, atol=ATOL)


def test_vmap_gaussian_samples_follow_per_row_keys():
    # under vmap each row samples from its own key: the same key gives the same draw
    model, params = build(BOX2, GaussianHead(), bias=[0.0, 0.0], log_std=[0.0, 0.0])
    states = jnp.zeros((N, OBS_DIM))
    key = jax.random.key(11)
    same = jax.vmap(lambda s, k: model.act({"states": s}, ROLE, params=params, key=k)[0])(states, jnp.stack([key] * N))
    assert np.allclose(np.asarray(same), np.asarray(same[0]))
    single = model.act({"states": states[0]}, ROLE, params=params, key=key)[0]
    np.testing.assert_allclose(np.asarray(same[0]), np.asarray(single), rtol=RTOL)
    different = jax.vmap(lambda s, k: model.act({"states": s}, ROLE, params=params, key=k)[0])(
        states, jax.random.split(key, N)
    )
    assert len({tuple(np.round(np.asarray(row), 6)) for row in different}) == N
