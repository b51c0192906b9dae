"""Writes that fail at every point surface as StorageError and change nothing.

Each write below is tried with a fault at point N for N = 1, 2, … until it
runs to the end without meeting the fault. The faults (see
:mod:`tests.faults.io_faults`): a driver I/O error before statement N (both
backends), the PostgreSQL connection terminated before statement N or just
before COMMIT, and a SQLite file that is full after N - 1 new pages. After
each failure the error must be a :class:`StorageError` saying what failed,
the register must be exactly as before (every row of every table) and the
next attempt must work on the same :class:`Register`: no poisoned
connection, no stale cache.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable

import pytest
import shapely

from mineaction.errors import StorageError
from mineaction.storage.register import Register
from tests.common import activity_values, add_organisation, hazard_values, square_m
from tests.faults.io_faults import (
    driver_error,
    fail_at_every_point,
    failing_commit,
    failing_statement,
    page_limit,
    terminate_backend,
)

Write = Callable[[Register], None]


def _add(register: Register) -> None:
    org = register.records("organisation")[0].id
    with register.write("io.test", "add a hazard and its clearance") as w:
        hazard = w.add("hazard", hazard_values(org), square_m(0, 0, 100))
        w.add("activity", activity_values(hazard.id, org))


def _bulk(register: Register) -> None:
    org = register.records("organisation")[0].id
    squares = [square_m(200 * i, 300, 100) for i in range(25)]
    with register.write("io.test", "bulk add") as w:
        w.add_many("hazard", [hazard_values(org) for _ in squares], squares)


def _update(register: Register) -> None:
    hazard = register.get("hazard", "HAZ-000001")
    minx, miny, maxx, maxy = hazard.geometry.bounds
    with register.write("io.test", "new outline") as w:
        w.update("hazard", hazard.id, base_version=hazard.version, values={"status": "worked_on"},
                 geometry=shapely.box(minx - 1e-5, miny - 1e-5, maxx + 1e-5, maxy + 1e-5))


def _release(register: Register) -> None:
    activity = register.get("activity", "ACT-000001")
    with register.write("io.test", "clearance completed") as w:
        w.release(activity_id=activity.id, geometry=square_m(0, 0, 50), release_type="cleared",
                  method="manual", released_on=dt.date(2025, 6, 1))


def _delete(register: Register) -> None:
    part = register.records("released_part")[0]
    with register.write("io.test", "release entered twice") as w:
        w.delete("released_part", part.id, base_version=part.version)


WRITES: list[Write] = [_add, _bulk, _update, _release, _delete]


def _seed(register: Register) -> Register:
    with register.write("io.test", "organisation") as w:
        add_organisation(w)
    return register


def test_a_driver_error_at_every_statement_changes_nothing(register: Register) -> None:
    failures = fail_at_every_point(_seed(register), WRITES, lambda n: failing_statement(register, n, driver_error))
    print(f"\n{register.dialect}: driver error at statement N, points tried per write: {dict(failures)}")
    assert min(failures[w.__name__] for w in WRITES) >= 3


def test_a_lost_connection_at_every_statement_changes_nothing(postgis_register: Register) -> None:
    register = _seed(postgis_register)
    failures = fail_at_every_point(register, WRITES, lambda n: failing_statement(register, n, terminate_backend))
    print(f"\npostgresql: connection terminated before statement N, points per write: {dict(failures)}")
    assert min(failures[w.__name__] for w in WRITES) >= 3


def test_a_lost_connection_at_commit_changes_nothing(postgis_register: Register) -> None:
    register = _seed(postgis_register)
    failures = fail_at_every_point(register, WRITES, lambda n: failing_commit(register) if n == 1 else contextlib.nullcontext())
    assert all(failures[w.__name__] == 1 for w in WRITES)


def test_a_full_disk_at_every_page_changes_nothing(gpkg_register: Register) -> None:
    register = _seed(gpkg_register)
    failures = fail_at_every_point(register, WRITES, lambda n: page_limit(register, n - 1))
    print(f"\nsqlite: file full after N-1 new pages, points per write: {dict(failures)}")
    assert failures["_bulk"] >= 3  # small writes may fit in pages the file already has


def test_a_failed_commit_leaves_no_cached_admin_area(postgis_register: Register) -> None:
    """An admin area added in a transaction whose COMMIT fails must not go on deriving admin_pcode."""
    register = _seed(postgis_register)
    org = register.records("organisation")[0].id
    area = shapely.MultiPolygon([square_m(-1000, -1000, 3000)])
    with (
        pytest.raises(StorageError),
        failing_commit(register),
        register.write("io.test", "gazetteer and a hazard in it") as w,
    ):
        w.add("admin_area", {"pcode": "XX01", "name_en": "Lost", "level": 1}, area)
        assert w.add("hazard", hazard_values(org), square_m(0, 0, 100))["admin_pcode"] == "XX01"
    assert register.count("admin_area") == 0
    with register.write("io.test", "a hazard where no admin area exists") as w:
        hazard = w.add("hazard", hazard_values(org), square_m(0, 0, 100))
    assert hazard["admin_pcode"] is None


READS: dict[str, Callable[[Register], object]] = {
    "get": lambda r: r.get("organisation", "ORG-000001"),
    "records": lambda r: r.records("organisation"),
    "history": lambda r: r.history("organisation", "ORG-000001"),
    "changeset": lambda r: r.changeset(1),
    "count": lambda r: r.count("organisation"),
    "labels": lambda r: r.labels("sex"),
    "programme": lambda r: Register(r.engine, r.target).programme,
    "vocabularies": lambda r: Register(r.engine, r.target).vocabularies(),
}


@pytest.mark.parametrize("read", READS)
def test_a_failed_read_is_a_storage_error(register: Register, read: str) -> None:
    """Callers (CLI, web) catch MineActionError: a read must not leak a SQLAlchemy error."""
    _seed(register)
    with pytest.raises(StorageError, match="database"), failing_statement(register, 1, driver_error):
        READS[read](register)
