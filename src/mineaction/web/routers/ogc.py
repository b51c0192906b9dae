"""OGC API – Features and Tiles routes under ``/ogc``: parse, call :mod:`mineaction.web.ogc`, serialise.

Landing page, conformance, collection and tiling-scheme metadata are public;
features and tiles need an account (GIS clients send a username and API
token as HTTP Basic, scripts the token as ``Authorization: Bearer ...``).
"""

from __future__ import annotations

import json
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from mineaction.access import ScopedEditor
from mineaction.errors import InvalidValue, StaleEdit
from mineaction.storage import Register
from mineaction.web import ogc
from mineaction.web.deps import (
    BaseVersion,
    Editor,
    Offset,
    OnlyDeclaredParameters,
    Reader,
    RegisterDep,
    Tiles,
    UtcTime,
    etag,
)
from mineaction.web.routers.records import ERRORS, parse_bbox, parse_sort
from mineaction.web.schemas import check_crs_member
from mineaction.web.tiles import LAYERS, MAX_ZOOM, TileCache, tile_matrix_set

__all__ = ["router"]

router = APIRouter(prefix="/ogc", tags=["OGC API"], responses=ERRORS, dependencies=[OnlyDeclaredParameters])


def _base(request: Request) -> str:
    return str(request.url_for("ogc_landing")).rstrip("/")


def _geojson(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, default=str, ensure_ascii=False), status_code=status,
                    media_type=ogc.GEOJSON, headers=headers)


@router.get("", name="ogc_landing", summary="Landing page")
def landing(request: Request, register: RegisterDep) -> dict[str, Any]:
    return ogc.landing(_base(request), register.programme.name, str(request.url_for("openapi")))


@router.get("/conformance", summary="Conformance classes")
def conformance() -> dict[str, Any]:
    return {"conformsTo": ogc.CONFORMANCE}


@router.get("/collections", summary="Feature collections")
def collections(request: Request, register: RegisterDep) -> dict[str, Any]:
    return ogc.collections(register, _base(request))


@router.get("/collections/{collection_id}", summary="One collection")
def collection(collection_id: str, request: Request, register: RegisterDep) -> dict[str, Any]:
    return ogc.collection(register, ogc.spatial_entity(collection_id), _base(request), _bbox(register))


@router.get("/collections/{collection_id}/queryables", summary="Properties usable in filters", response_class=Response,
            responses={200: {"content": {"application/schema+json": {}}}})
def queryables(collection_id: str, request: Request, reader: Reader) -> Response:
    body = ogc.queryables(reader, ogc.spatial_entity(collection_id), _base(request))
    return JSONResponse(body, media_type="application/schema+json")


@router.get("/collections/{collection_id}/items", summary="Features (GeoJSON)",
            response_class=Response, responses={200: {"content": {ogc.GEOJSON: {}}}})
def items(
    collection_id: str,
    request: Request,
    reader: Reader,
    limit: Annotated[int, Query(ge=1, le=10_000, description="features per page (next links page on)")] = 100,
    offset: Offset = 0,
    bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy in bbox-crs (default CRS84)")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs")] = None,
    crs: Annotated[str | None, Query(description="output CRS URI (default CRS84)")] = None,
    filter: Annotated[str | None, Query(description="CQL2 text")] = None,
    filter_lang: Annotated[str | None, Query(alias="filter-lang", pattern="^cql2-text$")] = None,
    filter_crs: Annotated[str | None, Query(alias="filter-crs")] = None,
    as_of: Annotated[UtcTime | None, Query(description="the register as it was at this time (UTC)")] = None,
    sortby: Annotated[str | None, Query(
        max_length=2000, description="comma-separated queryables, - for descending, e.g. -reported_on,ref")] = None,
    properties: Annotated[str | None, Query(
        max_length=5000, description="comma-separated properties to return (empty: none)")] = None,
    datetime: Annotated[str | None, Query(
        max_length=200, description="an instant or interval (start/end, .. for open) of the collection's date, "
                                    "e.g. 2025-01-01/..")] = None,
) -> Response:
    spec = ogc.spatial_entity(collection_id)
    selected = None if properties is None else tuple(p.strip() for p in properties.split(",") if p.strip())
    query = ogc.ItemsQuery(limit=limit, offset=offset, bbox=parse_bbox(bbox), bbox_crs=bbox_crs, crs=crs,
                           filter=filter, filter_crs=filter_crs, as_of=as_of,
                           sortby=tuple(parse_sort(sortby, "sortby")), properties=selected, datetime=datetime)
    body, used = ogc.items(reader, spec, query, _base(request),
                           lambda start: str(request.url.include_query_params(offset=start)))
    return _geojson(body, headers={"Content-Crs": f"<{used}>"})


@router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature (GeoJSON)",
            response_class=Response, responses={200: {"content": {ogc.GEOJSON: {}}}})
