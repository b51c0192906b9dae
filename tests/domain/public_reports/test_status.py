"""A public report's status: legal moves, who makes them, and the response milestones taken from its history."""

from __future__ import annotations

import datetime as dt

import pytest

from mineaction.domain.operations.states import PartyNotAllowed, StateChange, TransitionNotAllowed
from mineaction.domain.public_reports.status import (
    STATUS,
    milestones,
    new_status_token,
    reporter_status,
    status_token_hash,
    status_view,
)
from mineaction.errors import InvalidValue

T0 = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)


def _at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_the_full_path_from_received_to_closed() -> None:
    history = [
        StateChange("received", "being_verified", "dispatcher", "d1", _at(0.5)),
        StateChange("being_verified", "task_assigned", "dispatcher", "d1", _at(2)),
        StateChange("task_assigned", "item_removed", "operator", "eod7", _at(26)),
        StateChange("item_removed", "closed", "dispatcher", "d1", _at(27)),
    ]
    assert STATUS.replay("received", history) == "closed"
    m = milestones(T0, history)
    assert (m.triaged, m.task_issued, m.dealt_with) == (_at(0.5), _at(2), _at(26))


def test_a_duplicate_is_triaged_but_never_dealt_with_and_shows_its_primary() -> None:
    history = [StateChange("received", "duplicate", "dispatcher", "d1", _at(1))]
    m = milestones(T0, history)
    assert (m.triaged, m.task_issued, m.dealt_with) == (_at(1), None, None)
    assert reporter_status("duplicate", "item_removed") == "item_removed"


def test_found_gone_on_verification_counts_as_dealt_with() -> None:
    history = [StateChange("received", "being_verified", "dispatcher", "d1", _at(1)),
               StateChange("being_verified", "closed", "dispatcher", "d1", _at(5), reason="police removed it")]
    assert milestones(T0, history).dealt_with == _at(5)


def test_illegal_moves_name_what_may_follow() -> None:
    with pytest.raises(TransitionNotAllowed, match="allowed next states: being_verified"):
        STATUS.check("received", "item_removed", "dispatcher")
    with pytest.raises(PartyNotAllowed):
        STATUS.check("received", "being_verified", "operator")  # only the dispatcher triages
    with pytest.raises(InvalidValue, match="needs a reason"):
        STATUS.check("received", "not_eo", "dispatcher")
    assert STATUS.allowed("closed") == {}


def test_a_history_out_of_order_is_refused() -> None:
    history = [StateChange("received", "being_verified", "dispatcher", "d1", _at(2)),
               StateChange("being_verified", "task_assigned", "dispatcher", "d1", _at(1))]
    with pytest.raises(InvalidValue, match="dated before"):
        milestones(T0, history)


def test_a_wrongly_dismissed_report_can_be_reopened_with_a_reason() -> None:
    history = [StateChange("received", "not_eo", "dispatcher", "d1", _at(1), reason="photo shows a pipe"),
               StateChange("not_eo", "being_verified", "dispatcher", "d2", _at(3), reason="second caller: fins"),
               StateChange("being_verified", "task_assigned", "dispatcher", "d2", _at(4))]
    m = milestones(T0, history)
    assert (m.triaged, m.task_issued) == (_at(1), _at(4))


def test_status_tokens_are_unguessable_and_stored_only_as_a_hash() -> None:
    tokens = [new_status_token() for _ in range(1000)]
    assert len({t for t, _ in tokens}) == 1000
    token, digest = tokens[0]
    assert len(token) >= 22 and status_token_hash(token) == digest and token not in digest


def test_the_status_page_shows_the_status_and_dates_and_nothing_else() -> None:
    history = [StateChange("received", "being_verified", "dispatcher", "d1", _at(0.5)),
               StateChange("being_verified", "duplicate", "dispatcher", "d1", _at(1))]
    view = status_view("duplicate", milestones(T0, history), "uk", primary_status="task_assigned")
    assert view == {"status": "task_assigned", "label": "Завдання передано команді", "received": T0.isoformat(),
                    "triaged": _at(0.5).isoformat(), "task_issued": None, "dealt_with": None}
