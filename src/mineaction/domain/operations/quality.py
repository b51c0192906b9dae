"""Quality management (IMAS 07.12, 07.30, 07.40): QA visits, QC inspections, non-conformities, QC sampling.

**Records.** A QM activity is a QA visit (of the process) or a QC inspection
(of the product: released land) by an inspecting organisation of an
inspected one, for a task. Each may raise non-conformities: a category, a
severity (minor, major, critical), the requirement not met, a due date, the
corrective (and preventive) action and its closure.

**Closure rules** (the MDR's "measures taken"; the Afghan standard's major =
critical / minor = non-critical with suspension and re-audit, widened to
three levels as the design note says):

* open → action_taken: the *inspected* party (operator) records the
  corrective action taken;
* action_taken → closed: the *authority* verifies the action worked (it
  inspected, it closes); action_taken → open: it did not (with a reason);
* a *critical* non-conformity suspends the task until it is closed; a task
  with any open non-conformity is neither verified nor handed over;
* due dates default by severity (:data:`DEFAULT_DUE_DAYS`); a QM activity
  fails when it raises a major or critical non-conformity.

**QC sampling** of released land reuses the project's acceptance sampling
(:func:`mineaction.domain.residual_hazard.acceptance_probability`, ISO 2859):
the lot is the released area cut into inspection units (e.g. 100 m² boxes),
``n`` of them are searched, and the lot passes with at most ``c`` defective
units. The *confidence* recorded on the released part is the probability
that a lot with the tolerable defect rate would have failed the inspection,
``1 - P_acc(p_tolerable)``, together with the defect rate the plan rules out
at 95 % (the LTPD: ``P_acc(p) = 0.05``). Zero defects in a sample never
prove zero defects in the lot.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from mineaction.domain.operations.states import StateMachine, Transition
from mineaction.domain.operations.vocabularies import check_code
from mineaction.domain.residual_hazard import GammaPrior, acceptance_probability, survey_confidence
from mineaction.errors import InvalidValue

__all__ = [
    "DEFAULT_DUE_DAYS",
    "NC_STATES",
    "NonConformity",
    "QcResult",
    "QcSamplingPlan",
    "QmActivity",
    "qc_result",
    "qm_outcome",
    "suspends_task",
    "ts_release_fields",
]

NC_STATES = StateMachine(
    "non-conformity",
    "nc_state",
    [
        Transition("open", "action_taken", frozenset({"operator"}), reason_required=True),
        Transition("action_taken", "closed", frozenset({"authority"})),
        Transition("action_taken", "open", frozenset({"authority"}), reason_required=True),
    ],
)

DEFAULT_DUE_DAYS: Mapping[str, int] = {"critical": 0, "major": 14, "minor": 30}
"""Days to correct a non-conformity by severity: the project's default, set per programme (UNSURE in IMAS)."""

_QM_KINDS = ("qa_visit", "qc_inspection")


@dataclass(frozen=True)
class QmActivity:
    """A QA visit or QC inspection: who inspected whom, for which task, when."""

    reference: str
    kind: str
    held_on: dt.date
    inspecting_org: str
    inspected_org: str
    task_ref: str | None = None
    activity_inspected: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _QM_KINDS:
            raise InvalidValue(f"QM activity {self.reference}: kind must be qa_visit or qc_inspection")
        if self.inspecting_org == self.inspected_org:
            raise InvalidValue(f"QM activity {self.reference}: an organisation does not inspect itself here")


@dataclass(frozen=True)
class NonConformity:
    """One non-conformity; ``due_on`` defaults from the severity."""

    reference: str
    qm_ref: str
    category: str
    severity: str
    requirement: str
    found_on: dt.date
    due_on: dt.date | None = None
    state: str = "open"
    corrective_action: str = ""
    preventive_action: str = ""
    closed_on: dt.date | None = None

    def __post_init__(self) -> None:
        where = f"non-conformity {self.reference}"
        check_code("nc_category", self.category, where=where)
        check_code("nc_severity", self.severity, where=where)
        check_code("nc_state", self.state, where=where)
        if not self.requirement.strip():
            raise InvalidValue(f"{where}: name the requirement (standard, SOP clause) not met")
        if self.due_on is None:
            object.__setattr__(self, "due_on", self.found_on + dt.timedelta(days=DEFAULT_DUE_DAYS[self.severity]))
        if (self.state == "closed") != (self.closed_on is not None):
            raise InvalidValue(f"{where}: a closed non-conformity has a closing date, an open one none")

    def overdue(self, as_of: dt.date) -> bool:
        assert self.due_on is not None
        return self.state != "closed" and as_of > self.due_on

    def move(self, target: str, party: str, on: dt.date, *, action: str = "") -> NonConformity:
        """The non-conformity after ``party`` moves it to ``target`` on ``on``.

        >>> nc = NonConformity("NC-1", "QA-1", "marking", "major", "NMAS 08.40 §5", dt.date(2026, 5, 4))
        >>> nc.due_on
        datetime.date(2026, 5, 18)
        >>> nc = nc.move("action_taken", "operator", dt.date(2026, 5, 6), action="perimeter re-marked")
        >>> nc.move("closed", "authority", dt.date(2026, 5, 8)).state
        'closed'
        """
        NC_STATES.check(self.state, target, party, reason=action)
        if on < self.found_on:
            raise InvalidValue(f"non-conformity {self.reference}: dated {on}, before it was found ({self.found_on})")
        if target == "action_taken":
            return replace(self, state=target, corrective_action=action)
        return replace(self, state=target, closed_on=on if target == "closed" else None)


