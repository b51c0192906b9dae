"""OGC API – Features logic, and the Tiles metadata, apart from the web framework (pygeoapi's lesson).

Part 1 Core (landing page, conformance, collections, items, item) with
GeoJSON; Part 2 CRS by reference (CRS84, EPSG:4326 in its lat/lon axis
order, the programme's local CRS, Web Mercator); Part 3 CQL2 text filters;
Part 4 create/replace/update/delete. Functions take parsed values and return
JSON-ready dictionaries; :mod:`mineaction.web.routers.ogc` only parses, calls
and serialises.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.geometry
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from mineaction.access import ScopedReader, Shown, policy
from mineaction.access.reader import SORTABLE_SYSTEM
from mineaction.domain.entities import ENTITIES, Entity, Kind
from mineaction.errors import InvalidValue, RecordNotFound
from mineaction.storage import Register
from mineaction.web.cql import compile_filter
from mineaction.web.problems import UnsupportedParameter
from mineaction.web.schemas import geometry_from_geojson, timestamp
from mineaction.web.tiles import LAYERS

__all__ = [
    "CONFORMANCE",
    "CRS84",
    "ItemsQuery",
    "Tileset",
    "collection",
    "collection_tileset",
    "collections",
    "dataset_tileset",
    "feature",
    "feature_values",
    "items",
    "landing",
    "parse_datetime",
    "queryables",
    "spatial_entity",
    "supported_crs",
    "tile_properties",
    "tiled_entity",
    "tilejson",
    "tileset",
    "tilesets",
]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
GEOJSON = "application/geo+json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
]
_SYSTEM = ("ref", "version", "recorded_at", "recorded_by", "changeset_id", "withheld")
_JSON_TYPES = {Kind.TEXT: "string", Kind.LINK: "string", Kind.INTEGER: "integer", Kind.REAL: "number",
               Kind.DATE: "string", Kind.BOOLEAN: "boolean", Kind.CODES: "string"}


def spatial_entity(name: str) -> Entity:
    """The entity behind a collection id; only entities with geometry are collections."""
    spec = ENTITIES.get(name)
    if spec is None or not spec.geometry:
        raise RecordNotFound(f"no collection {name!r}", hint=f"collections: {', '.join(_spatial())}")
    return spec


def _spatial() -> list[str]:
    return [name for name, spec in ENTITIES.items() if spec.geometry]


# -- CRS -------------------------------------------------------------------------


def _uri(code: str) -> str:
    crs = CRS.from_user_input(code)
    authority = crs.to_authority()
    if authority is None:
        raise InvalidValue(f"CRS {code!r} has no EPSG code")
    return f"{_EPSG}{authority[1]}"


def supported_crs(register: Register) -> list[str]:
    """CRS84 first (the default), then EPSG:4326, the programme's local CRS, Web Mercator."""
    uris = [CRS84, f"{_EPSG}4326"]
    for code in (register.programme.local_crs, "EPSG:3857"):
        uri = _uri(code)
        if uri not in uris:
            uris.append(uri)
    return uris


def check_crs(register: Register, uri: str | None, what: str = "crs") -> str:
    uri = (uri or CRS84).strip().strip("[]")
    if uri not in supported_crs(register):
        raise InvalidValue(f"{what} {uri!r} is not supported", hint=f"use one of {', '.join(supported_crs(register))}")
    return uri


@functools.lru_cache(maxsize=16)
def _transformer(source: str, target: str) -> Transformer:
    try:
        return Transformer.from_crs(CRS.from_user_input(source), CRS.from_user_input(target))
    except CRSError as exc:
        raise InvalidValue(f"cannot transform {source} to {target}: {exc}") from None


def project(geometries: np.ndarray, source: str, target: str) -> np.ndarray:
    """Reproject geometries between CRS URIs, honouring each CRS's axis order."""
    if source == target:
        return geometries
    transform = _transformer(source, target).transform
    return shapely.transform(geometries, lambda xy: np.column_stack(transform(xy[:, 0], xy[:, 1])))


def _to_crs84_bbox(bbox: tuple[float, float, float, float], bbox_crs: str) -> tuple[float, float, float, float]:
    if bbox_crs == CRS84:
        return bbox
    bounds = _transformer(bbox_crs, CRS84).transform_bounds(*bbox)
    if not np.isfinite(bounds).all():
        raise InvalidValue(f"bbox {bbox} lies outside where bbox-crs {bbox_crs} is defined")
    return bounds


