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
                _ORG,
            ),
            principal_date="held_on",
            description="QA visit, QC inspection or non-conformity.",
        ),
    ]
}


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
