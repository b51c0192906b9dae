"""Victim assistance: needs follow their latest follow-up, referrals need consent, tables are suppressed."""

from __future__ import annotations

import datetime as dt

import pytest

from mineaction.domain.operations.victim_assistance import (
    PERSONAL_FIELDS,
    FollowUp,
    NeedAssessment,
    Referral,
    need_state,
    published_needs_table,
)
from mineaction.domain.operations.vocabularies import VOCABULARIES
from mineaction.errors import InvalidValue

DAY = dt.date(2026, 2, 1)
NEED = NeedAssessment("N-1", "VIC-1", "psychosocial", DAY, "org-1")


def referral(ref: str = "R-1", days: int = 2, consent: dt.date | None = DAY) -> Referral:
    return Referral(ref, "N-1", DAY + dt.timedelta(days=days), "psychosocial_service", "Kharkiv centre", "org-1",
                    consent_on=consent)


def test_state_follows_the_latest_follow_up() -> None:
    assert need_state(NEED, [], []) == "identified"
    r1, r2 = referral(), referral("R-2", days=30)
    assert need_state(NEED, [r1], []) == "referred"
    follow = [FollowUp("F-1", "R-1", DAY + dt.timedelta(days=20), "not_received"),
              FollowUp("F-2", "R-2", DAY + dt.timedelta(days=60), "partly_met"),
              FollowUp("F-3", "R-9", DAY + dt.timedelta(days=90), "met")]  # another need's referral
    assert need_state(NEED, [r1, r2], follow[:1]) == "unmet"
    assert need_state(NEED, [r1, r2], follow) == "partly_met"
    assert need_state(NEED, [r1], [FollowUp("F-4", "R-1", DAY + dt.timedelta(days=5), "deceased")]) == "lost"


def test_referral_needs_consent_given_before_it() -> None:
    with pytest.raises(InvalidValue, match="consent"):
        referral(consent=None)
    with pytest.raises(InvalidValue, match="consent"):
        referral(consent=DAY + dt.timedelta(days=10))


def test_dates_must_follow_each_other() -> None:
    with pytest.raises(InvalidValue, match="before the need was assessed"):
        need_state(NEED, [referral(days=-1, consent=DAY - dt.timedelta(days=1))], [])
    with pytest.raises(InvalidValue, match="before its referral"):
        need_state(NEED, [referral()], [FollowUp("F-1", "R-1", DAY, "met")])


def test_vocabularies_checked() -> None:
    with pytest.raises(InvalidValue, match="not a va_need code"):
        NeedAssessment("N-2", "VIC-1", "housing", DAY, "org-1")
    with pytest.raises(InvalidValue, match="not a va_outcome code"):
        FollowUp("F-1", "R-1", DAY, "fine")
    assert set(VOCABULARIES["va_need"]) == {"medical", "rehabilitation", "psychosocial", "socio_economic",
                                             "education"}


def test_published_table_hides_small_counts_and_what_would_reveal_them() -> None:
    rows = [("medical", "met")] * 9 + [("medical", "unmet")] * 2 + [("education", "met")] * 6 + \
        [("education", "unmet")] * 7
    table = published_needs_table(rows)
    assert table.loc["medical", "unmet"] == "<5"
    hidden = (table == "x").to_numpy().sum()
    assert hidden >= 1  # the row total would otherwise give the 2 away
    assert table.loc["Total", "Total"] == "24"


def test_every_need_and_follow_up_field_is_personal() -> None:
    assert "victim_id" in PERSONAL_FIELDS["va_need"] and "outcome" in PERSONAL_FIELDS["va_follow_up"]
    assert "consent_on" in PERSONAL_FIELDS["va_referral"]
