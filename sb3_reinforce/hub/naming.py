"""Repository and file names following the SB3 convention (``<organization>/reinforce-CartPole-v1``)."""

import re

ALGO = "reinforce"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def env_name(env_id: str) -> str:
    """
    :param env_id: Gymnasium id, possibly namespaced (``ALE/Pong-v5``) or with a module (``my_pkg:MyEnv-v0``)
    :return: A name usable in paths and URLs: the module prefix dropped, ``/`` replaced by ``-``
    """
    name = env_id.replace("/", "-")
    if ":" in name:
        parts = name.split(":")
        if len(parts) != 2:
            raise ValueError(f"Environment id {env_id!r} has more than one ':'")
        name = parts[1]
    return name


def model_name(env_id: str) -> str:
    """:return: ``reinforce-<env name>``, the default name of the model files and of the repository"""
    return f"{ALGO}-{env_name(env_id)}"


def default_repo_id(organization: str, env_id: str, repo_name: str | None = None) -> str:
    """
    :param organization: Hub user or organization
    :param env_id: Gymnasium id
    :param repo_name: Repository name (default: :func:`model_name`)
    :return: ``<organization>/<repo_name>``
    """
    return f"{organization}/{repo_name or model_name(env_id)}"


def check_name(name: str, what: str) -> str:
    """
    :param name: A file base name or a repository name part
    :param what: What it names, for the message
    :return: ``name`` when it is a plain name (letters, digits, ``.``, ``_``, ``-``; no path separator)
    """
    if not isinstance(name, str) or not _SAFE_NAME.match(name) or ".." in name:
        raise ValueError(f"Invalid {what} {name!r}: use letters, digits, '.', '_' and '-' only")
    return name


def check_repo_id(repo_id: str) -> str:
    """:return: ``repo_id`` when it reads ``<organization>/<name>``"""
    organization, slash, name = repo_id.partition("/")
    if not slash:
        raise ValueError(f"Invalid repo_id {repo_id!r}: expected '<organization>/<name>'")
    check_name(organization, "organization")
    check_name(name, "repository name")
    return repo_id
