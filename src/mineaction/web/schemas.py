"""Request and response schemas per entity, built from the entity declarations.

Each entity gets a public (read) model, a create model and an update model,
so the OpenAPI document lists every field with its type, vocabulary and
sensitivity, and stays right when a field is added to ``domain/entities.py``.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import shapely
import shapely.geometry
from pydantic import BaseModel, ConfigDict, Field, create_model
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from mineaction.access.editor import RELEASE_INPUT
from mineaction.access.reader import Shown
from mineaction.domain.entities import ENTITIES, Entity, Kind
from mineaction.errors import InvalidGeometry, InvalidValue

__all__ = [
    "GeoJSONGeometry",
    "Problem",
    "check_crs_member",
    "create_schema",
    "geometry_from_geojson",
    "input_names",
    "page_schema",
    "public_schema",
    "record_json",
    "timestamp",
    "update_schema",
]

_TYPES: dict[Kind, Any] = {
    Kind.TEXT: str,
    Kind.LINK: str,
    Kind.INTEGER: int,
    Kind.REAL: float,
    Kind.DATE: dt.date,
    Kind.BOOLEAN: bool,
    Kind.CODES: list[str],
}


class GeoJSONGeometry(BaseModel):
    """A GeoJSON geometry; its coordinates are in ``crs`` of the request."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["Polygon"])
    coordinates: Any = Field(examples=[[[[30.0, 50.0], [30.01, 50.0], [30.01, 50.01], [30.0, 50.0]]]])


class Problem(BaseModel):
    """RFC 9457 problem details, with a hint saying what to fix."""

    type: str
    title: str
    status: int
    detail: str
    hint: str | None = None
    instance: str | None = None


def _description(spec: Entity, name: str) -> str:
    f = spec.field_map[name]
    parts = [f.description or name.replace("_", " ")]
    if f.vocabulary:
        parts.append(f"vocabulary: {f.vocabulary}")
    parts.append(f"sensitivity: {f.sensitivity.value}")
    if f.derived:
        parts.append("derived by the register")
    return "; ".join(parts)


def _title(spec: Entity) -> str:
    return "".join(part.capitalize() for part in spec.name.split("_"))


@cache
def public_schema(name: str) -> type[BaseModel]:
    spec = ENTITIES[name]
    fields: dict[str, Any] = {
        "id": (str, ...),
        "ref": (str, ...),
        "version": (int, ...),
        "recorded_at": (dt.datetime, ...),
        "recorded_by": (str, ...),
        "changeset_id": (int, ...),
        "deleted": (bool, False),
        "withheld": (list[str], Field(default_factory=list,
                                      description="fields not shown to you: personal, or restricted under the public role")),
    }
    for f in spec.fields:
        fields[f.name] = (_TYPES[f.kind] | None, Field(None, description=_description(spec, f.name)))
    if spec.geometry:
        fields["geometry"] = (dict[str, Any] | None, Field(None, description=f"GeoJSON {spec.geometry.lower()}, WGS 84 lon/lat"))
    return create_model(_title(spec), __doc__=spec.description, **fields)


def input_names(spec: Entity) -> list[str]:
    """The fields a client may set on ``spec``: the API's input models and the browser's forms both read this."""
    return list(RELEASE_INPUT) if spec.name == "released_part" else [f.name for f in spec.fields if not f.derived]


def _input_fields(spec: Entity, *, partial: bool) -> dict[str, Any]:
    names = input_names(spec)
    fields: dict[str, Any] = {
        "reason": (str, Field(min_length=1, max_length=2000, description="why: kept in the change history")),
        "crs": (str, Field("EPSG:4326", max_length=200, description="CRS of the geometry's coordinates, e.g. EPSG:32636")),
    }
    for name in names:
        f = spec.field_map[name]
        required = f.required and not partial
        longest = f.longest if f.kind in (Kind.TEXT, Kind.LINK) else None
        fields[name] = (_TYPES[f.kind] if required else _TYPES[f.kind] | None,
                        Field(... if required else None, description=_description(spec, name), max_length=longest))
    if spec.geometry:
        needed = spec.name == "released_part" and not partial
        fields["geometry"] = (GeoJSONGeometry if needed else GeoJSONGeometry | None, Field(... if needed else None))
    return fields


