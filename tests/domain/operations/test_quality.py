"""Quality management: non-conformity closure, and QC sampling confidence from the OC curve."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from mineaction.domain.operations.quality import (
    NonConformity,
    QcSamplingPlan,
    QmActivity,
    qc_result,
    qm_outcome,
    suspends_task,
    ts_release_fields,
)
from mineaction.domain.operations.states import PartyNotAllowed, TransitionNotAllowed
from mineaction.domain.residual_hazard import GammaPrior, survey_confidence
from mineaction.errors import InvalidValue

FOUND = dt.date(2026, 5, 4)


def nc(severity: str = "major", **kw: object) -> NonConformity:
    category = str(kw.pop("category", "safety"))
    return NonConformity("NC-1", "QA-1", category, severity, "NMAS 10.20 §4.2", FOUND, **kw)  # type: ignore[arg-type]


def test_due_dates_default_by_severity() -> None:
    assert [nc(s).due_on for s in ("critical", "major", "minor")] == [
        FOUND, FOUND + dt.timedelta(days=14), FOUND + dt.timedelta(days=30)]
    assert nc(due_on=dt.date(2026, 5, 10)).due_on == dt.date(2026, 5, 10)
    assert nc("critical").overdue(FOUND + dt.timedelta(days=1))
    assert not nc("minor").overdue(FOUND + dt.timedelta(days=30))


def test_closure_operator_acts_authority_verifies() -> None:
    item = nc().move("action_taken", "operator", FOUND + dt.timedelta(days=2), action="medic re-briefed")
    assert item.corrective_action == "medic re-briefed" and item.state == "action_taken"
    with pytest.raises(PartyNotAllowed, match="only the authority"):
        item.move("closed", "operator", FOUND + dt.timedelta(days=3))
    reopened = item.move("open", "authority", FOUND + dt.timedelta(days=3), action="second check failed")
    assert reopened.state == "open"
    closed = item.move("closed", "authority", FOUND + dt.timedelta(days=5))
    assert closed.closed_on == FOUND + dt.timedelta(days=5) and not closed.overdue(dt.date(2030, 1, 1))
    with pytest.raises(TransitionNotAllowed, match="none: it is final"):
        closed.move("open", "authority", FOUND + dt.timedelta(days=6), action="x")


def test_closure_needs_an_action_and_sane_dates() -> None:
    with pytest.raises(InvalidValue, match="needs a reason"):
        nc().move("action_taken", "operator", FOUND)
    with pytest.raises(InvalidValue, match="before it was found"):
        nc().move("action_taken", "operator", FOUND - dt.timedelta(days=1), action="fixed")
    with pytest.raises(InvalidValue, match="closing date"):
        nc(state="closed")
    with pytest.raises(InvalidValue, match="not a nc_severity code"):
        nc("grave")
    with pytest.raises(InvalidValue, match="name the requirement"):
        NonConformity("NC-2", "QA-1", "safety", "minor", " ", FOUND)


def test_critical_suspends_and_major_fails() -> None:
    assert suspends_task([nc("minor"), nc("critical")])
    done = nc("critical").move("action_taken", "operator", FOUND, action="x").move("closed", "authority", FOUND)
    assert not suspends_task([nc("minor"), done])
    assert qm_outcome([nc("minor")]) == "pass" and qm_outcome([nc("minor"), nc("major")]) == "fail"
    assert qm_outcome([]) == "pass"


def test_qm_activity_checks() -> None:
    assert QmActivity("QA-1", "qa_visit", FOUND, "NMAC", "org-1", "T-7").kind == "qa_visit"
    with pytest.raises(InvalidValue, match="qa_visit or qc_inspection"):
        QmActivity("QA-1", "audit", FOUND, "NMAC", "org-1")
    with pytest.raises(InvalidValue, match="inspect itself"):
        QmActivity("QA-1", "qc_inspection", FOUND, "org-1", "org-1")


def test_sampling_plan_from_a_share_of_the_lot() -> None:
    plan = QcSamplingPlan.from_share(lot_m2=50_000, unit_m2=100, share=0.08)
    assert (plan.lot_units, plan.sample_size) == (500, 40)
    assert QcSamplingPlan.from_share(lot_m2=50_050, unit_m2=100, share=0.1).lot_units == 501
    with pytest.raises(InvalidValue, match=r"sample size must be within 1\.\.10"):
        QcSamplingPlan(lot_m2=1_000, unit_m2=100, sample_size=11)


def test_confidence_is_one_minus_the_exact_oc_value() -> None:
    # 1,000 units, 100 inspected, accept on 0 defects; a lot at the tolerable 1 % holds 10 defective units:
    # P(no defective unit in the sample) = C(990, 100) / C(1000, 100)
    result = qc_result(QcSamplingPlan(lot_m2=100_000, unit_m2=100, sample_size=100), defects_found=0,
                       tolerable_defect_rate=0.01)
    p_pass = math.comb(990, 100) / math.comb(1000, 100)
    assert result.passed
    assert result.confidence == pytest.approx(1 - p_pass, abs=1e-12)
    assert not qc_result(result.plan, defects_found=1).passed


def test_ruled_out_rate_is_where_the_oc_curve_crosses_five_percent() -> None:
    plan = QcSamplingPlan(lot_m2=3_000_000, unit_m2=100, sample_size=300)  # 30,000 units
    rate = plan.ruled_out_rate(0.95)
    assert plan.p_accept(rate) <= 0.05 < plan.p_accept(rate - 1 / plan.lot_units)
    # large lot, c = 0: the binomial's 1 - 0.05^(1/n), about 3/n (the rule of three)
    assert rate == pytest.approx(1 - 0.05 ** (1 / 300), abs=2e-4)
    lenient = QcSamplingPlan(lot_m2=3_000_000, unit_m2=100, sample_size=300, acceptance_number=2)
    assert lenient.ruled_out_rate(0.95) > rate


def test_ts_release_fields_are_the_survey_model_figures() -> None:
    prior = GammaPrior(shape=1.0, rate=2.0)
    fields = ts_release_fields(prior, coverage=0.3, detection=0.85, found=1)
    expected = survey_confidence(prior, 0.3, 0.85, 1)
    assert fields["survey_p_any_remaining"] == pytest.approx(expected.p_any_remaining)
    assert fields["survey_expected_remaining"] == pytest.approx(expected.expected_remaining)
    assert 0 < fields["survey_p_any_remaining"] < 1
