"""``mineaction create-admin`` and ``mineaction serve`` from the command line."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from mineaction.cli.app import app
from tests.web.server import free_port


def test_create_admin_then_serve_and_sign_in(gpkg_template: Path, tmp_path: Path) -> None:
    db = tmp_path / "served.gpkg"
    shutil.copy(gpkg_template, db)
    runner = CliRunner()
    created = runner.invoke(app, ["create-admin", "--db", str(db), "--username", "chief", "--password", "a long enough secret"])
    assert created.exit_code == 0, created.output
    assert "administrator chief created" in created.output
    short = runner.invoke(app, ["create-admin", "--db", str(db), "--username", "other", "--password", "short"])
    assert short.exit_code != 0

    port = free_port()
    command = Path(sys.executable).parent / "mineaction"  # the installed console script
    process = subprocess.Popen([str(command), "serve", "--db", str(db), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/ogc", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=url) as client:
            me = client.post("/auth/login", json={"username": "chief", "password": "a long enough secret"}).json()
            assert me["grants"] == [{"organisation_id": None, "region": None, "role": "administrator", "personal_data": False}]
            assert client.get("/").status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_refuses_what_is_not_a_register(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--db", str(tmp_path / "missing.gpkg")])
    assert result.exit_code != 0
