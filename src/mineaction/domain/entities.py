"""The register's entities and their fields, declared once.

Each field says what it holds, which controlled vocabulary it draws from (the
terms live in the database), whether it is derived by the register rather than
typed in, and its **sensitivity class**. Storage builds its tables from these
declarations, import maps onto them, and every output path filters by the
sensitivity declared here, so a new field cannot be added without saying who
may see it.

Entity set and field names follow the GICHD Minimum Data Requirements and the
IMSMA information model (hazard, hazard reduction activity, accident, victim,
EORE activity, QM activity, gazetteer, organisation).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from mineaction.errors import InvalidValue

__all__ = [
    "DESCRIPTION_MAX_LENGTH",
    "ENTITIES",
    "REGISTER_WRITTEN",
    "TEXT_MAX_LENGTH",
    "Entity",
    "Field",
    "Kind",
    "Rows",
    "Sensitivity",
    "clean_columns",
    "clean_values",
    "entity",
    "row_count",
]


class Sensitivity(str, Enum):
    """Who may see a field (humanitarian data-responsibility classes)."""

    PUBLIC = "public"  # may be published
    RESTRICTED = "restricted"  # mine action community only: hazard locations in a war zone
    PERSONAL = "personal"  # identifies a person: explicit grant only, every read logged


class Kind(str, Enum):
    TEXT = "text"
    INTEGER = "integer"
    REAL = "real"
    DATE = "date"
    BOOLEAN = "boolean"
    CODES = "codes"  # several vocabulary codes, stored as a JSON list
    LINK = "link"  # the id of another record


#: a short text field: names, codes, references (a vocabulary code is far shorter)
TEXT_MAX_LENGTH = 500
#: free-text descriptions and notes
DESCRIPTION_MAX_LENGTH = 10_000
#: a record id (UUID hex) or reference given as a link
ID_MAX_LENGTH = 64


@dataclass(frozen=True)
class Field:
    name: str
    kind: Kind = Kind.TEXT
    vocabulary: str | None = None
    required: bool = False
    derived: bool = False  # computed by the register, never accepted from input
    sensitivity: Sensitivity = Sensitivity.RESTRICTED
    link: str | None = None  # entity a LINK points to
    description: str = ""
    max_length: int = 0  # characters a text (or each code of a list) may hold; 0: the kind's default

    @property
    def longest(self) -> int:
        """Most characters a value of this field may have: no text field is unbounded."""
        return self.max_length or (ID_MAX_LENGTH if self.kind is Kind.LINK else TEXT_MAX_LENGTH)


@dataclass(frozen=True)
class Entity:
    """A kind of register record: versioned, owned by an organisation, soft-deleted."""

    name: str
    prefix: str  # human-readable reference prefix, e.g. HAZ-000123
    label: str
    fields: tuple[Field, ...]
    geometry: str | None = None  # GeoPackage geometry type name, None for attribute tables
    geometry_sensitivity: Sensitivity = Sensitivity.RESTRICTED
    description: str = ""
    principal_date: str | None = None  # the date field a time filter (OGC ``datetime``) applies to
    field_map: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "field_map", {f.name: f for f in self.fields})

    def fields_at_most(self, level: Sensitivity) -> list[Field]:
        order = list(Sensitivity)
        return [f for f in self.fields if order.index(f.sensitivity) <= order.index(level)]


P, R, X = Sensitivity.PUBLIC, Sensitivity.RESTRICTED, Sensitivity.PERSONAL


def _f(name: str, kind: Kind = Kind.TEXT, **kw: Any) -> Field:
    return Field(name, kind, **kw)


def _code(name: str, vocabulary: str | None = None, **kw: Any) -> Field:
    return Field(name, Kind.TEXT, vocabulary=vocabulary or name, **kw)


def _link(name: str, target: str, **kw: Any) -> Field:
    return Field(name, Kind.LINK, link=target, **kw)


def _prose(name: str, **kw: Any) -> Field:
    """A free-text field: descriptions and notes, longer than a name."""
    return Field(name, Kind.TEXT, max_length=DESCRIPTION_MAX_LENGTH, **kw)


_ADMIN = _f("admin_pcode", derived=True, sensitivity=P, description="deepest admin area containing the record, derived spatially")
_ORG = _link("organisation_id", "organisation", sensitivity=P, description="organisation that owns the record")

ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        Entity(
            "organisation", "ORG", "Organisation",
            (
                _f("name", required=True, sensitivity=P),
                _f("acronym", sensitivity=P),
                _code("organisation_type", required=True, sensitivity=P),
                _f("country", sensitivity=P),
            ),
            description="National authority, operators, donors.",
        ),
        Entity(
            "admin_area", "ADM", "Administrative area",
            (
                _f("pcode", required=True, sensitivity=P),
                _f("name_en", required=True, sensitivity=P),
                _f("name_uk", sensitivity=P),
                _f("level", Kind.INTEGER, required=True, sensitivity=P),
                _f("parent_pcode", sensitivity=P),
            ),
            geometry="MULTIPOLYGON", geometry_sensitivity=P,
            description="National gazetteer, admin levels 1..n with P-codes.",
        ),
        Entity(
            "place", "PLC", "Place",
            (
                _f("name_en", required=True, sensitivity=P),
                _f("name_uk", sensitivity=P),
                _f("pcode", sensitivity=P),
                _f("population", Kind.INTEGER, sensitivity=P),
                _ADMIN,
            ),
            geometry="POINT", geometry_sensitivity=P,
            description="Settlements and named places.",
        ),
        Entity(
            "hazard", "HAZ", "Hazardous area",
            (
                _code("hazard_type", required=True, description="SHA or CHA"),
                _code("status", "hazard_status", required=True),
                _f("contamination", Kind.CODES, vocabulary="contamination", required=True),
                _code("evidence", required=True),
                _prose("evidence_description"),
                _f("blocked_land_use", Kind.CODES, vocabulary="land_use"),
                _f("reported_on", Kind.DATE, required=True),
                _f("confirmed_on", Kind.DATE),
                _f("closed_on", Kind.DATE),
                _f("reference_lon", Kind.REAL, description="benchmark/reference point longitude"),
                _f("reference_lat", Kind.REAL, description="benchmark/reference point latitude"),
                _f("area_m2", Kind.REAL, derived=True, sensitivity=P, description="geodesic area"),
                _prose("description"),
                _f("residual_profile", description="reliability profile code for residual-hazard modelling"),
                _f("emplaced_on", Kind.DATE, description="estimated date non-persistent mines were laid"),
                _f("estimated_items", Kind.REAL, description="expected number of items (mean)"),
                _f("count_dispersion", Kind.REAL, description="negative-binomial shape k; empty = Poisson"),
                _ADMIN,
                _ORG,
            ),
            geometry="POLYGON",
            principal_date="reported_on",
            description="Suspected (SHA) or confirmed (CHA) hazardous area.",
        ),
        Entity(
            "activity", "ACT", "Hazard reduction activity",
            (
                _link("hazard_id", "hazard", required=True),
                _code("activity_type", required=True, description="NTS, TS or clearance"),
                _code("status", "activity_status", required=True),
                _f("method", Kind.CODES, vocabulary="method"),
                _f("team"),
                _f("clearance_depth_cm", Kind.INTEGER),
                _f("started_on", Kind.DATE, required=True),
                _f("ended_on", Kind.DATE),
                _link("task_id", "task", description="task the activity works on"),
                _ORG,
            ),
            principal_date="started_on",
            description="Non-technical survey, technical survey or clearance of a hazard.",
        ),
        Entity(
            "released_part", "REL", "Released land",
            (
                _link("hazard_id", "hazard", required=True),
                _link("activity_id", "activity", required=True),
                _code("release_type", required=True, sensitivity=P, description="cancelled, reduced or cleared"),
                _code("method", required=True, sensitivity=P),
                _f("released_on", Kind.DATE, required=True, sensitivity=P),
                _f("area_m2", Kind.REAL, derived=True, sensitivity=P),
                _link("task_id", "task", description="task whose work released it"),
                _link("qc_activity_id", "qm_activity", description="QC inspection that sampled it"),
                _f("qc_passed", Kind.BOOLEAN, derived=True),
                _f("qc_confidence", Kind.REAL, derived=True, sensitivity=P,
                   description="1 - P(accept) at the tolerable defect rate (hypergeometric OC curve)"),
                _f("qc_ruled_out_rate_95", Kind.REAL, derived=True, sensitivity=P,
                   description="defect rate the QC sample rules out at 95 % (LTPD)"),
                _f("qc_tolerable_defect_rate", Kind.REAL),
                _f("survey_coverage", Kind.REAL, description="TS: share of the area searched"),
                _f("survey_detection", Kind.REAL, description="TS: probability of detecting an item searched over"),
                _f("survey_found", Kind.INTEGER, description="TS: items found"),
                _f("survey_expected_remaining", Kind.REAL, derived=True),
                _f("survey_p_any_remaining", Kind.REAL, derived=True, sensitivity=P),
                _link("handover_id", "handover", derived=True, sensitivity=P, description="handover it was part of"),
                _ADMIN,
                _ORG,
            ),
            geometry="MULTIPOLYGON",
            principal_date="released_on",
            description="Land released by an activity; parts of one hazard never overlap.",
        ),
        Entity(
            "eo_find", "EOF", "Explosive ordnance find",
            (
                _link("hazard_id", "hazard"),
                _link("activity_id", "activity"),
                _code("category", "eo_category", required=True),
                _f("model"),
                _code("condition", "eo_condition", required=True),
                _f("quantity", Kind.INTEGER, required=True),
                _f("depth_cm", Kind.INTEGER),
                _f("found_on", Kind.DATE, required=True),
                _ADMIN,
                _ORG,
            ),
            geometry="POINT",
            principal_date="found_on",
            description="An item found and destroyed, with its condition.",
        ),
        Entity(
            "accident", "ACC", "Accident",
            (
                _f("occurred_on", Kind.DATE, required=True),
                _code("accident_type", required=True),
                _code("device_category", "eo_category"),
                _link("hazard_id", "hazard"),
                _prose("description"),
                _ADMIN,
                _ORG,
            ),
            geometry="POINT",
            principal_date="occurred_on",
            description="An unplanned explosion involving explosive ordnance.",
        ),
        Entity(
            "victim", "VIC", "Victim",
            (
                _link("accident_id", "accident", required=True),
                _f("name", sensitivity=X),
                _f("age", Kind.INTEGER, sensitivity=X),
                _code("sex", required=True, sensitivity=X),
                _code("victim_group", required=True, description="civilian or deminer"),
                _code("outcome", required=True, description="killed or injured"),
                _code("activity_at_time", "victim_activity"),
                _prose("notes", sensitivity=X),
                _ORG,
            ),
            description="Personal data: separate table, explicit grant to read, every read logged.",
        ),
        Entity(
            "eore_session", "EDU", "EORE session",
            (
                _f("held_on", Kind.DATE, required=True, sensitivity=P),
                _code("eore_method", required=True, sensitivity=P),
                _f("girls", Kind.INTEGER, sensitivity=P, description="female, under 18"),
                _f("boys", Kind.INTEGER, sensitivity=P, description="male, under 18"),
                _f("women", Kind.INTEGER, sensitivity=P, description="female, 18 and over"),
                _f("men", Kind.INTEGER, sensitivity=P, description="male, 18 and over"),
                _ADMIN,
                _ORG,
            ),
            geometry="POINT", geometry_sensitivity=P,
            principal_date="held_on",
            description="Explosive ordnance risk education session, audience by sex and age.",
        ),
        Entity(
            "qm_activity", "QM", "Quality management activity",
            (
                _code("qm_type", required=True),
                _link("activity_id", "activity"),
                _link("hazard_id", "hazard"),
                _f("held_on", Kind.DATE, required=True),
                _code("result", "qm_result", required=True),
                _prose("description"),
                _link("task_id", "task"),
                _link("inspecting_org_id", "organisation", sensitivity=P),
                _link("inspected_org_id", "organisation", sensitivity=P),
                _code("activity_inspected", "task_activity"),
                _f("planned_start", Kind.DATE),
                _f("planned_end", Kind.DATE),
                _f("mac_representative", sensitivity=X),
                _f("lot_m2", Kind.REAL, description="QC: area of the lot sampled"),
                _f("unit_m2", Kind.REAL, description="QC: area of one sampling unit"),
                _f("sample_size", Kind.INTEGER, description="QC: units sampled"),
                _f("acceptance_number", Kind.INTEGER, description="QC: most defects the lot passes with"),
                _f("defects_found", Kind.INTEGER),
                _f("tolerable_defect_rate", Kind.REAL),
                _f("qc_confidence", Kind.REAL, derived=True),
                _f("inspected_m2", Kind.REAL, derived=True, description="sample size x unit"),
                _f("cost", Kind.REAL),
                _f("finds", Kind.INTEGER, description="items found by the QC"),
                _ORG,
            ),
            principal_date="held_on",
            description="QA visit, QC inspection or non-conformity.",
        ),
        Entity(
            "task", "TSK", "Task",
            (
                _f("reference", required=True, sensitivity=P, description="the task order's own number"),
                _code("activity", "task_activity", required=True, sensitivity=P),
                _code("state", "task_state", derived=True, sensitivity=P,
                      description="changed only by a checked transition; each change is a new version"),
                _code("state_party", "party", derived=True, description="party that made the last change of state"),
                _f("planned_start", Kind.DATE, required=True, sensitivity=P),
                _f("deadline", Kind.DATE, required=True, sensitivity=P),
                _f("started_on", Kind.DATE, derived=True, description="first change to in progress"),
                _code("suspended_by", "party", derived=True),
                _f("teams", Kind.REAL, required=True),
                _f("hazard_ids", Kind.CODES, description="ids of the hazards the task covers"),
                _f("planned_area_m2", Kind.REAL, description="m² to work; 0 for EOD spot, EORE, QA/QC, marking"),
                _f("expected_m2_per_team_day", Kind.REAL),
                _f("priority_rank", Kind.INTEGER),
                _f("priority_score", Kind.REAL),
                _prose("priority_explanation", description="why the priority ranks there; required with a rank"),
                _f("priority_source", description="prioritise run or criteria version"),
                _prose("access_notes"),
                _f("contact_name", sensitivity=X),
                _f("contact_phone", sensitivity=X),
                _ADMIN,
                _link("organisation_id", "organisation", required=True, sensitivity=P,
                      description="operator organisation the task is issued to, which owns it"),
            ),
            geometry="MULTIPOLYGON",
            principal_date="planned_start",
            description="Task order: an activity over hazards or an area, issued to an operator.",
        ),
        Entity(
            "progress_report", "PRG", "Progress report",
            (
                _link("task_id", "task", required=True),
                _f("reported_on", Kind.DATE, required=True),
                _f("period_days", Kind.INTEGER, description="1 daily, 7 weekly"),
                _code("method", required=True),
                _f("searched_m2", Kind.REAL),
                _f("cleared_m2", Kind.REAL),
                _f("reduced_m2", Kind.REAL),
                _f("cancelled_m2", Kind.REAL),
                _f("items_found", Kind.INTEGER),
                _f("team_days", Kind.REAL),
                _f("stoppage_days", Kind.REAL),
                _code("stoppage_reason", description="required when stoppage_days > 0"),
                _prose("notes"),
                _ORG,
            ),
            principal_date="reported_on",
            description="Daily or weekly progress against a task.",
        ),
        Entity(
            "handover", "HND", "Handover",
            (
                _f("reference", required=True, sensitivity=P),
                _link("task_id", "task", required=True, sensitivity=P),
                _f("handed_over_on", Kind.DATE, required=True, sensitivity=P),
                _code("receiving_party_type", "receiving_party", required=True, sensitivity=P),
                _f("receiving_party_name", required=True),
                _f("land_use_after", Kind.CODES, vocabulary="land_use_after", required=True, sensitivity=P),
                _f("girls", Kind.INTEGER, sensitivity=P, description="female beneficiaries under 18"),
                _f("boys", Kind.INTEGER, sensitivity=P, description="male beneficiaries under 18"),
                _f("women", Kind.INTEGER, sensitivity=P, description="female beneficiaries 18 and over"),
                _f("men", Kind.INTEGER, sensitivity=P, description="male beneficiaries 18 and over"),
                _f("beneficiaries_other", Kind.INTEGER, sensitivity=P, description="sex or age unknown"),
                _f("beneficiary_definition", sensitivity=P),
                _prose("residual_risk_en", required=True, sensitivity=P),
                _prose("residual_risk_uk", required=True, sensitivity=P),
                _prose("liability_note_en", required=True, sensitivity=P),
                _prose("liability_note_uk", required=True, sensitivity=P),
                _f("markers_recorded", Kind.BOOLEAN, required=True),
                _f("community_informed", Kind.BOOLEAN, required=True),
                _ADMIN,
                _ORG,
            ),
            geometry="MULTIPOLYGON",
            principal_date="handed_over_on",
            description="Released land handed over to its users (IMAS 08.30).",
        ),
        Entity(
            "handover_signatory", "HNS", "Handover signatory",
            (
                _link("handover_id", "handover", required=True),
                _f("side", required=True, description="handing or receiving"),
                _f("name", required=True, sensitivity=X),
                _f("organisation", required=True),
                _f("role"),
                _ORG,
            ),
            description="Who signed a handover certificate, on either side.",
        ),
        Entity(
            "non_conformity", "NC", "Non-conformity",
            (
                _link("qm_activity_id", "qm_activity", required=True),
                _link("task_id", "task", derived=True),
                _code("category", "nc_category", required=True),
                _code("severity", "nc_severity", required=True, sensitivity=P),
                _f("requirement", required=True, description="the standard or SOP clause not met"),
                _prose("evidence"),
                _f("found_on", Kind.DATE, required=True),
                _f("due_on", Kind.DATE),
                _code("state", "nc_state", derived=True),
                _prose("corrective_action"),
                _prose("preventive_action"),
                _f("action_taken_on", Kind.DATE),
                _f("closed_on", Kind.DATE),
                _f("task_suspended", Kind.BOOLEAN, derived=True),
                _ORG,
            ),
            principal_date="found_on",
            description="A finding of a QA visit or QC inspection, with its corrective action and closure.",
        ),
        Entity(
            "residual_event", "RCE", "Residual contamination event",
            (
                _link("eo_find_id", "eo_find", required=True),
                _link("released_part_id", "released_part"),
                _link("handover_id", "handover"),
                _link("task_id", "task", derived=True),
                _f("distance_m", Kind.REAL, derived=True, description="0: inside; else within the tolerance"),
                _f("inside", Kind.BOOLEAN, derived=True, sensitivity=P),
                _f("tolerance_m", Kind.REAL),
                _f("flagged_on", Kind.DATE, required=True, sensitivity=P),
                _code("state", "residual_review_state", derived=True, sensitivity=P),
                _code("cause", "residual_cause", sensitivity=P),
                _link("new_hazard_id", "hazard"),
                _prose("notes"),
                _ADMIN,
                _ORG,
            ),
            principal_date="flagged_on",
            description="A find in land already released or handed over, and its review.",
        ),
        Entity(
            "va_need", "VAN", "Victim assistance need",
            (
                _link("victim_id", "victim", required=True, sensitivity=X),
                _code("need", "va_need", required=True, sensitivity=X),
                _f("assessed_on", Kind.DATE, required=True, sensitivity=X),
                _link("assessed_by_org", "organisation"),
                _prose("detail", sensitivity=X),
                _code("state", "va_need_state", derived=True, sensitivity=X),
                _ORG,
            ),
            principal_date="assessed_on",
            description="A victim's assessed need (IMAS 13.10); personal data.",
        ),
        Entity(
            "va_referral", "VAR", "Victim assistance referral",
            (
                _link("need_id", "va_need", required=True, sensitivity=X),
                _f("referred_on", Kind.DATE, required=True, sensitivity=X),
                _code("service", "va_service", required=True, sensitivity=X),
                _f("provider", sensitivity=X),
                _link("referred_by_org", "organisation"),
                _f("consent_on", Kind.DATE, required=True, sensitivity=X,
                   description="the person's consent, given before the referral shares their data"),
                _prose("notes", sensitivity=X),
                _ORG,
            ),
            principal_date="referred_on",
            description="A referral of a victim's need to a service; personal data.",
        ),
        Entity(
            "va_follow_up", "VAF", "Victim assistance follow-up",
            (
                _link("referral_id", "va_referral", required=True, sensitivity=X),
                _f("followed_up_on", Kind.DATE, required=True, sensitivity=X),
                _code("outcome", "va_outcome", required=True, sensitivity=X),
                _prose("notes", sensitivity=X),
                _ORG,
            ),
            principal_date="followed_up_on",
            description="A follow-up of a referral and its outcome; personal data.",
        ),
    ]
}


#: entities whose records the register writes itself (a find in released land raises a residual event):
#: exported like any other, never imported
REGISTER_WRITTEN = frozenset({"residual_event"})


def entity(name: str) -> Entity:
    try:
        return ENTITIES[name]
    except KeyError:
        raise InvalidValue(
            f"unknown entity {name!r}", hint=f"use one of {', '.join(sorted(ENTITIES))}"
        ) from None


#: whole numbers are stored as 32-bit integers (PostgreSQL INTEGER): counts, depths, ages
_INT_RANGE = (-(2**31), 2**31 - 1)


def _to_int(value: Any) -> int:
    number = float(value)
    if not number.is_integer():
        raise ValueError("not a whole number")
    if not _INT_RANGE[0] <= number <= _INT_RANGE[1]:
        raise ValueError(f"outside {_INT_RANGE[0]:,}..{_INT_RANGE[1]:,}")
    return int(number)


def _to_real(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _to_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _to_codes(value: Any) -> list[str]:
    items = json.loads(value) if isinstance(value, str) and value.startswith("[") else value
    if isinstance(items, str):
        items = [part.strip() for part in items.replace(",", ";").split(";")]
    return sorted({str(item) for item in items if str(item)})


_CONVERT: dict[Kind, Callable[[Any], Any]] = {
    Kind.TEXT: str,
    Kind.LINK: str,
    Kind.INTEGER: _to_int,
    Kind.REAL: _to_real,
    Kind.BOOLEAN: bool,
    Kind.DATE: _to_date,
    Kind.CODES: _to_codes,
}


def _coerce(f: Field, value: Any, where: str) -> Any:
    if value is None or value == "":
        return None
    try:
        return _CONVERT[f.kind](value)
    except (TypeError, ValueError, OverflowError) as exc:
        shown = repr(value) if len(repr(value)) <= 100 else f"{repr(value)[:100]}..."
        raise InvalidValue(f"{where}.{f.name}: {shown} is not a valid {f.kind.value} ({exc})") from None


def _coerce_column(f: Field, raw: Sequence[Any], where: Sequence[str]) -> list[Any]:
    """One field of many rows; on a bad value, the slow pass names its row."""
    convert = _CONVERT[f.kind]
    if f.kind in (Kind.DATE, Kind.CODES, Kind.INTEGER):  # counts, dates and code lists repeat
        convert = _once_per_value(convert, copy=f.kind is Kind.CODES)
    try:
        values = [None if v is None or v == "" else convert(v) for v in raw]
    except (TypeError, ValueError, OverflowError):
        values = [_coerce(f, v, label) for v, label in zip(raw, where)]
    if f.kind in (Kind.TEXT, Kind.LINK, Kind.CODES):
        _check_text(f, values, where)
    return values


def _check_text(f: Field, values: list[Any], where: Sequence[str]) -> None:
    """Refuse text longer than the field allows, or not storable as UTF-8 (a lone surrogate).

    The common case, short ASCII text, is decided by C loops over the column.
    """
    if f.kind is Kind.CODES:
        texts = [code for codes in values if codes for code in codes]
    else:
        texts = [v for v in values if v is not None]
    if not texts or (max(map(len, texts)) <= f.longest and all(map(str.isascii, texts))):
        return
    for value, label in zip(values, where):
        for text in (value or ()) if f.kind is Kind.CODES else (value,):
            if text is None:
                continue
            if len(text) > f.longest:
                raise InvalidValue(f"{label}.{f.name}: {len(text):,} characters, at most {f.longest:,}",
                                   hint=f"shorten {f.name}")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise InvalidValue(f"{label}.{f.name}: not valid Unicode text (a lone surrogate)") from None


def _once_per_value(convert: Any, *, copy: bool) -> Any:
    """``convert``, parsing each distinct input once: a batch repeats its dates and code lists."""
    done: dict[Any, Any] = {}

    def converted(value: Any) -> Any:
        if isinstance(value, list):  # unhashable; already a list of codes
            return convert(value)
        if value not in done:
            done[value] = convert(value)
        return list(done[value]) if copy else done[value]

    return converted


def _check_vocabulary(f: Field, values: list[Any], allowed: set[str], where: Sequence[str]) -> None:
    if f.kind is Kind.CODES:
        used = {code for codes in values if codes for code in codes}
    else:
        used = set(values)
        used.discard(None)
    if used <= allowed:
        return
    for value, label in zip(values, where):
        codes = value if f.kind is Kind.CODES else [value]
        bad = [c for c in codes or () if c not in allowed]
        if bad:
            raise InvalidValue(
                f"{label}.{f.name}: {', '.join(map(repr, bad))} not in vocabulary '{f.vocabulary}'",
                hint=f"use one of {', '.join(sorted(allowed))}",
            )


#: many records' values: one mapping per row, or one sequence per field (columns of equal length)
Rows = Sequence[Mapping[str, Any]] | Mapping[str, Sequence[Any]]


def row_count(rows: Rows) -> int:
    """How many records ``rows`` holds, in either of its forms."""
    if isinstance(rows, Mapping):
        return len(next(iter(rows.values()))) if rows else 0
    return len(rows)


def clean_columns(
    spec: Entity,
    rows: Rows,
    vocabularies: dict[str, set[str]],
    *,
    where: Sequence[str],
    partial: bool = False,
) -> dict[str, list[Any]]:
    """Coerce and check many rows' values field by field; a column per given field.

    ``rows`` is a mapping per row, or a sequence per field: data read from
    a file by columns (Arrow, pyogrio) need not be turned into rows first.
    Unknown fields, derived fields, missing required fields and codes outside
    their vocabulary are refused with the row (its label in ``where``) and
    the field named. ``partial`` accepts a subset of fields (an update).
    Working a field at a time over all rows is what makes bulk loads fast.
    """
    raw = _given_columns(spec, rows, where)
    columns: dict[str, list[Any]] = {}
    for f in spec.fields:
        if f.name not in raw:
            continue
        values = _coerce_column(f, raw[f.name], where)
        if f.vocabulary:
            _check_vocabulary(f, values, vocabularies.get(f.vocabulary, set()), where)
        columns[f.name] = values
    if not partial:
        _check_required(spec, columns, len(where), where)
    return columns


def _given_columns(spec: Entity, rows: Rows, where: Sequence[str]) -> dict[str, Sequence[Any]]:
    """The values of each field given, as a column; unknown and derived fields are refused."""
    if isinstance(rows, Mapping):
        given, labels = list(rows), dict.fromkeys(rows, where[0] if where else spec.name)
        for name, values in rows.items():
            if len(values) != len(where):
                raise InvalidValue(f"{spec.name}.{name}: {len(values)} values for {len(where)} records")
    else:
        labels = {}
        for row, label in zip(rows, where):
            for name in row:
                labels.setdefault(name, label)
        given = list(labels)
    unknown = sorted(name for name in given if name not in spec.field_map)
    if unknown:
        raise InvalidValue(f"{labels[unknown[0]]}: unknown field(s) {', '.join(unknown)}",
                           hint=f"{spec.name} fields are {', '.join(spec.field_map)}")
    for name in given:
        if spec.field_map[name].derived:
            raise InvalidValue(f"{labels[name]}.{name} is derived by the register and cannot be set")
    if isinstance(rows, Mapping):
        return dict(rows)
    return {name: [row.get(name) for row in rows] for name in given}


def _check_required(spec: Entity, columns: dict[str, list[Any]], n: int, where: Sequence[str]) -> None:
    required = [f.name for f in spec.fields if f.required]
    first = n
    for name in required:
        values = columns.get(name)
        if values is None:
            first = 0
            break
        first = min(first, next((i for i, v in enumerate(values[:first]) if v is None or v == []), first))
    if first < n:
        missing = [name for name in required if name not in columns or columns[name][first] in (None, [])]
        raise InvalidValue(f"{where[first]}: missing required field(s) {', '.join(missing)}")


def clean_values(
    spec: Entity,
    values: dict[str, Any],
    vocabularies: dict[str, set[str]],
    *,
    partial: bool = False,
    where: str | None = None,
) -> dict[str, Any]:
    """:func:`clean_columns` for one row: the given fields, coerced and checked."""
    columns = clean_columns(spec, [values], vocabularies, where=[where or spec.name], partial=partial)
    return {name: column[0] for name, column in columns.items()}
