"""Backups taken while another process writes restore to a consistent snapshot of the register.

The snapshot is compared with the source: every changeset up to the last one
in the backup, every version of every record (geometries byte for byte) and
every current row are the same, and the restored register passes every
check of :mod:`tests.faults.checks` on its own.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.domain.entities import ENTITIES
from mineaction.errors import StorageError
from mineaction.storage.backup import backup, restore
from mineaction.storage.register import Register
from tests.common import add_organisation
from tests.faults.checks import check_all, snapshot, version_rows
from tests.faults.worker import ForkServer

runner = CliRunner()


def _acks(log: Path) -> int:
    return sum(json.loads(line)["t"] == "ack" for line in log.read_text().splitlines(keepends=True)
               if line.endswith("\n"))


def _wait_for_acks(log: Path, n: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not log.exists() or _acks(log) < n:
        assert time.monotonic() < deadline, Path(f"{log}.err").read_text() if Path(f"{log}.err").exists() else ""
        time.sleep(0.02)


def _assert_snapshot_of(source: Register, restored: Register) -> int:
    """The restored register is the source as of its last changeset; that changeset's id."""
    check_all(restored)
    theirs, ours = snapshot(source), snapshot(restored)
    last = max(row[0] for row in ours["changeset"])
    assert ours["changeset"] == [row for row in theirs["changeset"] if row[0] <= last]
    for name in ENTITIES:  # every version written by then, whether live then or superseded since
        columns, their_versions = version_rows(source, name)
        cs = columns.index("changeset_id")
        assert version_rows(restored, name)[1] == [row for row in their_versions if row[cs] <= last], name
    for table in ("vocabulary_term", "programme_setting"):
        assert ours[table] == theirs[table]
    return last


def test_backup_while_another_process_writes_restores_a_snapshot(
    register_target: str, restore_target: str, fork_server: ForkServer, tmp_path: Path
) -> None:
    with Register.open(register_target) as register:
        with register.write("backup.test", "organisation") as w:
            add_organisation(w)
        log = tmp_path / "writer.log"
        pid = fork_server.start("write_loop", log, target=register_target, seed=7, duration_s=120)
        try:
            _wait_for_acks(log, 10)
            written = backup(register, tmp_path / "national.backup")
            acked_before = _acks(log)
            _wait_for_acks(log, acked_before + 5)  # the writer went on while and after we copied
        finally:
            os.kill(pid, signal.SIGKILL)
            fork_server.wait(pid)
        assert written.size_bytes > 0 and written.path.exists()
        assert not list(tmp_path.glob(".*partial*"))
        restore(written.path, restore_target)
        with Register.open(restore_target) as restored:
            last = _assert_snapshot_of(register, restored)
            assert 10 < last < max(row[0] for row in snapshot(register)["changeset"])
            with restored.write("backup.test", "the restored register takes writes") as w:
                add_organisation(w, "After restore")


def test_restore_refuses_to_replace_a_register_unless_asked(register: Register, tmp_path: Path) -> None:
    with register.write("backup.test", "organisation") as w:
        add_organisation(w, "Before")
    written = backup(register, tmp_path / "national.backup")
    with pytest.raises(StorageError, match="already exists"):
        backup(register, written.path)
    with register.write("backup.test", "a later organisation") as w:
        add_organisation(w, "After")
    if register.dialect == "sqlite":
        with pytest.raises(StorageError, match="open somewhere"):  # the register is open: its -wal exists
            restore(written.path, register.target, replace=True)
        register.close()
    with pytest.raises(StorageError, match="already"):
        restore(written.path, register.target)
    restore(written.path, register.target, replace=True)
    with Register.open(register.target) as restored:
        assert [o["name"] for o in restored.records("organisation")] == ["Before"]


def test_restore_refuses_what_is_not_a_backup_of_that_kind(register: Register, tmp_path: Path) -> None:
    written = backup(register, tmp_path / "national.backup")
    other = "postgresql://nobody@127.0.0.1:1/none" if register.dialect == "sqlite" else str(tmp_path / "x.gpkg")
    with pytest.raises(StorageError, match="is not a"):
        restore(written.path, other)
    junk = tmp_path / "junk.gpkg"
    junk.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    if register.dialect == "sqlite":
        with pytest.raises(StorageError):
            restore(junk, tmp_path / "from-junk.gpkg")
        assert not (tmp_path / "from-junk.gpkg").exists()


def test_postgres_backup_without_pg_dump_says_what_to_install(
    postgis_register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(StorageError, match="pg_dump is not installed") as caught:
        backup(postgis_register, tmp_path / "national.backup")
    assert "postgresql-client" in str(caught.value)
    assert not (tmp_path / "national.backup").exists()


def test_backup_and_restore_commands(gpkg_register: Register, tmp_path: Path) -> None:
    with gpkg_register.write("backup.test", "organisation") as w:
        add_organisation(w)
    copy, restored = tmp_path / "copy.gpkg", tmp_path / "restored.gpkg"
    result = runner.invoke(app, ["backup", "--db", gpkg_register.target, "--to", str(copy)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output
    result = runner.invoke(app, ["restore", "--from", str(copy), "--db", str(restored)])
    assert result.exit_code == 0, result.output
    with Register.open(restored) as register:
        assert register.count("organisation") == 1
    result = runner.invoke(app, ["restore", "--from", str(copy), "--db", str(restored)])
    assert result.exit_code == 1 and "already exists" in str(result.exception)
