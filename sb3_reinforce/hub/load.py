"""
Download an agent from the Hub and rebuild it, safe by default.

Without ``trust_remote_code=True`` only plain files are read: ``config.json``, ``<model_name>.safe.json``,
the weights with ``torch.load(weights_only=True)`` and ``vec_normalize.json``. The SB3 zip and
``vec_normalize.pkl``, whose loading unpickles data (i.e. can run any code the author put there), are not
even downloaded.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch as th
from huggingface_hub import hf_hub_download, try_to_load_from_cache
from huggingface_hub.errors import RemoteEntryNotFoundError, RepositoryNotFoundError
from stable_baselines3.common.save_util import load_from_zip_file
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from sb3_reinforce.hub.errors import HubError, ModelFormatError, UnsafeModelError, hub_errors, is_offline, resolve_endpoint
from sb3_reinforce.hub.naming import check_name, check_repo_id
from sb3_reinforce.hub.normalization import VEC_NORMALIZE_JSON, VEC_NORMALIZE_PKL, load_vec_normalize, read_vec_normalize
from sb3_reinforce.hub.package import CONFIG_FILE, LIBRARY_NAME
from sb3_reinforce.hub.safe_format import MAX_JSON_BYTES, SAFE_FORMAT, SAFE_MODEL_SUFFIX, load_safe_model, read_json_file
from sb3_reinforce.reinforce import REINFORCE
from sb3_reinforce.version import __version__


@dataclass
class HubFiles:
    """Local paths of the files of one repository (None: absent or not fetched)."""

    repo_id: str
    model_name: str
    config: dict[str, Any]
    safe_model: Path | None = None
    weights: Path | None = None
    vec_normalize_json: Path | None = None
    model_zip: Path | None = None
    vec_normalize_pkl: Path | None = None

    @property
    def env_id(self) -> str | None:
        env_id = self.config.get("env_id")
        return env_id if isinstance(env_id, str) else None


class Downloader:
    """Fetch files of one repository through huggingface_hub's cache, with clear errors."""

    def __init__(
        self,
        repo_id: str,
        revision: str | None,
        token: str | None,
        endpoint: str | None,
        cache_dir: str | Path | None,
    ):
        self.repo_id = check_repo_id(repo_id)
        self.revision = revision
        self.token = token
        self.endpoint = resolve_endpoint(endpoint)
        self.cache_dir = cache_dir
        # huggingface_hub reads HF_HUB_OFFLINE once at import: ask for the cache explicitly if it was set later.
        self.offline = is_offline()

    def get(self, filename: str, required: bool = True) -> Path | None:
        """:return: Local path of the file, or None when it is not in the repository and not ``required``"""
        if self.offline and not required:
            # Offline, the cache is all there is: hf_hub_download cannot tell "not in the repository" from "not
            # downloaded", so an optional file missing from the cache counts as absent.
            cached = try_to_load_from_cache(self.repo_id, filename, cache_dir=self.cache_dir, revision=self.revision)
            return Path(cached) if isinstance(cached, str) else None
        action = f"download {filename} from {self.repo_id}"
        try:
            with hub_errors(action, self.endpoint):
                try:
                    return Path(
                        hf_hub_download(
                            repo_id=self.repo_id,
                            filename=filename,
                            revision=self.revision,
                            token=self.token,
                            endpoint=self.endpoint,
                            cache_dir=self.cache_dir,
                            local_files_only=self.offline,
                            library_name=LIBRARY_NAME,
                            library_version=__version__,
                        )
                    )
                except RepositoryNotFoundError as error:
                    raise HubError(
                        f"Cannot {action}: the repository {self.repo_id} does not exist on {self.endpoint} (or it is private "
                        "and the token may not read it)"
                    ) from error
        except HubError as error:
            if not required and isinstance(error.__cause__, RemoteEntryNotFoundError):
                return None
            raise


def _read_config(path: Path | None) -> dict[str, Any]:
    """Read ``config.json`` as plain data (from huggingface_sb3 repositories too, whatever their content)."""
    if path is None or path.stat().st_size > MAX_JSON_BYTES:
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return config if isinstance(config, dict) else {}


