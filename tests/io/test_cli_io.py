"""``mineaction import / review / export / forms``, run as users run them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.storage.register import Register
from tests.io.helpers import populate

runner = CliRunner()
FINDS = ("longitude,latitude,type,condition,qty,date,organisation\n"
         "-33.70,-30.00,AP mine,intact,2,2025-05-01,Test Operator\n"
         "-30.01,-33.71,UXO,functional,1,2025-05-02,ORG-000001\n")


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), env={"MINEACTION_USER": "im.officer", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_import_review_export_forms(gpkg_template: Path, tmp_path: Path) -> None:
    db = tmp_path / "national.gpkg"
    shutil.copy(gpkg_template, db)
    with Register.open(db) as register:
        populate(register)
    finds = tmp_path / "finds.csv"
    finds.write_text(FINDS, encoding="utf-8")

    refused = runner.invoke(app, ["import", str(finds), "--db", str(db), "--entity", "eo_find"])
    assert refused.exit_code == 1 and "wrong order" in refused.output and "nothing queued" in refused.output
    report = json.loads((tmp_path / "finds.csv.report.json").read_text())
    assert report["errors"] == 1 and report["problems"][0]["feature"] == "line 3"
    assert "line 3" in (tmp_path / "finds.csv.report.csv").read_text()

    assert "dry run" in _run("import", str(finds), "--db", str(db), "--entity", "eo_find", "--dry-run")
    out = _run("import", str(finds), "--db", str(db), "--entity", "eo_find", "--skip-invalid", "--reason", "May finds")
    assert "1 field reports queued" in out
    assert "FR-0000001" in _run("review", "list", "--db", str(db))
    assert "1 approved" in _run("review", "approve", "FR-0000001", "--db", str(db), "--reason", "checked")
    with Register.open(db) as register:
        assert register.count("eo_find") == 3
        assert register.changeset(register.records("eo_find")[-1].changeset_id)["user_name"] == "im.officer"

    out = _run("export", str(tmp_path / "out.gpkg"), "--db", str(db), "--entity", "hazard", "--entity", "eo_find")
    assert "hazard 2" in out and "eo_find 3" in out and (tmp_path / "out.gpkg").exists()
    refused = runner.invoke(app, ["export", str(tmp_path / "p.gpkg"), "--db", str(db), "--level", "personal"])
    assert refused.exit_code != 0

    out = _run("forms", str(tmp_path / "forms"), "--db", str(db), "--form", "eo_spot_report")
    assert (tmp_path / "forms" / "eo_spot_report.xlsx").exists() and "form written" in out
