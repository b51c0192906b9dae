"""The bulk path (BULK_ROWS rows or more: R-tree filled at once on SQLite, COPY on PostgreSQL)
stores exactly what the row-at-a-time path stores, keeps every index in sync, and fails whole."""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterator

import pytest
import shapely

from mineaction.errors import InvalidGeometry, InvalidValue, StorageError
from mineaction.storage.register import BULK_ROWS, Register
from tests.common import add_organisation, hazard_values, square_m
from tests.faults.checks import check_all, snapshot
from tests.faults.io_faults import driver_error, failing_statement

N = BULK_ROWS + 37


def _outlines(n: int, offset: float = 0.0) -> list[shapely.Geometry]:
    return [square_m(offset + (i % 40) * 120, (i // 40) * 120, 50 + i % 30) for i in range(n)]


def _values(org_id: str, n: int) -> list[dict]:
    return [hazard_values(org_id, description=f"field {i}", contamination=["ap_mine", "uxo"][: 1 + i % 2]) for i in range(n)]


def test_a_bulk_write_stores_what_single_writes_store(register: Register) -> None:
    with register.write("loader", "one by one") as w:
        org = add_organisation(w)
        singles = [w.add("hazard", v, g) for v, g in zip(_values(org.id, 3), _outlines(3))]
    with register.write("loader", "bulk") as w:
        bulk = w.add_many("hazard", _values(org.id, N), _outlines(N))
    assert len(bulk) == N and register.count("hazard") == N + 3
    for single, batch in zip(singles, bulk):
        stored_single, stored_batch = register.get("hazard", single.id), register.get("hazard", batch.id)
        assert stored_batch.values == stored_single.values  # dates, codes, areas, admin areas alike
        assert shapely.equals_exact(stored_batch.geometry, stored_single.geometry, 1e-12)
        assert stored_batch.values == batch.values  # what add_many hands back is what was stored
        assert register.history("hazard", batch.id)[0].values == batch.values
    assert [h.ref for h in bulk[:2]] == ["HAZ-000004", "HAZ-000005"]
    check_all(register)  # the R-tree (or GiST index) finds every geometry; history matches


def test_records_given_as_columns_are_stored_as_the_same_records_given_as_rows(register: Register) -> None:
    """Data read by columns (Arrow, pyogrio) goes in without being turned into rows first."""
    n = BULK_ROWS + 5  # the bulk path
    with register.write("loader", "organisation") as w:
        org = add_organisation(w)
    rows = _values(org.id, n)
    columns = {name: [row[name] for row in rows] for name in rows[0]}
    with register.write("loader", "as rows") as w:
        by_row = w.add_many("hazard", rows, _outlines(n))
    with register.write("loader", "as columns") as w:
        by_column = w.add_many("hazard", columns, _outlines(n))
    for i in (0, n - 1):
        a, b = register.get("hazard", by_row[i].ref), register.get("hazard", by_column[i].ref)
        assert a.values == b.values and shapely.equals_exact(a.geometry, b.geometry, 0)
        # squares in UTM metres; geodesic areas differ from UTM's by its scale factor, under 0.1 % here
        assert b.values["area_m2"] == pytest.approx((50 + i % 30) ** 2, rel=1e-3)
    with pytest.raises(InvalidValue, match=r"unknown field\(s\) colour"), register.write("loader", "bad") as w:
        w.add_many("hazard", {**columns, "colour": ["red"] * n}, _outlines(n))
    with pytest.raises(InvalidValue, match=r"hazard\.status: 3 values for 2 records"), register.write("loader", "bad") as w:
        w.add_many("hazard", {name: values[:2] for name, values in columns.items()} | {"status": ["active"] * 3},
                   _outlines(2))
    with pytest.raises(InvalidValue, match=r"area_m2 is derived"), register.write("loader", "bad") as w:
        w.add_many("hazard", {**columns, "area_m2": [1.0] * n}, _outlines(n))
    assert register.count("hazard") == 2 * n


def test_the_spatial_index_keeps_working_after_a_bulk_write(register: Register) -> None:
    with register.write("loader", "bulk") as w:
        org = add_organisation(w)
        w.add_many("hazard", _values(org.id, N), _outlines(N))
    with register.write("editor", "one more, through the insert trigger") as w:
        late = w.add("hazard", hazard_values(org.id), square_m(9000, 9000, 80))
    window = shapely.box(*late.geometry.buffer(1e-5).bounds)
    assert register.features("hazard", bbox=window.bounds).refs == [late.ref]
    check_all(register)


def test_a_bulk_write_that_fails_anywhere_leaves_nothing(register: Register) -> None:
    with register.write("loader", "organisation") as w:
        org = add_organisation(w)
    before = snapshot(register)
    failures = 0
    for n in itertools.count(1):
        try:
            with failing_statement(register, n, driver_error), register.write("loader", "bulk") as w:
                w.add_many("hazard", _values(org.id, N), _outlines(N))
        except StorageError:
            failures += 1
            assert snapshot(register) == before
            continue
        break
    assert failures >= 5  # changeset, refs, the insert itself, ...
    assert register.count("hazard") == N
    check_all(register)


def test_a_unit_of_work_pauses_the_cyclic_collector_and_restores_it_as_it_was(register: Register) -> None:
    assert gc.isenabled()
    with register.write("loader", "collector paused") as w:
        assert not gc.isenabled()
        add_organisation(w)
    assert gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(RuntimeError), register.write("loader", "fails"):
            assert not gc.isenabled()
            raise RuntimeError("the caller's block fails")
        assert not gc.isenabled()  # paused by the caller, so it stays paused
    finally:
        gc.enable()


def _stream(org_id: str, sizes: list[int]) -> list[tuple[list[dict], list[shapely.Geometry]]]:
    """Batches of the given sizes, together the rows and outlines of _values and _outlines."""
    values, outlines, start = _values(org_id, sum(sizes)), _outlines(sum(sizes)), 0
    batches = []
    for size in sizes:
        batches.append((values[start : start + size], outlines[start : start + size]))
        start += size
    return batches


def test_a_stream_of_batches_stores_what_one_bulk_write_stores(register: Register) -> None:
    sizes = [BULK_ROWS, 3, BULK_ROWS + 11]  # the bulk path, the row path, the bulk path again
    with register.write("loader", "organisation") as w:
        org = add_organisation(w)
    with register.write("loader", "one batch") as w:
        whole = w.add_many("hazard", _values(org.id, sum(sizes)), _outlines(sum(sizes)))
    with register.write("loader", "a stream") as w:
        assert w.add_stream("hazard", _stream(org.id, sizes)) == sum(sizes)
    n = sum(sizes)
    assert register.count("hazard") == 2 * n
    for i in (0, BULK_ROWS, BULK_ROWS + 2, n - 1):  # first and last row of each batch
        first, second = register.get("hazard", whole[i].ref), register.get("hazard", f"HAZ-{n + i + 1:06d}")
        assert second.values["description"] == first.values["description"] == f"field {i}"
        assert second.values["area_m2"] == pytest.approx(first.values["area_m2"], rel=1e-12)
        assert second.values["admin_pcode"] == first.values["admin_pcode"]
        assert shapely.equals_exact(second.geometry, first.geometry, 1e-12)
    check_all(register)


def test_a_bad_row_in_a_stream_is_named_by_its_place_in_the_stream_and_nothing_is_written(register: Register) -> None:
    with register.write("loader", "organisation") as w:
        org = add_organisation(w)
    before = snapshot(register)
    batches = _stream(org.id, [BULK_ROWS, BULK_ROWS, BULK_ROWS])
    x0, y0, x1, y1 = square_m(0, 0, 100).bounds
    bow_tie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    batches[2][1][7] = bow_tie
    with pytest.raises(InvalidGeometry, match=rf"hazard\[{2 * BULK_ROWS + 7}\].*Self-intersection"):
        with register.write("loader", "a stream with a bad row") as w:
            w.add_stream("hazard", batches)
    assert snapshot(register) == before


def test_links_in_a_stream_are_checked_in_every_batch(register: Register) -> None:
    """A link resolved in one batch is not asked again, but a new one in a later batch is checked."""
    with register.write("loader", "organisations") as w:
        first, second = add_organisation(w, "First"), add_organisation(w, "Second")
    batches = _stream(first.id, [BULK_ROWS, 3, BULK_ROWS])
    for row in batches[1][0]:
        row["organisation_id"] = second.ref  # by reference, in the middle of the stream
    with register.write("loader", "a stream naming two operators") as w:
        w.add_stream("hazard", batches)
    owners = [register.get("hazard", f"HAZ-{i:06d}").values["organisation_id"] for i in (1, BULK_ROWS + 1, 2 * BULK_ROWS + 3)]
    assert owners == [first.id, second.id, first.id]
    before = snapshot(register)
    batches = _stream(first.id, [BULK_ROWS, BULK_ROWS])
    batches[1][0][4]["organisation_id"] = "ORG-999999"
    with pytest.raises(InvalidValue, match=rf"hazard\[{BULK_ROWS + 4}\]\.organisation_id: no organisation 'ORG-999999'"):
        with register.write("loader", "a stream naming an unknown operator") as w:
            w.add_stream("hazard", batches)
    assert snapshot(register) == before


def test_a_failing_source_stops_the_stream_and_nothing_is_written(register: Register) -> None:
    with register.write("loader", "organisation") as w:
        org = add_organisation(w)
    before = snapshot(register)

    def source() -> Iterator[tuple[list[dict], list[shapely.Geometry]]]:
        yield from _stream(org.id, [BULK_ROWS])
        raise OSError("the file ends in the middle of a feature")

    with pytest.raises(OSError, match="middle of a feature"), register.write("loader", "a stream that breaks") as w:
        w.add_stream("hazard", source())
    assert snapshot(register) == before


def test_released_land_cannot_be_streamed_past_the_ledger(register: Register) -> None:
    with pytest.raises(InvalidValue, match="release"), register.write("loader", "released land") as w:
        w.add_stream("released_part", [])


def test_postgresql_learns_the_size_of_a_table_a_bulk_write_grew(postgis_register: Register) -> None:
    """Statistics are sampled before the commit: without them the planner took a list of 500 ids to match
    most of the table and scanned all of it (W3's set-up, measured in benchmarks/README.md)."""
    register = postgis_register
    n = 3 * BULK_ROWS

    def sampled_rows() -> float:
        with register.engine.connect() as connection:
            return connection.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'hazard'").scalar_one()

    assert sampled_rows() < 0  # never sampled
    with register.write("loader", "bulk") as w:
        org = add_organisation(w)
        w.add_many("hazard", _values(org.id, n), _outlines(n))
    assert sampled_rows() == n
    with register.write("loader", "a few more") as w:  # a tenth or less: the sample stands
        w.add_many("hazard", _values(org.id, 3), _outlines(3))
    assert sampled_rows() == n
