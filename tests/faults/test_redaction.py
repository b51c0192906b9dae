"""Erasing a victim's personal data: every version, a tombstone, nothing else changed, no bytes left.

A canary (:mod:`tests.faults.canary`) is planted in every free-text personal
field, in several versions of the record; after the erasure it is counted in
every table (both backends), in the GeoPackage file and its WAL, in backups
written afterwards, in the review queue and in logs and error messages.
Before the erasure the same scans find it, so they can fail.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from mineaction.cli.app import app
from mineaction.errors import InvalidValue, RecordNotFound, StaleEdit
from mineaction.storage import review
from mineaction.storage.backup import backup
from mineaction.storage.redaction import (
    FIELD_REPORT,
    past_retention,
    personal_fields,
    purge,
    queued_past_retention,
    redact,
)
from mineaction.storage.register import Register
from mineaction.storage.responsibility_schema import REDACTION_LOG
from tests.faults.canary import Canary, plant_victim
from tests.faults.checks import check_all, snapshot
from tests.faults.io_faults import driver_error, fail_at_every_point, failing_statement

runner = CliRunner()
FACTS = ("accident_id", "victim_group", "outcome", "activity_at_time", "organisation_id")


def _in_tables(register: Register, canary: Canary) -> int:
    return canary.count(repr(snapshot(register)))


def _files(register: Register) -> list[Path]:
    return [p for p in (Path(register.target + s) for s in ("", "-wal", "-shm")) if p.exists()]


def test_erasure_blanks_every_version_and_keeps_the_facts(register: Register) -> None:
    canary = Canary.new()
    victim = plant_victim(register, canary)
    before = register.history("victim", victim.id)
    assert _in_tables(register, canary) >= 3
    done = redact(register, "victim", [victim.ref], user="dpo", reason="erasure request 2026-004")
    (erasure,) = done.erasures
    assert erasure.fields == personal_fields("victim") == ("name", "age", "sex", "notes")
    assert erasure.versions == 3 and done.purged
    after = register.history("victim", victim.id)
    assert len(after) == len(before) + 1 and after[-1].recorded_by == "dpo"
    for old, new in zip(before, after):
        assert all(new[f] is None for f in erasure.fields)
        assert {f: new[f] for f in FACTS} == {f: old[f] for f in FACTS}
        assert (new.version, new.recorded_at, new.recorded_by) == (old.version, old.recorded_at, old.recorded_by)
    assert register.count("victim") == 1
    assert _in_tables(register, canary) == 0
    check_all(register)
    with register.engine.connect() as connection:
        (tombstone,) = connection.execute(sa.select(register.tables[REDACTION_LOG])).mappings().all()
    assert tombstone["user_name"] == "dpo" and tombstone["reason"] == "erasure request 2026-004"
    assert (tombstone["basis"], tombstone["record_ref"], tombstone["fields"], tombstone["versions"]) == (
        "request", victim.ref, ["name", "age", "sex", "notes"], 3)
    with pytest.raises(StaleEdit), register.write("im.officer", "form opened before the erasure") as w:
        w.update("victim", victim.id, base_version=victim.version, values={"name": "written back"})


def test_erasure_of_chosen_fields_and_of_a_deleted_record(register: Register) -> None:
    canary = Canary.new()
    victim = plant_victim(register, canary)
    with register.write("im.officer", "entered twice") as w:
        w.delete("victim", victim.id, base_version=victim.version)
    redact(register, "victim", [victim.id], user="dpo", reason="retention rule 3", basis="retention",
           fields=["name", "notes"])
    latest = register.history("victim", victim.id)[-1]
    assert latest.deleted and latest["name"] is None and latest["notes"] is None
    assert (latest["age"], latest["sex"]) == (34, "female")
    assert _in_tables(register, canary) == 0


def test_erasure_refuses_what_it_must_not_touch(register: Register) -> None:
    victim = plant_victim(register, Canary.new())
    with pytest.raises(InvalidValue, match="not personal"):
        redact(register, "victim", [victim.id], user="dpo", reason="r", fields=["outcome"])
    with pytest.raises(InvalidValue, match="no personal fields"):
        redact(register, "hazard", ["HAZ-000001"], user="dpo", reason="r")
    with pytest.raises(InvalidValue, match="basis"):
        redact(register, "victim", [victim.id], user="dpo", reason="r", basis="because")
    with pytest.raises(RecordNotFound):
        redact(register, "victim", [victim.id, "VIC-999999"], user="dpo", reason="r")
    assert register.get("victim", victim.id)["name"] is not None  # all or nothing


def test_history_and_tombstones_cannot_be_rewritten_outside_an_erasure(register: Register) -> None:
    victim = plant_victim(register, Canary.new())
    redact(register, "victim", [victim.id], user="dpo", reason="erasure request")
    for statement in ("UPDATE victim_history SET outcome = 'killed'", f"UPDATE {REDACTION_LOG} SET reason = 'x'",
                      f"DELETE FROM {REDACTION_LOG}"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), register.engine.begin() as connection:
            connection.exec_driver_sql(statement)


def test_a_failed_erasure_changes_nothing(register: Register) -> None:
    canary = Canary.new()
    victim = plant_victim(register, canary)

    def erase(r: Register) -> None:
        redact(r, "victim", [victim.id], user="dpo", reason="erasure request")

    failures = fail_at_every_point(register, [erase], lambda n: failing_statement(register, n, driver_error))
    assert failures["erase"] >= 5
    assert _in_tables(register, canary) == 0


def test_retention_finds_records_still_holding_personal_data(register: Register) -> None:
    victim = plant_victim(register, Canary.new())
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert past_retention(register, "victim", recorded_before=dt.datetime(2000, 1, 1)) == []
    assert past_retention(register, "victim", recorded_before=later) == [victim.id]
    redact(register, "victim", [victim.id], user="dpo", reason="retention rule 3", basis="retention")
    assert past_retention(register, "victim", recorded_before=later) == []


def test_no_canary_in_files_backups_or_logs_after_erasure(
    gpkg_register: Register, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # statements logged, as when debugging
    register = gpkg_register
    canary = Canary.new()
    victim = plant_victim(register, canary)
    early = backup(register, tmp_path / "before.gpkg").path
    assert canary.scan(*_files(register)) and canary.scan(early)  # the scans can find it
    result = runner.invoke(app, ["redact", "--db", register.target, "--entity", "victim", "--record", victim.ref,
                                 "--user", "dpo", "--reason", "erasure request 2026-004"])
    assert result.exit_code == 0, result.output
    assert victim.ref in result.output
    late = backup(register, tmp_path / "after.gpkg").path
    canary.assert_absent(*_files(register), late, caplog.text, result.output)
    assert Path(register.target + "-wal").stat().st_size == 0
    register.close()
    canary.assert_absent(Path(register.target))


def test_no_canary_in_a_postgres_backup_after_erasure(postgis_register: Register, tmp_path: Path) -> None:
    canary = Canary.new()
    victim = plant_victim(postgis_register, canary)
    assert canary.scan(backup(postgis_register, tmp_path / "before.dump").path)
    redact(postgis_register, "victim", [victim.id], user="dpo", reason="erasure request")
    canary.assert_absent(backup(postgis_register, tmp_path / "after.dump").path)


def test_erasure_scrubs_the_review_queue(register: Register) -> None:
    canary = Canary.new()
    victim = plant_victim(register, canary)
    values = canary.plant("victim", {"sex": "female", "victim_group": "civilian", "outcome": "injured"})
    source = review.ImportSource(name="odk.json", sha256="0" * 64, format="odk", mapping="accident report")
    submission = review.Submission(entity="victim", action="update", values=values, geometry_wkb=None,
                                   content_hash="c" * 64, source_feature="odk.json submission 1",
                                   target_id=victim.id, base_version=victim.version)
    queued = review.submit(register, source, [[submission]], user="importer", reason="ODK sync")
    outcome = review.approve(register, user="reviewer", reason="checked against the hospital list",
                             import_id=queued.import_id)
    assert len(outcome.approved) == 1
    assert _in_tables(register, canary) > 0
    (erasure,) = redact(register, "victim", [victim.id], user="dpo", reason="erasure request").erasures
    assert erasure.field_reports == 1
    assert _in_tables(register, canary) == 0


def _queue_victims(register: Register, canary: Canary, accident_id: str, count: int) -> list[str]:
    """``count`` new-victim field reports carrying the canary, waiting in the queue; their refs."""
    source = review.ImportSource(name="odk.json", sha256="1" * 64, format="odk", mapping="accident report")
    submissions = [
        review.Submission(
            entity="victim", action="add", geometry_wkb=None, content_hash=f"{i:064d}",
            source_feature=f"odk.json submission {i}",
            values=canary.plant("victim", {"accident_id": accident_id, "age": 9, "sex": "male",
                                           "victim_group": "civilian", "outcome": "killed"}),
        )
        for i in range(count)
    ]
    queued = review.submit(register, source, [submissions], user="importer", reason="ODK sync")
    return [r.ref for r in review.reports(register, import_id=queued.import_id)]


def test_erasure_reaches_waiting_and_rejected_field_reports(register: Register) -> None:
    canary = Canary.new()
    victim = plant_victim(register, canary)
    redact(register, "victim", [victim.id], user="dpo", reason="erasure request 2026-003")
    waiting, rejected, kept = _queue_victims(register, canary, victim["accident_id"], 3)
    review.reject(register, [rejected], user="reviewer", reason="duplicate of the hospital list")
    assert _in_tables(register, canary) == 3 * 2  # name and notes of each report
    done = redact(register, "victim", [], field_reports=[waiting, rejected], user="dpo",
                  reason="erasure request 2026-004")
    assert [(e.entity, e.ref, e.versions, e.field_reports) for e in done.erasures] == [
        (FIELD_REPORT, waiting, 0, 1), (FIELD_REPORT, rejected, 0, 1)]
    assert _in_tables(register, canary) == 2  # only the report nobody asked about
    reports = {r.ref: r for r in review.reports(register)}
    assert (reports[waiting].status, reports[rejected].status) == ("submitted", "rejected")
    for ref in (waiting, rejected):
        assert all(reports[ref].values[f] is None for f in personal_fields("victim"))
        assert (reports[ref].values["outcome"], reports[ref].values["accident_id"]) == ("killed", victim["accident_id"])
    with register.engine.connect() as connection:
        tombstones = connection.execute(sa.select(register.tables[REDACTION_LOG]).where(
            register.tables[REDACTION_LOG].c.entity == FIELD_REPORT)).mappings().all()
    assert [(t["record_ref"], t["reason"], t["fields"]) for t in tombstones] == [
        (ref, "erasure request 2026-004", ["name", "age", "sex", "notes"]) for ref in (waiting, rejected)]
    with pytest.raises(InvalidValue, match=f"{waiting}: missing required field"):  # sex was erased: reject it
        review.approve(register, user="reviewer", reason="checked", refs=[waiting])
    redact(register, "victim", [], field_reports=[kept], fields=["name", "notes"], user="dpo", reason="request 5")
    assert _in_tables(register, canary) == 0
    assert review.approve(register, user="reviewer", reason="checked", refs=[kept]).approved == [kept]
    applied = register.get("victim", review.reports(register, refs=[kept])[0].record_id)
    assert (applied["name"], applied["notes"], applied["sex"], applied["outcome"]) == (None, None, "male", "killed")


def test_field_report_erasure_refuses_reports_it_must_not_touch(register: Register) -> None:
    canary = Canary.new()
    victim = plant_victim(register, canary)
    (queued,) = _queue_victims(register, canary, victim["accident_id"], 1)
    review.approve(register, user="reviewer", reason="checked", refs=[queued])
    with pytest.raises(InvalidValue, match=f"{queued} was applied as victim record") as applied:
        redact(register, "victim", [], field_reports=[queued], user="dpo", reason="r")
    assert "erase that record instead" in applied.value.hint
    source = review.ImportSource(name="odk.json", sha256="2" * 64, format="odk", mapping="accident report")
    accident = review.Submission(entity="accident", action="add", values={"accident_type": "mine"},
                                 geometry_wkb=None, content_hash="a" * 64, source_feature="odk.json submission 9")
    review.submit(register, source, [[accident]], user="importer", reason="ODK sync")
    (other,) = [r.ref for r in review.reports(register) if r.entity == "accident"]
    with pytest.raises(InvalidValue, match=f"{other} is of entity accident, not victim"):
        redact(register, "victim", [], field_reports=[other], user="dpo", reason="r")
    with pytest.raises(RecordNotFound, match="no field report 'FR-9999999' in the review queue"):
        redact(register, "victim", [], field_reports=["FR-9999999"], user="dpo", reason="r")
    with pytest.raises(InvalidValue, match="name at least one record or field report"):
        redact(register, "victim", [], user="dpo", reason="r")


def test_retention_finds_unapplied_field_reports_still_holding_personal_data(register: Register) -> None:
    canary = Canary.new()
    victim = plant_victim(register, canary)
    waiting, applied = _queue_victims(register, canary, victim["accident_id"], 2)
    review.approve(register, user="reviewer", reason="checked", refs=[applied])
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert queued_past_retention(register, "victim", submitted_before=dt.datetime(2000, 1, 1)) == []
    assert queued_past_retention(register, "victim", submitted_before=later) == [waiting]  # applied: with its record
    redact(register, "victim", [], field_reports=[waiting], user="dpo", reason="retention rule 3", basis="retention")
    assert queued_past_retention(register, "victim", submitted_before=later) == []


def test_retention_sweep_leaves_no_canary_in_the_file_or_the_queue(gpkg_register: Register) -> None:
    register = gpkg_register
    canary = Canary.new()
    victim = plant_victim(register, canary)
    waiting, rejected = _queue_victims(register, canary, victim["accident_id"], 2)
    review.reject(register, [rejected], user="reviewer", reason="duplicate")
    assert canary.scan(*_files(register))
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    result = runner.invoke(app, ["redact", "--db", register.target, "--entity", "victim", "--recorded-before", tomorrow,
                                 "--basis", "retention", "--user", "dpo", "--reason", "retention rule 3"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert all(ref in result.output for ref in (victim.ref, waiting, rejected))
    assert _in_tables(register, canary) == 0
    register.close()
    canary.assert_absent(Path(register.target))
    assert canary.count(Path(register.target).read_bytes()) == 0


def test_redact_command_refuses_without_records_and_purges_on_demand(gpkg_register: Register) -> None:
    base = ["redact", "--db", gpkg_register.target, "--user", "dpo", "--reason", "r"]
    result = runner.invoke(app, base)
    assert result.exit_code == 1 and "name the records" in str(result.exception)
    result = runner.invoke(app, [*base, "--purge-only"])
    assert result.exit_code == 0 and "purged" in result.output
    result = runner.invoke(app, [*base, "--recorded-before", "2000-01-01"])
    assert result.exit_code == 0 and "holds personal data" in result.output


def test_a_reader_holding_the_file_delays_the_purge_and_says_so(gpkg_register: Register) -> None:
    register = gpkg_register
    canary = Canary.new()
    victim = plant_victim(register, canary)
    reader = sqlite3.connect(register.target, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM victim").fetchone()  # QGIS, say, reading the old snapshot
    try:
        done = redact(register, "victim", [victim.id], user="dpo", reason="erasure request")
        assert not done.purged
        assert _in_tables(register, canary) == 0
        assert canary.scan(*_files(register))  # old pages are still in the files
    finally:
        reader.execute("COMMIT")
        reader.close()
    assert purge(register, "victim")
    canary.assert_absent(*_files(register))
