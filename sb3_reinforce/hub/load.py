"""
Download an agent from the Hub and load it, or lay it out for ``sb3-reinforce enjoy``. Unless ``trust_remote_code``,
nothing from the repository is unpickled, imported, or chooses a path (see :mod:`.safe_model`).
"""

import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch as th
import yaml
from huggingface_hub import hf_hub_download
from huggingface_hub.errors import LocalEntryNotFoundError, RemoteEntryNotFoundError
from huggingface_hub.utils import validate_repo_id
from huggingface_sb3 import EnvironmentName, ModelName, ModelRepoId
from stable_baselines3.common.type_aliases import GymEnv
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecFrameStack, VecNormalize

from sb3_reinforce.hub import safe_model
from sb3_reinforce.hub.errors import HubError, UnsafeModelError, hub_errors, is_offline, resolve_endpoint
from sb3_reinforce.hub.package import CONFIG_FILE, LIBRARY_NAME, check_name
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.version import __version__

ALGO = "reinforce"
#: The env wrappers a repository's rl_zoo3 settings may name without trust_remote_code (rl_zoo3 imports and calls them).
SAFE_ENV_WRAPPERS = ("stable_baselines3.common.atari_wrappers.AtariWrapper",)


def model_name(env_id: str) -> str:
    """:return: ``reinforce-<env name>``, the default name of the model files and of the repository"""
    return ModelName(ALGO, EnvironmentName(env_id))


def default_repo_id(organization: str, env_id: str, repo_name: str | None = None) -> str:
    """:return: ``<organization>/<repo_name or reinforce-<env name>>``, checked by huggingface_hub"""
    repo_id = ModelRepoId(organization, repo_name or model_name(env_id))  # type: ignore[arg-type]
    validate_repo_id(repo_id)
    return repo_id


class _Repository:
    """The files of one repository, through huggingface_hub's cache: its ``config.json`` and the names of its model files."""

    def __init__(self, repo_id: str, name: str | None, fallback: str | None, trust_remote_code: bool, **options: Any):
        validate_repo_id(repo_id)
        self.repo_id, self.endpoint = repo_id, resolve_endpoint(options.pop("endpoint", None))
        self.options = dict(endpoint=self.endpoint, library_name=LIBRARY_NAME, library_version=__version__, **options)
        config = self.get(CONFIG_FILE, required=False)
        config = safe_model.read_json(config, "config.json") if config is not None else {}
        self.config: dict[str, Any] = config if isinstance(config, dict) else {}
        marker = self.config["sb3_reinforce"] if isinstance(self.config.get("sb3_reinforce"), dict) else {}
        self.name = check_name(name or marker.get("model_name") or fallback or repo_id.split("/")[1], "model name")
        # Offline, a missing sidecar means "not cached", not "not pushed with sb3-reinforce": let that error say so.
        self.sidecar = None if trust_remote_code else self.get(f"{self.name}{safe_model.SIDECAR_SUFFIX}", is_offline())
        if self.sidecar is None and not trust_remote_code:
            raise UnsafeModelError(
                f"{repo_id} has no {self.name}.safe.json: not pushed with sb3-reinforce (or pass model_name). "
                "Its SB3 zip loads only by unpickling it, running any code it holds: pass trust_remote_code=True to trust it."
            )

    def get(self, filename: str, required: bool = True) -> Any:
        """:return: The local path of the file (None when it is not ``required`` and the repository lacks it)"""
        offline = is_offline()
        try:
            with hub_errors(f"download {filename} from {self.repo_id}", self.endpoint):
                return Path(hf_hub_download(self.repo_id, filename, local_files_only=offline, **self.options))
        except HubError as error:
            # Offline, an optional file missing from the cache counts as absent.
            if required or not isinstance(error.__cause__, LocalEntryNotFoundError if offline else RemoteEntryNotFoundError):
                raise
            return None

    def env(self, trust_remote_code: bool) -> gym.Env:
        """:return: The env named by the repository, to carry VecNormalize statistics when the caller gave none"""
        env_id = self.config.get("env_id")
        if not trust_remote_code and (not isinstance(env_id, str) or ":" in env_id or env_id not in gym.registry):
            raise UnsafeModelError(
                f"{self.repo_id} has VecNormalize statistics and names the env {env_id!r}: unless trust_remote_code, only "
                "an id registered in Gymnasium (by a package you imported) naming no 'module:' to import is made: pass env=..."
            )
        return gym.make(env_id)  # type: ignore[arg-type]


