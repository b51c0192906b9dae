"""The bulk path (BULK_ROWS rows or more: R-tree filled at once on SQLite, COPY on PostgreSQL)
stores exactly what the row-at-a-time path stores, keeps every index in sync, and fails whole."""

from __future__ import annotations

import gc
import itertools

import pytest
import shapely

from mineaction.errors import StorageError
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
