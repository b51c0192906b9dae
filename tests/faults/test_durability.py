"""The SQLite settings are the documented ones, and a closed register travels as one file.

See docs/durability.md for why each setting is what it is.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from mineaction.storage.engine import BUSY_TIMEOUT_S
from mineaction.storage.register import Register
from tests.common import add_organisation, hazard_values, square_m


def _fill(register: Register, n: int = 300) -> None:
    squares = [square_m(150 * (i % 30), 150 * (i // 30), 100) for i in range(n)]
    with register.write("durability.test", "survey results") as w:
        org = add_organisation(w)
        w.add_many("hazard", [hazard_values(org.id) for _ in squares], squares)


def test_every_connection_has_the_documented_settings(gpkg_register: Register) -> None:
    with gpkg_register.engine.connect() as connection:
        pragma = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                  for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")}
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": BUSY_TIMEOUT_S * 1000,
                      "foreign_keys": 1}  # synchronous 2 = FULL


def test_a_closed_register_is_one_file_that_opens_alone(gpkg_register: Register, tmp_path: Path) -> None:
    _fill(gpkg_register)
    path = Path(gpkg_register.target)
    assert Path(f"{path}-wal").stat().st_size > 0  # the writes are in the WAL until the checkpoint
    gpkg_register.close()
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
    handed_over = tmp_path / "elsewhere" / "copy.gpkg"
    handed_over.parent.mkdir()
    shutil.copy(path, handed_over)  # only the main file travels
    with sqlite3.connect(handed_over) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("SELECT count(*) FROM hazard").fetchone() == (300,)
        assert connection.execute("SELECT count(*) FROM rtree_hazard_geom").fetchone() == (300,)
    connection.close()


def test_close_leaves_the_wal_while_another_process_still_reads(gpkg_register: Register) -> None:
    """A checkpoint cannot fold pages a reader still uses; close neither fails nor hangs, the WAL stays."""
    _fill(gpkg_register)
    path = Path(gpkg_register.target)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM hazard").fetchone() == (300,)
    started = time.monotonic()
    gpkg_register.close()
    assert time.monotonic() - started < 3  # not the 30 s busy timeout writers wait
    assert Path(f"{path}-wal").stat().st_size > 0
    reader.execute("COMMIT")
    reader.close()  # the last connection to close checkpoints and removes the WAL
    assert not Path(f"{path}-wal").exists()
