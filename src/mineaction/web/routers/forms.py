"""Form descriptions for the browser's data entry, generated from the entity declarations.

The page builds its record forms from this, so a field added to
:mod:`mineaction.domain.entities` appears in the form without touching the
page: kind, required, vocabulary choices in English and Ukrainian, unit, and
longest text, for the fields the signed-in account may write.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mineaction.access import policy
from mineaction.access.roles import ALL, Role
from mineaction.domain.entities import ENTITIES, Entity, Field, Kind
from mineaction.errors import RecordNotFound
from mineaction.web.deps import Reader
from mineaction.web.schemas import input_names

__all__ = ["router", "unit_of"]

router = APIRouter(prefix="/api/v1", tags=["register"])

#: field-name endings that carry a unit, and the unit shown next to the input
_UNITS = (("_m2", "m²"), ("_cm", "cm"), ("_m", "m"), ("_lon", "°"), ("_lat", "°"))


def unit_of(f: Field) -> str | None:
    """The unit a numeric field is entered in, read from its name (``area_m2``: m²)."""
    if f.kind not in (Kind.INTEGER, Kind.REAL):
        return None
    return next((unit for suffix, unit in _UNITS if f.name.endswith(suffix)), None)


def _choices(reader: Reader, vocabulary: str) -> list[dict[str, str]]:
    english, ukrainian = reader.register.labels(vocabulary, "en"), reader.register.labels(vocabulary, "uk")
    return [{"code": code, "en": label, "uk": ukrainian.get(code) or label} for code, label in english.items()]


def _organisations(reader: Reader, spec: Entity) -> list[dict[str, str]] | None:
    """Organisations whose records of ``spec`` the account may write (None: the entity has no owner)."""
    if not policy.owned(spec):
        return None
    allowed = reader.principal.organisations(policy.EDIT_ROLE)
    page = reader.select("organisation", limit=None, count=False, sort=["name"])
    return [{"code": shown.record.id, "en": shown.record.values["name"], "uk": shown.record.values["name"]}
            for shown in page.items if allowed is ALL or shown.record.id in (allowed or ())]


@router.get("/entities/{name}/form", summary="The fields of an entity's entry form, for your role")
def form(name: str, reader: Reader) -> dict[str, Any]:
    """What a form for ``name`` shows: each writable field's kind, whether required, choices, unit and longest text.

    ``writable`` is false when the account may change no such record (a
    viewer), so the page shows no edit controls.
    """
    spec = ENTITIES.get(name)
    if spec is None:
        raise RecordNotFound(f"no entity {name!r}", hint=f"one of {', '.join(ENTITIES)}")
    organisations = _organisations(reader, spec)
    if organisations is None:
        writable = reader.principal.organisations(Role.ADMINISTRATOR) is ALL
    else:
        writable = bool(organisations)
    fields = []
    for field_name in input_names(spec):
        f = spec.field_map[field_name]
        entry: dict[str, Any] = {"name": f.name, "kind": f.kind.value, "required": f.required,
                                 "description": f.description, "unit": unit_of(f), "max_length": None}
        if f.kind in (Kind.TEXT, Kind.LINK, Kind.CODES):
            entry["max_length"] = f.longest
        if f.vocabulary:
            entry["choices"] = _choices(reader, f.vocabulary)
        elif f.name == policy.OWNER_FIELD and organisations is not None:
            entry["choices"] = organisations
        fields.append(entry)
    return {"entity": spec.name, "label": spec.label, "geometry": spec.geometry, "writable": writable,
            "fields": fields}
