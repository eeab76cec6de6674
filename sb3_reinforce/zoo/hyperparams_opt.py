"""Optuna search space for REINFORCE, in the format of ``rl_zoo3.hyperparams_opt``."""

from typing import Any

import optuna
from torch import nn

NET_ARCHS = {
    "small": {"pi": [64, 64], "vf": [64, 64]},
    "medium": {"pi": [256, 256], "vf": [256, 256]},
}
ACTIVATION_FNS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


def convert_reinforce_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the raw values sampled by :func:`sample_reinforce_params` into REINFORCE keyword arguments.

    The zoo also calls this (through ``HYPERPARAMS_CONVERTER``) on the ``params`` stored in a study
    when training with ``--storage ... --study-name ... --trial-id N``.

    :param sampled_params: Values stored in the Optuna trial (``trial.params``)
    :return: Keyword arguments for ``REINFORCE``
    """
    hyperparams = sampled_params.copy()
    # Sampled on a log scale as 1 - gamma: the interesting values crowd near 1
    hyperparams["gamma"] = 1 - hyperparams.pop("one_minus_gamma")
    net_arch = NET_ARCHS[hyperparams.pop("net_arch")]
    activation_fn = ACTIVATION_FNS[hyperparams.pop("activation_fn")]
    return {"policy_kwargs": {"net_arch": net_arch, "activation_fn": activation_fn}, **hyperparams}


def sample_reinforce_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sampler for REINFORCE hyperparams (same signature as the zoo's samplers).

    :param trial: The Optuna trial
    :param n_actions: Dimension of a continuous action space (unused: REINFORCE has no action noise)
    :param n_envs: Number of parallel environments (unused: ``n_steps`` is already per env)
    :param additional_args: Extra information from the zoo (unused: no HER for on-policy algorithms)
    :return: Keyword arguments for ``REINFORCE``
    """
    # One gradient step per rollout: REINFORCE wants larger learning rates than PPO
    learning_rate = trial.suggest_float("learning_rate", 1e-4, 3e-2, log=True)
    n_steps = trial.suggest_categorical("n_steps", [16, 32, 64, 128, 256, 512, 1024])
    n_episodes = trial.suggest_categorical("n_episodes", [1, 2, 4, 8, 16])
    one_minus_gamma = trial.suggest_float("one_minus_gamma", 1e-4, 0.1, log=True)
    baseline = trial.suggest_categorical("baseline", ["none", "mean", "value"])
    normalize_advantage = trial.suggest_categorical("normalize_advantage", [True, False])
    ent_coef = trial.suggest_float("ent_coef", 1e-8, 0.1, log=True)
    # Only used with baseline="value"; always sampled so that every trial has the same parameters
    vf_coef = trial.suggest_float("vf_coef", 0.1, 1.0)
    max_grad_norm = trial.suggest_float("max_grad_norm", 0.3, 5.0, log=True)
    net_arch = trial.suggest_categorical("net_arch", list(NET_ARCHS))
    activation_fn = trial.suggest_categorical("activation_fn", list(ACTIVATION_FNS))

    # Display true values
    trial.set_user_attr("gamma", 1 - one_minus_gamma)

    return convert_reinforce_params(
        {
            "learning_rate": learning_rate,
            "n_steps": n_steps,
            "n_episodes": n_episodes,
            "one_minus_gamma": one_minus_gamma,
            "baseline": baseline,
            "normalize_advantage": normalize_advantage,
            "ent_coef": ent_coef,
            "vf_coef": vf_coef,
            "max_grad_norm": max_grad_norm,
            "net_arch": net_arch,
            "activation_fn": activation_fn,
        }
    )