def load_from_hub(
    repo_id: str,
    model_name: str | None = None,
    *,
    env: GymEnv | None = None,
    trust_remote_code: bool = False,
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    cache_dir: str | Path | None = None,
    device: th.device | str = "auto",
) -> REINFORCE:
    """
    Download a REINFORCE agent and load it as ``REINFORCE.load(path, env=env)`` would, unpickling nothing by default.
    With VecNormalize statistics, ``env`` (default: ``gym.make(<env id>)``, if that id is registered and names no
    module to import) is wrapped in a frozen ``VecNormalize`` with them, then, for an agent trained on stacked
    observations (rl_zoo3's ``frame_stack`` in ``config.json``, e.g. the Pixelcopter entry), in a ``VecFrameStack``:
    the env the agent was trained on. Without statistics, ``env`` is attached as it is (stack its frames yourself,
    as for Atari).

    :param repo_id: ``<organization>/<name>``
    :param model_name: Base name of the model files (default: from ``config.json``, else the repository name)
    :param env: Environment to attach
    :param trust_remote_code: Load the SB3 zip and ``vec_normalize.pkl`` with SB3's ``load``, which unpickles them: this
        runs any code they hold. Only for repositories you trust (e.g. pushed with huggingface_sb3 or rl_zoo3)
    :param revision: Branch, tag or commit (default: main)
    :param token: Hub token (for private repositories)
    :param endpoint: Hub URL (default: ``HF_ENDPOINT`` or https://huggingface.co)
    :param cache_dir: huggingface_hub cache folder
    :param device: PyTorch device
    :return: The agent
    :raises UnsafeModelError: loading would run code chosen by the repository and ``trust_remote_code`` is False
    :raises ModelFormatError: a file is not a model this package can read, or asks for more memory than it holds
    :raises HubError: the Hub cannot be reached or refuses the request
    """
    options = dict(revision=revision, token=token, endpoint=endpoint, cache_dir=cache_dir)
    repository = _Repository(repo_id, model_name, None, trust_remote_code, **options)
    stored = repository.config.get("zoo_hyperparams")
    frame_stack = stored.get("frame_stack") if isinstance(stored, dict) else None
    if repository.sidecar is not None:
        sidecar = safe_model.read_json(repository.sidecar, "a safe REINFORCE model description")
        stats = sidecar.get("vec_normalize") if isinstance(sidecar, dict) else None
        if env is None and stats is not None:
            safe_model.check_vec_normalize(stats, "vec_normalize")  # before any env is made for them
            env = repository.env(trust_remote_code)
        return safe_model.load_safe_model(
            repository.get(f"{repository.name}.zip"), repository.sidecar, env=env, device=device, frame_stack=frame_stack
        )
    path, stats = repository.get(f"{repository.name}.zip"), repository.get(safe_model.VEC_NORMALIZE_PKL, required=False)
    if stats is not None:
        env = env if env is not None else repository.env(trust_remote_code)
        env = VecNormalize.load(str(stats), env if isinstance(env, VecEnv) else DummyVecEnv([lambda: env]))  # type: ignore[list-item, return-value]
        env.training, env.norm_reward = False, False
        if frame_stack is not None:
            env = VecFrameStack(env, frame_stack)  # trusted: the repository's own files are unpickled anyway
    return REINFORCE.load(path, env=env, device=device)


