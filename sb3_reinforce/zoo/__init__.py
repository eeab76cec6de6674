"""RL Zoo (rl_zoo3) integration: train, enjoy, record videos and tune REINFORCE with the zoo's commands."""

from sb3_reinforce.zoo.experiment import HyperparameterFileError, ReinforceExperimentManager
from sb3_reinforce.zoo.hyperparams_opt import convert_reinforce_params, sample_reinforce_params
from sb3_reinforce.zoo.registration import hyperparams_path, register_reinforce

__all__ = [
    "HyperparameterFileError",
    "ReinforceExperimentManager",
    "convert_reinforce_params",
    "hyperparams_path",
    "register_reinforce",
    "sample_reinforce_params",
]
