"""The review queue's bulk paths (column-wise queueing and approval) keep its meaning, on both backends."""

from __future__ import annotations

import gc

import pytest
import shapely

from mineaction.errors import ConflictError
from mineaction.storage import review
from mineaction.storage.register import BULK_ROWS, Register
from tests.common import add_organisation, square_m

SOURCE = review.ImportSource(name="odk.json", sha256="2" * 64, format="odk", mapping="accident report")


def _accident_and_victim(organisation_id: str) -> list[review.Submission]:
    """An accident and a victim of it, as a form sends them: the victim links to the accident's report."""
    accident = review.Submission(
        entity="accident", action="add", content_hash="a" * 64, source_feature="submission 1",
        values={"occurred_on": "2025-02-01", "accident_type": "mine", "organisation_id": organisation_id},
        geometry_wkb=shapely.to_wkb(square_m(300, 300, 1).centroid, output_dimension=2),
    )
    victim = review.Submission(
        entity="victim", action="add", content_hash="b" * 64, source_feature="submission 1 victim 1",
        values={"accident_id": None, "age": 30, "sex": "female", "victim_group": "civilian", "outcome": "injured",
                "organisation_id": organisation_id},
        geometry_wkb=None, depends_on={"accident_id": "a" * 64},
    )
    return [accident, victim]


def _organisation(register: Register) -> str:
    with register.write("alice", "operator") as w:
        return add_organisation(w).id


def test_reports_named_child_first_are_applied_parent_first(register: Register) -> None:
    queued = review.submit(register, SOURCE, [_accident_and_victim(_organisation(register))], user="importer",
                           reason="ODK sync")
    accident_ref, victim_ref = [r.ref for r in review.reports(register, import_id=queued.import_id)]

    outcome = review.approve(register, refs=[victim_ref, accident_ref], user="rev", reason="ok", chunk=1)

    assert outcome.approved == [accident_ref, victim_ref]
    accident, victim = review.reports(register, import_id=queued.import_id)
    assert (accident.status, victim.status) == ("approved", "approved")
    assert register.get("victim", victim.record_id)["accident_id"] == accident.record_id


def test_duplicates_are_skipped_within_a_batch_and_across_imports(register: Register) -> None:
    organisation_id = _organisation(register)
    accident, victim = _accident_and_victim(organisation_id)
    first = review.submit(register, SOURCE, [[accident, accident, victim]], user="importer", reason="ODK sync")
    assert (first.submitted, first.skipped) == (2, 1)

    told: list[tuple[str, str]] = []
    other = accident._replace(content_hash="c" * 64, source_feature="submission 2")
    again = review.submit(register, SOURCE, [[victim, other]], user="importer", reason="ODK sync again",
                          on_skip=lambda s, earlier: told.append((s.source_feature, earlier)))

    assert (again.submitted, again.skipped) == (1, 1)
    victim_ref = review.reports(register, import_id=first.import_id)[1].ref
    assert told == [("submission 1 victim 1", f"{victim_ref} (submission 1 victim 1)")]


def test_the_cyclic_collector_runs_again_after_bulk_work_even_when_it_fails(register: Register) -> None:
    assert gc.isenabled()
    queued = review.submit(register, SOURCE, [_accident_and_victim(_organisation(register))], user="importer",
                           reason="ODK sync")
    assert gc.isenabled()
    victim_ref = review.reports(register, import_id=queued.import_id)[1].ref

    with pytest.raises(ConflictError, match="needs"):  # its accident is not approved yet
        review.approve(register, refs=[victim_ref], user="rev", reason="ok")

    assert gc.isenabled()
    assert [r.status for r in review.reports(register, import_id=queued.import_id)] == ["submitted", "submitted"]


def _finds(organisation_id: str, numbers: range) -> list[review.Submission]:
    return [review.Submission(
        entity="eo_find", action="add", content_hash=f"{i:064x}", source_feature=f"row {i}",
        values={"category": "uxo", "condition": "unknown", "quantity": 1, "found_on": "2025-03-01",
                "organisation_id": organisation_id},
        geometry_wkb=shapely.to_wkb(square_m(i % 100 * 20, i // 100 * 20, 1).centroid, output_dimension=2),
    ) for i in numbers]


def test_a_bulk_batch_that_repeats_one_report_queues_the_rest_without_gaps(register: Register) -> None:
    """Batches go in whole until one repeats a report: that one is undone to its savepoint and sorted
    out report by report (on PostgreSQL the whole batch went in by COPY, which the repeat aborted)."""
    organisation_id = _organisation(register)
    n = BULK_ROWS + 100
    earlier = review.submit(register, SOURCE, [_finds(organisation_id, range(10))], user="importer", reason="first")
    told: list[str] = []
    later = review.submit(register, SOURCE, [_finds(organisation_id, range(10, n)),
                                             _finds(organisation_id, range(n, 2 * n)) + _finds(organisation_id, range(3, 4)),
                                             _finds(organisation_id, range(2 * n, 2 * n + 5))],
                          user="importer", reason="second", on_skip=lambda s, _: told.append(s.source_feature))
    assert (later.submitted, later.skipped) == (2 * n + 5 - 10, 1) and told == ["row 3"]
    refs = [r.ref for r in review.reports(register, import_id=later.import_id)]
    assert refs == [f"FR-{k:07d}" for k in range(11, 11 + later.submitted)]  # the undone attempt left no gap
    assert len(review.reports(register, status="submitted")) == earlier.submitted + later.submitted


def test_the_queue_is_listed_a_page_at_a_time_in_queue_order_within_the_organisations_asked(
        register: Register) -> None:
    ours, theirs = _organisation(register), _organisation(register)
    accidents = [
        review.Submission(
            entity="accident", action="add", content_hash=f"{i:064x}", source_feature=f"submission {i}",
            values={"occurred_on": "2025-02-01", "accident_type": "mine",
                    "organisation_id": ours if i % 2 == 0 else theirs},
            geometry_wkb=shapely.to_wkb(square_m(300 + 10 * i, 300, 1).centroid, output_dimension=2),
        )
        for i in range(14)
    ]
    queued = review.submit(register, SOURCE, [accidents], user="importer", reason="ODK sync")
    every = review.reports(register, import_id=queued.import_id)
    assert [r.organisation_id for r in every] == [ours, theirs] * 7  # from the values, when not given
    refs = [r.ref for r in every if r.organisation_id == ours]
    review.approve(register, refs=refs[2:4], user="rev", reason="ok")

    def pages(size: int, status: str | None = None) -> list[str]:
        listed: list[str] = []
        while found := review.page(register, organisations=frozenset({ours}), status=status, limit=size,
                                   offset=len(listed)):
            listed += [r.ref for r in found]
        return listed

    assert pages(3) == refs  # pages of 3, 3 and 1, none of them holding the other organisation's
    assert pages(2, "submitted") == refs[:2] + refs[4:]
    assert pages(2, "approved") == refs[2:4]
    assert pages(2, "rejected") == []
    assert review.page(register, organisations=frozenset(), limit=None) == []
    assert len(review.page(register, organisations=None, limit=None)) == 14  # None: every organisation
