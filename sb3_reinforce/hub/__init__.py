"""
Share REINFORCE agents on the Hugging Face Hub: package (evaluation, replay video, model card), push, and
load back, safe by default (no pickle unless ``trust_remote_code=True``). See ``docs/hub.md``.
"""

from sb3_reinforce.hub.errors import HubError, ModelFormatError, UnsafeModelError
from sb3_reinforce.hub.load import load_from_hub
from sb3_reinforce.hub.naming import default_repo_id, env_name, model_name
from sb3_reinforce.hub.normalization import load_vec_normalize, save_vec_normalize
from sb3_reinforce.hub.package import PackageResult, package_to_hub, push_to_hub, write_package
from sb3_reinforce.hub.safe_format import load_safe_model, save_safe_model
from sb3_reinforce.hub.video import record_replay
from sb3_reinforce.hub.zoo_layout import download_to_zoo

__all__ = [
    "HubError",
    "ModelFormatError",
    "PackageResult",
    "UnsafeModelError",
    "default_repo_id",
    "download_to_zoo",
    "env_name",
    "load_from_hub",
    "load_safe_model",
    "load_vec_normalize",
    "model_name",
    "package_to_hub",
    "push_to_hub",
    "record_replay",
    "save_safe_model",
    "save_vec_normalize",
    "write_package",
]
