"""
What an installed sb3-reinforce needs at run time is declared: every module imports, every command of the
installed ``sb3-reinforce`` script starts, and every package our code imports belongs to a declared distribution.

Run in a fresh virtual environment (as ``.ci/run`` does), these fail when a dependency is missing from
pyproject.toml, also when a library we call imports a package it does not declare (rl_zoo3 and ``requests``).
"""

import ast
import importlib
import importlib.metadata
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import sb3_reinforce
from sb3_reinforce.cli import COMMANDS

REPO = Path(__file__).resolve().parents[1]
PACKAGE_DIR = Path(sb3_reinforce.__file__).resolve().parent
# `python -m sb3_reinforce` runs the command line on import: it is run as a command below, not imported.
NOT_IMPORTABLE = {"sb3_reinforce.__main__"}
HELP_TIMEOUT = 120


def all_modules() -> list[str]:
    """:return: The dotted names of every module of the installed package (sub-packages walked)"""
    names = [sb3_reinforce.__name__]
    for info in pkgutil.walk_packages(sb3_reinforce.__path__, prefix=f"{sb3_reinforce.__name__}."):
        names.append(info.name)
    return sorted(set(names) - NOT_IMPORTABLE)


def test_walk_finds_every_source_file() -> None:
    """The walk below must not miss a module (a folder without __init__.py would be skipped silently)."""
    files = {
        ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts).removesuffix(".__init__")
        for path in PACKAGE_DIR.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert files - NOT_IMPORTABLE == set(all_modules())


@pytest.mark.parametrize("module", all_modules())
def test_every_module_imports(module: str) -> None:
    importlib.import_module(module)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_installed_command_help(command: str, installed_script: str) -> None:
    """The installed console script, in a new process: what a user's first ``--help`` does."""
    result = subprocess.run(
        [installed_script, command, "--help"], capture_output=True, text=True, timeout=HELP_TIMEOUT, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("usage: sb3-reinforce"), result.stdout[:500]


def test_python_m_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sb3_reinforce", "--help"], capture_output=True, text=True, timeout=HELP_TIMEOUT, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(command in result.stdout for command in COMMANDS)


def _normalize(name: str) -> str:
    """PEP 503 name normalization: ``PyYAML`` and ``pyyaml``, ``rl_zoo3`` and ``rl-zoo3`` are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match is not None, requirement
    return _normalize(match.group(1))


def declared_distributions() -> set[str]:
    """:return: The projects sb3-reinforce declares (dependencies and every extra), normalized"""
    requirements = importlib.metadata.requires("sb3-reinforce") or []
    return {_requirement_name(requirement) for requirement in requirements} - {"sb3-reinforce"}


def imported_top_level_names() -> dict[str, set[str]]:
    """:return: ``{top-level package: modules importing it}`` for every import in our code, lazy ones included"""
    imports: dict[str, set[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
                names = [node.module]
            else:
                continue
            for name in names:
                imports.setdefault(name.split(".")[0], set()).add(path.relative_to(PACKAGE_DIR.parent).as_posix())
    return imports


def test_every_imported_package_is_declared() -> None:
    """
    A package we import must come from a distribution listed in pyproject.toml, even when another dependency
    happens to bring it today: `import huggingface_sb3` works only while rl_zoo3 requires its distribution.
    """
    declared = declared_distributions()
    providers = importlib.metadata.packages_distributions()
    undeclared = []
    for name, importers in sorted(imported_top_level_names().items()):
        if name in sys.stdlib_module_names or name == sb3_reinforce.__name__:
            continue
        distributions = {_normalize(distribution) for distribution in providers.get(name, [])}
        if not distributions & declared:
            where = ", ".join(sorted(importers))
            provided = ", ".join(sorted(distributions)) or "no installed distribution"
            undeclared.append(f"{name} (provided by {provided}; imported in {where})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(undeclared)
