"""Exceptions of the Hub sharing code, and ``huggingface_hub``'s errors said in one line with what to do."""

import contextlib
import os
from collections.abc import Iterator

from huggingface_hub import constants
from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled, RepositoryNotFoundError


class HubError(RuntimeError):
    """Sharing with the Hugging Face Hub failed (no token, offline mode, unreachable or refusing endpoint)."""


class ModelFormatError(ValueError):
    """A file is not a model (or normalization statistics) this package can read, or asks for too much memory."""


class UnsafeModelError(ValueError):
    """Loading would run code chosen by the repository; refused unless the caller passed ``trust_remote_code=True``."""


def is_offline() -> bool:
    """:return: Whether ``HF_HUB_OFFLINE`` is set; read again here since huggingface_hub reads it once, at import"""
    return constants.is_offline_mode() or os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def resolve_endpoint(endpoint: str | None) -> str:
    """:return: ``endpoint``, else ``HF_ENDPOINT`` as set now, else huggingface_hub's default"""
    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


_STATUS_REASONS = {
    401: "the Hub rejected the token (401): log in again with `hf auth login` or set HF_TOKEN",
    403: "the token may not write to this repository (403): check its permissions and the organization",
    404: "the file (or the revision) is not in the repository (404)",
}


@contextlib.contextmanager
def hub_errors(action: str, endpoint: str, keep_note: str = "") -> Iterator[None]:
    """Turn what ``huggingface_hub`` raises in the block into a :class:`HubError`: ``Cannot <action>: <why>. <keep_note>``"""
    note, unreachable = f" {keep_note}" if keep_note else "", f"{endpoint} could not be reached"
    try:
        yield
    except OfflineModeIsEnabled as error:
        raise HubError(f"Cannot {action}: HF_HUB_OFFLINE is set, so no request may reach {endpoint}.{note}") from error
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        reason = _STATUS_REASONS.get(status, f"the Hub answered {status}: {str(error).strip().splitlines()[0]}")  # type: ignore[arg-type]
        if isinstance(error, RepositoryNotFoundError):
            reason = f"the repository does not exist on {endpoint}, or the token may not read it"
        raise HubError(f"Cannot {action}: {reason}.{note}") from error
    except LocalEntryNotFoundError as error:
        # What hf_hub_download raises when the file is not cached and it may not (offline) or could not ask for it.
        where = "HF_HUB_OFFLINE is set" if is_offline() else unreachable
        raise HubError(f"Cannot {action}: {where} and the file is not in the local cache.{note}") from error
    except Exception as error:
        # huggingface_hub's HTTP backend raises transport errors that derive from no builtin one; other OSErrors come from
        # the cache or a local file, and the endpoint may be fine.
        network = type(error).__module__.split(".")[0] in {"httpx", "httpx2", "httpcore", "requests", "urllib3"}
        if not (network or isinstance(error, OSError)):
            raise
        network = network or isinstance(error, ConnectionError | TimeoutError)
        reason = unreachable if network else "a local file operation failed"
        raise HubError(f"Cannot {action}: {reason} ({type(error).__name__}: {error}).{note}") from error
