"""Status of a public report, from received to closed, and the times a response is measured by.

The machine is the operations' :class:`StateMachine` with the public report's
own states and parties. The dispatcher triages (being verified, duplicate,
not EO), issues the EOD spot task and closes; the operator whose team dealt
with the item may record it removed. Duplicate and not-EO can be reopened
with a reason, because a dispatcher can be wrong and the item is still there.

What the reporter sees through the private status link is :func:`reporter_status`:
a duplicate follows the report it was folded into, so the second person to
report an item learns when it is removed too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from mineaction.domain.operations.states import StateChange, StateMachine, Transition
from mineaction.domain.public_reports.vocabularies import VOCABULARIES, label

__all__ = ["STATUS", "Milestones", "milestones", "new_status_token", "reporter_status", "status_token_hash", "status_view"]

_D, _O = frozenset({"dispatcher"}), frozenset({"dispatcher", "operator"})

STATUS = StateMachine(
    "public report", "public_report_status",
    [
        Transition("received", "being_verified", _D),
        Transition("received", "duplicate", _D),
        Transition("received", "not_eo", _D, reason_required=True),
        Transition("being_verified", "task_assigned", _D),
        Transition("being_verified", "duplicate", _D),
        Transition("being_verified", "not_eo", _D, reason_required=True),
        # found already gone, or removed by police or army before a team went: the reason says which
        Transition("being_verified", "closed", _D, reason_required=True),
        Transition("task_assigned", "being_verified", _D, reason_required=True),  # the task was cancelled
        Transition("task_assigned", "item_removed", _O),
        Transition("item_removed", "closed", _D),
        Transition("duplicate", "being_verified", _D, reason_required=True),
        Transition("not_eo", "being_verified", _D, reason_required=True),
    ],
    vocabularies=VOCABULARIES, parties="report_party",
)


@dataclass(frozen=True)
class Milestones:
    """When the response reached each step; None where it has not (yet)."""

    received: dt.datetime
    triaged: dt.datetime | None
    task_issued: dt.datetime | None
    dealt_with: dt.datetime | None


def milestones(received: dt.datetime, changes: Sequence[StateChange]) -> Milestones:
    """The response times of one report, from its checked status history.

    Triaged is the first change out of *received*; task issued the first move
    to *task assigned*; dealt with the first move to *item removed*, or to
    *closed* straight from verification (the item was gone). Duplicates and
    not-EO reports are triaged but never dealt with: they count in triage
    time only.
    """
    STATUS.replay("received", changes)
    triaged = task = dealt = None
    for change in changes:
        if triaged is None and change.source == "received":
            triaged = change.at
        if task is None and change.target == "task_assigned":
            task = change.at
        if dealt is None and (change.target == "item_removed" or (change.source, change.target) == ("being_verified", "closed")):
            dealt = change.at
    return Milestones(received, triaged, task, dealt)


def reporter_status(status: str, primary_status: str | None = None) -> str:
    """The status a reporter is shown: a duplicate's is that of the report it was folded into.

    >>> reporter_status("duplicate", "task_assigned")
    'task_assigned'
    >>> reporter_status("not_eo")
    'not_eo'
    """
    if status == "duplicate" and primary_status is not None:
        return primary_status
    return status


def new_status_token() -> tuple[str, str]:
    """A private status link token (128 random bits) and the hash storage keeps instead of it.

    Only the hash is stored, so a copy of the database does not open anyone's
    status page; the token is shown to the reporter once.
    """
    token = secrets.token_urlsafe(16)
    return token, status_token_hash(token)


def status_token_hash(token: str) -> str:
    """What a status link is looked up by (SHA-256, hex): an exact-match index, no timing to learn from."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def status_view(status: str, steps: Milestones, language: str, primary_status: str | None = None) -> dict[str, str | None]:
    """What the private status page shows: the status and the dates of the steps, nothing else.

    No location, description, contact or other report: the page is reached
    by a link that may be forwarded, so it says no more than the reporter
    would tell a neighbour.
    """
    shown = reporter_status(status, primary_status)
    return {
        "status": shown,
        "label": label("public_report_status", shown, language),
        **{name: (None if at is None else at.isoformat()) for name, at in (
            ("received", steps.received), ("triaged", steps.triaged), ("task_issued", steps.task_issued),
            ("dealt_with", steps.dealt_with))},
    }
