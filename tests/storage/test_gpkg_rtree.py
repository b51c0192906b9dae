"""The bulk-built GeoPackage R-tree: valid for SQLite's R-tree module, and answering as a row-by-row one would."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess

import numpy as np
import pytest
import shapely

from mineaction.storage import gpkg
from mineaction.storage.gpkg_rtree import index_rows, insert_unindexed
from mineaction.storage.register import Register
from tests.common import add_organisation, hazard_values, square_m
from tests.conftest import missing_service

TABLE, COLUMN = "site", "geom"
RTREE = gpkg.rtree_name(TABLE, COLUMN)


def _database() -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    gpkg.register_functions(connection)
    connection.execute(f"CREATE TABLE {TABLE} (fid INTEGER PRIMARY KEY, {COLUMN} BLOB)")
    for statement in gpkg.rtree_ddl(TABLE, COLUMN, "fid"):
        connection.execute(statement)
    return connection


def _execute(connection: sqlite3.Connection):
    """``execute(sql, params)`` as the register passes it: a list of tuples runs the statement for each."""
    def execute(sql: str, params: tuple | list = ()):
        return connection.executemany(sql, params) if isinstance(params, list) else connection.execute(sql, params)
    return execute


def _boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    x, y = rng.uniform(30, 33, n), rng.uniform(48, 50, n)
    w, h = rng.uniform(1e-5, 0.05, (2, n))
    return shapely.box(x, y, x + w, y + h)


def _bulk_insert(connection: sqlite3.Connection, geometries: np.ndarray) -> range:
    first = connection.execute(f"SELECT coalesce(max(fid), 0) + 1 FROM {TABLE}").fetchone()[0]
    return insert_unindexed(_execute(connection), TABLE, COLUMN, f"INSERT INTO {TABLE} ({COLUMN}) VALUES (?)",
                            [(blob,) for blob in gpkg.encode_many(geometries)], first_fid=first)


def _check(connection: sqlite3.Connection, rng: np.random.Generator) -> None:
    """The module finds the tree sound, it holds every row's box (rounded outwards), and windows find what a scan finds."""
    assert connection.execute(f"SELECT rtreecheck('{RTREE}')").fetchone() == ("ok",)
    rows = [(fid, blob) for fid, blob in connection.execute(f"SELECT fid, {COLUMN} FROM {TABLE}")
            if gpkg.envelope(blob) is not None]  # empty and missing geometries have no entry
    entries = {row[0]: row[1:] for row in connection.execute(f"SELECT * FROM {RTREE}")}
    assert set(entries) == {fid for fid, _ in rows}
    for fid, blob in rows:
        minx, maxx, miny, maxy = gpkg.envelope(blob)
        eminx, emaxx, eminy, emaxy = entries[fid]
        assert eminx <= minx and emaxx >= maxx and eminy <= miny and emaxy >= maxy
        # 32-bit floats: within one unit in the last place (2**-23 relative) of the true box
        assert np.allclose(entries[fid], (minx, maxx, miny, maxy), rtol=2**-22, atol=0)
    stored = np.asarray([(fid, *box) for fid, box in entries.items()])
    for _ in range(50):
        x0, y0 = rng.uniform(30, 33), rng.uniform(48, 50)
        x1, y1 = x0 + rng.uniform(0, 0.5), y0 + rng.uniform(0, 0.5)
        found = {r[0] for r in connection.execute(
            f"SELECT id FROM {RTREE} WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?", (x1, x0, y1, y0))}
        hit = (stored[:, 1] <= x1) & (stored[:, 2] >= x0) & (stored[:, 3] <= y1) & (stored[:, 4] >= y0)
        assert found == set(stored[hit, 0].astype(int).tolist())


@pytest.mark.parametrize("n", [1, 51, 52, 2_601, 6_000, 60_000])
def test_a_rebuilt_tree_is_sound_and_complete(n: int) -> None:
    """Sizes around the node capacity (51 cells) and 51², so trees of one, two and three levels are built;
    60,000 rows are read and written in two slices."""
    rng = np.random.default_rng(n)
    connection = _database()
    index_rows(_execute(connection), TABLE, COLUMN, [_bulk_insert(connection, _boxes(rng, n))])
    depth = int.from_bytes(connection.execute(f"SELECT data FROM {RTREE}_node WHERE nodeno = 1").fetchone()[0][:2], "big")
    levels = int(np.ceil(np.log(n) / np.log(51) - 1e-9))  # a node holds 51 entries, 51² under two levels, …
    assert depth == max(levels - 1, 0)
    _check(connection, rng)


def test_the_tree_stays_usable_for_the_module_s_own_inserts_updates_and_deletes() -> None:
    rng = np.random.default_rng(7)
    connection = _database()
    index_rows(_execute(connection), TABLE, COLUMN, [_bulk_insert(connection, _boxes(rng, 3_000))])
    blobs = gpkg.encode_many(_boxes(rng, 400))
    connection.executemany(f"INSERT INTO {TABLE} ({COLUMN}) VALUES (?)", [(b,) for b in blobs])  # triggers
    connection.executemany(f"UPDATE {TABLE} SET {COLUMN} = ? WHERE fid = ?",
                           [(b, fid) for fid, b in zip(range(1, 800, 4), gpkg.encode_many(_boxes(rng, 200)))])
    connection.execute(f"DELETE FROM {TABLE} WHERE fid % 7 = 0")
    _check(connection, rng)


