"""Make rl_zoo3 know REINFORCE: algorithm, Optuna sampler, experiment manager and default hyperparameters."""

from pathlib import Path

import rl_zoo3.hyperparams_opt
import rl_zoo3.train
import rl_zoo3.utils

import sb3_reinforce
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.zoo.experiment import ALGO_NAME, ReinforceExperimentManager
from sb3_reinforce.zoo.hyperparams_opt import convert_reinforce_params, sample_reinforce_params

HYPERPARAMS_FILE = f"{ALGO_NAME}.yml"


def hyperparams_path() -> Path:
    """
    :return: Path of the packaged ``reinforce.yml``: inside the installed package (wheel), else the
        repository's top-level ``hyperparams/`` folder (editable install or source checkout)
    """
    package_dir = Path(sb3_reinforce.__file__).resolve().parent
    candidates = [package_dir / "hyperparams" / HYPERPARAMS_FILE, package_dir.parent / "hyperparams" / HYPERPARAMS_FILE]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"The packaged {HYPERPARAMS_FILE} was not found, looked in: {', '.join(map(str, candidates))}")


def register_reinforce() -> None:
    """
    Register REINFORCE with rl_zoo3 (idempotent).

    rl_zoo3 has no plugin mechanism: its scripts read these module-level dicts, so the entries must be
    in place before their argument parsers are built (``--algo`` choices come from ``ALGOS``).
    ``rl_zoo3.train``, ``rl_zoo3.enjoy``, ``rl_zoo3.exp_manager`` and ``rl_zoo3.record_video`` all import
    the very same ``ALGOS`` dict object from ``rl_zoo3.utils``.
    """
    rl_zoo3.utils.ALGOS[ALGO_NAME] = REINFORCE
    rl_zoo3.hyperparams_opt.HYPERPARAMS_SAMPLER[ALGO_NAME] = sample_reinforce_params
    # Used by the zoo to turn a stored trial back into hyperparameters (--storage/--study-name/--trial-id)
    rl_zoo3.hyperparams_opt.HYPERPARAMS_CONVERTER[ALGO_NAME] = convert_reinforce_params
    # rl_zoo3.train.train() instantiates whatever `ExperimentManager` its module holds
    rl_zoo3.train.ExperimentManager = ReinforceExperimentManager  # type: ignore[misc]
