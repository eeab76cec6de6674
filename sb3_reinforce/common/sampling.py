"""
Sampling actions during a rollout, at the cost of one actor forward pass and one sampling op per step.

REINFORCE needs nothing from the policy during a rollout but the sampled action: log-probabilities, entropies and
values are recomputed with the current weights at update time. SB3's ``policy.get_distribution(obs).get_actions()``
builds a ``torch.distributions`` object at every step (argument validation, logits normalized by their logsumexp,
``torch.multinomial``), which for the small networks of classic-control and PLE tasks costs more than the network.

:func:`sample_actions` draws from the same distributions with the same random numbers:

- categorical actions (``Discrete``, ``MultiDiscrete``) with the Gumbel-max trick, ``argmax(logits - log(E))`` with
  ``E ~ Exp(1)``: one noise op and one argmax. ``torch.multinomial`` draws a single sample on the CPU the same way
  (one ``exponential_`` draw per category, then ``argmax(probs / E)``), so for a given seed the actions are the ones
  SB3's path samples (checked on 200,000 draws: ``tests/test_sampling.py``), only several times cheaper. The two
  comparisons round differently, so when two categories are within a rounding error of each other the choice can
  differ: rare (a Pixelcopter run kept identical evaluations for its first 3.2M steps), but a run then diverges;
- Gaussian (``Box``) and Bernoulli (``MultiBinary``) actions with the very calls ``torch.distributions`` makes
  (``torch.normal``, ``torch.bernoulli``);
- gSDE (``use_sde=True``) through SB3's own distribution, which holds the exploration noise matrix.
"""

import torch as th
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import preprocess_obs
from stable_baselines3.common.type_aliases import PyTorchObs


def _gumbel_max(logits: th.Tensor) -> th.Tensor:
    """
    One categorical draw per row: ``argmax(logits - log(E))`` with ``E ~ Exp(1)``, i.e. Gumbel noise on the logits.

    Unnormalized logits are fine: the argmax does not move when a row is shifted.
    """
    return (logits - th.empty_like(logits).exponential_().log()).argmax(dim=-1)


def sample_actions(policy: ActorCriticPolicy, obs: PyTorchObs) -> th.Tensor:
    """
    Sample one action per observation from the policy, as ``policy.get_distribution(obs).get_actions()`` does.

    Call it under ``torch.inference_mode()`` (or ``no_grad``): nothing here is meant for backpropagation.

    :param policy: An SB3 actor-critic policy
    :param obs: A batch of observations, already a tensor (or a dict of tensors) on the policy's device
    :return: The actions, shaped as SB3's ``get_actions()`` returns them
    """
    return _sample(policy, obs, with_values=False)[0]


def sample_actions_and_values(policy: ActorCriticPolicy, obs: PyTorchObs) -> tuple[th.Tensor, th.Tensor]:
    """
    :func:`sample_actions`, plus the value estimates ``policy.predict_values(obs)`` (flattened) from the same pass
    through a shared features extractor: for images, the value costs a linear layer rather than a second pass
    through the CNN.

    :param policy: An SB3 actor-critic policy
    :param obs: A batch of observations, already a tensor (or a dict of tensors) on the policy's device
    :return: The actions (as :func:`sample_actions` returns them) and the values, shape ``(n,)``
    """
    actions, values = _sample(policy, obs, with_values=True)
    assert values is not None
    return actions, values


def _sample(policy: ActorCriticPolicy, obs: PyTorchObs, with_values: bool) -> tuple[th.Tensor, th.Tensor | None]:
    action_dist = policy.action_dist
    if not isinstance(
        action_dist, CategoricalDistribution | MultiCategoricalDistribution | BernoulliDistribution | DiagGaussianDistribution
    ):
        # gSDE: the exploration noise matrix lives in the distribution object.
        return policy.get_distribution(obs).get_actions(), policy.predict_values(obs).flatten() if with_values else None

    values = None
    if with_values:
        # SB3's own split: one features tensor when the extractor is shared, else (actor's, critic's).
        features = policy.extract_features(obs)
        pi_features, vf_features = (features, features) if isinstance(features, th.Tensor) else features
        values = policy.value_net(policy.mlp_extractor.forward_critic(vf_features)).flatten()
    else:
        pi_features = policy.pi_features_extractor(preprocess_obs(obs, policy.observation_space, policy.normalize_images))

    output = policy.action_net(policy.mlp_extractor.forward_actor(pi_features))
    if isinstance(action_dist, CategoricalDistribution):
        return _gumbel_max(output), values
    if isinstance(action_dist, MultiCategoricalDistribution):
        actions = th.stack([_gumbel_max(logits) for logits in th.split(output, list(action_dist.action_dims), dim=1)], dim=1)
        return actions, values
    if isinstance(action_dist, BernoulliDistribution):
        return th.bernoulli(th.sigmoid(output)), values
    # DiagGaussian: the same torch.normal call as Normal(mean, std).sample()
    return th.normal(output, policy.log_std.exp().expand_as(output)), values