@cache
def create_schema(name: str) -> type[BaseModel]:
    spec = ENTITIES[name]
    model = create_model(f"{_title(spec)}Create", __config__=ConfigDict(extra="forbid"), **_input_fields(spec, partial=False))
    model.__doc__ = f"A new {spec.label.lower()}."
    return model


@cache
def update_schema(name: str) -> type[BaseModel]:
    spec = ENTITIES[name]
    model = create_model(f"{_title(spec)}Update", __config__=ConfigDict(extra="forbid"), **_input_fields(spec, partial=True))
    model.__doc__ = f"Changes to a {spec.label.lower()}: only the fields given change."
    return model


@cache
def page_schema(name: str) -> type[BaseModel]:
    spec = ENTITIES[name]
    return create_model(
        f"{_title(spec)}Page",
        items=(list[public_schema(name)], ...),  # type: ignore[arg-type,misc]  # a model made at run time
        total=(int, Field(description="records matching, all pages")),
        limit=(int, ...),
        offset=(int, ...),
        next=(str | None, Field(None, description="URL of the next page")),
    )


def record_json(shown: Shown) -> dict[str, Any]:
    """The public representation of a record as a principal sees it."""
    r = shown.record
    body: dict[str, Any] = {
        "id": r.id, "ref": r.ref, "version": r.version, "recorded_at": timestamp(r.recorded_at),
        "recorded_by": r.recorded_by, "changeset_id": r.changeset_id, "deleted": r.deleted,
        "withheld": list(shown.withheld), **r.values,
    }
    if ENTITIES[r.entity].geometry:
        body["geometry"] = None if r.geometry is None else shapely.geometry.mapping(r.geometry)
    return body


def timestamp(at: dt.datetime) -> dt.datetime:
    """A stored time (naive UTC) as RFC 3339 wants it: with its zone."""
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def geometry_from_geojson(data: dict[str, Any] | BaseModel | None, crs: str | None = None,
                          where: str = "geometry") -> BaseGeometry | None:
    """The geometry of GeoJSON ``data`` whose coordinates the request reads in ``crs``.

    A ``crs`` member (GeoJSON 2008) must name that same CRS: an unknown or
    different one is refused, never read as WGS 84.
    """
    if data is None:
        return None
    if isinstance(data, BaseModel):
        data = data.model_dump()
    check_crs_member(data, crs, where)
    try:
        return shapely.geometry.shape(data)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError, shapely.errors.ShapelyError) as exc:
        raise InvalidGeometry(f"{where}: not a GeoJSON geometry: {exc}",
                              hint="give {\"type\": ..., \"coordinates\": ...}") from None


def check_crs_member(data: Any, crs: str | None, where: str) -> None:
    """Refuse a GeoJSON object's ``crs`` member unless it names ``crs`` (default WGS 84 lon/lat)."""
    if not isinstance(data, dict) or data.get("crs") is None:
        return
    member = data["crs"]
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else member
    if not isinstance(name, str) or not name.strip():
        raise InvalidValue(f"{where}.crs: give the CRS by name",
                           hint='e.g. {"type": "name", "properties": {"name": "EPSG:32636"}}')
    try:
        named = CRS.from_user_input(name.strip()[:200])
    except CRSError:
        raise InvalidValue(f"{where}.crs: {name[:100]!r} is not a known coordinate reference system",
                           hint="name an EPSG code, e.g. EPSG:32636, or leave the crs member out") from None
    expected = crs or "EPSG:4326"
    try:
        same = named.equals(CRS.from_user_input(expected), ignore_axis_order=True)
    except CRSError:
        same = False
    if not same:
        raise InvalidValue(f"{where}.crs: {name[:100]!r} is not the request's CRS {expected!r}",
                           hint="give the coordinates' CRS in the request's crs; the member may only repeat it")
