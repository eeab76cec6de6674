"""The packaged zoo hyperparameters: top-level ``hyperparams/`` in the repository, ``sb3_reinforce/hyperparams/`` in wheels."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sb3_reinforce.zoo import hyperparams_path

REPO = Path(__file__).resolve().parents[1]


def python_packages() -> set[str]:
    """:return: The dotted names of the folders of ``sb3_reinforce/`` that hold Python modules"""
    return {
        ".".join(path.parent.relative_to(REPO).parts)
        for path in (REPO / "sb3_reinforce").rglob("*.py")
        if "__pycache__" not in path.parts
    }


def test_hyperparams_found_in_checkout() -> None:
    # Editable install or source checkout: the repository's top-level file
    assert hyperparams_path() == REPO / "hyperparams" / "reinforce.yml"


def test_pyproject_lists_every_package() -> None:
    """The packages are listed in pyproject.toml (not found), so a new sub-package must be added there."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    missing = python_packages() - listed
    assert not missing, f"add {sorted(missing)} to [tool.setuptools] packages in pyproject.toml"
    assert config["tool"]["setuptools"]["package-dir"]["sb3_reinforce.hyperparams"] == "hyperparams"


def test_wheel_ships_hyperparams(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    source = tmp_path / "source"
    source.mkdir()
    # Build from a copy: setuptools writes build/ and *.egg-info next to the sources
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("sb3_reinforce", "hyperparams"):
        shutil.copytree(REPO / folder, source / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy(REPO / name, source / name)
    (source / "README.md").touch()  # pyproject.toml names it as the long description
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = tmp_path.glob("sb3_reinforce-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sb3_reinforce/hyperparams/reinforce.yml" in names
    modules = {
        path.relative_to(REPO).as_posix() for path in (REPO / "sb3_reinforce").rglob("*.py") if "__pycache__" not in path.parts
    }
    assert not modules - names, f"missing from the wheel: {sorted(modules - names)}"
