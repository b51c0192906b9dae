"""Handover certificates: what IMAS 08.30 wants on them, and no claim of zero risk."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from mineaction.domain.operations.handover import (
    DEFAULT_RESIDUAL_RISK_STATEMENT,
    Beneficiaries,
    HandoverCertificate,
    ReleasedPartFacts,
    Signatory,
    check_handover,
    zero_risk_claim,
)
from mineaction.errors import ConflictError, InvalidValue

PARTS = [ReleasedPartFacts("REL-1", "cleared", dt.date(2026, 5, 2)),
         ReleasedPartFacts("REL-2", "reduced", dt.date(2026, 5, 9))]
CERT = HandoverCertificate(
    reference="HO-1",
    task_ref="T-7",
    released_part_refs=("REL-1", "REL-2"),
    handed_over_on=dt.date(2026, 6, 1),
    receiving_party_type="community",
    receiving_party_name="Vilkhivka hromada",
    land_use_after=("agriculture", "grazing"),
    beneficiaries=Beneficiaries({("female", "child"): 40, ("male", "child"): 38, ("female", "adult"): 120,
                                 ("male", "adult"): 110, ("unknown", "unknown"): 5}, "TNMA 05.10/01 direct"),
    signatories=(Signatory("handing", "O. Kovalenko", "NMAC"), Signatory("receiving", "I. Shevchenko", "hromada")),
    markers_recorded=True,
    community_informed=True,
)


def test_a_complete_certificate_for_a_verified_task_passes() -> None:
    check_handover(CERT, PARTS, task_state="verified")
    assert CERT.beneficiaries.total == 313
    assert CERT.beneficiaries.mdr() == {"girls": 40, "boys": 38, "women": 120, "men": 110, "other": 5}


@pytest.mark.parametrize(
    "claim",
    [
        "There is no risk left on this land.",
        "The land is risk-free.",
        "The field is completely safe for farming.",
        "The area is now mine-free.",
        "The land is free of all explosive ordnance.",
        "No mines remain in the area.",
        "We guarantee the land is safe.",
        "The residual risk is now zero.",
        "Ризик нульовий.",
        "Це нульовий ризик для громади.",
        "Ділянка повністю безпечна.",
        "Земля без жодного ризику.",
    ],
)
def test_statements_claiming_zero_risk_are_refused(claim: str) -> None:
    assert zero_risk_claim(claim) is not None
    statement = {"en": claim + " Residual risk.", "uk": DEFAULT_RESIDUAL_RISK_STATEMENT["uk"]}
    if any("\u0400" <= ch <= "\u04ff" for ch in claim):
        statement = {"en": DEFAULT_RESIDUAL_RISK_STATEMENT["en"], "uk": claim + " Залишковий ризик."}
    with pytest.raises(InvalidValue, match="claims zero risk"):
        check_handover(replace(CERT, residual_risk_statement=statement), PARTS, task_state="verified")


@pytest.mark.parametrize(
    "honest",
    [
        DEFAULT_RESIDUAL_RISK_STATEMENT["en"],
        DEFAULT_RESIDUAL_RISK_STATEMENT["uk"],
        "Residual risk is low, but it is not zero risk.",
        "The risk is not zero: report any suspicious item.",
        "Залишковий ризик не є нульовий ризик, будьте обережні.",
    ],
)
def test_honest_statements_pass(honest: str) -> None:
    assert zero_risk_claim(honest) is None


def test_statement_must_speak_of_risk_in_both_languages() -> None:
    with pytest.raises(InvalidValue, match=r"\(uk\) must state the residual risk"):
        check_handover(replace(CERT, residual_risk_statement={"en": DEFAULT_RESIDUAL_RISK_STATEMENT["en"],
                                                              "uk": "Земля передана."}), PARTS, task_state="verified")
    with pytest.raises(InvalidValue, match="liability note is missing in uk"):
        check_handover(replace(CERT, liability_note={"en": "The land user is responsible."}), PARTS,
                       task_state="verified")


def test_elapsed_time_never_releases_land() -> None:
    parts = [PARTS[0], ReleasedPartFacts("REL-2", "self_deactivated", dt.date(2026, 5, 9))]
    with pytest.raises(ConflictError, match="elapsed time never releases land"):
        check_handover(CERT, parts, task_state="verified")


def test_register_must_be_ready() -> None:
    with pytest.raises(ConflictError, match="task is completed"):
        check_handover(CERT, PARTS, task_state="completed")
    with pytest.raises(ConflictError, match="2 non-conformities"):
        check_handover(CERT, PARTS, task_state="verified", open_nonconformities=2)
    with pytest.raises(ConflictError, match="inform the community"):
        check_handover(replace(CERT, community_informed=False), PARTS, task_state="verified")
    with pytest.raises(ConflictError, match="already been handed over"):
        check_handover(CERT, [PARTS[0], replace(PARTS[1], handed_over=True)], task_state="verified")


def test_fields_dates_and_signatures() -> None:
    with pytest.raises(InvalidValue, match="before part REL-2 was released"):
        check_handover(replace(CERT, handed_over_on=dt.date(2026, 5, 5)), PARTS, task_state="verified")
    with pytest.raises(InvalidValue, match="one receiving"):
        check_handover(replace(CERT, signatories=CERT.signatories[:1]), PARTS, task_state="verified")
    with pytest.raises(InvalidValue, match="not a receiving_party code"):
        check_handover(replace(CERT, receiving_party_type="donor"), PARTS, task_state="verified")
    with pytest.raises(InvalidValue, match="not known"):
        check_handover(replace(CERT, released_part_refs=("REL-9",)), PARTS, task_state="verified")
    with pytest.raises(InvalidValue, match="counting definition"):
        Beneficiaries({("female", "adult"): 3})
    with pytest.raises(InvalidValue, match="whole number"):
        Beneficiaries({("female", "adult"): -1}, "direct")
