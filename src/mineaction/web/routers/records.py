"""REST API for every register entity: list, read, history, create, update, delete.

Routes are generated per entity so that OpenAPI shows each one's own schema.
Lists filter with CQL2 text (the same language as the OGC API), sort by
fields, page with limit/offset, and read the register as of a past time.
Every read answers with an ``ETag``; an edit must send it back as
``If-Match``, and a stale one gets 412 naming the newer version.
"""

# no "from __future__ import annotations": FastAPI reads the per-entity models from the signatures

import math
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from mineaction.access import policy
from mineaction.domain.entities import ENTITIES, Entity
from mineaction.errors import InvalidValue, StaleEdit
from mineaction.web.cql import compile_filter
from mineaction.web.deps import BaseVersion, Editor, Offset, Reader, UtcTime, etag
from mineaction.web.schemas import (
    Problem,
    create_schema,
    geometry_from_geojson,
    page_schema,
    public_schema,
    record_json,
    update_schema,
)

__all__ = ["MAX_SORT_KEYS", "parse_bbox", "parse_sort", "router"]

router = APIRouter(prefix="/api/v1", tags=["register"])

Limit = Annotated[int, Query(ge=1, le=1000, description="records per page")]
#: sort keys one request may give: more never changes an order usefully, and each costs the database
MAX_SORT_KEYS = 10
Sort = Annotated[str | None, Query(
    max_length=2000, description=f"comma-separated fields, '-' for descending, e.g. -reported_on,ref (at most {MAX_SORT_KEYS})")]
Filter = Annotated[str | None, Query(description="CQL2 text, e.g. status = 'active' AND area_m2 > 1000")]
BBoxParam = Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS 84)")]
AsOf = Annotated[UtcTime | None, Query(description="read the register as it was at this time (UTC)")]
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in {
        401: "not signed in", 403: "not allowed", 404: "no such record (or not visible to you)",
        409: "conflicts with the register", 412: "stale: a newer version exists",
        422: "invalid value or geometry", 428: "If-Match required",
    }.items()
}


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if not text:
        return None
    shown = text if len(text) <= 100 else f"{text[:100]}..."
    try:
        minx, miny, maxx, maxy = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidValue(f"bbox {shown!r} is not four numbers", hint="give minlon,minlat,maxlon,maxlat") from None
    if not all(map(math.isfinite, (minx, miny, maxx, maxy))):
        raise InvalidValue(f"bbox {shown!r}: every number must be finite (not NaN or infinity)")
    if minx > maxx or miny > maxy:
        raise InvalidValue(f"bbox {shown!r}: minimum above maximum")
    return minx, miny, maxx, maxy


def parse_sort(text: str | None, parameter: str = "sort") -> list[str]:
    """Sort keys (``-`` descending, ``+`` or none ascending), at most :data:`MAX_SORT_KEYS`."""
    keys = [part.strip() for part in (text or "").split(",") if part.strip()]
    if len(keys) > MAX_SORT_KEYS:
        raise InvalidValue(f"{parameter}: {len(keys):,} keys, at most {MAX_SORT_KEYS}")
    return keys


