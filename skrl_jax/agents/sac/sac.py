"""SAC (skrl's ``SAC`` and ``SAC_DEFAULT_CONFIG``) as pure functions over one state.

Models: ``policy`` (Gaussian), ``critic_1``, ``critic_2``, ``target_critic_1``, ``target_critic_2``.
Twin critics may be one model that declares ``DeterministicMixin`` twice (roles ``critic_1`` and
``critic_2``) passed under both critic keys, with a second instance under both target keys: its
parameters are stored once and its trunk computed once per pass. The policy may be that model too
(``GaussianMixin`` with role ``policy`` beside the critics, an encoder they all read): then the
critics' loss trains the encoder and the actor's loss only the subtrees the policy alone reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.agents.configs import SAC_CFG
from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.gradients import apply_gradients, gradient_step, make_optimizer
from skrl_jax.agents.off_policy.base import OffPolicyAgent, OffPolicyLearner, standardize, value_statistics
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.agents.sac.losses import critic_loss, entropy_loss, policy_loss, soft_target
from skrl_jax.agents.sharing import DIAGNOSTIC_TAGS, trunk_diagnostics
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.resources.preprocessors import scaler_update

SAC_DEFAULT_CONFIG = {
    "gradient_steps": 1,
    "batch_size": 64,
    "discount_factor": 0.99,
    "polyak": 0.005,
    "actor_learning_rate": 1e-3,
    "critic_learning_rate": 1e-3,
    "learning_rate_scheduler": None,
    "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None,
    "state_preprocessor_kwargs": {},
    "random_timesteps": 0,
    "learning_starts": 0,
    "grad_norm_clip": 0,
    "learn_entropy": True,
    "entropy_learning_rate": 1e-3,
    "initial_entropy_value": 0.2,
    "target_entropy": None,
    "rewards_shaper": None,
    # not a skrl key: with one model for the policy and the critics, whether the actor's loss trains
    # the encoder they share too (False: only the critics' loss does, the DrQ / SAC-AE practice)
    "actor_gradient_to_encoder": False,
    # not a skrl key: the actor's and the critics' gradients on that encoder compared, in the metrics
    "sharing_diagnostics": False,
    # not a skrl key: skrl 1.4 ends a target at terminated | truncated (False); True bootstraps a
    # truncated episode from its last observation, as skrl 2.x (its *_CFG default)
    "bootstrap_at_truncation": False,
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}

CRITICS = ("critic_1", "critic_2")
TARGETS = ("target_critic_1", "target_critic_2")

SAC_METRIC_TAGS = {
    "policy_loss": "Loss / Policy loss",
    "critic_loss": "Loss / Critic loss",
    "q1_max": "Q-network / Q1 (max)",
    "q1_min": "Q-network / Q1 (min)",
    "q1_mean": "Q-network / Q1 (mean)",
    "q2_max": "Q-network / Q2 (max)",
    "q2_min": "Q-network / Q2 (min)",
    "q2_mean": "Q-network / Q2 (mean)",
    "target_max": "Target / Target (max)",
    "target_min": "Target / Target (min)",
    "target_mean": "Target / Target (mean)",
    "entropy_loss": "Loss / Entropy loss",
    "entropy_coefficient": "Coefficient / Entropy coefficient",
}


class SAC(OffPolicyAgent):
    """Soft Actor-Critic with skrl's configuration keys, defaults and formulas.

    As skrl's PyTorch SAC, both critics are trained by one optimizer on the mean of their losses
    (skrl's JAX SAC steps each critic with the other's gradient, which this port does not copy).
    """

    default_config = SAC_DEFAULT_CONFIG
    config_class = SAC_CFG
    required_models = ("policy", *CRITICS, *TARGETS)

    def __init__(
        self,
        models,
        memory=None,
        observation_space=None,
        action_space=None,
        device=None,
        cfg=None,
        *,
        state_space=NOT_GIVEN,
    ) -> None:
        super().__init__(models, memory, observation_space, action_space, device, cfg, state_space=state_space)
        spec = self.models["policy"]._spec_for("policy")
        if not spec.mixin.needs_key:
            raise TypeError(f"SAC needs a stochastic (Gaussian) policy for 'policy', got {spec.mixin.__name__}")
        if any(self.models["policy"] is self.models[key] for key in TARGETS):
            raise ValueError("SAC: the policy cannot be its own critics' target; pass a second instance as the targets")
        for key in ("actor_gradient_to_encoder", "sharing_diagnostics"):
            if self.cfg[key] and all(self.models["policy"] is not self.models[k] for k in CRITICS):
                raise ValueError(
                    f"SAC: cfg[{key!r}]=True needs one model for the policy and the critics (an encoder they "
                    "share); the policy here is a model of its own"
                )
        if self.cfg["sharing_diagnostics"] and not self.encoder_subtrees():
            raise ValueError(
                "SAC: cfg['sharing_diagnostics']=True needs an encoder, a parameter subtree the policy and the critics "
                "both read; this model's roles read none in common (check model.parameter_roles())"
            )

    def actor_trainable(self) -> dict[str, bool] | None:
        """When the policy and the critics are one model (a shared encoder): which top-level
        parameter subtrees the actor's loss trains (``parameter_roles()``): those the policy reads
        and no critic does, plus the encoder (read by both) with ``cfg["actor_gradient_to_encoder"]``.
        The critics' loss always trains the encoder. ``None`` when the policy is a model of its own."""
        policy = self.models["policy"]
        if all(policy is not self.models[key] for key in CRITICS):
            return None
        readers = policy.parameter_roles()
        to_encoder = bool(self.cfg["actor_gradient_to_encoder"])
        return {name: "policy" in roles and (to_encoder or not roles & set(CRITICS)) for name, roles in readers.items()}

    def encoder_subtrees(self) -> frozenset[str]:
        """The top-level parameter subtrees the policy and a critic both read (none for a policy of its own)."""
        policy = self.models["policy"]
        if all(policy is not self.models[key] for key in CRITICS):
            return frozenset()
        readers = policy.parameter_roles()
        return frozenset(name for name, roles in readers.items() if "policy" in roles and roles & set(CRITICS))

    def build(self, num_envs: int, timesteps: int) -> AgentFunctions:
        cfg, models, keys = self.cfg, self.model_set, self.model_set.param_keys
        preprocessor = self.state_preprocessor
        critic_keys = list(dict.fromkeys(keys[name] for name in CRITICS))
        policy_optimizer = make_optimizer(float(cfg["actor_learning_rate"]), float(cfg["grad_norm_clip"]))
        critic_optimizer = make_optimizer(float(cfg["critic_learning_rate"]), float(cfg["grad_norm_clip"]))
        entropy_optimizer = make_optimizer(float(cfg["entropy_learning_rate"]))
        target_entropy = cfg["target_entropy"]
        if target_entropy is None:
            target_entropy = -float(np.prod(self.action_space.shape))
        learn_entropy, gamma, polyak = bool(cfg["learn_entropy"]), float(cfg["discount_factor"]), float(cfg["polyak"])
        random_timesteps = int(cfg["random_timesteps"])
        record = self.make_record(timesteps)
        trainable = self.actor_trainable()
        diagnostics = bool(cfg["sharing_diagnostics"])
        to_encoder = bool(cfg["actor_gradient_to_encoder"])
        encoder = self.encoder_subtrees()
        if diagnostics:  # the actor's gradient on the encoder is wanted even where it is not applied
            trainable = {name: flag or name in encoder for name, flag in trainable.items()}

        def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
            params = self.initial_params(key, params)
            log_alpha = jnp.log(jnp.asarray(cfg["initial_entropy_value"], jnp.float32))
            learner = OffPolicyLearner(
                params=params,
                opt_states={
                    "policy": policy_optimizer.init(params[keys["policy"]]),
                    "critic": critic_optimizer.init({name: params[name] for name in critic_keys}),
                    "entropy": entropy_optimizer.init(log_alpha),
                },
                scalars={"log_entropy_coefficient": log_alpha},
                state_scaler=None if preprocessor is None else preprocessor.initial_state(),
                gradient_steps=jnp.zeros((), jnp.int32),
            )
            return AgentState(learner, self.init_memory(num_envs))

        def act(state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic=False):
            learner = state.learner
            inputs = {"states": standardize(preprocessor, learner.state_scaler, observations)}
            sample_key, random_key = jax.random.split(key)
            actions, log_prob, outputs = models.act(learner.params, inputs, ["policy"], sample_key)["policy"]
            extras = {"log_prob": log_prob, "outputs": outputs}
            if deterministic:
                return outputs["mean_actions"], extras
            if random_timesteps:
                random = self.random_actions(random_key, observations.shape[0])
                actions = jnp.where(timestep < random_timesteps, random, actions)
            return actions, extras

        def step(learner: OffPolicyLearner, memory: Any, key: jax.Array):
            sample_key, next_key, policy_key = jax.random.split(key, 3)
            batch = self.sample_batch(memory, sample_key)
            scaler = learner.state_scaler
            if preprocessor is not None:
                scaler = scaler_update(scaler, batch.states)
            states = standardize(preprocessor, scaler, batch.states)
            next_states = standardize(preprocessor, scaler, batch.next_states)
            params, log_alpha = learner.params, learner.scalars["log_entropy_coefficient"]
            alpha = jnp.exp(log_alpha)

            next_actions, next_log_prob, _ = models.act(params, {"states": next_states}, ["policy"], next_key)["policy"]
            target_inputs = {"states": next_states, "taken_actions": next_actions}
            targets = models.act(params, target_inputs, TARGETS)
            target_values = soft_target(
                batch.rewards, batch.dones, targets[TARGETS[0]][0], targets[TARGETS[1]][0], next_log_prob, alpha, gamma
            )

            def critics_loss(critic_params):
                values = models.act(
                    {**params, **critic_params}, {"states": states, "taken_actions": batch.actions}, CRITICS
                )
                q1, q2 = values["critic_1"][0], values["critic_2"][0]
                return critic_loss(q1, q2, target_values), (q1, q2)

            critic_params = {name: params[name] for name in critic_keys}
            (critic_value, (q1, q2)), critic_grads = jax.value_and_grad(critics_loss, has_aux=True)(critic_params)
            critic_params, critic_opt = apply_gradients(
                critic_optimizer, critic_grads, critic_params, learner.opt_states["critic"]
            )
            params = {**params, **critic_params}
            frozen_critics = jax.lax.stop_gradient(critic_params)

            def actor_loss(policy_params):
                if trainable is not None:  # one model: only the policy's own subtrees get a gradient
                    policy_params = {
                        name: tree if trainable[name] else jax.lax.stop_gradient(tree)
                        for name, tree in policy_params.items()
                    }
                current = {**params, **frozen_critics, keys["policy"]: policy_params}
                actions, log_prob, _ = models.act(current, {"states": states}, ["policy"], policy_key)["policy"]
                values = models.act(current, {"states": states, "taken_actions": actions}, CRITICS)
                return policy_loss(log_prob, values["critic_1"][0], values["critic_2"][0], alpha), log_prob

            (policy_value, log_prob), policy_grads = jax.value_and_grad(actor_loss, has_aux=True)(
                params[keys["policy"]]
            )
            shared_metrics = {}
            if diagnostics:
                mask = {name: jax.tree.map(lambda _, n=name: n in encoder, tree) for name, tree in policy_grads.items()}
                shared_metrics = trunk_diagnostics(
                    policy_grads, critic_grads[keys["policy"]], mask, trunk_policy_weight=float(to_encoder)
                )
                if not to_encoder:  # measured, not applied
                    policy_grads = {
                        name: jax.tree.map(jnp.zeros_like, tree) if name in encoder else tree
                        for name, tree in policy_grads.items()
                    }
            policy_params, policy_opt = apply_gradients(
                policy_optimizer, policy_grads, params[keys["policy"]], learner.opt_states["policy"]
            )
            params = {**params, keys["policy"]: policy_params}
            opt_states = {**learner.opt_states, "critic": critic_opt, "policy": policy_opt}
            entropy_value = jnp.zeros(())
            if learn_entropy:

                def alpha_loss(log_alpha):
                    return entropy_loss(log_alpha, log_prob, target_entropy), None

                log_alpha, entropy_opt, entropy_value, _ = gradient_step(
                    alpha_loss, entropy_optimizer, log_alpha, learner.opt_states["entropy"]
                )
                opt_states["entropy"] = entropy_opt
            params = self.polyak_targets(params, polyak)
            learner = OffPolicyLearner(
                params, opt_states, {"log_entropy_coefficient": log_alpha}, scaler, learner.gradient_steps + 1
            )
            metrics = {
                "policy_loss": policy_value,
                "critic_loss": critic_value,
                **value_statistics("q1", q1),
                **value_statistics("q2", q2),
                **value_statistics("target", target_values),
                "entropy_loss": entropy_value,
                "entropy_coefficient": jnp.exp(log_alpha),
                **shared_metrics,
            }
            finite = jnp.isfinite(critic_value) & jnp.isfinite(policy_value) & jnp.isfinite(entropy_value)
            return learner, metrics, finite

        update = self.make_update(step)
        tags = dict(SAC_METRIC_TAGS, **(DIAGNOSTIC_TAGS if diagnostics else {}))
        if not learn_entropy:
            tags.pop("entropy_loss")
            tags.pop("entropy_coefficient")
        return AgentFunctions(
            init=init,
            act=act,
            record=record,
            update=update,
            update_interval=1,
            learning_starts=int(cfg["learning_starts"]),
            metric_tags=tags,
        )
