"""The command line, run as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.storage.register import Register

runner = CliRunner()


def test_init_then_status(tmp_path: Path) -> None:
    db = tmp_path / "national.gpkg"
    result = runner.invoke(app, ["init", "--db", str(db), "--name", "Test programme", "--extent", "-34,-31,-32,-29"])
    assert result.exit_code == 0, result.output
    with Register.open(db) as register:
        assert register.programme.name == "Test programme"
        assert register.programme.extent.west == -34
        assert "hazard_type" in register.vocabularies()
    result = runner.invoke(app, ["status", "--db", str(db)])
    assert result.exit_code == 0 and "Hazardous area" in result.output


def test_demo_builds_a_fictional_programme_and_a_map(tmp_path: Path) -> None:
    db, out = tmp_path / "demo.gpkg", tmp_path / "out"
    result = runner.invoke(app, ["demo", "--db", str(db), "--out", str(out), "--hazards", "25"])
    assert result.exit_code == 0, result.output
    assert "FICTIONAL DATA" in result.output and "Land released by method" in result.output
    png = (out / "demo-map.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    with Register.open(db) as register:
        assert register.count("hazard") == 25 and register.programme.fictional
    again = runner.invoke(app, ["demo", "--db", str(db), "--out", str(out)])
    assert again.exit_code != 0


def test_errors_say_what_to_do_next(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gpkg"
    result = subprocess.run([sys.executable, "-m", "mineaction.cli", "status", "--db", str(missing)],
                            capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=False)
    assert result.returncode == 1
    assert "no register at" in result.stderr and "mineaction init --db" in result.stderr
    bad = runner.invoke(app, ["init", "--db", str(tmp_path / "x.gpkg"), "--extent", "1,2,3"])
    assert bad.exit_code != 0


def test_start_up_leaves_plotting_and_statistics_libraries_unloaded() -> None:
    """Every command module is imported to build the app; matplotlib and SciPy wait for the commands that use them."""
    code = "import sys, mineaction.cli.app; print(sorted(m for m in ('matplotlib', 'scipy') if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