def test_a_small_batch_joins_a_larger_tree_entry_by_entry_and_a_large_one_rebuilds_it() -> None:
    rng = np.random.default_rng(3)
    connection = _database()
    index_rows(_execute(connection), TABLE, COLUMN, [_bulk_insert(connection, _boxes(rng, 5_000))])
    nodes_before = connection.execute(f"SELECT count(*) FROM {RTREE}_node").fetchone()[0]
    index_rows(_execute(connection), TABLE, COLUMN, [_bulk_insert(connection, _boxes(rng, 700))])
    _check(connection, rng)
    index_rows(_execute(connection), TABLE, COLUMN, [_bulk_insert(connection, _boxes(rng, 4_000)),
                                                   _bulk_insert(connection, _boxes(rng, 4_000))])
    _check(connection, rng)
    # packed full: 13,700 entries in ceil(13700 / 51) = 269 leaves, 6 nodes above them and the root
    assert connection.execute(f"SELECT count(*) FROM {RTREE}_node").fetchone()[0] == 269 + 6 + 1
    assert nodes_before == 99 + 2 + 1


def test_empty_and_missing_geometries_stay_out_of_the_index() -> None:
    rng = np.random.default_rng(5)
    connection = _database()
    geometries = _boxes(rng, 600)
    geometries[::3] = shapely.Polygon()
    fids = _bulk_insert(connection, geometries)
    connection.execute(f"UPDATE {TABLE} SET {COLUMN} = NULL WHERE fid % 3 = 2")
    index_rows(_execute(connection), TABLE, COLUMN, [fids])
    assert connection.execute(f"SELECT count(*) FROM {RTREE}").fetchone()[0] == 200
    _check(connection, rng)


def test_boxes_given_as_inserted_index_exactly_what_reading_the_rows_indexes() -> None:
    rng = np.random.default_rng(8)
    geometries = _boxes(rng, 3_000)
    geometries[::7] = shapely.Polygon()
    geometries[1::11] = None
    minx, miny, maxx, maxy = shapely.bounds(geometries).T
    trees = []
    for given in (None, np.column_stack([minx, maxx, miny, maxy])):
        connection = _database()
        fids = _bulk_insert(connection, geometries)
        index_rows(_execute(connection), TABLE, COLUMN, [fids], boxes=given)
        _check(connection, rng)
        trees.append(connection.execute(f"SELECT * FROM {RTREE} ORDER BY id").fetchall())
    assert len(trees[0]) == 3_000 - len(range(0, 3_000, 7)) - len([i for i in range(1, 3_000, 11) if i % 7])
    assert trees[0] == trees[1]


def test_rows_changed_after_a_bulk_add_in_the_same_unit_of_work_are_indexed_as_they_end(gpkg_register: Register) -> None:
    """The Writer indexes bulk-added rows at commit, from the rows as they then are."""
    register = gpkg_register
    with register.write("tester", "bulk add, then an edit") as w:
        organisation = add_organisation(w)
        added = w.add_many("hazard", [hazard_values(organisation.id)] * 600,
                           [square_m((i % 30) * 200, (i // 30) * 200, 80) for i in range(600)])
        moved = square_m(9_000, 9_000, 500)
        w.update("hazard", added[5].id, base_version=1, geometry=moved)
    minx, miny, maxx, maxy = moved.bounds
    with register.engine.connect() as c:
        fid = c.exec_driver_sql("SELECT fid FROM hazard WHERE id = ?", (added[5].id,)).scalar_one()
        box = c.exec_driver_sql("SELECT minx, maxx, miny, maxy FROM rtree_hazard_geom WHERE id = ?", (fid,)).one()
        assert np.allclose(box, (minx, maxx, miny, maxy), rtol=2**-22, atol=0)
        assert c.exec_driver_sql("SELECT count(*) FROM rtree_hazard_geom").scalar_one() == 600
        assert c.exec_driver_sql("SELECT rtreecheck('rtree_hazard_geom')").scalar_one() == "ok"


def test_gdal_finds_through_the_rebuilt_index_what_shapely_finds(gpkg_register: Register) -> None:
    """ogrinfo's spatial filter goes through the R-tree: a bulk-built tree missing entries would lose features."""
    if shutil.which("ogrinfo") is None:
        missing_service("GDAL's ogrinfo is not installed (apt install gdal-bin)")
    rng = np.random.default_rng(17)
    outlines = [square_m(x, y, s) for x, y, s in zip(rng.uniform(0, 20_000, 3_000), rng.uniform(0, 20_000, 3_000),
                                                       rng.uniform(20, 400, 3_000))]
    with gpkg_register.write("tester", "bulk add") as w:
        organisation = add_organisation(w)
        w.add_many("hazard", [hazard_values(organisation.id)] * len(outlines), outlines)
    minx, miny, maxx, maxy = shapely.bounds(shapely.union_all(outlines))
    for fx0, fy0 in rng.uniform(0, 0.8, (5, 2)):
        window = shapely.box(minx + fx0 * (maxx - minx), miny + fy0 * (maxy - miny),
                             minx + (fx0 + 0.2) * (maxx - minx), miny + (fy0 + 0.2) * (maxy - miny))
        listing = subprocess.run(["ogrinfo", "-ro", "-q", "-al", "-geom=NO", "-spat", *map(str, window.bounds),
                                  str(gpkg_register.target), "hazard"], capture_output=True, text=True, check=True)
        found = listing.stdout.count("OGRFeature(hazard):")
        assert found == int(shapely.intersects(np.asarray(outlines), window).sum()) > 0