# -- documents ---------------------------------------------------------------------


def landing(base: str, title: str, api: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": "Register of explosive-ordnance contamination and land release (OGC API – Features, Tiles)",
        "links": [
            {"href": f"{base}", "rel": "self", "type": "application/json", "title": "this document"},
            {"href": api, "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "API definition"},
            {"href": f"{base}/conformance", "rel": "conformance", "type": "application/json", "title": "conformance classes"},
            {"href": f"{base}/collections", "rel": "data", "type": "application/json", "title": "collections"},
            {"href": f"{base}/tileMatrixSets", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
             "type": "application/json", "title": "tiling schemes"},
            {"href": f"{base}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
             "type": "application/json", "title": "vector tiles of hazards, released land and EO finds together"},
        ],
    }


def collection(register: Register, spec: Entity, base: str, extent: tuple[float, float, float, float] | None) -> dict[str, Any]:
    href = f"{base}/collections/{spec.name}"
    info: dict[str, Any] = {
        "id": spec.name,
        "title": spec.label,
        "description": spec.description,
        "itemType": "feature",
        "crs": supported_crs(register),
        "storageCrs": CRS84,
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": spec.label},
            {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": f"{spec.label} features"},
            {"href": f"{href}/queryables", "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
             "type": "application/schema+json", "title": "queryables"},
        ],
    }
    if extent is not None:
        info["extent"] = {"spatial": {"bbox": [list(extent)], "crs": CRS84}}
    if spec.name in LAYERS:
        info["links"].append({"href": f"{href}/tiles", "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                              "type": "application/json", "title": "vector tiles"})
    return info


def collections(register: Register, base: str) -> dict[str, Any]:
    extent = register.programme.extent
    bbox = None if extent is None else (extent.west, extent.south, extent.east, extent.north)
    return {
        "links": [{"href": f"{base}/collections", "rel": "self", "type": "application/json", "title": "collections"}],
        "collections": [collection(register, ENTITIES[name], base, bbox) for name in _spatial()],
    }


def queryables(reader: ScopedReader, spec: Entity, base: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "geom": {"x-ogc-role": "primary-geometry", "format": f"geometry-{(spec.geometry or 'any').lower()}"},
        "ref": {"type": "string", "title": "reference"},
        "version": {"type": "integer"},
    }
    for name in policy.queryable_fields(reader.principal, spec):
        f = spec.field_map[name]
        schema: dict[str, Any] = {"type": _JSON_TYPES[f.kind], "description": f.description or name}
        if f.kind is Kind.DATE:
            schema["format"] = "date"
        if f.vocabulary and f.kind is not Kind.CODES:
            schema["enum"] = sorted(reader.register.vocabularies().get(f.vocabulary, ()))
        properties[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/collections/{spec.name}/queryables",
        "type": "object",
        "title": spec.label,
        "properties": properties,
        "additionalProperties": False,
    }


def feature(shown: Shown, geometry: Any, base: str, selected: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A GeoJSON feature; ``selected`` keeps only those properties (the ``properties`` parameter)."""
    r = shown.record
    properties = {"ref": r.ref, "version": r.version,
                  "recorded_at": timestamp(r.recorded_at).isoformat().replace("+00:00", "Z"),
                  "recorded_by": r.recorded_by, "changeset_id": r.changeset_id}
    for key, value in r.values.items():
        properties[key] = value.isoformat() if isinstance(value, dt.date) else value
    if selected is not None:
        properties = {key: properties[key] for key in selected if key in properties}
    if shown.withheld:
        properties["withheld"] = list(shown.withheld)
    return {
        "type": "Feature",
        "id": r.id,
        "geometry": None if geometry is None else shapely.geometry.mapping(geometry),
        "properties": properties,
        "links": [{"href": f"{base}/collections/{r.entity}/items/{r.id}", "rel": "self", "type": GEOJSON}],
    }


@dataclass(frozen=True)
class ItemsQuery:
    limit: int = 100
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    bbox_crs: str | None = None
    crs: str | None = None
    filter: str | None = None
    filter_crs: str | None = None
    as_of: dt.datetime | None = None
    sortby: tuple[str, ...] = ()
    properties: tuple[str, ...] | None = None
    datetime: str | None = None


def features(shown: list[Shown], crs: str, base: str, selected: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    geometries = np.asarray([s.record.geometry for s in shown], dtype=object)
    if len(geometries) and crs != CRS84:
        geometries = project(geometries, CRS84, crs)
    return [feature(s, g, base, selected) for s, g in zip(shown, geometries)]


# -- sortby, properties, datetime -----------------------------------------------------


def _sort_keys(reader: ScopedReader, spec: Entity, keys: tuple[str, ...]) -> list[str]:
    """``sortby`` keys (``+``/``-``; a ``+`` arrives as a space) on the properties the caller may filter by."""
    allowed = set(SORTABLE_SYSTEM) | set(policy.queryable_fields(reader.principal, spec))
    out = []
    for key in keys:
        name = key.strip().lstrip("+-").strip()
        if name not in allowed:
            raise InvalidValue(f"sortby: cannot sort {spec.name} by {name[:100]!r}",
                               hint=f"sort by one of {', '.join(sorted(allowed))}, with - for descending")
        out.append(f"-{name}" if key.strip().startswith("-") else name)
    return out


def _selected(spec: Entity, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if names is None:
        return None
    known = [*_SYSTEM[:-1], *spec.field_map]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidValue(f"properties: {spec.name} has no property {unknown[0][:100]!r}",
                           hint=f"properties of {spec.name}: {', '.join(known)}")
    return names


def parse_datetime(text: str) -> tuple[dt.date | None, dt.date | None]:
    """An OGC ``datetime``: an instant, or an interval ``start/end`` with ``..`` (or nothing) for an open end.

    Each end is a date or an RFC 3339 date-time, compared by its UTC day
    with the collection's principal date; both ends are inclusive.
    """
    parts = text.split("/")
    if len(parts) > 2:
        raise InvalidValue(f"datetime {text[:100]!r}: an instant or one interval start/end")

    def day(part: str) -> dt.date | None:
        part = part.strip()
        if part in ("", "..") and len(parts) == 2:
            return None
        try:
            if len(part) == 10:
                return dt.date.fromisoformat(part)
            at = dt.datetime.fromisoformat(part)
        except ValueError:
            raise InvalidValue(f"datetime {text[:100]!r}: {part[:40]!r} is not an RFC 3339 date or date-time",
                               hint="e.g. 2025-03-01, 2025-03-01T00:00:00Z/.., ../2025-12-31") from None
        if at.tzinfo is None:
            raise InvalidValue(f"datetime {text[:100]!r}: {part[:40]!r} has no time zone", hint="end it with Z for UTC")
        try:
            return at.astimezone(dt.UTC).date()
        except OverflowError:
            raise InvalidValue(f"datetime {text[:100]!r}: {part[:40]!r} is outside the years 1 to 9999 in UTC") from None

    start = day(parts[0])
    end = day(parts[1]) if len(parts) == 2 else start
    if start is not None and end is not None and start > end:
        raise InvalidValue(f"datetime {text[:100]!r}: the interval ends before it starts")
    return start, end


def _datetime_filter(reader: ScopedReader, spec: Entity, text: str) -> str | None:
    """CQL2 text for ``datetime`` over the collection's principal date (None: every feature)."""
    name = spec.principal_date
    if name is None:
        dated = [n for n in _spatial() if ENTITIES[n].principal_date]
        raise UnsupportedParameter(f"datetime: {spec.name} features have no date to select by",
                                   hint=f"collections with dates: {', '.join(dated)}")
    start, end = parse_datetime(text)
    if name not in policy.queryable_fields(reader.principal, spec):
        raise UnsupportedParameter(f"datetime: your role may not select {spec.name} features by {name}")
    conditions = [f"{name} >= '{start.isoformat()}'" if start else "", f"{name} <= '{end.isoformat()}'" if end else ""]
    return " AND ".join(c for c in conditions if c) or None


def items(
    reader: ScopedReader, spec: Entity, query: ItemsQuery, base: str, self_url: Callable[[int], str]
) -> tuple[dict[str, Any], str]:
    """A page of features and the CRS URI they are in; ``self_url(offset)`` makes paging links."""
    register = reader.register
    crs = check_crs(register, query.crs)
    bbox = None
    if query.bbox is not None:
        bbox = _to_crs84_bbox(query.bbox, check_crs(register, query.bbox_crs, "bbox-crs"))
    sort = _sort_keys(reader, spec, query.sortby)
    selected = _selected(spec, query.properties)
    when = _datetime_filter(reader, spec, query.datetime) if query.datetime else None
    where = None
    if query.filter or when:
        filter_crs = check_crs(register, query.filter_crs, "filter-crs")

        def compiled(text: str) -> Any:
            return compile_filter(text, spec, register, policy.queryable_fields(reader.principal, spec),
                                  crs="OGC:CRS84" if filter_crs == CRS84 else filter_crs,
                                  coarse=not policy.exact_everywhere(reader.principal, spec))

        where = compiled(query.filter) if query.filter else None  # alone first: its errors name its own text
        if when:
            where = compiled(f"({query.filter}) AND {when}" if query.filter else when)
    page = reader.select(spec.name, as_of=query.as_of, bbox=bbox, where=where, sort=sort,
                         limit=query.limit, offset=query.offset)
    links = [{"href": self_url(query.offset), "rel": "self", "type": GEOJSON, "title": "this page"},
             {"href": f"{base}/collections/{spec.name}", "rel": "collection", "type": "application/json"}]
    if page.total is not None and query.offset + query.limit < page.total:
        links.append({"href": self_url(query.offset + query.limit), "rel": "next", "type": GEOJSON, "title": "next page"})
    if query.offset > 0:
        links.append({"href": self_url(max(query.offset - query.limit, 0)), "rel": "prev",
                      "type": GEOJSON, "title": "previous page"})
    body = {
        "type": "FeatureCollection",
        "features": features(page.items, crs, base, selected),
        "numberMatched": page.total,
        "numberReturned": len(page.items),
        "timeStamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "links": links,
    }
    return body, crs


def feature_values(spec: Entity, properties: dict[str, Any]) -> dict[str, Any]:
    """Register values from a GeoJSON feature's properties (system and derived ones dropped)."""
    derived = {f.name for f in spec.fields if f.derived}
    return {k: v for k, v in properties.items() if k not in _SYSTEM and k not in derived}


def input_geometry(data: dict[str, Any] | None, crs: str) -> tuple[Any, str]:
    """Geometry of a posted feature, in lon/lat, and the CRS the register should read it in."""
    geometry = geometry_from_geojson(data, crs)
    if geometry is None or crs == CRS84:
        return geometry, "EPSG:4326"
    return project(np.asarray([geometry], dtype=object), crs, CRS84)[0], "EPSG:4326"


# -- Tiles metadata: OGC API – Tiles tileset description and TileJSON ------------

MVT = "application/vnd.mapbox-vector-tile"
_WEB_MERCATOR = "http://www.opengis.net/def/crs/EPSG/0/3857"
_WEB_MERCATOR_QUAD = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
_WORLD = (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
#: TileJSON's field types, as tippecanoe writes them
_TILEJSON_TYPES = {"string": "String", "integer": "Number", "number": "Number", "boolean": "Boolean"}


def tiled_entity(name: str) -> Entity:
    """The entity behind a collection with vector tiles."""
    spec = spatial_entity(name)
    if name not in LAYERS:
        raise InvalidValue(f"no vector tiles for {name!r}", hint=f"tiles exist for {', '.join(LAYERS)}")
    return spec


def tile_properties(spec: Entity) -> dict[str, dict[str, str]]:
    """JSON schemas of the properties a layer's tiles carry (dates are text in a tile)."""
    properties = {}
    for name in LAYERS[spec.name]:
        f = spec.field_map.get(name)
        if f is None:
            properties[name] = {"type": "string", "description": "reference"}
            continue
        schema = {"type": _JSON_TYPES[f.kind], "description": f.description or name}
        if f.kind is Kind.DATE:
            schema["format"] = "date"
        properties[name] = schema
    return properties


@dataclass(frozen=True)
class Tileset:
    """Vector tiles of one collection (``/collections/{id}/tiles``) or of every tiled one (``/tiles``, one tile
    holding a layer each)."""

    name: str
    title: str
    description: str
    layers: tuple[Entity, ...]
    url: str  # the tileset's own URL, ending in /WebMercatorQuad

    @property
    def template(self) -> str:
        """The tiles' URL template (OGC order: zoom, row, column)."""
        return self.url + "/{tileMatrix}/{tileRow}/{tileCol}"


def collection_tileset(spec: Entity, base: str) -> Tileset:
    return Tileset(spec.name, spec.label, spec.description, (spec,),
                   f"{base}/collections/{spec.name}/tiles/WebMercatorQuad")


def dataset_tileset(base: str) -> Tileset:
    return Tileset("mineaction", "Hazards, released land and EO finds",
                   "every tiled collection, one layer each, in one tile",
                   tuple(ENTITIES[name] for name in LAYERS), f"{base}/tiles/WebMercatorQuad")


def tilesets(tiles: Tileset) -> dict[str, Any]:
    return {"tilesets": [{
        "title": f"{tiles.title} (WebMercatorQuad)", "dataType": "vector", "crs": _WEB_MERCATOR,
        "tileMatrixSetURI": _WEB_MERCATOR_QUAD,
        "links": [{"href": tiles.url, "rel": "self", "type": "application/json", "title": "tileset"},
                  {"href": tiles.template, "rel": "item", "type": MVT, "templated": True}],
    }]}


def tileset(tiles: Tileset, base: str, bbox: tuple[float, float, float, float] | None, max_zoom: int) -> dict[str, Any]:
    """The OGC API – Tiles tileset description (OGC 20-057): tiling scheme, tile URL template, layers and fields."""
    west, south, east, north = bbox or _WORLD
    links = [
        {"href": tiles.url, "rel": "self", "type": "application/json", "title": "this tileset"},
        {"href": f"{base}/tileMatrixSets/WebMercatorQuad",
         "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json",
         "title": "WebMercatorQuad"},
        {"href": tiles.template, "rel": "item", "type": MVT, "templated": True, "title": "tiles (Mapbox Vector Tiles)"},
        {"href": f"{tiles.url}/tilejson.json", "rel": "alternate", "type": "application/json", "title": "TileJSON 3.0"},
    ]
    if len(tiles.layers) == 1:
        links.append({"href": f"{base}/collections/{tiles.name}", "rel": "collection", "type": "application/json"})
    return {
        "title": tiles.title, "description": tiles.description, "dataType": "vector", "crs": _WEB_MERCATOR,
        "tileMatrixSetURI": _WEB_MERCATOR_QUAD,
        "boundingBox": {"lowerLeft": [west, south], "upperRight": [east, north], "crs": CRS84},
        "links": links,
        "layers": [{
            "id": spec.name, "title": spec.label, "description": spec.description, "dataType": "vector",
            "geometryDimension": 0 if spec.geometry == "POINT" else 2,
            "geometryType": "points" if spec.geometry == "POINT" else "polygons",
            "minTileMatrix": "0", "maxTileMatrix": str(max_zoom),
            "propertiesSchema": {"type": "object", "properties": tile_properties(spec)},
        } for spec in tiles.layers],
    }


def tilejson(tiles: Tileset, bbox: tuple[float, float, float, float] | None, max_zoom: int) -> dict[str, Any]:
    """A TileJSON 3.0.0 document of the tiles, for MapLibre, QGIS's XYZ vector tiles and others."""
    west, south, east, north = bbox or _WORLD
    return {
        "tilejson": "3.0.0",
        "name": tiles.name,
        "description": tiles.description or tiles.title,
        "tiles": [tiles.template.replace("{tileMatrix}", "{z}").replace("{tileRow}", "{y}").replace("{tileCol}", "{x}")],
        "scheme": "xyz",
        "minzoom": 0,
        "maxzoom": max_zoom,
        "bounds": [west, south, east, north],
        "center": [(west + east) / 2, (south + north) / 2, 0 if bbox is None else 10],
        "vector_layers": [{
            "id": spec.name, "description": spec.label, "minzoom": 0, "maxzoom": max_zoom,
            "fields": {name: _TILEJSON_TYPES[schema["type"]] for name, schema in tile_properties(spec).items()},
        } for spec in tiles.layers],
    }
