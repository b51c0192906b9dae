"""One release number, written once in pyproject.toml, read everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pyogrio

import mineaction
from mineaction.io.export import export
from mineaction.storage import Register
from mineaction.version import __version__
from tests.common import OPERATOR, add_organisation

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_package_version_is_pyprojects() -> None:
    declared = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]["version"]
    assert mineaction.__version__ == __version__ == declared


def test_mineaction_version_prints_the_release() -> None:
    result = subprocess.run([sys.executable, "-m", "mineaction.cli", "--version"], check=False, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(mineaction.__file__).parents[1])})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"mineaction {__version__}"


def test_every_export_names_the_release(gpkg_register: Register, tmp_path: Path) -> None:
    """GeoPackage dataset metadata, GeoJSON's foreign member, the CSV's and Shapefile's metadata files."""
    with gpkg_register.write("alice", "a record to export") as w:
        add_organisation(w)
    gpkg = export(gpkg_register, tmp_path / "x.gpkg", scope=OPERATOR).paths[0]
    assert pyogrio.read_info(gpkg, layer="organisation")["dataset_metadata"]["software_version"] == __version__
    geojson = export(gpkg_register, tmp_path / "x.geojson", entities=["hazard"], scope=OPERATOR).paths[0]
    assert json.loads(geojson.read_text("utf-8"))["mineaction"]["software_version"] == __version__
    csv = export(gpkg_register, tmp_path / "x.csv", entities=["organisation"], scope=OPERATOR).paths
    sidecar = next(p for p in csv if p.name.endswith(".metadata.json"))
    assert json.loads(sidecar.read_text("utf-8"))["software_version"] == __version__
    with zipfile.ZipFile(export(gpkg_register, tmp_path / "x.zip", entities=["hazard"], scope=OPERATOR).paths[0]) as zf:
        names = [n for n in zf.namelist() if n.endswith("metadata.json")]
        assert names and json.loads(zf.read(names[0]))["software_version"] == __version__
