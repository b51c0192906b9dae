"""Task life cycle: legal transitions, who may make them, and the task order's checks."""

from __future__ import annotations

import datetime as dt

import pytest

from mineaction.domain.operations.states import PartyNotAllowed, StateChange, TransitionNotAllowed
from mineaction.domain.operations.tasks import TASK_STATES, TaskOrder, check_task_transition
from mineaction.domain.operations.vocabularies import VOCABULARIES
from mineaction.errors import ConflictError, InvalidValue

AT = dt.datetime(2026, 3, 1, 9, 0)


def change(source: str, target: str, party: str, day: int, reason: str = "") -> StateChange:
    return StateChange(source, target, party, f"{party}-user", AT + dt.timedelta(days=day), reason)


def test_full_life_cycle_replays_to_closed_with_every_change_kept() -> None:
    history = [
        change("draft", "issued", "authority", 0),
        change("issued", "accepted", "operator", 1),
        change("accepted", "in_progress", "operator", 3),
        change("in_progress", "suspended", "operator", 10, "heavy rain"),
        change("suspended", "in_progress", "operator", 12),
        change("in_progress", "completed", "operator", 40),
        change("completed", "in_progress", "authority", 45, "QC found an item in box 14"),
        change("in_progress", "completed", "operator", 50),
        change("completed", "verified", "authority", 55),
        change("verified", "closed", "authority", 60),
    ]
    assert TASK_STATES.replay("draft", history) == "closed"
    assert len(history) == 10


def test_every_state_is_reachable_from_draft() -> None:
    reached, frontier = {"draft"}, ["draft"]
    while frontier:
        for nxt in TASK_STATES.allowed(frontier.pop()):
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
    assert reached == set(VOCABULARIES["task_state"])


def test_illegal_transition_names_the_allowed_next_states() -> None:
    with pytest.raises(TransitionNotAllowed) as caught:
        check_task_transition("accepted", "completed", "operator")
    assert caught.value.allowed == {"in_progress": frozenset({"operator"}), "cancelled": frozenset({"authority"})}
    assert "in_progress (by operator)" in str(caught.value)
    assert "cancelled (by authority)" in str(caught.value)


def test_closed_and_cancelled_are_final() -> None:
    for final in ("closed", "cancelled"):
        assert TASK_STATES.allowed(final) == {}
        with pytest.raises(TransitionNotAllowed, match="none: it is final"):
            check_task_transition(final, "in_progress", "authority")


@pytest.mark.parametrize(
    ("current", "target", "wrong_party"),
    [
        ("draft", "issued", "operator"),
        ("issued", "accepted", "authority"),
        ("in_progress", "completed", "authority"),
        ("completed", "verified", "operator"),
        ("verified", "closed", "operator"),
        ("in_progress", "cancelled", "operator"),
    ],
)
def test_each_party_makes_only_its_own_transitions(current: str, target: str, wrong_party: str) -> None:
    with pytest.raises(PartyNotAllowed):
        check_task_transition(current, target, wrong_party, reason="because")
    assert isinstance(PartyNotAllowed("x", current="a", target="b", allowed={}), PermissionError)


def test_cancellation_possible_before_completion_only() -> None:
    for state in ("draft", "issued", "accepted", "in_progress", "suspended"):
        assert check_task_transition(state, "cancelled", "authority", reason="donor withdrew").target == "cancelled"
    for state in ("completed", "verified"):
        with pytest.raises(TransitionNotAllowed):
            check_task_transition(state, "cancelled", "authority", reason="too late")


def test_reasons_required_for_suspension_cancellation_decline_and_rework() -> None:
    for current, target, party in [("in_progress", "suspended", "operator"), ("draft", "cancelled", "authority"),
                                   ("issued", "draft", "operator"), ("completed", "in_progress", "authority")]:
        with pytest.raises(InvalidValue, match="needs a reason"):
            check_task_transition(current, target, party, reason="  ")


def test_authority_suspension_is_lifted_by_the_authority_only() -> None:
    with pytest.raises(PartyNotAllowed, match="authority suspended"):
        check_task_transition("suspended", "in_progress", "operator", suspended_by="authority")
    assert check_task_transition("suspended", "in_progress", "authority", suspended_by="authority")
    assert check_task_transition("suspended", "in_progress", "operator", suspended_by="operator")


def test_open_nonconformities_block_verification_and_closing() -> None:
    with pytest.raises(ConflictError, match="2 open non-conformities"):
        check_task_transition("completed", "verified", "authority", open_nonconformities=2)
    with pytest.raises(ConflictError):
        check_task_transition("verified", "closed", "authority", open_nonconformities=1)


def test_replay_refuses_a_broken_history() -> None:
    with pytest.raises(ConflictError, match="starts from accepted but the task was issued"):
        TASK_STATES.replay("draft", [change("draft", "issued", "authority", 0),
                                     change("accepted", "in_progress", "operator", 1)])
    with pytest.raises(InvalidValue, match="dated before"):
        TASK_STATES.replay("draft", [change("draft", "issued", "authority", 5),
                                     change("issued", "accepted", "operator", 1)])


def test_unknown_state_or_party_is_an_invalid_value() -> None:
    with pytest.raises(InvalidValue, match="not a task_state code"):
        check_task_transition("issued", "started", "operator")
    with pytest.raises(InvalidValue, match="not a party code"):
        check_task_transition("issued", "accepted", "donor")


def order(**kw: object) -> TaskOrder:
    base: dict[str, object] = {"reference": "T-1", "activity": "clearance", "operator_id": "org-1",
                               "hazard_ids": ("HAZ-1",), "planned_start": dt.date(2026, 3, 1),
                               "deadline": dt.date(2026, 9, 30), "teams": 2, "area_m2": 40_000.0}
    base.update(kw)
    return TaskOrder(**base)  # type: ignore[arg-type]


def test_task_order_checks() -> None:
    assert order().teams == 2.0
    assert order(activity="eore", hazard_ids=(), area_m2=0).area_m2 == 0.0
    with pytest.raises(InvalidValue, match="not a task_activity code"):
        order(activity="demining")
    with pytest.raises(InvalidValue, match="before the planned start"):
        order(deadline=dt.date(2026, 2, 1))
    with pytest.raises(InvalidValue, match="needs its hazards and an area"):
        order(area_m2=0)
    with pytest.raises(InvalidValue, match="teams must be a positive"):
        order(teams=0)
    with pytest.raises(InvalidValue, match="with its explanation"):
        order(priority_rank=1)
    assert order(priority_rank=1, priority_explanation="3 accidents within 1 km").priority_rank == 1
