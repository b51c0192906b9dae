"""One release number, written once in pyproject.toml, read everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import mineaction
from mineaction.version import __version__

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_package_version_is_pyprojects() -> None:
    declared = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]["version"]
    assert mineaction.__version__ == __version__ == declared


def test_mineaction_version_prints_the_release() -> None:
    result = subprocess.run([sys.executable, "-m", "mineaction.cli", "--version"], check=False, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(mineaction.__file__).parents[1])})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mineaction {__version__}"
