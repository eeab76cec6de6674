"""
Upper bounds on what a safe model description may ask this machine to build.

A ``.safe.json`` of a few hundred bytes can name a network of billions of parameters (``net_arch``,
``features_dim``, a huge observation or action space) or thousands of millions of environments: building it
would exhaust the memory before the weights are even compared. The size of the policy is estimated from the
description alone, before anything is allocated, and a description past the limits is refused.
"""

import math
from typing import Any

from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import CombinedExtractor, FlattenExtractor, NatureCNN

from sb3_reinforce.hub.errors import ModelFormatError

# 100M parameters (400 MB of float32): RL policies are far smaller (NatureCNN on Atari: 1.7M).
MAX_PARAMETERS = 100_000_000
# Each env keeps its own episode buffers; rl_zoo3's largest settings use a few thousand.
MAX_N_ENVS = 2**16
# Transitions gathered before one update (n_steps * n_envs), and episodes per update.
MAX_TRANSITIONS = 2**27

_DEFAULT_EXTRACTORS: dict[str, type] = {
    "MlpPolicy": FlattenExtractor,
    "CnnPolicy": NatureCNN,
    "MultiInputPolicy": CombinedExtractor,
}


def _int_or(value: Any, default: int) -> int:
    """Sizes that are not integers are left to the constructor to refuse: estimate with the default."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def _input_size(space: spaces.Space) -> int:
    """Width of the flattened (one-hot for discrete) input: an upper bound on what a layer reading it sees."""
    if isinstance(space, spaces.Discrete):
        return int(space.n)
    if isinstance(space, spaces.MultiDiscrete):
        return sum(int(n) for n in space.nvec.flat)  # Python integers: a numpy sum of huge counts would wrap
    if isinstance(space, spaces.Dict):
        return sum(_input_size(subspace) for subspace in space.spaces.values())
    return math.prod(space.shape or (1,))


def _action_size(space: spaces.Space) -> int:
    """Outputs of the action head (logits, or means)."""
    if isinstance(space, spaces.Box | spaces.MultiBinary):
        return math.prod(space.shape or (1,))
    return _input_size(space)


def _nature_cnn(space: spaces.Space, features_dim: int) -> int:
    """:return: Parameters of SB3's NatureCNN on ``space`` (channels first, as SB3 transposes images)"""
    if not (isinstance(space, spaces.Box) and len(space.shape) == 3):
        # Not an image (SB3 will refuse it): the flattened size bounds what its linear layer reads.
        return (_input_size(space) + 1) * features_dim
    channels, height, width = space.shape
    # Three convolutions without padding: 8x8 stride 4, 4x4 stride 2, 3x3 stride 1, to 32, 64 and 64 channels.
    for kernel, stride in ((8, 4), (4, 2), (3, 1)):
        height, width = max((height - kernel) // stride + 1, 0), max((width - kernel) // stride + 1, 0)
    convolutions = (channels * 64 + 1) * 32 + (32 * 16 + 1) * 64 + (64 * 9 + 1) * 64
    return convolutions + (64 * height * width + 1) * features_dim


def _extractor(policy: str, observation_space: spaces.Space, policy_kwargs: dict[str, Any]) -> tuple[int, int]:
    """:return: Parameters of one features extractor (an upper bound) and its output width"""
    extractor_class = policy_kwargs.get("features_extractor_class") or _DEFAULT_EXTRACTORS.get(policy, FlattenExtractor)
    kwargs = policy_kwargs.get("features_extractor_kwargs")
    kwargs = kwargs if isinstance(kwargs, dict) else {}
    if extractor_class is NatureCNN:
        features_dim = _int_or(kwargs.get("features_dim"), 512)
        return _nature_cnn(observation_space, features_dim), features_dim
    if extractor_class is CombinedExtractor and isinstance(observation_space, spaces.Dict):
        cnn_output_dim = _int_or(kwargs.get("cnn_output_dim"), 256)
        normalized_image = bool(kwargs.get("normalized_image", False))
        parameters, features_dim = 0, 0
        for subspace in observation_space.spaces.values():
            if is_image_space(subspace, normalized_image=normalized_image):
                parameters += _nature_cnn(subspace, cnn_output_dim)
                features_dim += cnn_output_dim
            else:
                features_dim += _input_size(subspace)
        return parameters, features_dim
    return 0, _input_size(observation_space)


def _mlp(width: int, layers: Any) -> tuple[int, int]:
    """:return: Parameters of the hidden layers and the width of the last one"""
    parameters = 0
    for size in layers if isinstance(layers, list | tuple) else []:
        size = _int_or(size, 0)
        parameters += (width + 1) * size
        width = size
    return parameters, width


def estimate_parameters(
    policy: str, observation_space: spaces.Space, action_space: spaces.Space, policy_kwargs: dict[str, Any]
) -> int:
    """
    Estimate, from the description alone, how many parameters SB3's actor-critic policy would have (an upper
    bound for the features extractor, exact for the rest).
    """
    extractor_parameters, features_dim = _extractor(policy, observation_space, policy_kwargs)
    if not policy_kwargs.get("share_features_extractor", True):
        extractor_parameters *= 2
    net_arch = policy_kwargs.get("net_arch")
    if net_arch is None:
        # SB3's default: no hidden layer after NatureCNN, else two of 64 units.
        extractor_class = policy_kwargs.get("features_extractor_class") or _DEFAULT_EXTRACTORS.get(policy)
        net_arch = [] if extractor_class is NatureCNN else {"pi": [64, 64], "vf": [64, 64]}
    pi_layers, vf_layers = (net_arch.get("pi"), net_arch.get("vf")) if isinstance(net_arch, dict) else (net_arch, net_arch)
    pi_parameters, pi_width = _mlp(features_dim, pi_layers)
    vf_parameters, vf_width = _mlp(features_dim, vf_layers)
    # Action head, plus a log std per action or a gSDE matrix (at most as large), and the value head.
    head_parameters = 2 * (pi_width + 1) * _action_size(action_space) + vf_width + 1
    return extractor_parameters + pi_parameters + vf_parameters + head_parameters


def _largest_cause(
    policy: str, observation_space: spaces.Space, action_space: spaces.Space, policy_kwargs: dict[str, Any]
) -> str:
    """:return: The field of the description that, set back to a small value, shrinks the estimate the most"""
    small_space = spaces.Box(-1, 1, shape=(1,))
    estimates = {
        "observation_space": estimate_parameters(policy, small_space, action_space, policy_kwargs),
        "action_space": estimate_parameters(policy, observation_space, spaces.Discrete(2), policy_kwargs),
        "net_arch": estimate_parameters(policy, observation_space, action_space, {**policy_kwargs, "net_arch": None}),
        "features_extractor_kwargs": estimate_parameters(
            policy, observation_space, action_space, {**policy_kwargs, "features_extractor_kwargs": None}
        ),
    }
    return min(estimates, key=lambda name: estimates[name])


def check_description_size(
    file_name: str,
    policy: str,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    hyperparameters: dict[str, Any],
    policy_kwargs: dict[str, Any],
    n_envs: int,
) -> None:
    """
    Refuse a description whose model would not fit any reasonable memory, naming the field responsible.

    :raises ModelFormatError: past :data:`MAX_PARAMETERS`, :data:`MAX_N_ENVS` or :data:`MAX_TRANSITIONS`
    """
    advice = "refused (a crafted file?): if you trust its author, load the SB3 zip instead (trust_remote_code=True)"
    if n_envs > MAX_N_ENVS:
        raise ModelFormatError(f"{file_name}: n_envs={n_envs} is larger than {MAX_N_ENVS}, {advice}")
    n_steps = _int_or(hyperparameters.get("n_steps"), 0)
    if n_steps * n_envs > MAX_TRANSITIONS:
        raise ModelFormatError(
            f"{file_name}: n_steps={n_steps} (times n_envs={n_envs}) asks for more than {MAX_TRANSITIONS} transitions "
            f"per update, {advice}"
        )
    n_episodes = _int_or(hyperparameters.get("n_episodes"), 0)
    if n_episodes > MAX_TRANSITIONS:
        raise ModelFormatError(f"{file_name}: n_episodes={n_episodes} is larger than {MAX_TRANSITIONS}, {advice}")
    estimate = estimate_parameters(policy, observation_space, action_space, policy_kwargs)
    if estimate > MAX_PARAMETERS:
        cause = _largest_cause(policy, observation_space, action_space, policy_kwargs)
        raise ModelFormatError(
            f"{file_name}: the policy would have about {estimate:.3g} parameters (limit {MAX_PARAMETERS:.3g}), mostly "
            f"because of its {cause}, {advice}"
        )
