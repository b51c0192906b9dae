"""Victim assistance (IMAS 13.10): needs, referrals, follow-ups, and what may be published.

Mine action mostly identifies needs and **refers** people to the services of
other sectors (health, rehabilitation, social protection, education); so per
victim it records needs assessed (medical, rehabilitation, psychosocial,
socio-economic, education), referrals to services and follow-ups with their
outcome. A need's state follows from its latest follow-up.

**Personal data.** Every record here hangs off a victim and describes their
health and circumstances: all of it is personal data (sensitivity
``personal``: explicit grant to read, every read logged, as for victims),
except the codes and dates that aggregate tables count, which are still
never published row by row. A referral passes personal data to another
organisation, so it needs the person's recorded consent. Published figures
are counts only, through :mod:`mineaction.domain.disclosure` small-count
suppression (:func:`published_needs_table`).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mineaction.domain.disclosure import suppress_small_counts
from mineaction.domain.operations.vocabularies import VOCABULARIES, check_code
from mineaction.errors import InvalidValue

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "PERSONAL_FIELDS",
    "FollowUp",
    "NeedAssessment",
    "Referral",
    "need_state",
    "published_needs_table",
]

PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = {
    "va_need": ("victim_id", "need", "assessed_on", "detail", "state"),
    "va_referral": ("need_id", "referred_on", "service", "provider", "consent_on", "notes"),
    "va_follow_up": ("referral_id", "followed_up_on", "outcome", "notes"),
}
"""Fields that are personal data, per record; the organisation fields (who assessed, referred) are restricted."""

_OUTCOME_STATE = {
    "met": "met",
    "partly_met": "partly_met",
    "ongoing": "referred",
    "not_received": "unmet",
    "declined": "declined",
    "lost": "lost",
    "deceased": "lost",
}


@dataclass(frozen=True)
class NeedAssessment:
    """One need of one victim, assessed on a date by an organisation."""

    reference: str
    victim_ref: str
    need: str
    assessed_on: dt.date
    assessed_by_org: str
    detail: str = ""

    def __post_init__(self) -> None:
        check_code("va_need", self.need, where=f"need {self.reference}")


@dataclass(frozen=True)
class Referral:
    """A referral of a need to a service, with the person's consent to share their data."""

    reference: str
    need_ref: str
    referred_on: dt.date
    service: str
    provider: str
    referred_by_org: str
    consent_on: dt.date | None

    def __post_init__(self) -> None:
        where = f"referral {self.reference}"
        check_code("va_service", self.service, where=where)
        if self.consent_on is None or self.consent_on > self.referred_on:
            raise InvalidValue(f"{where}: record the person's consent to share their data, given before referral")


@dataclass(frozen=True)
class FollowUp:
    """A follow-up of a referral and its outcome."""

    reference: str
    referral_ref: str
    followed_up_on: dt.date
    outcome: str

    def __post_init__(self) -> None:
        check_code("va_outcome", self.outcome, where=f"follow-up {self.reference}")


def need_state(need: NeedAssessment, referrals: Sequence[Referral], follow_ups: Sequence[FollowUp]) -> str:
    """The need's state (vocabulary ``va_need_state``): its latest follow-up decides.

    Checks the chain's dates: referred on or after assessment, followed up on
    or after referral.

    >>> need = NeedAssessment("N-1", "VIC-1", "rehabilitation", dt.date(2026, 2, 1), "org-1")
    >>> ref = Referral("R-1", "N-1", dt.date(2026, 2, 3), "rehabilitation_centre", "Lviv centre", "org-1",
    ...                consent_on=dt.date(2026, 2, 3))
    >>> need_state(need, [ref], [])
    'referred'
    >>> need_state(need, [ref], [FollowUp("F-1", "R-1", dt.date(2026, 5, 3), "met")])
    'met'
    """
    mine = [r for r in referrals if r.need_ref == need.reference]
    by_ref = {r.reference: r for r in mine}
    for r in mine:
        if r.referred_on < need.assessed_on:
            raise InvalidValue(f"referral {r.reference}: dated before the need was assessed")
    latest: FollowUp | None = None
    for f in follow_ups:
        referral = by_ref.get(f.referral_ref)
        if referral is None:
            continue
        if f.followed_up_on < referral.referred_on:
            raise InvalidValue(f"follow-up {f.reference}: dated before its referral")
        if latest is None or f.followed_up_on >= latest.followed_up_on:
            latest = f
    if latest is not None:
        return _OUTCOME_STATE[latest.outcome]
    return "referred" if mine else "identified"


def published_needs_table(rows: Iterable[tuple[str, str]], threshold: int = 5) -> pd.DataFrame:
    """Needs by kind (rows) and state (columns), small counts suppressed: the only public view.

    ``rows`` are (need, state) pairs, one per need.

    >>> table = published_needs_table([("medical", "met")] * 7 + [("medical", "referred")] * 2
    ...                               + [("rehabilitation", "met")] * 6 + [("rehabilitation", "referred")] * 8)
    >>> table.loc["medical", "referred"], table.loc["rehabilitation", "Total"]
    ('<5', '14')
    """
    import pandas as pd

    needs, states = list(VOCABULARIES["va_need"]), list(VOCABULARIES["va_need_state"])
    tally: Counter[tuple[str, str]] = Counter()
    for need, state in rows:
        check_code("va_need", need, where="needs table")
        tally[need, check_code("va_need_state", state, where="needs table")] += 1
    counts = pd.DataFrame([[tally[n, s] for s in states] for n in needs],
                          index=pd.Index(needs, name="need"), columns=pd.Index(states, name="state"))
    used = counts.loc[counts.sum(axis=1) > 0, counts.sum(axis=0) > 0]
    return suppress_small_counts(used, threshold)