class _SpacesEnv(gym.Env):
    """Carries the spaces of a model, so that its VecNormalize statistics can be pickled for rl_zoo3 without an env."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space):
        self.observation_space, self.action_space = observation_space, action_space


def _zoo_hyperparams(config: dict[str, Any], model: REINFORCE, policy: str, has_stats: bool) -> dict[str, Any]:
    """:return: The rl_zoo3 settings ``enjoy`` needs, checked (rl_zoo3 imports what they name); the others dropped"""
    stored = config["zoo_hyperparams"] if isinstance(config.get("zoo_hyperparams"), dict) else {}
    frame_stack = stored.get("frame_stack")
    if frame_stack is not None:
        safe_model.check_frame_stack(frame_stack, model.observation_space, "config.json zoo_hyperparams.frame_stack")
    wrappers = stored.get("env_wrapper")
    wrappers = wrappers if isinstance(wrappers, list) else [wrappers] if wrappers is not None else []
    if any(wrapper not in SAFE_ENV_WRAPPERS for wrapper in wrappers):
        accepted = f"unless --trust-remote-code, only {list(SAFE_ENV_WRAPPERS)} without arguments"
        raise UnsafeModelError(
            f"config.json zoo_hyperparams.env_wrapper={stored['env_wrapper']!r}: rl_zoo3 imports it; {accepted}"
        )
    # Training settings are not needed to run the agent; these would change how it runs, but name code to import.
    if dropped := sorted({"callback", "vec_env_wrapper", "env_kwargs"} & set(stored)):
        warnings.warn(f"The repository's rl_zoo3 settings {dropped} are not used: they name code to import", stacklevel=3)
    optional = {"frame_stack": frame_stack, "env_wrapper": wrappers}
    return {"policy": policy, "normalize": has_stats, **{key: value for key, value in optional.items() if value}}


def download_to_zoo(
    repo_id: str,
    env_id: str,
    folder: str | Path,
    exp_id: int = 0,
    force: bool = False,
    trust_remote_code: bool = False,
    revision: str | None = None,
    verbose: int = 1,
) -> Path:
    """
    Download an agent into rl_zoo3's layout for ``sb3-reinforce enjoy``: ``<folder>/reinforce/<ENV>_<id>/<ENV>.zip``...
    rl_zoo3 unpickles and ``eval``s these files: unless ``trust_remote_code``, they are written here from checked values.

    :param repo_id: ``<organization>/<name>``
    :param env_id: Gymnasium id (names the files)
    :param folder: Log folder (``-f``)
    :param exp_id: Run id (0: a new one after the latest, -1: no run sub-folder)
    :param force: Replace an existing run folder
    :param trust_remote_code: Copy the repository's SB3 and rl_zoo3 files as they are
    :param revision: Branch, tag or commit
    :param verbose: 0: silent, 1: progress messages
    :return: The run folder
    """
    from rl_zoo3.utils import get_latest_run_id

    name, algo_folder = EnvironmentName(env_id), Path(folder) / ALGO
    repository = _Repository(repo_id, None, model_name(env_id), trust_remote_code, revision=revision)
    config, zip_name = repository.config, f"{repository.name}.zip"
    if repository.sidecar is not None:
        # Loaded and checked before anything is written: a refused repository leaves no run folder behind.
        custom_objects, sidecar = safe_model.safe_custom_objects(repository.get(zip_name), repository.sidecar)
        model = REINFORCE.load(repository.get(zip_name), device="cpu", custom_objects=custom_objects)
        hyperparams = _zoo_hyperparams(config, model, sidecar["policy"], sidecar.get("vec_normalize") is not None)
        if config.get("env_kwargs"):
            warnings.warn(f"The repository's env kwargs {config['env_kwargs']} are not used: pass --env-kwargs to trust them")
    else:
        targets = {zip_name: f"{name}.zip", safe_model.VEC_NORMALIZE_PKL: f"{name}/vecnormalize.pkl"}
        targets |= {source: f"{name}/{source}" for source in ("config.yml", "args.yml", "env_kwargs.yml")}
        targets["train_eval_metrics.zip"] = "."
        downloaded = {target: repository.get(source, required=source == zip_name) for source, target in targets.items()}
    exp_id = get_latest_run_id(str(algo_folder), name) + 1 if exp_id == 0 else exp_id
    log_path = algo_folder / f"{name}_{exp_id}" if exp_id > 0 else algo_folder
    if log_path.is_dir() and not force:
        raise ValueError(f"The folder {log_path} already exists, use --force to overwrite it, or --exp-id 0 for a new one")
    shutil.rmtree(log_path, ignore_errors=True)
    (log_path / name).mkdir(parents=True)
    if verbose:
        print(f"Saving to {log_path}")
    if repository.sidecar is None:
        for target, path in ((target, path) for target, path in downloaded.items() if path is not None):
            if target == ".":
                with zipfile.ZipFile(path) as archive:
                    archive.extractall(log_path)
            else:
                shutil.copyfile(path, log_path / target)
        return log_path
    model.save(log_path / f"{name}.zip")
    if sidecar.get("vec_normalize") is not None:
        carrier = DummyVecEnv([lambda: _SpacesEnv(model.observation_space, model.action_space)])
        safe_model.wrap_vec_normalize(sidecar["vec_normalize"], carrier).save(str(log_path / name / "vecnormalize.pkl"))
    args = {"algo": ALGO, "env": env_id, "env_kwargs": None}
    for file_name, values in (("config.yml", hyperparams), ("args.yml", args), ("env_kwargs.yml", {})):
        # safe_dump writes plain YAML only: rl_zoo3's UnsafeLoader reads it back as the same plain data.
        (log_path / name / file_name).write_text(yaml.safe_dump(values, sort_keys=True), encoding="utf-8")
    return log_path