def item(
    collection_id: str, feature_id: str, request: Request, reader: Reader,
    crs: Annotated[str | None, Query(description="output CRS URI (default CRS84)")] = None,
) -> Response:
    spec = ogc.spatial_entity(collection_id)
    used = ogc.check_crs(reader.register, crs)
    shown = reader.get(spec.name, feature_id)
    body = ogc.features([shown], used, _base(request))[0]
    return _geojson(body, headers={"Content-Crs": f"<{used}>", "ETag": etag(shown.record.id, shown.record.version)})


# -- Part 4: transactions --------------------------------------------------------

Feature = Annotated[dict[str, Any], Body(description="a GeoJSON Feature",
                                         examples=[{"type": "Feature", "geometry": None, "properties": {}}])]
ContentCrs = Annotated[str | None, Query(alias="crs", description="CRS of the posted geometry (default CRS84)")]
Reason = Annotated[str | None, Query(max_length=2000, description="why: kept in the change history")]


def _parse_feature(
    body: dict[str, Any], collection_id: str, crs: str | None, register: Register
) -> tuple[dict[str, Any], Any, str]:
    """Values, lon/lat geometry and its CRS name from a posted GeoJSON Feature."""
    if not isinstance(body, dict) or body.get("type") != "Feature":
        raise InvalidValue("the body must be a GeoJSON Feature")
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise InvalidValue("body.properties: a GeoJSON Feature's properties are an object")
    spec = ogc.spatial_entity(collection_id)
    used = ogc.check_crs(register, crs)
    check_crs_member(body, used, "body")
    geometry, geometry_crs = ogc.input_geometry(body.get("geometry"), used)
    return ogc.feature_values(spec, properties), geometry, geometry_crs


def _written(request: Request, reader: Reader, record: Any, status: int) -> Response:
    body = ogc.features([reader.show(record)], ogc.CRS84, _base(request))[0]
    headers = {"ETag": etag(record.id, record.version),
               "Location": f"{_base(request)}/collections/{record.entity}/items/{record.id}"}
    return _geojson(body, status, headers)


def _base_version(base: tuple[str, int], record_id: str) -> int:
    if base[0] != record_id:
        raise StaleEdit(f"If-Match names feature {base[0]}, not {record_id}")
    return base[1]


@router.post("/collections/{collection_id}/items", status_code=201, summary="Add a feature")
def create_item(collection_id: str, feature: Feature, request: Request, editor: Editor, reader: Reader,
                crs: ContentCrs = None, reason: Reason = None) -> Response:
    values, geometry, geometry_crs = _parse_feature(feature, collection_id, crs, reader.register)
    record = editor.create(collection_id, values, geometry, crs=geometry_crs, reason=reason or "OGC API create")
    return _written(request, reader, record, 201)


def _edit(editor: ScopedEditor, reader: Reader, collection_id: str, feature_id: str, base: tuple[str, int],
          feature: dict[str, Any], crs: str | None, reason: str, replace: bool) -> Any:
    current = reader.get(ogc.spatial_entity(collection_id).name, feature_id).record
    values, geometry, geometry_crs = _parse_feature(feature, collection_id, crs, reader.register)
    if replace:
        values = {**dict.fromkeys(ogc.feature_values(ogc.spatial_entity(collection_id), current.values)), **values}
    return editor.update(collection_id, current.id, base_version=_base_version(base, current.id), values=values,
                         geometry=geometry, crs=geometry_crs, reason=reason)


@router.put("/collections/{collection_id}/items/{feature_id}", summary="Replace a feature (If-Match required)")
def replace_item(collection_id: str, feature_id: str, feature: Feature, base: BaseVersion, request: Request,
                 editor: Editor, reader: Reader, crs: ContentCrs = None, reason: Reason = None) -> Response:
    record = _edit(editor, reader, collection_id, feature_id, base, feature, crs, reason or "OGC API replace", True)
    return _written(request, reader, record, 200)


@router.patch("/collections/{collection_id}/items/{feature_id}", summary="Update a feature (If-Match required)")
def update_item(collection_id: str, feature_id: str, feature: Feature, base: BaseVersion, request: Request,
                editor: Editor, reader: Reader, crs: ContentCrs = None, reason: Reason = None) -> Response:
    record = _edit(editor, reader, collection_id, feature_id, base, feature, crs, reason or "OGC API update", False)
    return _written(request, reader, record, 200)


@router.delete("/collections/{collection_id}/items/{feature_id}", status_code=204, summary="Delete a feature (If-Match required)")
def delete_item(collection_id: str, feature_id: str, base: BaseVersion, editor: Editor, reader: Reader,
                reason: Reason = None) -> Response:
    current = reader.get(ogc.spatial_entity(collection_id).name, feature_id).record
    editor.delete(collection_id, current.id, base_version=_base_version(base, current.id),
                  reason=reason or "OGC API delete")
    return Response(status_code=204)


