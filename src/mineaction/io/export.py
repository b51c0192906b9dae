"""Exports: the register, or a filtered part of it, for GIS, Google Earth and spreadsheets.

GeoPackage (one layer per entity, QGIS styles in the standard
``layer_styles`` table), GeoJSON (RFC 7946), KML/KMZ with styles, CSV (WKT
geometry), XLSX (a sheet per entity, WKT geometry) and zipped Shapefile.
Every export records which state of the register it shows (the as-of time:
the last change it includes) and the software version, inside the file where
the format allows, else beside it.

The caller's scope (an account, the command line's local operator or the
public, :mod:`mineaction.access.scopes`) decides what leaves: the records of
the organisations it may read, and fields up to the level asked for, by
default RESTRICTED (the mine action community), never more than the scope
shows in every record. PERSONAL fields (victims' names, ages, sex, notes)
need a scope that holds the personal-data permission. A PUBLIC export shows
restricted locations (hazard outlines in a conflict area) only as precisely
as the programme publishes them (``Programme.public_locations``: grid cells
or admin areas), as the web does for public callers.
All entities are read in one database transaction, so the layers agree.
CSV and XLSX cells that a spreadsheet would run as a formula are quoted
(:mod:`mineaction.domain.spreadsheet`); the other formats are not
spreadsheets and keep every value as it is.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import pyogrio.raw
import shapely
import yaml
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from shapely.geometry.base import BaseGeometry

from mineaction import __version__
from mineaction.access import Principal, ScopedReader
from mineaction.access.publication import coarse_bbox, generalise_locations
from mineaction.access.scopes import readable_level
from mineaction.domain import styles
from mineaction.domain.entities import ENTITIES, Entity, Field, Kind, Sensitivity, entity
from mineaction.domain.geometry import as_multipolygons
from mineaction.errors import InvalidValue, MineActionError
from mineaction.io.spreadsheets import neutralised_column
from mineaction.storage import GEOMETRY_COLUMN, Register, Snapshot, collector_paused, layer_styles, snapshot

__all__ = ["EXPORT_FORMATS", "ExportResult", "PersonalDataRefused", "export"]

EXPORT_FORMATS = {".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".kml": "kml", ".kmz": "kmz",
                  ".csv": "csv", ".xlsx": "xlsx", ".zip": "shapefile"}
_ORDER = list(Sensitivity)
_SYSTEM = ("id", "ref", "version", "recorded_at")
_OGR = {"gpkg": "GPKG", "geojson": "GeoJSON", "csv": "CSV", "shapefile": "ESRI Shapefile"}
_PARTITION = 20_000  # rows read from the database at a time
_GEOMETRY_TYPES = {"POINT": "Point", "POLYGON": "Polygon", "MULTIPOLYGON": "MultiPolygon"}
_WKT = "WKT"  # the geometry column of an XLSX sheet, named as GDAL names the one it writes in a CSV
_XLSX_ROWS = 1_048_576  # rows a sheet holds, its header included


class PersonalDataRefused(MineActionError, PermissionError):
    """Personal fields were asked for without the permission to export them."""

    hint = "export without personal data, or with a scope that holds the permission (--personal-data) if you hold it"


@dataclass(frozen=True)
class _Layer:
    """Rows of one entity as exported: a partition of its layer (up to ``_PARTITION`` rows)."""

    columns: dict[str, list[Any]]  # system columns and exported fields, one list per column
    shapes: np.ndarray | None  # None: no geometry in this export, or only its WKB was read
    wkb: list[bytes | None] | None = None  # ISO WKB as stored in a GeoPackage register, when shapes were not needed

    def __len__(self) -> int:
        return len(self.columns["id"])

    @functools.cached_property
    def geometries(self) -> np.ndarray | None:
        """Shapely geometries, decoded only for a writer that needs them (KML)."""
        if self.shapes is not None or self.wkb is None:
            return self.shapes
        return shapely.from_wkb(np.asarray(self.wkb, dtype=object))

    def row(self, i: int) -> dict[str, Any]:
        return {name: values[i] for name, values in self.columns.items()}


@dataclass
class _LayerStream:
    """One entity's exported rows, read a partition at a time as its writer asks for them.

    Every layer is read in the export's one transaction, but only one
    partition of it is held at a time: a writer takes the partitions as
    Arrow batches and GDAL writes each before the next is read.
    """

    spec: Entity
    fields: tuple[Field, ...]
    geometry_type: str  # GeoPackage type name: the entity's, or MULTIPOLYGON when shown as cells or areas
    parts: Iterator[_Layer]
    count: int = 0  # rows written so far

    @property
    def spatial(self) -> bool:
        return self.spec.geometry is not None

    @property
    def kinds(self) -> dict[str, Kind]:
        """The kind of each exported column that is not text."""
        return {"version": Kind.INTEGER, **{f.name: f.kind for f in self.fields}}

    def __iter__(self) -> Iterator[_Layer]:
        for part in self.parts:
            self.count += len(part)
            yield part


@dataclass(frozen=True)
class ExportResult:
    paths: list[Path]
    counts: dict[str, int]
    metadata: dict[str, Any]


def _visible(level: Sensitivity, sensitivity: Sensitivity) -> bool:
    return _ORDER.index(sensitivity) <= _ORDER.index(level)


def _stream(reader: ScopedReader, view: Snapshot, spec: Entity, as_of: dt.datetime | None,
            organisation_id: str | None, bbox: tuple[float, float, float, float] | None,
            exported: dict[str, set[str]], level: Sensitivity) -> _LayerStream:
    level = min(level, readable_level(reader.principal, spec), key=_ORDER.index)
    fields = tuple(spec.fields_at_most(level))
    generalised = spec.geometry is not None and not _visible(level, spec.geometry_sensitivity)
    parts = _parts(reader, view, spec, fields, as_of, organisation_id, bbox, exported, generalised)
    return _LayerStream(spec, fields, "MULTIPOLYGON" if generalised else spec.geometry or "", parts)


def _parts(reader: ScopedReader, view: Snapshot, spec: Entity, fields: tuple[Field, ...],
           as_of: dt.datetime | None, organisation_id: str | None, bbox: tuple[float, float, float, float] | None,
           exported: dict[str, set[str]], generalised: bool) -> Iterator[_Layer]:
    """The layer's rows in the caller's scope, a partition at a time, filtered, with links as refs and
    locations as published."""
    register = reader.register
    names = [*_SYSTEM, *(f.name for f in spec.fields)] + ([GEOMETRY_COLUMN] if spec.geometry else [])
    owned = None
    if organisation_id is not None:
        owned = ("id" if spec.name == "organisation" else "organisation_id", organisation_id)
    # straight from a GeoPackage, the stored WKB is what a writer takes, unless locations are filtered or generalised
    wkb_only = view.stores_iso_wkb and bbox is None and not generalised
    # attribute records follow what they belong to, among the layers exported before them
    follows = [(f.name, f.link) for f in spec.fields if f.link in exported and f.link != "organisation"] \
        if spec.geometry is None and (bbox is not None or organisation_id is not None) else []
    refs = {f.name: view.refs(f.link) for f in fields if f.link}
    ids = exported.setdefault(spec.name, set())
    scope = reader.scope(spec)
    for columns in view.batches(spec.name, names, as_of=as_of, equal=owned, scope=scope, size=_PARTITION):
        blobs = columns.pop(GEOMETRY_COLUMN, [])
        for f in spec.fields:
            if f.kind is Kind.CODES:
                columns[f.name] = _json_lists(columns[f.name])
        if spec.geometry and wkb_only:
            ids.update(columns["id"])
            yield _Layer(_as_refs(columns, fields, refs), None, view.iso_wkb(blobs))
            continue
        geometries = view.geometries(blobs) if spec.geometry else None
        keep = None
        if geometries is not None and bbox is not None:
            keep = shapely.intersects(geometries, shapely.box(*bbox))
        elif follows:
            keep = np.array([all(columns[name][i] is None or columns[name][i] in exported[link] for name, link in follows)
                             for i in range(len(columns["id"]))], dtype=np.bool_)
        if keep is not None and not keep.all():
            columns = {name: [v for v, k in zip(values, keep) if k] for name, values in columns.items()}
            geometries = None if geometries is None else geometries[keep]
        ids.update(columns["id"])
        if generalised and geometries is not None:
            geometries = as_multipolygons(generalise_locations(register, geometries))  # as the programme publishes
        yield _Layer(_as_refs(columns, fields, refs), geometries)


def _as_refs(columns: dict[str, list[Any]], fields: tuple[Field, ...],
             refs: dict[str, dict[str, str]]) -> dict[str, list[Any]]:
    """The exported columns only, links given as refs."""
    for name, ref_of in refs.items():
        columns[name] = [ref_of.get(v, v) for v in columns[name]]
    return {n: columns[n] for n in (*_SYSTEM, *(f.name for f in fields))}


def _json_lists(texts: list[str | None]) -> list[list[str] | None]:
    """Code lists stored as JSON text, each distinct text parsed once (a register repeats a few
    combinations of codes); rows with the same codes share one list, which nothing changes."""
    parsed: dict[str, list[str]] = {}
    return [None if t is None else parsed[t] if t in parsed else parsed.setdefault(t, json.loads(t)) for t in texts]


_ARROW_TYPES: dict[Kind, pa.DataType] = {Kind.INTEGER: pa.int64(), Kind.REAL: pa.float64(), Kind.BOOLEAN: pa.bool_()}


def _arrow_text(values: list[Any]) -> pa.Array:
    """Text as Arrow strings, converted by Arrow itself when the driver gave text (it almost always does)."""
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def _arrow_type(kind: Kind, *, iso_dates: bool) -> pa.DataType:
    if kind in _ARROW_TYPES:
        return _ARROW_TYPES[kind]
    return pa.date32() if kind is Kind.DATE and not iso_dates else pa.string()


def _arrow_column(kind: Kind, values: list[Any], *, iso_dates: bool) -> pa.Array:
    if kind in _ARROW_TYPES:
        return pa.array(values, type=_ARROW_TYPES[kind])
    if kind is Kind.DATE:  # ISO text (GeoPackage) or dates (PostGIS)
        array = pa.array(values)
        text = pc.utf8_slice_codeunits(array, 0, 10) if pa.types.is_string(array.type) else array.cast(pa.string())
        return text if iso_dates else text.cast(pa.date32())
    if kind is Kind.CODES:
        values = [None if v is None else ";".join(v) for v in values]
    return _arrow_text(values)


def _arrow_schema(layer: _LayerStream, *, iso_dates: bool, wkt: bool) -> pa.Schema:
    """What every batch of the layer holds, known before any row is read (an empty layer has fields too)."""
    kinds = layer.kinds
    names = [*_SYSTEM, *(f.name for f in layer.fields)]
    schema = [(name, _arrow_type(kinds.get(name, Kind.TEXT), iso_dates=iso_dates)) for name in names]
    geometry = (_WKT, pa.string()) if wkt else (GEOMETRY_COLUMN, pa.binary())
    return pa.schema(schema + ([geometry] if layer.spatial else []))


def _arrow_batch(part: _Layer, schema: pa.Schema, kinds: dict[str, Kind], *, iso_dates: bool,
                 spreadsheet: bool) -> pa.RecordBatch:
    """A partition as an Arrow batch, built from the column lists directly; for a spreadsheet, text that
    would run as a formula is quoted, and geometries are WKT when the schema asks for it."""
    arrays = []
    for name, values in part.columns.items():
        if name == "recorded_at":  # GeoPackage text already is ISO 8601 UTC; PostGIS gives datetimes
            values = [v if isinstance(v, str) else v.isoformat(timespec="milliseconds") + "Z" for v in values]
        array = _arrow_column(kinds.get(name, Kind.TEXT), values, iso_dates=iso_dates)
        arrays.append(neutralised_column(array) if spreadsheet and pa.types.is_string(array.type) else array)
    if schema.names[-1] == _WKT:
        geometries = part.geometries
        assert geometries is not None  # only a spatial layer's schema has the WKT column, and its parts hold geometry
        arrays.append(pa.array(shapely.to_wkt(geometries, rounding_precision=-1), type=pa.string()))
    elif part.wkb is not None:
        arrays.append(pa.array(part.wkb, type=pa.binary()))
    elif part.shapes is not None:
        arrays.append(pa.array(shapely.to_wkb(part.shapes, output_dimension=2), type=pa.binary()))
    return pa.record_batch(arrays, schema=schema)


def _ogr_write(path: Path, layer: _LayerStream, driver: str, metadata: dict[str, Any], **options: Any) -> None:
    """Write the layer through GDAL, which reads its partitions as a stream of Arrow batches."""
    iso_dates = driver == "CSV"  # GDAL would write dates as 2025/03/01; ISO 8601 is what spreadsheets expect
    schema = _arrow_schema(layer, iso_dates=iso_dates, wkt=False)
    kinds = layer.kinds
    batches = pa.RecordBatchReader.from_batches(
        schema, (_arrow_batch(part, schema, kinds, iso_dates=iso_dates, spreadsheet=iso_dates) for part in layer))
    spatial = layer.spatial
    pyogrio.raw.write_arrow(
        batches, path, layer=layer.spec.name, driver=driver, geometry_name=GEOMETRY_COLUMN if spatial else None,
        geometry_type=_GEOMETRY_TYPES[layer.geometry_type] if spatial else None,
        crs="EPSG:4326" if spatial else None, layer_metadata={k: str(v) for k, v in metadata.items()}, **options,
    )


def _labels(register: Register, spec: Entity) -> dict[str, dict[str, str]]:
    return {f: register.labels(v) for f, v in styles.vocabularies(spec.name).items()}


def _write_gpkg(register: Register, path: Path, layers: list[_LayerStream], metadata: dict[str, Any]) -> list[Path]:
    path.unlink(missing_ok=True)
    for layer in layers:
        _ogr_write(path, layer, "GPKG", metadata, append=path.exists(),
                   dataset_metadata={k: str(v) for k, v in metadata.items()})
    styled = styles.layer_styles(
        [(layer.spec.name, layer.geometry_type) for layer in layers if layer.spatial], register.labels)
    connection = sqlite3.connect(path)
    try:
        with connection:
            layer_styles.write(connection.execute, "sqlite", styled, f"mineaction {metadata['software_version']}")
    finally:
        connection.close()
    return [path]


def _per_entity_paths(path: Path, layers: list[_LayerStream], suffix: str) -> list[tuple[_LayerStream, Path]]:
    if len(layers) == 1:
        return [(layers[0], path)]
    return [(layer, path.with_name(f"{path.stem}.{layer.spec.name}{suffix}")) for layer in layers]


def _write_geojson(path: Path, layers: list[_LayerStream], metadata: dict[str, Any]) -> list[Path]:
    out = []
    for layer, target in _per_entity_paths(path, layers, path.suffix):
        target.unlink(missing_ok=True)
        _ogr_write(target, layer, "GeoJSON", metadata, layer_options={
            "RFC7946": "YES", "COORDINATE_PRECISION": "12",
            "FOREIGN_MEMBERS_COLLECTION": json.dumps({"mineaction": metadata}),
        })
        out.append(target)
    return out


def _sidecar(path: Path, metadata: dict[str, Any]) -> Path:
    target = path.with_name(path.name + ".metadata.json")
    target.write_text(json.dumps(metadata, indent=1), encoding="utf-8")
    return target


def _write_csv(path: Path, layers: list[_LayerStream], metadata: dict[str, Any]) -> list[Path]:
    out = []
    for layer, target in _per_entity_paths(path, layers, ".csv"):
        target.unlink(missing_ok=True)
        _ogr_write(target, layer, "CSV", metadata, layer_options={"GEOMETRY": "AS_WKT"})
        out += [target, _sidecar(target, metadata)]
    return out


def _write_xlsx(path: Path, layers: list[_LayerStream], metadata: dict[str, Any]) -> list[Path]:
    """A sheet per layer, streamed by openpyxl: it writes a carriage return in text as one (GDAL's XLSX
    writer leaves it bare, and XML reads a bare one as a line feed). Characters XML cannot hold at all
    (controls other than tab and line ends) become U+FFFD."""
    book = Workbook(write_only=True)
    for layer in layers:
        sheet = book.create_sheet(layer.spec.name)
        schema = _arrow_schema(layer, iso_dates=True, wkt=True)
        sheet.append(schema.names)
        for part in layer:
            if layer.count >= _XLSX_ROWS:
                raise InvalidValue(f"{layer.spec.name}: more than {_XLSX_ROWS - 1:,} records do not fit in an XLSX sheet",
                                   hint="export them as CSV or GeoPackage, or select fewer (by bbox or organisation)")
            batch = _arrow_batch(part, schema, layer.kinds, iso_dates=True, spreadsheet=True)
            for row in zip(*(column.to_pylist() for column in batch.columns)):
                sheet.append([ILLEGAL_CHARACTERS_RE.sub("\ufffd", v) if isinstance(v, str) else v for v in row])
    book.save(path)
    return [path, _sidecar(path, metadata)]


def _write_shapefile(path: Path, layers: list[_LayerStream], metadata: dict[str, Any]) -> list[Path]:
    with tempfile.TemporaryDirectory(prefix="mineaction-export-") as tmp:
        folder = Path(tmp)
        for layer in layers:
            shp = folder / f"{layer.spec.name}.shp"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # names cut to 10 characters: mapped below
                _ogr_write(shp, layer, "ESRI Shapefile", metadata, encoding="UTF-8")
            table = shp if shp.exists() else shp.with_suffix(".dbf")  # attribute entities: a .dbf alone
            written = [str(n) for n in pyogrio.read_info(table)["fields"]]
            names = [*_SYSTEM, *(f.name for f in layer.fields)]
            mapping = {"entity": layer.spec.name, "crs": "EPSG:4326",
                       "fields": {n: [w] for n, w in zip(names, written) if n not in _SYSTEM and n != w
                                  and not layer.spec.field_map[n].derived}}
            if layer.spec.name == "released_part":
                mapping["action"] = "release"
            (folder / f"{layer.spec.name}.mapping.yaml").write_text(
                yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False), encoding="utf-8")
        (folder / "metadata.json").write_text(json.dumps(metadata, indent=1), encoding="utf-8")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(folder.iterdir()):
                zf.write(file, file.name)
    return [path]


def _kml_colour(rgb: tuple[int, int, int], alpha: int) -> str:
    r, g, b = rgb
    return f"{alpha:02x}{b:02x}{g:02x}{r:02x}"  # KML colours are aabbggrr


def _kml_geometry(parent: ET.Element, geometry: BaseGeometry) -> None:
    def coords(ring: Any) -> str:
        return " ".join(f"{x:.12g},{y:.12g}" for x, y in ring.coords)

    kind = geometry.geom_type
    if kind == "Point":
        ET.SubElement(ET.SubElement(parent, "Point"), "coordinates").text = coords(geometry)
    elif kind == "LineString":
        ET.SubElement(ET.SubElement(parent, "LineString"), "coordinates").text = coords(geometry)
    elif isinstance(geometry, shapely.Polygon):
        polygon = ET.SubElement(parent, "Polygon")
        outer = ET.SubElement(ET.SubElement(polygon, "outerBoundaryIs"), "LinearRing")
        ET.SubElement(outer, "coordinates").text = coords(geometry.exterior)
        for hole in geometry.interiors:
            inner = ET.SubElement(ET.SubElement(polygon, "innerBoundaryIs"), "LinearRing")
            ET.SubElement(inner, "coordinates").text = coords(hole)
    else:
        multi = ET.SubElement(parent, "MultiGeometry")
        for part in shapely.get_parts(geometry):
            _kml_geometry(multi, part)


def _write_kml(register: Register, out: IO[bytes], layers: list[_LayerStream], metadata: dict[str, Any]) -> None:
    """The KML document, written an element at a time: a placemark is built, written and dropped."""
    def put(element: ET.Element) -> None:
        out.write(ET.tostring(element, encoding="unicode").encode())

    out.write(b'<?xml version="1.0" encoding="utf-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>')
    name, description = ET.Element("name"), ET.Element("description")
    name.text = f"{metadata['programme']} as of {metadata['as_of']}"
    description.text = json.dumps(metadata, indent=1)
    put(name)
    put(description)
    for layer in layers:
        categories = styles.categories(layer.spec.name, _labels(register, layer.spec))
        cats = {c.key: i for i, c in enumerate(categories)}
        for i, category in enumerate(categories):
            style = ET.Element("Style", id=f"{layer.spec.name}-{i}")
            alpha = 0 if category.fill == "no" else 110
            ET.SubElement(ET.SubElement(style, "LineStyle"), "color").text = _kml_colour(category.rgb, 255)
            ET.SubElement(ET.SubElement(style, "PolyStyle"), "color").text = _kml_colour(category.rgb, alpha)
            ET.SubElement(ET.SubElement(style, "IconStyle"), "color").text = _kml_colour(category.rgb, 255)
            put(style)
        out.write(b"<Folder>")
        folder_name = ET.Element("name")
        folder_name.text = layer.spec.label
        put(folder_name)
        fields = styles.CATEGORIES.get(layer.spec.name, ())
        placed = ((part.row(i), g) for part in layer if part.geometries is not None for i, g in enumerate(part.geometries))
        for row, geometry in placed:
            placemark = ET.Element("Placemark", id=row["id"])
            ET.SubElement(placemark, "name").text = row["ref"]
            key = styles.category_key(row, fields)
            if key in cats:
                ET.SubElement(placemark, "styleUrl").text = f"#{layer.spec.name}-{cats[key]}"
            data = ET.SubElement(placemark, "ExtendedData")
            for f in layer.fields:
                value = row.get(f.name)
                if value is not None:
                    item = ET.SubElement(data, "Data", name=f.name)
                    ET.SubElement(item, "value").text = ";".join(value) if isinstance(value, list) else str(value)
            _kml_geometry(placemark, geometry)
            put(placemark)
        out.write(b"</Folder>")
    out.write(b"</Document></kml>\n")


@collector_paused()  # an export reads and converts millions of column values, none in a cycle
def export(
    register: Register,
    path: str | Path,
    *,
    entities: Sequence[str] | None = None,
    as_of: dt.datetime | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    organisation: str | None = None,
    scope: Principal,
    level: Sensitivity = Sensitivity.RESTRICTED,
) -> ExportResult:
    """Write what ``scope`` may read of the register (or of the part selected) to ``path``; the format
    follows the suffix.

    ``level`` is the most sensitive class of fields asked for; each layer shows
    no more than the scope may read in every one of its records.
    Single-layer formats (GeoJSON, CSV) write one file per entity beside
    ``path`` when several entities are exported.
    """
    path = Path(path)
    fmt = EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidValue(f"cannot export to {path.name}", hint=f"use one of {', '.join(sorted(EXPORT_FORMATS))}")
    names = [entity(e).name for e in entities] if entities else list(ENTITIES)
    names.sort(key=list(ENTITIES).index)
    levels = {n: readable_level(scope, ENTITIES[n]) for n in names}
    if level is Sensitivity.PERSONAL and any(v is not Sensitivity.PERSONAL for v in levels.values()):
        raise PersonalDataRefused("personal fields (victims' names, ages, sex, notes) were asked for without permission")
    reader = ScopedReader(register, scope, purpose="export")
    with snapshot(register, "export") as view:
        version = view.last_change(as_of)
        organisation_id = None
        if organisation is not None:
            organisation_id = view.organisation_id(organisation)
            if organisation_id is None:
                raise InvalidValue(f"no organisation {organisation!r} in the register",
                                   hint="give its ref, id, name or acronym")
        generalised = level is Sensitivity.PUBLIC or Sensitivity.PUBLIC in levels.values()
        if bbox is not None and generalised:  # a shrinking box must not locate a generalised record
            bbox = coarse_bbox(register, bbox)
        metadata = {
            "software": "mineaction", "software_version": __version__, "programme": register.programme.name,
            "as_of": version.isoformat(timespec="milliseconds") + "Z" if version else None,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "sensitivity": min([level, *levels.values()], key=_ORDER.index).value, "entities": names,
            "filters": {"as_of": as_of.isoformat() if as_of else None, "bbox": list(bbox) if bbox else None,
                        "organisation": organisation},
        }
        exported: dict[str, set[str]] = {}  # ids written so far, by entity: what attribute records follow
        # read as they are written, in this order: a layer's filter may need the ids of those before it
        layers = [_stream(reader, view, ENTITIES[n], as_of, organisation_id, bbox, exported, level)
                  for n in names]
        if fmt in ("geojson", "kml", "kmz"):  # only attribute layers follow others, and these formats skip them
            layers = [layer for layer in layers if layer.spatial]
        path.parent.mkdir(parents=True, exist_ok=True)
        paths = _write(register, path, fmt, layers, metadata)
    return ExportResult(paths, {layer.spec.name: layer.count for layer in layers}, metadata)


def _write(register: Register, path: Path, fmt: str, layers: list[_LayerStream], metadata: dict[str, Any]) -> list[Path]:
    if fmt == "gpkg":
        return _write_gpkg(register, path, layers, metadata)
    if fmt == "geojson":
        return _write_geojson(path, layers, metadata)
    if fmt == "csv":
        return _write_csv(path, layers, metadata)
    if fmt == "xlsx":
        return _write_xlsx(path, layers, metadata)
    if fmt == "shapefile":
        return _write_shapefile(path, layers, metadata)
    if fmt == "kml":
        with path.open("wb") as out:
            _write_kml(register, out, layers, metadata)
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("doc.kml", "w") as out:
            _write_kml(register, out, layers, metadata)
    return [path]