def _respond(response: Response, body: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = etag(body["id"], body["version"])
    return body


def _check_target(record_id: str, base: tuple[str, int], current_id: str, current_ref: str) -> int:
    etag_id, version = base
    if etag_id != current_id:
        raise StaleEdit(f"If-Match names record {etag_id}, not {current_ref}")
    return version


def _install(spec: Entity) -> None:
    name = spec.name
    Public, Page = public_schema(name), page_schema(name)
    Create, Update = create_schema(name), update_schema(name)
    path = f"/{name}"
    tag = [spec.label]

    def list_records(
        request: Request, reader: Reader, limit: Limit = 100, offset: Offset = 0, sort: Sort = None,
        filter: Filter = None, bbox: BBoxParam = None, as_of: AsOf = None,
    ) -> dict[str, Any]:
        where = None
        if filter:
            where = compile_filter(filter, spec, reader.register, policy.queryable_fields(reader.principal, spec),
                                   coarse=not policy.exact_everywhere(reader.principal, spec))
        page = reader.select(name, as_of=as_of, bbox=parse_bbox(bbox), where=where, sort=parse_sort(sort),
                             limit=limit, offset=offset)
        following = None
        if page.total is not None and offset + limit < page.total:
            following = str(request.url.include_query_params(offset=offset + limit))
        return {"items": [record_json(s) for s in page.items], "total": page.total, "limit": limit,
                "offset": offset, "next": following}

    def get_record(record_id: str, reader: Reader, response: Response, as_of: AsOf = None) -> dict[str, Any]:
        return _respond(response, record_json(reader.get(name, record_id, as_of=as_of)))

    def history(record_id: str, reader: Reader) -> list[dict[str, Any]]:
        return [record_json(s) for s in reader.history(name, record_id)]

    def create(body: Create, editor: Editor, reader: Reader, response: Response, request: Request) -> dict[str, Any]:  # type: ignore[valid-type]
        data = body.model_dump(exclude_unset=True, exclude={"reason", "crs", "geometry"})  # type: ignore[attr-defined]
        record = editor.create(name, data, geometry_from_geojson(getattr(body, "geometry", None), body.crs),  # type: ignore[attr-defined]
                               crs=body.crs, reason=body.reason)  # type: ignore[attr-defined]
        response.status_code = 201
        response.headers["Location"] = str(request.url_for(f"get_{name}", record_id=record.id))
        return _respond(response, record_json(reader.show(record)))

    def update(record_id: str, body: Update, base: BaseVersion, editor: Editor, reader: Reader,  # type: ignore[valid-type]
               response: Response) -> dict[str, Any]:
        current = reader.get(name, record_id).record
        data = body.model_dump(exclude_unset=True, exclude={"reason", "crs", "geometry"})  # type: ignore[attr-defined]
        record = editor.update(
            name, current.id, base_version=_check_target(record_id, base, current.id, current.ref), values=data,
            geometry=geometry_from_geojson(getattr(body, "geometry", None), body.crs), crs=body.crs, reason=body.reason,  # type: ignore[attr-defined]
        )
        return _respond(response, record_json(reader.show(record)))

    def delete(record_id: str, base: BaseVersion, editor: Editor, reader: Reader,
               reason: Annotated[str, Query(min_length=1, max_length=2000, description="why it is deleted")]) -> Response:
        current = reader.get(name, record_id).record
        editor.delete(name, current.id, base_version=_check_target(record_id, base, current.id, current.ref),
                      reason=reason)
        return Response(status_code=204)

    common: dict[str, Any] = {"tags": tag, "responses": ERRORS}
    router.add_api_route(path, list_records, methods=["GET"], response_model=Page, name=f"list_{name}",
                         summary=f"List {spec.label.lower()} records", **common)
    router.add_api_route(f"{path}/{{record_id}}", get_record, methods=["GET"], response_model=Public,
                         name=f"get_{name}", summary=f"One {spec.label.lower()} (by id or ref)", **common)
    router.add_api_route(f"{path}/{{record_id}}/history", history, methods=["GET"], response_model=list[Public],  # type: ignore[valid-type]  # a model made at run time
                         name=f"history_{name}", summary="Every version, oldest first", **common)
    router.add_api_route(path, create, methods=["POST"], response_model=Public, status_code=201,
                         name=f"create_{name}", summary=f"Add a {spec.label.lower()}", **common)
    router.add_api_route(f"{path}/{{record_id}}", update, methods=["PATCH"], response_model=Public,
                         name=f"update_{name}", summary="Change fields (If-Match required)", **common)
    router.add_api_route(f"{path}/{{record_id}}", delete, methods=["DELETE"], status_code=204,
                         name=f"delete_{name}", summary="Soft-delete (If-Match required)", **common)


for _spec in ENTITIES.values():
    _install(_spec)


class Vocabulary(BaseModel):
    code: str
    label: str


@router.get("/vocabularies/{vocabulary}", tags=["register"], response_model=list[Vocabulary])
def vocabulary(vocabulary: str, reader: Reader, lang: Annotated[str, Query(pattern="^(en|uk)$")] = "en") -> list[dict[str, str]]:
    """Codes and labels of a controlled vocabulary, in English or Ukrainian."""
    labels = reader.register.labels(vocabulary, lang)
    if not labels:
        raise InvalidValue(f"no vocabulary {vocabulary!r}")
    return [{"code": code, "label": label} for code, label in labels.items()]
