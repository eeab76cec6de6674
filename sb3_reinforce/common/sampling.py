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

:class:`RolloutSampler` is :func:`sample_actions` for the steps of one rollout: it inspects the policy once, when the
rollout starts, rather than at every step.

:func:`predict_actions` is ``policy._predict(obs, deterministic)`` on the same path: the sampled actions above, or the
distribution's mode computed exactly as ``torch.distributions`` computes it (the argmax of the normalized
probabilities, not of the logits), so that deterministic actions are SB3's bit for bit.
"""

from collections.abc import Callable

import torch as th
import torch.nn.modules.module as _torch_module
from gymnasium import spaces
from stable_baselines3.common.distributions import (
    BernoulliDistribution,
    CategoricalDistribution,
    DiagGaussianDistribution,
    MultiCategoricalDistribution,
)
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import is_image_space, preprocess_obs
from stable_baselines3.common.torch_layers import FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs
from torch import nn
from torch.nn import functional as F

# A plain MLP's layer as its function runs it: (weight, bias) for a Linear, or the activation function.
_PlainOp = tuple[th.Tensor, th.Tensor | None] | Callable[[th.Tensor], th.Tensor]


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
    return RolloutSampler(policy)(obs)


def predict_actions(policy: ActorCriticPolicy, obs: PyTorchObs, deterministic: bool) -> th.Tensor:
    """
    ``policy._predict(obs, deterministic)`` without building a distribution object: what ``predict()`` (evaluations,
    ``enjoy``, the Hub's model cards) runs at every step.

    Call it under ``torch.inference_mode()`` (or ``no_grad``).

    :param policy: An SB3 actor-critic policy
    :param obs: A batch of observations, already a tensor (or a dict of tensors) on the policy's device
    :param deterministic: The distribution's mode if True, else a sample (:func:`sample_actions`)
    :return: The actions, shaped as SB3's ``get_actions()`` returns them
    """
    if not deterministic:
        return sample_actions(policy, obs)
    action_dist = policy.action_dist
    if not isinstance(
        action_dist, CategoricalDistribution | MultiCategoricalDistribution | BernoulliDistribution | DiagGaussianDistribution
    ):
        return policy.get_distribution(obs).get_actions(deterministic=True)
    output = _actor_output(policy, obs)
    if isinstance(action_dist, CategoricalDistribution):
        return _categorical_mode(output)
    if isinstance(action_dist, MultiCategoricalDistribution):
        modes = [_categorical_mode(logits) for logits in th.split(output, list(action_dist.action_dims), dim=1)]
        return th.stack(modes, dim=1)
    if isinstance(action_dist, BernoulliDistribution):
        return th.round(th.sigmoid(output))
    return output  # the Gaussian's mean


def _categorical_mode(logits: th.Tensor) -> th.Tensor:
    # Categorical(logits=...) normalizes the logits by their logsumexp and takes the argmax of their softmax: the same
    # ops, so that two logits within a rounding error of each other resolve as in SB3.
    return F.softmax(logits - logits.logsumexp(dim=-1, keepdim=True), dim=-1).argmax(dim=1)


def _actor_output(policy: ActorCriticPolicy, obs: PyTorchObs) -> th.Tensor:
    """The action net's output (logits, or the Gaussian's mean) for a batch of observations: one actor pass."""
    return _run_actor(policy, _plain_actor_ops(policy), obs)


def _run_actor(policy: ActorCriticPolicy, ops: list[_PlainOp] | None, obs: PyTorchObs) -> th.Tensor:
    """:func:`_actor_output` with the actor already inspected (``ops``: :func:`_plain_actor_ops`'s answer)."""
    if ops is not None and isinstance(obs, th.Tensor):
        output = obs.float().flatten(1)  # preprocess_obs of a non-image Box, then FlattenExtractor
        for op in ops:
            output = F.linear(output, *op) if isinstance(op, tuple) else op(output)
        return output
    features = policy.pi_features_extractor(preprocess_obs(obs, policy.observation_space, policy.normalize_images))
    return policy.action_net(policy.mlp_extractor.forward_actor(features))


# The activations SB3's MLPs are built with, as the functions their forward() calls (ReLU's inplace flag only saves memory).
_ACTIVATIONS = {nn.ReLU: th.relu, nn.Tanh: th.tanh}


def _plain_actor_layers(policy: ActorCriticPolicy) -> list[nn.Module] | None:
    """
    The actor's layers when it is the plain MLP of an ``MlpPolicy`` on a non-image ``Box``: ``FlattenExtractor``, a
    ``Sequential`` of ``Linear``/``ReLU``/``Tanh`` and the linear action net, with no hooks anywhere. Those run as the
    functions their ``forward()`` calls (the same ops, so the same numbers): a module call costs ~5 µs of Python,
    as much as a 64x64 layer, and a rollout step of a small MLP makes seven of them. Anything else (custom modules,
    hooks, images, dicts): ``None``, and the caller goes through the modules.
    """
    extractor, policy_net, action_net = policy.pi_features_extractor, policy.mlp_extractor.policy_net, policy.action_net
    space = policy.observation_space
    if (
        type(extractor) is not FlattenExtractor
        or type(extractor.flatten) is not nn.Flatten
        or (extractor.flatten.start_dim, extractor.flatten.end_dim) != (1, -1)
        or type(policy_net) is not nn.Sequential
        or type(action_net) is not nn.Linear
        or not isinstance(space, spaces.Box)
        or (policy.normalize_images and is_image_space(space))
        or _GLOBAL_HOOKS is None
        or any(_GLOBAL_HOOKS)
    ):
        return None
    layers = [*policy_net, action_net]
    for module in (extractor, extractor.flatten, policy_net, *layers):
        if module._forward_hooks or module._forward_pre_hooks:
            return None
    if any(type(layer) is not nn.Linear and type(layer) not in _ACTIVATIONS for layer in layers):
        return None
    return layers


def _plain_actor_ops(policy: ActorCriticPolicy) -> list[_PlainOp] | None:
    """:func:`_plain_actor_layers` as the functions and weights they run (the weights themselves, not copies)."""
    layers = _plain_actor_layers(policy)
    if layers is None:
        return None
    return [(layer.weight, layer.bias) if isinstance(layer, nn.Linear) else _ACTIVATIONS[type(layer)] for layer in layers]


# torch's process-wide forward hooks (register_module_forward_hook and co.): a private registry, read only to know
# whether calling the modules would do more than their forward(); without it, the modules are always called.
_GLOBAL_HOOKS = (
    tuple(getattr(_torch_module, name) for name in ("_global_forward_hooks", "_global_forward_pre_hooks"))
    if all(hasattr(_torch_module, name) for name in ("_global_forward_hooks", "_global_forward_pre_hooks"))
    else None
)


def sample_actions_and_values(policy: ActorCriticPolicy, obs: PyTorchObs) -> tuple[th.Tensor, th.Tensor]:
    """
    :func:`sample_actions`, plus the value estimates ``policy.predict_values(obs)`` (flattened) from the same pass
    through a shared features extractor: for images, the value costs a linear layer rather than a second pass
    through the CNN.

    :param policy: An SB3 actor-critic policy
    :param obs: A batch of observations, already a tensor (or a dict of tensors) on the policy's device
    :return: The actions (as :func:`sample_actions` returns them) and the values, shape ``(n,)``
    """
    draw = _drawing(policy)
    if draw is None:
        # gSDE: the exploration noise matrix lives in the distribution object.
        return policy.get_distribution(obs).get_actions(), policy.predict_values(obs).flatten()
    # SB3's own split: one features tensor when the extractor is shared, else (actor's, critic's).
    features = policy.extract_features(obs)
    pi_features, vf_features = (features, features) if isinstance(features, th.Tensor) else features
    values = policy.value_net(policy.mlp_extractor.forward_critic(vf_features)).flatten()
    return draw(policy.action_net(policy.mlp_extractor.forward_actor(pi_features))), values


def _drawing(policy: ActorCriticPolicy) -> Callable[[th.Tensor], th.Tensor] | None:
    """
    :return: The function that draws actions from the action net's output for this policy's distribution, with the
        random numbers ``torch.distributions`` would draw; ``None`` for gSDE (its noise lives in the distribution object)
    """
    action_dist = policy.action_dist
    if isinstance(action_dist, CategoricalDistribution):
        return _gumbel_max
    if isinstance(action_dist, MultiCategoricalDistribution):
        action_dims = list(action_dist.action_dims)
        return lambda output: th.stack([_gumbel_max(logits) for logits in th.split(output, action_dims, dim=1)], dim=1)
    if isinstance(action_dist, BernoulliDistribution):
        return lambda output: th.bernoulli(th.sigmoid(output))
    if isinstance(action_dist, DiagGaussianDistribution):
        # The same torch.normal call as Normal(mean, std).sample(); log_std is read at each call (it is being learned).
        log_std = policy.log_std
        return lambda output: th.normal(output, log_std.exp().expand_as(output))
    return None


class RolloutSampler:
    """
    :func:`sample_actions` for the steps of one rollout, with the inspection of the policy done once.

    At every step of a small MLP, finding out how to run the actor (:func:`_plain_actor_layers`: module types, hooks)
    and which distribution to draw from costs about as much as a layer. A sampler reads the actor's structure when it
    is made, at the start of a rollout, and the weights live at each call (the optimizer updates them in place);
    :func:`sample_actions` is a sampler made for one call. Modules replaced, or hooks registered, while a rollout runs
    (e.g. by a callback's ``on_step``) take effect from the next rollout, when ``collect_rollouts`` makes a new sampler.

    :param policy: An SB3 actor-critic policy
    """

    def __init__(self, policy: ActorCriticPolicy):
        self.policy = policy
        self._draw = _drawing(policy)
        self._ops = _plain_actor_ops(policy)

    def __call__(self, obs: PyTorchObs) -> th.Tensor:
        """
        Call it under ``torch.inference_mode()`` (or ``no_grad``).

        :param obs: A batch of observations, already a tensor (or a dict of tensors) on the policy's device
        :return: The actions, as :func:`sample_actions` returns them
        """
        if self._draw is None:
            # gSDE: the exploration noise matrix lives in the distribution object.
            return self.policy.get_distribution(obs).get_actions()
        return self._draw(_run_actor(self.policy, self._ops, obs))