def suspends_task(nonconformities: Iterable[NonConformity]) -> bool:
    """A task stays suspended while any of its critical non-conformities is not closed."""
    return any(nc.severity == "critical" and nc.state != "closed" for nc in nonconformities)


def qm_outcome(nonconformities: Iterable[NonConformity]) -> str:
    """``fail`` if the activity raised a major or critical non-conformity, else ``pass`` (vocabulary qm_result)."""
    return "fail" if any(nc.severity in {"major", "critical"} for nc in nonconformities) else "pass"


@dataclass(frozen=True)
class QcSamplingPlan:
    """A QC inspection plan for a lot of released land: units, sample, acceptance number.

    >>> plan = QcSamplingPlan.from_share(lot_m2=50_000, unit_m2=100, share=0.1)
    >>> plan.lot_units, plan.sample_size, plan.acceptance_number
    (500, 50, 0)
    """

    lot_m2: float
    unit_m2: float
    sample_size: int
    acceptance_number: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lot_m2) and math.isfinite(self.unit_m2) and 0 < self.unit_m2 <= self.lot_m2):
            raise InvalidValue("QC plan: the lot must be at least one inspection unit (m² > 0)")
        if not 1 <= self.sample_size <= self.lot_units:
            raise InvalidValue(f"QC plan: sample size must be within 1..{self.lot_units} units, not {self.sample_size}")

    @classmethod
    def from_share(cls, lot_m2: float, unit_m2: float, share: float, acceptance_number: int = 0) -> QcSamplingPlan:
        """Sample a share of the lot's units (e.g. the 8-10 % the Tajik centre re-checks)."""
        if not 0 < share <= 1:
            raise InvalidValue(f"QC plan: share must be within (0, 1], not {share}")
        units = math.ceil(lot_m2 / unit_m2 - 1e-9)
        return cls(lot_m2, unit_m2, max(1, math.ceil(share * units - 1e-9)), acceptance_number)

    @property
    def lot_units(self) -> int:
        return math.ceil(self.lot_m2 / self.unit_m2 - 1e-9)

    def p_accept(self, defect_rate: float) -> float:
        """Probability that a lot with this defect rate passes (hypergeometric OC curve)."""
        return float(acceptance_probability(defect_rate, self.sample_size, self.acceptance_number, self.lot_units))

    def ruled_out_rate(self, confidence: float = 0.95) -> float:
        """Smallest lot defect rate that passes with probability at most ``1 - confidence`` (LTPD).

        Over the lot's whole numbers of defective units, by bisection (the OC
        curve falls as defects rise).
        """
        if not 0 < confidence < 1:
            raise InvalidValue(f"confidence must be within (0, 1), not {confidence}")
        units = self.lot_units
        low, high = 0, units  # P_acc(low/units) > 1 - confidence >= P_acc(high/units)
        if self.p_accept(1.0) > 1 - confidence:
            return 1.0
        while high - low > 1:
            mid = (low + high) // 2
            if self.p_accept(mid / units) > 1 - confidence:
                low = mid
            else:
                high = mid
        return high / units


@dataclass(frozen=True)
class QcResult:
    """Outcome of a QC inspection of a lot, with the figures recorded on its released parts."""

    plan: QcSamplingPlan
    defects_found: int
    passed: bool
    tolerable_defect_rate: float
    confidence: float
    ruled_out_rate_95: float


def qc_result(plan: QcSamplingPlan, defects_found: int, tolerable_defect_rate: float = 0.01) -> QcResult:
    """Pass or fail, and the confidence to record on the released part.

    ``confidence`` = ``1 - P_acc(tolerable_defect_rate)``: how surely the
    plan would have rejected a lot as bad as the programme tolerates.

    >>> r = qc_result(QcSamplingPlan(lot_m2=100_000, unit_m2=100, sample_size=100), defects_found=0)
    >>> r.passed, round(r.confidence, 3), round(r.ruled_out_rate_95, 3)
    (True, 0.653, 0.029)
    """
    if not isinstance(defects_found, int) or not 0 <= defects_found <= plan.sample_size:
        raise InvalidValue(f"defects found must be a whole number within 0..{plan.sample_size}")
    if not 0 < tolerable_defect_rate < 1:
        raise InvalidValue(f"tolerable defect rate must be within (0, 1), not {tolerable_defect_rate}")
    return QcResult(
        plan=plan,
        defects_found=defects_found,
        passed=defects_found <= plan.acceptance_number,
        tolerable_defect_rate=tolerable_defect_rate,
        confidence=1.0 - plan.p_accept(tolerable_defect_rate),
        ruled_out_rate_95=plan.ruled_out_rate(0.95),
    )


def ts_release_fields(prior: GammaPrior, coverage: float, detection: float, found: int = 0) -> dict[str, float]:
    """The survey-confidence figures stored on a TS release (from the project's survey model).

    >>> round(ts_release_fields(GammaPrior(0.5, 1.0), coverage=0.4, detection=0.9)["survey_p_any_remaining"], 4)
    0.1754
    """
    result = survey_confidence(prior, coverage, detection, found)
    return {
        "survey_coverage": float(result.coverage),
        "survey_detection": float(result.detection),
        "survey_found": float(result.found),
        "survey_expected_remaining": float(result.expected_remaining),
        "survey_p_any_remaining": float(result.p_any_remaining),
    }