def fetch_files(
    repo_id: str,
    model_name: str | None = None,
    *,
    trust_remote_code: bool = False,
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    cache_dir: str | Path | None = None,
    fallback_model_name: str | None = None,
) -> HubFiles:
    """
    Download the files needed to rebuild the agent: the safe ones, or with ``trust_remote_code`` the SB3 ones.

    :param repo_id: ``<organization>/<name>``
    :param model_name: Base name of the model files (default: from ``config.json``, else the repository name)
    :param trust_remote_code: Fetch the SB3 zip and ``vec_normalize.pkl`` (unpickled when loaded)
    :param revision: Branch, tag or commit (default: main)
    :param token: Hub token (for private repositories)
    :param endpoint: Hub URL (default: ``HF_ENDPOINT`` or https://huggingface.co)
    :param cache_dir: huggingface_hub cache folder
    :param fallback_model_name: Model name when neither ``model_name`` nor ``config.json`` gives one
        (default: the repository name)
    :return: The local paths
    """
    downloader = Downloader(repo_id, revision, token, endpoint, cache_dir)
    config = _read_config(downloader.get(CONFIG_FILE, required=False))
    marker = config.get("sb3_reinforce")
    ours: dict[str, Any] = marker if isinstance(marker, dict) else {}
    if model_name is None:
        if isinstance(ours.get("model_name"), str):
            model_name = ours["model_name"]
        else:
            model_name = fallback_model_name or repo_id.split("/")[1]
    check_name(model_name, "model name")
    files = HubFiles(repo_id=repo_id, model_name=model_name, config=config)
    # config.json of this package says whether statistics exist; for other repositories, look for them.
    has_vec_normalize = bool(config.get("vec_normalize")) if ours else None

    if trust_remote_code:
        files.model_zip = downloader.get(f"{model_name}.zip")
        if has_vec_normalize is not False:
            files.vec_normalize_pkl = downloader.get(VEC_NORMALIZE_PKL, required=has_vec_normalize is True)
        return files

    # Offline, a missing description means "not cached", not "not pushed with sb3-reinforce": let that error say so.
    files.safe_model = downloader.get(f"{model_name}{SAFE_MODEL_SUFFIX}", required=downloader.offline)
    if files.safe_model is None:
        raise UnsafeModelError(
            f"{repo_id} has no {model_name}{SAFE_MODEL_SUFFIX}: it was not pushed with sb3-reinforce (or the model files "
            "have another name: pass model_name). Its SB3 zip can only be loaded by unpickling it, which runs any code its "
            "author put there: pass trust_remote_code=True (--trust-remote-code) only if you trust this repository."
        )
    # Checked here (not a pickle, JSON of the right format) before anything else is downloaded.
    description = read_json_file(files.safe_model, SAFE_FORMAT, "a safe REINFORCE model description")
    weights_entry = description.get("weights")
    weights_name = weights_entry.get("file") if isinstance(weights_entry, dict) else None
    if not isinstance(weights_name, str):
        raise ModelFormatError(f"{files.safe_model.name} does not name its weights file")
    files.weights = downloader.get(check_name(weights_name, "weights file name"))
    if has_vec_normalize is not False:
        files.vec_normalize_json = downloader.get(VEC_NORMALIZE_JSON, required=has_vec_normalize is True)
    return files


def _load_trusted_zip(path: Path, device: th.device | str) -> REINFORCE:
    """SB3's loading of a zip (unpickles its data), also without an env. Only reached with trust_remote_code."""
    data, params, pytorch_variables = load_from_zip_file(path, device=device)
    if data is None or "observation_space" not in data or "policy_class" not in data:
        raise ModelFormatError(f"{path.name} is not a Stable-Baselines3 model zip")
    model = REINFORCE.__new__(REINFORCE)
    # As in safe_format._new_model: the spaces must exist before REINFORCE's constructor checks them.
    model.observation_space, model.action_space = data["observation_space"], data["action_space"]
    REINFORCE.__init__(model, data["policy_class"], None, device=device, _init_setup_model=False)  # type: ignore[misc, arg-type]
    model.__dict__.update(data)
    model._setup_model()
    model.set_parameters(params, exact_match=True, device=device)
    for name, value in (pytorch_variables or {}).items():
        if value is not None:
            # Same as SB3's load: copy in place so that optimizers keep pointing at the tensor.
            getattr(model, name).data = value.data
    if model.use_sde:
        model.policy.reset_noise()
    return model


