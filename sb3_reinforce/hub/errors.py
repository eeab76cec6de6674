"""Exceptions of the Hub sharing code, and the translation of ``huggingface_hub``'s errors into clear ones."""

import contextlib
import os
import socket
import ssl
from collections.abc import Iterator

from huggingface_hub import constants
from huggingface_hub.errors import (
    FileMetadataError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
)


class HubError(RuntimeError):
    """Sharing with the Hugging Face Hub failed (no token, offline mode, unreachable or refusing endpoint)."""


class ModelFormatError(ValueError):
    """A file is not a model (or normalization statistics) this package can read."""


class UnsafeModelError(ValueError):
    """Loading would run code from the file (pickle); refused unless the caller opted in with ``trust_remote_code``."""


def _network_error_types() -> tuple[type[BaseException], ...]:
    """
    :return: The exception classes a refused or broken connection raises. ``huggingface_hub`` changed its
        HTTP backend between versions (requests, httpx, httpx2), so collect whichever is installed. Not
        ``OSError`` as a whole: a full disk or an unwritable cache is no reason to blame the endpoint.
    """
    types: list[type[BaseException]] = [ConnectionError, TimeoutError, socket.gaierror, socket.herror, ssl.SSLError]
    for module_name, attribute in (
        ("httpx2", "TransportError"),
        ("httpx", "TransportError"),
        ("requests", "RequestException"),
    ):
        with contextlib.suppress(ImportError, AttributeError):
            module = __import__(module_name)
            types.append(getattr(module, attribute))
    return tuple(types)


NETWORK_ERRORS = _network_error_types()


def is_offline() -> bool:
    """
    :return: Whether ``HF_HUB_OFFLINE`` asks for no network. ``huggingface_hub`` reads the variable once at
        import, so the environment is read again here: setting it later must still be honored.
    """
    value = os.environ.get("HF_HUB_OFFLINE", "")
    return constants.is_offline_mode() or value.strip().upper() in {"1", "ON", "YES", "TRUE"}


def resolve_endpoint(endpoint: str | None) -> str:
    """
    :param endpoint: Explicit Hub URL, or None
    :return: The Hub URL to use: ``endpoint``, else ``HF_ENDPOINT`` as set now, else huggingface_hub's default
    """
    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


@contextlib.contextmanager
def hub_errors(action: str, endpoint: str, keep_note: str = "") -> Iterator[None]:
    """
    Turn ``huggingface_hub``'s transport and HTTP errors raised inside the block into :class:`HubError`.

    :param action: What was being done, e.g. ``"upload to user/repo"``
    :param endpoint: The Hub URL used, named in the message
    :param keep_note: Sentence appended to every message (e.g. where the local files are)
    """
    note = f" {keep_note}" if keep_note else ""
    try:
        yield
    except OfflineModeIsEnabled as error:
        raise HubError(f"Cannot {action}: HF_HUB_OFFLINE is set, so no request may reach {endpoint}.{note}") from error
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if isinstance(error, RemoteEntryNotFoundError):
            reason = "the file is not in the repository (404)"
        elif isinstance(error, RepositoryNotFoundError):
            reason = "the repository does not exist, or the token may not access it"
        elif status == 401:
            reason = "the Hub rejected the token (401): log in again with `hf auth login` or set HF_TOKEN"
        elif status == 403:
            reason = "the token may not write to this repository (403): check its permissions and the organization"
        else:
            reason = f"the Hub answered with an error ({status}): {str(error).strip().splitlines()[0]}"
        raise HubError(f"Cannot {action}: {reason}.{note}") from error
    except LocalEntryNotFoundError as error:
        # hf_hub_download raises this when the file is not cached and it may not (offline) or could not ask the endpoint.
        if is_offline():
            raise HubError(f"Cannot {action}: HF_HUB_OFFLINE is set and the file is not in the local cache.{note}") from error
        raise HubError(
            f"Cannot {action}: {endpoint} could not be reached and the file is not in the local cache.{note}"
        ) from error
    except FileMetadataError as error:
        raise HubError(
            f"Cannot {action}: {endpoint} answered without the file's metadata (a proxy in between?): {error}.{note}"
        ) from error
    except NETWORK_ERRORS as error:
        raise HubError(f"Cannot {action}: {endpoint} could not be reached ({type(error).__name__}: {error}).{note}") from error
    except OSError as error:
        # Raised by huggingface_hub's cache (or the reading of local files): the endpoint may be fine.
        raise HubError(f"Cannot {action}: a local file operation failed ({type(error).__name__}: {error}).{note}") from error
