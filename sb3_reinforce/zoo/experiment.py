"""rl_zoo3's ``ExperimentManager`` with the few changes REINFORCE needs."""

import inspect
from typing import Any, cast

import optuna
import torch as th
import yaml
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.utils import ALGOS
from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_reinforce.zoo.storage import ensure_rdb_schema, is_rdb_url, resolve_storage

ALGO_NAME = "reinforce"

# Keys of a zoo hyperparameter entry that the ExperimentManager consumes itself (not algorithm arguments)
ZOO_KEYS = frozenset(
    {
        "n_envs",
        "n_timesteps",
        "normalize",
        "env_wrapper",
        "vec_env_wrapper",
        "frame_stack",
        "callback",
        "monitor_kwargs",
        "env_kwargs",
        "noise_type",
        "noise_std",
    }
)
# Algorithm arguments the ExperimentManager passes itself: a hyperparameter file must not set them
MANAGED_ARGS = frozenset({"self", "env", "tensorboard_log", "seed", "verbose", "device", "_init_setup_model"})


class HyperparameterFileError(ValueError):
    """A hyperparameter file that cannot be used: malformed YAML, wrong structure, unknown or missing keys."""


class ContinueTraining:
    """
    Stand-in for a model handed to code that calls ``model.learn(total_timesteps, ...)``: the call continues
    counting timesteps (``reset_num_timesteps=False``). Every other attribute is the model's.

    :param model: The model to train
    """

    def __init__(self, model: BaseAlgorithm) -> None:
        self.model = model

    def learn(self, total_timesteps: int, **kwargs: Any) -> BaseAlgorithm:
        if "reset_num_timesteps" in kwargs:
            raise TypeError("ContinueTraining.learn always continues counting: do not pass reset_num_timesteps")
        return self.model.learn(total_timesteps, reset_num_timesteps=False, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only called for names not found on the stand-in itself
        return getattr(self.model, name)


class ReinforceExperimentManager(ExperimentManager):
    """
    rl_zoo3's experiment manager, changed only where REINFORCE or scaling the search needs it:

    - ``--storage`` also accepts SQLite file names and checks its value (see :func:`resolve_storage`),
      and the tables of a database storage are created with retries so that workers can start together
    - hyperparameter files are checked up front, with errors naming the file and the key
    - resuming a REINFORCE run with ``-i`` keeps counting timesteps instead of starting again from 0
    - a trial whose loss turns non-finite is pruned instead of stopping the whole study

    Everything else (arguments, log folder layout, callbacks, saving on Ctrl-C) is the zoo's.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = resolve_storage(self.storage)

    def read_hyperparameters(self) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.config.endswith((".yml", ".yaml")):
            self._check_hyperparameter_file()
        hyperparams, saved_hyperparams = super().read_hyperparameters()
        self._check_hyperparameters(hyperparams)
        self._default_num_threads(hyperparams)
        return hyperparams, saved_hyperparams

    def _default_num_threads(self, hyperparams: dict[str, Any]) -> None:
        """
        One torch thread for REINFORCE's MLP policies unless ``--num-threads`` says otherwise.

        Their rollouts run one small forward pass per step, which a second thread does not speed up: on 2 cores, one
        thread trained the CartPole and Pixelcopter entries from 16% faster to 8% slower than two, idle or with other
        processes busy, and torch's thread pool is one more thing to contend for on a shared machine.
        ``CnnPolicy`` keeps torch's default, which its convolutions use: 1.1x faster on 2 idle cores, though 0.5x when
        another process keeps a core busy (docs/throughput.md, "Threads").
        """
        if self.algo != ALGO_NAME or getattr(self.args, "num_threads", -1) > 0 or hyperparams.get("policy") == "CnnPolicy":
            return
        th.set_num_threads(1)
        if self.verbose > 0:
            print("Setting torch.num_threads to 1 (the fastest for MLP policies; --num-threads N to change)")

    def _check_hyperparameter_file(self) -> None:
        """Fail early, naming the file, where the zoo would crash later with an unrelated message."""
        try:
            with open(self.config) as file:
                content = yaml.safe_load(file)
        except yaml.YAMLError as error:
            raise HyperparameterFileError(f"Malformed hyperparameter file {self.config}: {error}") from error
        if not isinstance(content, dict):
            raise HyperparameterFileError(
                f"Malformed hyperparameter file {self.config}: expected a mapping from environment ids to "
                f"hyperparameters, got {type(content).__name__}"
            )
        for env_id, entry in content.items():
            if not isinstance(entry, dict):
                raise HyperparameterFileError(
                    f"Malformed hyperparameter file {self.config}: the entry {env_id!r} must be a mapping of "
                    f"hyperparameters, got {entry!r}"
                )

    def _check_hyperparameters(self, hyperparams: dict[str, Any]) -> None:
        """Check the entry used for this run (after ``-params`` overrides) before any env is created."""
        where = f"hyperparameters for {self.env_name.gym_id} (from {self.config} and -params)"
        if self.n_timesteps <= 0 and "n_timesteps" not in hyperparams:
            raise HyperparameterFileError(f"n_timesteps is missing in the {where}: add it or pass -n")
        if self.algo != ALGO_NAME:
            return
        if "policy" not in hyperparams:
            raise HyperparameterFileError(f"policy is missing in the {where} (e.g. MlpPolicy or CnnPolicy)")
        accepted = set(inspect.signature(ALGOS[self.algo].__init__).parameters) - MANAGED_ARGS
        unknown = sorted(set(hyperparams) - accepted - ZOO_KEYS)
        if unknown:
            raise HyperparameterFileError(
                f"Unknown key(s) {', '.join(unknown)} in the {where}. " f"Accepted: {', '.join(sorted(accepted | ZOO_KEYS))}"
            )

    def learn(self, model: BaseAlgorithm) -> None:
        if not (self.continue_training and self.algo == ALGO_NAME):
            super().learn(model)
            return
        # The zoo calls `model.learn(n_timesteps)`, which resets `num_timesteps` to 0 when resuming with -i:
        # the logs, schedules and the saved model would forget the steps already done. The zoo gets a stand-in
        # that adds reset_num_timesteps=False; the model itself is left untouched, so every save of it (best
        # model, checkpoints, final model) is a plain model.
        super().learn(cast(BaseAlgorithm, ContinueTraining(model)))

    def objective(self, trial: optuna.Trial) -> float:
        try:
            return super().objective(trial)
        except FloatingPointError as error:
            # REINFORCE raises it when sampled hyperparameters make the loss diverge. The zoo prunes
            # such trials only for ValueError/AssertionError; anything else would end the study.
            print(error)
            raise optuna.TrialPruned(str(error)) from error

    def hyperparameters_optimization(self) -> None:
        if is_rdb_url(self.storage):
            assert self.storage is not None
            ensure_rdb_schema(self.storage)
        super().hyperparameters_optimization()
