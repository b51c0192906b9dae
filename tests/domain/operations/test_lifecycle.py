"""One task from issue to closure through every operations rule, as the register will drive them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from shapely.geometry import Point, box

from mineaction.domain.operations.handover import (
    Beneficiaries,
    HandoverCertificate,
    ReleasedPartFacts,
    Signatory,
    check_handover,
)
from mineaction.domain.operations.progress import ProgressReports, TaskFrame, task_status
from mineaction.domain.operations.quality import (
    NonConformity,
    QcSamplingPlan,
    qc_result,
    suspends_task,
)
from mineaction.domain.operations.residual_contamination import (
    ReleasedLand,
    find_residual_contamination,
)
from mineaction.domain.operations.states import StateChange
from mineaction.domain.operations.tasks import TASK_STATES, TaskOrder, check_task_transition
from mineaction.errors import ConflictError

DAY0 = dt.date(2026, 4, 1)


def at(days: int) -> dt.datetime:
    return dt.datetime.combine(DAY0 + dt.timedelta(days=days), dt.time(9))


def test_issue_to_closure() -> None:
    order = TaskOrder("T-1", "clearance", "org-op", ("HAZ-1",), DAY0, DAY0 + dt.timedelta(days=60), teams=2,
                      area_m2=12_000, priority_rank=1, priority_explanation="farmland of 40 households")
    history: list[StateChange] = []
    state = "draft"

    def move(target: str, party: str, day: int, reason: str = "", **kw: object) -> None:
        nonlocal state
        check_task_transition(state, target, party, reason=reason, **kw)  # type: ignore[arg-type]
        history.append(StateChange(state, target, party, f"{party}-1", at(day), reason))
        state = target

    move("issued", "authority", 0)
    move("accepted", "operator", 1)
    move("in_progress", "operator", 2)
    # 12 working days of 1,000 m² by 2 teams each, from 3 April
    days = [DAY0 + dt.timedelta(days=2 + i) for i in range(12)]
    reports = ProgressReports([0] * 12, days, "manual", 1_000, 1_000, 0, 0, [0] * 11 + [1], 2, 0, "")
    frame = TaskFrame.from_orders([order], [state], [DAY0 + dt.timedelta(days=2)])
    mid = task_status(frame, reports, DAY0 + dt.timedelta(days=8))
    assert mid.percent_done[0] == pytest.approx(100 * 7_000 / 12_000)
    move("completed", "operator", 14)
    done = task_status(TaskFrame.from_orders([order], [state], [DAY0 + dt.timedelta(days=2)]), reports,
                       DAY0 + dt.timedelta(days=14))
    assert done.percent_done[0] == 100 and done.row(0)["days_late"] == -47 and not done.alerts()

    # QA finds a critical non-conformity: the task may not be verified until it is closed
    nc = NonConformity("NC-1", "QA-1", "medical", "critical", "NMAS 10.40 casevac", DAY0 + dt.timedelta(days=15))
    assert suspends_task([nc])
    with pytest.raises(ConflictError):
        check_task_transition(state, "verified", "authority", open_nonconformities=1)
    nc = nc.move("action_taken", "operator", DAY0 + dt.timedelta(days=16), action="second ambulance on site")
    nc = nc.move("closed", "authority", DAY0 + dt.timedelta(days=17))

    # QC: 10 % of 120 boxes of 100 m², none defective
    qc = qc_result(QcSamplingPlan.from_share(lot_m2=12_000, unit_m2=100, share=0.1), defects_found=0)
    assert qc.passed and qc.plan.sample_size == 12
    assert 0 < qc.confidence < 1  # recorded on the released part; never a certainty
    move("verified", "authority", 18, open_nonconformities=0)

    part = box(36.0, 50.0, 36.0015, 50.001)
    cert = HandoverCertificate(
        "HO-1", "T-1", ("REL-1",), DAY0 + dt.timedelta(days=25), "community", "Vilkhivka hromada", ("agriculture",),
        Beneficiaries({("female", "adult"): 50, ("male", "adult"): 45, ("female", "child"): 30,
                       ("male", "child"): 35}, "direct"),
        (Signatory("handing", "O. K.", "NMAC"), Signatory("receiving", "I. S.", "hromada")),
        markers_recorded=True, community_informed=True,
    )
    check_handover(cert, [ReleasedPartFacts("REL-1", "cleared", DAY0 + dt.timedelta(days=14))], task_state=state)
    move("closed", "authority", 25)
    assert TASK_STATES.replay("draft", history) == "closed" and len(history) == 6

    # a year later a farmer finds a mine inside the handed-over field; another find lies 300 m away
    land = [ReleasedLand("REL-1", "released_part", "T-1", part), ReleasedLand("HO-1", "handover", "T-1", part)]
    hits = find_residual_contamination([Point(36.0007, 50.0005), Point(36.006, 50.0005)], land)
    assert {(h.find, h.land_ref, h.task_ref) for h in hits} == {(0, "REL-1", "T-1"), (0, "HO-1", "T-1")}
    assert np.all([h.inside for h in hits])