# -- Tiles -----------------------------------------------------------------------


@router.get("/tileMatrixSets", summary="Tiling schemes")
def tile_matrix_sets(request: Request) -> dict[str, Any]:
    return {"tileMatrixSets": [{"id": "WebMercatorQuad", "title": "Web Mercator", "links": [
        {"href": f"{_base(request)}/tileMatrixSets/WebMercatorQuad", "rel": "self", "type": "application/json"}]}]}


@router.get("/tileMatrixSets/WebMercatorQuad", summary="WebMercatorQuad definition")
def web_mercator_quad() -> dict[str, Any]:
    return tile_matrix_set()


def _bbox(register: Register) -> tuple[float, float, float, float] | None:
    extent = register.programme.extent
    return None if extent is None else (extent.west, extent.south, extent.east, extent.north)


@router.get("/collections/{collection_id}/tiles", summary="Vector tilesets of a collection")
def tilesets(collection_id: str, request: Request) -> dict[str, Any]:
    return ogc.tilesets(ogc.collection_tileset(ogc.tiled_entity(collection_id), _base(request)))


@router.get("/collections/{collection_id}/tiles/WebMercatorQuad", summary="Vector tileset metadata")
def tileset(collection_id: str, request: Request, register: RegisterDep) -> dict[str, Any]:
    tiles = ogc.collection_tileset(ogc.tiled_entity(collection_id), _base(request))
    return ogc.tileset(tiles, _base(request), _bbox(register), MAX_ZOOM)


@router.get("/collections/{collection_id}/tiles/WebMercatorQuad/tilejson.json", summary="TileJSON 3.0 of the tiles")
def tilejson(collection_id: str, request: Request, register: RegisterDep) -> dict[str, Any]:
    """The tiles as MapLibre and other web maps take them; the ``tiles`` template also serves QGIS's XYZ vector tiles."""
    return ogc.tilejson(ogc.collection_tileset(ogc.tiled_entity(collection_id), _base(request)), _bbox(register), MAX_ZOOM)


@router.get("/collections/{collection_id}/tiles/WebMercatorQuad/{z}/{y}/{x}", summary="One vector tile (MVT)",
            response_class=Response, responses={200: {"content": {ogc.MVT: {}}}})
def tile(collection_id: str, z: int, y: int, x: int,
         reader: Reader, tiles: Tiles, request: Request) -> Response:
    return _tile(reader, tiles, request, (ogc.tiled_entity(collection_id).name,), z, y, x)


@router.get("/tiles", summary="Vector tilesets of hazards, released land and EO finds together")
def dataset_tilesets(request: Request) -> dict[str, Any]:
    return ogc.tilesets(ogc.dataset_tileset(_base(request)))


@router.get("/tiles/WebMercatorQuad", summary="Vector tileset metadata (every tiled collection)")
def dataset_tileset(request: Request, register: RegisterDep) -> dict[str, Any]:
    return ogc.tileset(ogc.dataset_tileset(_base(request)), _base(request), _bbox(register), MAX_ZOOM)


@router.get("/tiles/WebMercatorQuad/tilejson.json", summary="TileJSON 3.0 of the tiles of every tiled collection")
def dataset_tilejson(request: Request, register: RegisterDep) -> dict[str, Any]:
    """One source with a layer per collection: one QGIS vector-tile connection shows them all."""
    return ogc.tilejson(ogc.dataset_tileset(_base(request)), _bbox(register), MAX_ZOOM)


@router.get("/tiles/WebMercatorQuad/{z}/{y}/{x}", summary="One vector tile (MVT) with a layer per tiled collection",
            response_class=Response, responses={200: {"content": {ogc.MVT: {}}}})
def dataset_tile(z: int, y: int, x: int, reader: Reader, tiles: Tiles, request: Request) -> Response:
    return _tile(reader, tiles, request, tuple(LAYERS), z, y, x)


def _tile(reader: Reader, tiles: TileCache, request: Request, layers: tuple[str, ...], z: int, y: int, x: int) -> Response:
    """The layers' tiles as one MVT (a tile's layers are repeated protobuf fields, so their encodings concatenate)."""
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidValue(f"zoom {z} is outside 0..{MAX_ZOOM}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidValue(f"tile {z}/{y}/{x}: at zoom {z} rows and columns run 0..{2**z - 1}")
    parts = [tiles.get(reader, layer, z, x, y) for layer in layers]
    stamp = max(part[1] for part in parts)
    tag = f'"{stamp}-{zlib.crc32(reader.principal.scope_key.encode()):x}"'
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers={"ETag": tag})
    return Response(b"".join(part[0] for part in parts), media_type=ogc.MVT,
                    headers={"ETag": tag, "Cache-Control": "private, no-cache"})
