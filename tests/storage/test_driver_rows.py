"""Large reads taken straight from the driver's cursor give what SQLAlchemy's rows give, and a
failure while fetching them is a StorageError like any other, not the driver's own exception."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from mineaction.errors import StorageError
from mineaction.storage import driver_rows
from mineaction.storage.errors import translate_errors
from mineaction.storage.register import Register
from tests.common import add_organisation, hazard_values, square_m


def _hazards(register: Register, n: int) -> None:
    with register.write("loader", "hazards") as w:
        org = add_organisation(w)
        w.add_many("hazard", [hazard_values(org.id, description=f"field note {i} " * 20) for i in range(n)],
                   [square_m((i % 30) * 200, (i // 30) * 200, 80) for i in range(n)])


def test_columns_match_sqlalchemy_rows_with_types_and_parameters(register: Register) -> None:
    _hazards(register, 40)
    table = register.tables["hazard"]
    query = (sa.select(table.c.ref, table.c.area_m2, table.c.deleted, table.c.recorded_at, table.c.contamination,
                       table.c.reported_on)
             .where(table.c.recorded_at <= sa.bindparam("until", type_=table.c.recorded_at.type))
             .order_by(table.c.ref))
    until = {"until": dt.datetime.now(dt.UTC).replace(tzinfo=None)}  # converted as a bound value of its type
    with register.engine.connect() as connection:
        expected = [list(column) for column in zip(*connection.execute(query, until).all())]
        whole = driver_rows.columns(connection, query, until)
        batches = list(driver_rows.column_batches(connection, query, until, size=15))
    assert len(expected[0]) == 40 and whole == expected
    assert [len(b[0]) for b in batches] == [15, 15, 10]
    assert [[v for b in batches for v in b[k]] for k in range(6)] == expected


def test_a_damaged_file_fails_as_a_storage_error_while_rows_are_fetched(gpkg_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "damaged.gpkg"
    shutil.copy(gpkg_template, path)
    with Register.open(path) as register:
        _hazards(register, 600)
    with sqlite3.connect(path) as c:  # the table's last leaf page: its first rows come at execute, these later
        page_size = c.execute("PRAGMA page_size").fetchone()[0]
        last_leaf = c.execute("SELECT max(pageno) FROM dbstat WHERE name = 'hazard' AND pagetype = 'leaf'").fetchone()[0]
    with open(path, "r+b") as f:
        f.seek((last_leaf - 1) * page_size)
        f.write(b"\xff" * page_size)
    damaged = Register.open(path)
    with pytest.raises(StorageError, match=r"reading hazard: .*malformed"):
        damaged.features("hazard", fields=("description",))
    damaged.engine.dispose()  # not close(): folding the WAL back would read the damage again


@pytest.mark.parametrize("error, says", [(sqlite3.OperationalError("database is locked"), "unavailable or locked"),
                                         (sqlite3.DatabaseError("database disk image is malformed"), "refused")])
def test_driver_exceptions_are_translated(error: Exception, says: str) -> None:
    with pytest.raises(StorageError, match=says) as raised:
        with translate_errors("reading hazard"):
            raise error
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
