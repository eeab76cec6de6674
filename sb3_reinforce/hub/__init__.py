"""Share REINFORCE agents on the Hugging Face Hub, and load them back without unpickling anything: see docs/hub.md."""

from sb3_reinforce.hub.errors import HubError, ModelFormatError, UnsafeModelError
from sb3_reinforce.hub.load import default_repo_id, download_to_zoo, load_from_hub, model_name
from sb3_reinforce.hub.package import PackageResult, package_to_hub, push_to_hub
from sb3_reinforce.hub.safe_model import load_safe_model, save_safe_model
from sb3_reinforce.hub.video import record_replay

__all__ = ["HubError", "ModelFormatError", "PackageResult", "UnsafeModelError", "default_repo_id", "download_to_zoo"]
__all__ += ["load_from_hub", "load_safe_model", "model_name", "package_to_hub", "push_to_hub", "record_replay"]
__all__ += ["save_safe_model"]
