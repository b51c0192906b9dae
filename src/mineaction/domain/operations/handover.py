"""Handover of released land (IMAS 08.30): what a certificate must hold, checked before it is issued.

A handover certificate records that released land passes to a receiving
party (community, local authority, land user) on a date, for a land use,
benefiting people counted by sex and age (GICHD MDR), with a residual-risk
statement and a liability note: IMAS 08.30 wants the papers to fix who holds
the residual risk after handover and the duties of the parties.

Rules checked here:

* every released part was released by a land-release method (cancelled,
  reduced or cleared: the ledger's types). Elapsed time never releases land:
  a self-deactivated mine still holds its explosive, so "the mines are past
  their self-deactivation time" is no release;
* the task is verified (QC passed), its non-conformities are closed, the
  permanent markers are recorded and the community was told what was done;
* the handover date is not before any release, and no part is handed over twice;
* both sides sign: one signatory hands over, one receives;
* the residual-risk statement exists (English and Ukrainian), speaks of risk,
  and **never claims zero risk** ("no risk", "100 % safe", "mine-free",
  "нульовий ризик", "повністю безпечна" ...): residual risk is never zero.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mineaction.domain.ledger import ALLOWED_RELEASE
from mineaction.domain.operations.vocabularies import check_code
from mineaction.errors import ConflictError, InvalidValue

__all__ = [
    "DEFAULT_LIABILITY_NOTE",
    "DEFAULT_RESIDUAL_RISK_STATEMENT",
    "Beneficiaries",
    "HandoverCertificate",
    "ReleasedPartFacts",
    "Signatory",
    "check_handover",
    "zero_risk_claim",
]

RELEASE_TYPES = frozenset().union(*ALLOWED_RELEASE.values())

DEFAULT_RESIDUAL_RISK_STATEMENT: Mapping[str, str] = {
    "en": (
        "This land was released with all reasonable effort under the national standards. Residual risk "
        "is low but never zero: explosive ordnance may still be found, and a self-deactivated mine still "
        "holds its explosive. Do not touch any suspicious item; mark the place and report it at once."
    ),
    "uk": (
        "Цю землю звільнено з докладанням усіх розумних зусиль згідно з національними стандартами. "
        "Залишковий ризик низький, але ніколи не нульовий: вибухонебезпечні предмети ще можуть бути "
        "знайдені, а самонейтралізована міна містить вибухову речовину. Не торкайтеся підозрілих "
        "предметів; позначте місце та негайно повідомте."
    ),
}

DEFAULT_LIABILITY_NOTE: Mapping[str, str] = {
    "en": (
        "From the handover date the receiving party is responsible for the use of this land. An operator "
        "that followed the accredited release process is not liable for explosive ordnance found later; "
        "any such find is reported to the national mine action authority, which investigates it."
    ),
    "uk": (
        "З дати передачі відповідальність за використання цієї землі несе сторона, що її приймає. "
        "Оператор, який дотримався акредитованого процесу звільнення, не несе відповідальності за "
        "вибухонебезпечні предмети, знайдені пізніше; про кожну таку знахідку повідомляють національний "
        "орган з питань протимінної діяльності, який її розслідує."
    ),
}

_ZERO_RISK = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(no|zero|nil)\s+(residual\s+)?(risk|danger|hazard)\b",
        r"\brisk[- ]free\b",
        r"\brisk\s+(is|was|remains)\s+(now\s+)?(zero|nil|eliminated|removed)\b",
        r"\b(100\s*%|completely|totally|entirely|fully|absolutely|perfectly)\s+(safe|clear(ed)?|free)\b",
        r"\bfree\s+(of|from)\s+(all\s+|any\s+)?(mines?|explosive|eo\b|erw\b|uxo\b|contamination|danger|hazard)",
        r"\b(mine|eo|uxo|erw)[- ]free\b",
        r"\bno\s+(more\s+)?(mines?|explosive\s+ordnance|eo|uxo|erw)\s+(remains?|left|present)",
        r"\bguarantee[sd]?\b[^.]*\bsafe",
        r"нульов\w*\s+(залишков\w*\s+)?ризик",
        r"без\s+(жодного\s+|будь-якого\s+)?ризик",
        r"ризик\w*\s+(немає|відсутн|(є\s+)?нульов|усунут)",
        r"(повністю|абсолютно|цілком|100\s*%)\s+безпечн",
        r"(вільн|очищен)\w*\s+від\s+(усіх|всіх|будь-яких)\s+",
    )
]
_NEGATION = re.compile(r"\b(not|never|cannot|can't|isn't|no such)\b|(^|\s)(не|ні|ніколи)\s", re.IGNORECASE)


def zero_risk_claim(text: str) -> str | None:
    """The phrase in ``text`` that claims zero risk, or None.

    A negated phrase ("not zero risk", "не ... нульовий ризик") is no claim.

    >>> zero_risk_claim("The land is now 100% safe for farming.")
    '100% safe'
    >>> zero_risk_claim("Residual risk is low, but this is not zero risk.") is None
    True
    >>> zero_risk_claim("Земля повністю безпечна.")
    'повністю безпечн'
    """
    for pattern in _ZERO_RISK:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 30):match.start()]
            if not _NEGATION.search(before.rsplit(".", 1)[-1]):
                return match.group(0)
    return None


@dataclass(frozen=True)
class Beneficiaries:
    """People who benefit from the land, by sex and age band (MDR), with the counting rule used.

    ``counts`` maps (sex, age band) to a count: sex female/male/unknown, age
    band child (under 18)/adult/unknown. ``definition`` names the counting
    rule (e.g. "TNMA 05.10/01 direct beneficiaries"), since programmes count
    differently.

    >>> b = Beneficiaries({("female", "child"): 12, ("male", "child"): 10, ("female", "adult"): 30,
    ...                    ("male", "adult"): 28}, "TNMA 05.10/01 direct")
    >>> b.total, b.mdr()
    (80, {'girls': 12, 'boys': 10, 'women': 30, 'men': 28, 'other': 0})
    """

    counts: Mapping[tuple[str, str], int]
    definition: str = ""

    def __post_init__(self) -> None:
        for (sex, band), n in self.counts.items():
            check_code("beneficiary_sex", sex, where="beneficiaries")
            check_code("age_band", band, where="beneficiaries")
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise InvalidValue(f"beneficiaries {sex}/{band}: a whole number ≥ 0, not {n!r}")
        if self.total and not self.definition.strip():
            raise InvalidValue("beneficiaries: name the counting definition used (e.g. direct, TNMA 05.10/01)")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def mdr(self) -> dict[str, int]:
        """Girls, boys, women, men (MDR columns) and the rest (sex or age unknown)."""
        named = {"girls": ("female", "child"), "boys": ("male", "child"), "women": ("female", "adult"),
                 "men": ("male", "adult")}
        out = {label: self.counts.get(key, 0) for label, key in named.items()}
        out["other"] = self.total - sum(out.values())
        return out


@dataclass(frozen=True)
class Signatory:
    """A person who signs, for which side ("handing" or "receiving") and organisation."""

    side: str
    name: str
    organisation: str
    role: str = ""


@dataclass(frozen=True)
class ReleasedPartFacts:
    """What the register knows of a released part being handed over."""

    ref: str
    release_type: str
    released_on: dt.date
    handed_over: bool = False


@dataclass(frozen=True)
class HandoverCertificate:
    """One handover of one or more released parts of a task (IMAS 08.30 certificate)."""

    reference: str
    task_ref: str
    released_part_refs: tuple[str, ...]
    handed_over_on: dt.date
    receiving_party_type: str
    receiving_party_name: str
    land_use_after: tuple[str, ...]
    beneficiaries: Beneficiaries
    signatories: tuple[Signatory, ...]
    residual_risk_statement: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RESIDUAL_RISK_STATEMENT))
    liability_note: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LIABILITY_NOTE))
    markers_recorded: bool = False
    community_informed: bool = False


_RISK_WORD = {"en": re.compile(r"\brisk", re.IGNORECASE), "uk": re.compile(r"ризик", re.IGNORECASE)}


def check_handover(
    certificate: HandoverCertificate,
    parts: Sequence[ReleasedPartFacts],
    *,
    task_state: str,
    open_nonconformities: int = 0,
) -> None:
    """Refuse a certificate that IMAS 08.30 (and this programme) would not accept.

    Raises
    ------
    InvalidValue
        A field is missing or wrong: vocabulary, statement, signatures, dates.
    ConflictError
        The register is not ready: task not verified, open non-conformities,
        a part already handed over or not released by a land-release method.
    """
    c = certificate
    where = f"handover {c.reference}"
    check_code("receiving_party", c.receiving_party_type, where=where)
    if not c.receiving_party_name.strip():
        raise InvalidValue(f"{where}: name the receiving party")
    if not c.land_use_after:
        raise InvalidValue(f"{where}: record the land use after release")
    for use in c.land_use_after:
        check_code("land_use_after", use, where=where)
    sides = {s.side for s in c.signatories if s.name.strip()}
    if not {"handing", "receiving"} <= sides:
        raise InvalidValue(f"{where}: needs a signatory handing over and one receiving")
    for text, what in ((c.residual_risk_statement, "residual-risk statement"), (c.liability_note, "liability note")):
        for language in ("en", "uk"):
            if not text.get(language, "").strip():
                raise InvalidValue(f"{where}: the {what} is missing in {language}")
    for language, pattern in _RISK_WORD.items():
        statement = c.residual_risk_statement[language]
        if not pattern.search(statement):
            raise InvalidValue(f"{where}: the residual-risk statement ({language}) must state the residual risk")
        claim = zero_risk_claim(statement)
        if claim:
            raise InvalidValue(
                f"{where}: the residual-risk statement ({language}) claims zero risk ({claim!r}); "
                "residual risk is never zero"
            )
    by_ref = {p.ref: p for p in parts}
    missing = [r for r in c.released_part_refs if r not in by_ref]
    if not c.released_part_refs or missing:
        raise InvalidValue(f"{where}: released parts {missing or 'none'} not known")
    for ref in c.released_part_refs:
        part = by_ref[ref]
        if part.release_type not in RELEASE_TYPES:
            raise ConflictError(
                f"{where}: released part {ref} was {part.release_type!r}, not cancelled, reduced or cleared; "
                "elapsed time never releases land"
            )
        if part.handed_over:
            raise ConflictError(f"{where}: released part {ref} has already been handed over")
        if part.released_on > c.handed_over_on:
            raise InvalidValue(f"{where}: handed over on {c.handed_over_on}, before part {ref} was released "
                               f"({part.released_on})")
    if task_state != "verified":
        raise ConflictError(f"{where}: the task is {task_state}; land is handed over once the task is verified")
    if open_nonconformities:
        raise ConflictError(f"{where}: {open_nonconformities} non-conformities of the task are still open")
    if not (c.markers_recorded and c.community_informed):
        raise ConflictError(f"{where}: record the permanent markers and inform the community before handover")
