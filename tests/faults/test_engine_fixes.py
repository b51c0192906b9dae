"""Regression tests for storage faults found by the fault tests (storage/engine.py, register.py).

* ``set_redacting`` kept its switch in a ``WeakKeyDictionary`` keyed by
  ``sqlite3.Connection``, which cannot be weakly referenced: every call
  raised ``TypeError``, so no connection could ever erase personal data.
* SQLAlchemy quoted statement parameters in its error messages and logs, so
  a failed write's traceback (chained under the StorageError) carried a
  victim's name into whatever logged it.
* PostgreSQL's DETAIL line ("Failing row contains (…)") carried every value
  of a refused row, a victim's name included, into the StorageError's text
  and its chained cause.
* ``Register.open`` on a file that is not a register switched it to WAL mode
  and left ``-wal``/``-shm`` files beside it before refusing it: opening
  someone else's GeoPackage, or an empty file, wrote to it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import sqlite3
import traceback
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from mineaction.errors import StorageError
from mineaction.storage.engine import set_redacting
from mineaction.storage.records import Record
from mineaction.storage.register import Register
from tests.common import add_organisation, square_m
from tests.faults.canary import Canary
from tests.faults.io_faults import driver_error, failing_statement


def test_set_redacting_lets_one_connection_rewrite_history(gpkg_register: Register) -> None:
    with gpkg_register.write("test", "an organisation") as w:
        org = add_organisation(w)
    with gpkg_register.write("test", "renamed") as w:  # version 1 goes to history
        w.update("organisation", org.id, base_version=1, values={"name": "Renamed operator"})
    rewrite = "UPDATE organisation_history SET acronym = 'X'"
    with gpkg_register.engine.connect() as allowed, gpkg_register.engine.connect() as other:
        set_redacting(allowed.connection.dbapi_connection, True)
        try:
            with allowed.begin():
                assert allowed.exec_driver_sql(rewrite).rowcount == 1
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), other.begin():
                other.exec_driver_sql(rewrite)
        finally:
            set_redacting(allowed.connection.dbapi_connection, False)
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), allowed.begin():
            allowed.exec_driver_sql(rewrite)


def _accident(register: Register) -> Record:
    with register.write("im.officer", "accident report") as w:
        org = add_organisation(w)
        return w.add("accident", {"occurred_on": dt.date(2025, 5, 2), "accident_type": "mine",
                                  "organisation_id": org.id}, square_m(50, 50, 10).centroid)


def test_a_failed_write_never_puts_personal_data_in_error_text(register: Register) -> None:
    canary = Canary.new()
    accident = _accident(register)
    values = canary.plant("victim", {"accident_id": accident.id, "sex": "male", "victim_group": "civilian",
                                     "outcome": "killed"})
    texts, failed_at = [], []
    statements: list[str] = []
    event.listen(register.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for n in itertools.count(1):  # every statement of the write, the victim's insert included
        statements.clear()
        try:
            with failing_statement(register, n, driver_error), register.write("im.officer", "a victim") as w:
                w.add("victim", values)
        except StorageError as exc:
            texts.append("".join(traceback.format_exception(exc)))
            failed_at.append(statements[n - 1])
            continue
        break
    assert any(re.search(r'INSERT INTO "?victim\b', s) for s in failed_at)  # it did fail at the insert
    canary.assert_absent(*texts)


def test_a_refused_row_never_puts_its_values_in_error_text(register: Register) -> None:
    """A real constraint violation (NULL id), not an injected one: the database's own message."""
    canary = Canary.new()
    accident = _accident(register)
    row = {"id": None, "ref": "VIC-X", "version": 1, "changeset_id": 1, "recorded_by": "x", "deleted": False,
           "recorded_at": dt.datetime(2025, 5, 3), **canary.plant("victim", {"accident_id": accident.id})}
    with pytest.raises(StorageError, match="refused") as caught, register.write("im.officer", "a victim") as w:
        w.connection.execute(register.tables["victim"].insert(), [row])
    text = "".join(traceback.format_exception(caught.value))
    assert re.search(r"(?i)null|not null|constraint", text)  # it is the database's reason, shortened
    canary.assert_absent(text)


@pytest.mark.parametrize("kind", ["empty file", "SQLite database", "WAL-mode SQLite database", "text"])
def test_opening_a_file_that_is_not_a_register_leaves_it_untouched(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "theirs.gpkg"
    if "SQLite" in kind:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            if kind.startswith("WAL"):
                connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("CREATE TABLE survey (a)")
            connection.commit()
    else:
        path.write_bytes(b"" if kind == "empty file" else b"hazard notes, not a database\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StorageError, match=r"not a mineaction register|not a database"):
        Register.open(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["theirs.gpkg"]


def test_a_register_with_a_hot_wal_still_opens(gpkg_register: Register) -> None:
    """The read-only look before opening must not refuse a register another process is writing."""
    with gpkg_register.write("test", "an organisation") as w:
        add_organisation(w)
    holder = sqlite3.connect(gpkg_register.target, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer in the middle of a transaction
    holder.execute("UPDATE ref_counter SET last = last")
    try:
        with Register.open(gpkg_register.target) as again:
            assert again.count("organisation") == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
