"""Tasks: the order that turns a priority into work for an operator's teams.

A task (IMSMA NG "task dossier", IMAS 07.40 tasking) assigns one activity
type over one or more hazards (or an area) to one operator, with the
priority that put it first (rank, score and the explanation from
``prioritise``), a planned start, a deadline, teams and expected productivity.

Its life, and who moves it (the national authority, NMAA, tasks, verifies
and closes; the operator accepts, works and reports; IMAS 07.12/07.40 put
quality assurance and acceptance of the product with the authority)::

    draft ─────▶ issued ─────▶ accepted ─────▶ in_progress ─────▶ completed ─────▶ verified ─────▶ closed
         authority       operator        operator   │    ▲       operator    authority      authority
                                                    ▼    │
                                                  suspended      (either party, with a reason)

    issued → draft           the operator declines (reason)
    completed → in_progress  the authority's QC failed: rework (reason)
    → cancelled              the authority, with a reason, from any state before completed

A suspension imposed by the authority (e.g. after a critical
non-conformity) is lifted only by the authority; one the operator made
itself (weather, breakdown) by either. A task is verified and closed only
when its non-conformities are closed. Elapsed time never moves a task.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mineaction.domain.ledger import ALLOWED_RELEASE
from mineaction.domain.operations.states import PartyNotAllowed, StateMachine, Transition
from mineaction.domain.operations.vocabularies import check_code
from mineaction.errors import ConflictError, InvalidValue

__all__ = [
    "AREA_ACTIVITIES",
    "OPEN_STATES",
    "PROGRESS_AMOUNTS",
    "TASK_STATES",
    "TASK_VERBS",
    "TaskOrder",
    "check_progress_report",
    "check_task_transition",
    "task_order",
]

A, OP = frozenset({"authority"}), frozenset({"operator"})
EITHER = A | OP

TASK_STATES = StateMachine(
    "task",
    "task_state",
    [
        Transition("draft", "issued", A),
        Transition("draft", "cancelled", A, reason_required=True),
        Transition("issued", "accepted", OP),
        Transition("issued", "draft", OP, reason_required=True),  # declined: back to the authority to re-plan
        Transition("issued", "cancelled", A, reason_required=True),
        Transition("accepted", "in_progress", OP),
        Transition("accepted", "cancelled", A, reason_required=True),
        Transition("in_progress", "suspended", EITHER, reason_required=True),
        Transition("in_progress", "completed", OP),
        Transition("in_progress", "cancelled", A, reason_required=True),
        Transition("suspended", "in_progress", EITHER),
        Transition("suspended", "cancelled", A, reason_required=True),
        Transition("completed", "verified", A),
        Transition("completed", "in_progress", A, reason_required=True),  # QC failed: rework
        Transition("verified", "closed", A),
    ],
)
"""The task life cycle; ``TASK_STATES.allowed(state)`` lists what may follow."""

#: what each move is called (the command line's and the API's verbs), by the state it moves to
TASK_VERBS = {
    "issue": "issued", "accept": "accepted", "decline": "draft", "start": "in_progress", "resume": "in_progress",
    "suspend": "suspended", "complete": "completed", "verify": "verified", "rework": "in_progress",
    "close": "closed", "cancel": "cancelled",
}

#: a progress report's amounts (m², items, days), none below 0; not given is 0
PROGRESS_AMOUNTS = ("searched_m2", "cleared_m2", "reduced_m2", "cancelled_m2", "items_found", "team_days",
                    "stoppage_days")

#: states in which a task is the operator's open work: these can be overdue
OPEN_STATES = frozenset({"issued", "accepted", "in_progress", "suspended"})

#: activities whose progress is measured in square metres released (the land-release ledger's)
AREA_ACTIVITIES = frozenset(ALLOWED_RELEASE)


def check_task_transition(
    current: str,
    target: str,
    party: str,
    *,
    reason: str = "",
    suspended_by: str | None = None,
    open_nonconformities: int = 0,
) -> Transition:
    """Check one change of a task's state; return it, or raise the domain error saying why not.

    Parameters
    ----------
    current, target : str
        Task states (vocabulary ``task_state``).
    party : str
        ``authority`` or ``operator``.
    reason : str
        Why; required for suspension, cancellation, declining and rework.
    suspended_by : str, optional
        Who suspended the task, when resuming it.
    open_nonconformities : int
        Non-conformities of the task not yet closed; a task with any is
        neither verified nor closed.

    Examples
    --------
    >>> check_task_transition("issued", "accepted", "operator").target
    'accepted'
    >>> from mineaction.domain.operations.states import TransitionNotAllowed
    >>> try:
    ...     check_task_transition("issued", "verified", "authority")
    ... except TransitionNotAllowed as refused:
    ...     print(refused.current, "->", refused.target, "refused; allowed:", sorted(refused.allowed))
    issued -> verified refused; allowed: ['accepted', 'cancelled', 'draft']
    >>> check_task_transition("completed", "verified", "operator")
    Traceback (most recent call last):
    ...
    mineaction.domain.operations.states.PartyNotAllowed: only the authority may move a task from completed to verified
    """
    transition = TASK_STATES.check(current, target, party, reason=reason)
    if current == "suspended" and target == "in_progress":
        if suspended_by is not None:
            check_code("party", suspended_by, where="suspended_by")
        if suspended_by == "authority" and party != "authority":
            raise PartyNotAllowed(
                "the authority suspended this task: only the authority may resume it",
                current=current, target=target, allowed=TASK_STATES.allowed(current),
            )
    if target in {"verified", "closed"} and open_nonconformities > 0:
        raise ConflictError(
            f"the task has {open_nonconformities} open non-conformities: close them before it is {target}"
        )
    return transition


def _finite(name: str, value: float, *, positive: bool = False) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise InvalidValue(f"task {name} must be a {'positive' if positive else 'non-negative'} number, not {value}")
    return number


@dataclass(frozen=True)
class TaskOrder:
    """What the authority asks of an operator: the task's plan, checked on creation.

    ``area_m2`` is the land to work (0 for activities not measured in area:
    EOD spot tasks, EORE, QA/QC, marking). ``expected_m2_per_team_day`` is the
    productivity the plan assumed; progress replaces it with the task's own.

    >>> TaskOrder("T-1", "clearance", "org-1", ("haz-1",), dt.date(2026, 3, 1), dt.date(2026, 9, 30),
    ...           teams=2, area_m2=40_000, priority_rank=3, priority_explanation="school 400 m away").area_m2
    40000.0
    """

    reference: str
    activity: str
    operator_id: str
    hazard_ids: tuple[str, ...]
    planned_start: dt.date
    deadline: dt.date
    teams: float = 1.0
    area_m2: float = 0.0
    expected_m2_per_team_day: float | None = None
    priority_rank: int | None = None
    priority_score: float | None = None
    priority_explanation: str = ""

    def __post_init__(self) -> None:
        where = f"task {self.reference}"
        if not self.reference.strip() or not self.operator_id.strip():
            raise InvalidValue("a task needs a reference and an operator")
        check_code("task_activity", self.activity, where=where)
        if self.deadline < self.planned_start:
            raise InvalidValue(f"{where}: deadline {self.deadline} is before the planned start {self.planned_start}")
        object.__setattr__(self, "teams", _finite("teams", self.teams, positive=True))
        object.__setattr__(self, "area_m2", _finite("area_m2", self.area_m2))
        if self.expected_m2_per_team_day is not None:
            _finite("expected_m2_per_team_day", self.expected_m2_per_team_day, positive=True)
        if self.activity in AREA_ACTIVITIES and (self.area_m2 == 0 or not self.hazard_ids):
            raise InvalidValue(f"{where}: a {self.activity} task needs its hazards and an area > 0 m²")
        if self.priority_rank is not None and not self.priority_explanation.strip():
            raise InvalidValue(f"{where}: a priority is recorded with its explanation (why it ranks there)")


def task_order(values: Mapping[str, Any], where: str = "task") -> TaskOrder:
    """The plan held by a task record's values (entity ``task``), checked as :class:`TaskOrder` checks it."""
    try:
        return TaskOrder(
            reference=str(values.get("reference") or ""), activity=str(values.get("activity") or ""),
            operator_id=str(values.get("organisation_id") or ""), hazard_ids=tuple(values.get("hazard_ids") or ()),
            planned_start=values["planned_start"], deadline=values["deadline"], teams=values.get("teams") or 0.0,
            area_m2=values.get("planned_area_m2") or 0.0,
            expected_m2_per_team_day=values.get("expected_m2_per_team_day"),
            priority_rank=values.get("priority_rank"), priority_score=values.get("priority_score"),
            priority_explanation=values.get("priority_explanation") or "",
        )
    except KeyError as missing:
        raise InvalidValue(f"{where}: missing {missing}") from None


def check_progress_report(values: Mapping[str, object], where: str = "progress report") -> None:
    """One report's values (entity ``progress_report``): amounts ≥ 0, and a stoppage with its reason."""
    for name in PROGRESS_AMOUNTS:
        value = values.get(name)
        if isinstance(value, (int, float)) and not value >= 0:
            raise InvalidValue(f"{where}: {name} must be a number ≥ 0, not {value}")
    stopped = values.get("stoppage_days")
    if isinstance(stopped, (int, float)) and stopped > 0 and not values.get("stoppage_reason"):
        raise InvalidValue(f"{where}: stoppage days need their stoppage_reason")