def _make_env(files: HubFiles, trust_remote_code: bool) -> gym.Env:
    """
    Make the environment named by the repository's ``config.json``, to carry its VecNormalize statistics.

    The id comes from the repository: Gymnasium imports the module of a ``"module:Env-v0"`` id, and making
    an id registered by nobody fails anyway. So, unless the repository is trusted, only ids already in the
    registry (i.e. registered by packages the user imported) are made.
    """
    env_id = files.env_id
    if env_id is None:
        raise ModelFormatError(f"{files.repo_id} has VecNormalize statistics but no env id: pass env=...")
    if not trust_remote_code:
        if ":" in env_id:
            raise UnsafeModelError(
                f"{files.repo_id} has VecNormalize statistics, which need an environment, and names it {env_id!r}: "
                "making it would import the module before ':', i.e. run code chosen by the repository. Refused: "
                "pass env=... (an environment you created), or trust_remote_code=True if you trust this repository"
            )
        if env_id not in gym.registry:
            raise ValueError(
                f"{files.repo_id} has VecNormalize statistics, which need an environment, and {env_id!r} is not registered "
                "in Gymnasium: import the package that registers it first, or pass env=..."
            )
    try:
        return gym.make(env_id)
    except gym.error.Error as error:
        raise ValueError(
            f"{files.repo_id} has VecNormalize statistics, which need an environment, and gym.make({env_id!r}) failed "
            f"({error}): pass env=..."
        ) from error


def _as_vec_env(env: gym.Env | VecEnv) -> VecEnv:
    if isinstance(env, VecEnv):
        return env
    return DummyVecEnv([lambda: env])


def load_from_hub(
    repo_id: str,
    model_name: str | None = None,
    *,
    env: gym.Env | VecEnv | None = None,
    trust_remote_code: bool = False,
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    cache_dir: str | Path | None = None,
    device: th.device | str = "auto",
) -> REINFORCE:
    """
    Download a REINFORCE agent and return it ready to predict.

    By default nothing is unpickled: the agent is rebuilt from ``<model_name>.safe.json`` and the weights
    (``torch.load(weights_only=True)``); a file holding anything else is refused without being executed.

    When the repository holds VecNormalize statistics, ``env`` (or, if not given, ``gym.make(<env id>)``) is
    wrapped in a ``VecNormalize`` with them (frozen, raw rewards) and attached: use ``model.get_env()``
    (and ``model.get_vec_normalize_env()``) to run the agent on normalized observations. Without
    ``trust_remote_code``, the env id of the repository is made only if it is already registered and names
    no module to import (``"module:Env-v0"``): otherwise pass ``env``.

    :param repo_id: ``<organization>/<name>``
    :param model_name: Base name of the model files (default: from ``config.json``, else the repository name)
    :param env: Environment to attach (its spaces must match the agent's)
    :param trust_remote_code: Load the SB3 zip and ``vec_normalize.pkl`` instead, which unpickles them: this
        runs whatever code they contain. Only for repositories whose author you trust (e.g. models pushed
        with huggingface_sb3 or rl_zoo3, which have no safe files)
    :param revision: Branch, tag or commit (default: main)
    :param token: Hub token (for private repositories)
    :param endpoint: Hub URL (default: ``HF_ENDPOINT`` or https://huggingface.co)
    :param cache_dir: huggingface_hub cache folder
    :param device: PyTorch device
    :return: The agent
    :raises UnsafeModelError: a file would need unpickling (or the repository has no safe files, or its env id
        names a module to import) and ``trust_remote_code`` is False
    :raises ModelFormatError: a file is not a model this package can read
    :raises HubError: the Hub cannot be reached or refuses the request
    """
    files = fetch_files(
        repo_id,
        model_name,
        trust_remote_code=trust_remote_code,
        revision=revision,
        token=token,
        endpoint=endpoint,
        cache_dir=cache_dir,
    )
    if trust_remote_code:
        assert files.model_zip is not None
        model = _load_trusted_zip(files.model_zip, device)
    else:
        assert files.safe_model is not None and files.weights is not None
        model = load_safe_model(files.safe_model, files.weights, device=device)

    stats = files.vec_normalize_json or files.vec_normalize_pkl
    if stats is not None:
        # Checked before any environment is made for them: a bad file must not cost a gym.make.
        json_stats = read_vec_normalize(files.vec_normalize_json) if files.vec_normalize_json is not None else None
        if env is None:
            env = _make_env(files, trust_remote_code)
        venv = _as_vec_env(env)
        if json_stats is not None:
            env = load_vec_normalize(json_stats, venv)
        else:
            vec_normalize = VecNormalize.load(str(stats), venv)  # trust_remote_code only
            vec_normalize.training, vec_normalize.norm_reward = False, False
            env = vec_normalize
    if env is not None:
        model.set_env(env)
    return model
