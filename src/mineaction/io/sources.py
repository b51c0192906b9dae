"""Field data files, read through GDAL (pyogrio) in streamed batches.

A :class:`Source` is opened once: hostile content is refused first
(:mod:`mineaction.io.safety`), archives are unpacked into a private folder,
and the questions GDAL would otherwise answer by guessing are asked instead:
a Shapefile without ``.prj`` has no CRS (the caller must give one), and one
without ``.cpg`` whose text is not UTF-8 needs its encoding named (cp1251 is
the usual one for Cyrillic). Features then stream out as Arrow batches, so a
2 GB file is read in bounded memory: only one batch is alive at a time.

What a 2 GB file costs (about 20 million points as CSV): memory stays that
of one batch (50,000 features by default) plus the caches of a few distinct
values, since duplicates are found by the queue's unique index in the
database rather than in memory and approval pages through the queue. The
import is one transaction, so its field reports (about 300 bytes each) wait
in the database's journal (SQLite's WAL) until commit: reserve disk of about
twice the source. Time is linear: W4 measures a million points
(``benchmarks/bench_w4_import.py``). A zip or KMZ may unpack to at most 4 GiB
(:data:`mineaction.io.safety.MAX_UNPACKED_BYTES`).

Text read from a CSV or XLSX file loses the quote that mineaction's own
CSV and XLSX files put before text a spreadsheet would run as a formula: a
quote is removed only when it comes before ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return (or before more quotes and then one of those), so
``'=1+1`` is read as ``=1+1`` and every other text as it is
(:mod:`mineaction.domain.spreadsheet`). An XLSX file is a zip of XML: it is
unpacked within the archive limits and its XML checked before GDAL reads it.
"""

from __future__ import annotations

import codecs
import hashlib
import struct
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
import pyarrow
import pyogrio
import pyogrio.errors
import shapely
from pyogrio.raw import open_arrow
from pyproj import CRS
from pyproj.exceptions import CRSError

from mineaction.errors import CRSRequired, MineActionError
from mineaction.io.errors import SourceError
from mineaction.io.safety import check_geojson_crs, check_xml, safe_unzip
from mineaction.io.spreadsheets import restored_column

__all__ = ["DEFAULT_BATCH", "FORMATS", "Batch", "LayerInfo", "Source"]

#: suffix -> format name, as reported and recorded with each import
FORMATS: dict[str, str] = {
    ".gpkg": "GeoPackage",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "Shapefile",
    ".zip": "Shapefile",
    ".kml": "KML",
    ".kmz": "KMZ",
    ".gpx": "GPX",
    ".csv": "CSV",
    ".xlsx": "XLSX",
}
DEFAULT_BATCH = 50_000
# what GDAL and Arrow raise on a damaged or hostile file, translated into SourceError at this one boundary
_READ_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FeatureError,
                pyogrio.errors.FieldError, pyogrio.errors.GeometryError, pyarrow.ArrowException, OSError,
                IndexError, KeyError, ValueError)
#: first bytes each binary format must start with, so GDAL never opens something else by its content
_MAGIC = {".gpkg": b"SQLite format 3\x00", ".shp": b"\x00\x00\x27\x0a", ".xlsx": b"PK\x03\x04"}


@dataclass(frozen=True)
class LayerInfo:
    name: str
    crs: str | None
    geometry_type: str | None
    features: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Batch:
    """Consecutive features of one layer: what the validation report names them, columns, geometries."""

    labels: list[str]
    columns: dict[str, list[Any]]
    geometries: np.ndarray  # shapely geometry or None per feature
    geometry_errors: dict[int, str]  # index -> why the geometry could not even be parsed
    # form submissions only: a key other rows may link to (the instance ID), their photos
    keys: list[str | None] | None = None
    attachments: list[tuple[dict[str, Any], ...]] | None = None

    def __len__(self) -> int:
        return len(self.labels)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024**2):
            digest.update(chunk)
    return digest.hexdigest()


def _dbf_is_not_utf8(dbf: Path) -> bool:
    """True when a DBF without a language driver id holds text that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with dbf.open("rb") as f:
        header = f.read(32)
        if len(header) < 32 or header[29] != 0:  # GDAL honours a language driver id itself
            return False
        f.seek(struct.unpack("<H", header[8:10])[0])
        try:
            while chunk := f.read(1024**2):
                decoder.decode(chunk)
        except UnicodeDecodeError:
            return True
    return False


class Source:
    """An opened field data file; use as a context manager (unpacked archives are removed on exit)."""

    def __init__(self, path: str | Path, *, crs: str | None = None, encoding: str | None = None,
                 drop_z: bool = False, delimiter: str | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"no file at {self.path}", hint="check the path")
        suffix = self.path.suffix.lower()
        if suffix not in FORMATS:
            raise SourceError(
                f"{self.path.name}: unknown format {suffix!r}", hint=f"import one of {', '.join(sorted(FORMATS))}"
            )
        self.format = FORMATS[suffix]
        self.crs, self.encoding, self.drop_z = crs, encoding, drop_z
        self._open_options: dict[str, str] = {}
        if self.format == "CSV":
            self._open_options = {"EMPTY_STRING_AS_NULL": "YES", **({"SEPARATOR": delimiter} if delimiter else {})}
        elif self.format == "XLSX":  # the first row names the columns, even when every cell of a sheet is text
            self._open_options = {"HEADERS": "FORCE"}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        try:
            self.readable = self._prepare(suffix)
            self.layers = self._layers()
        except BaseException:
            self.close()
            raise

    # -- opening -------------------------------------------------------------

    def _unpack(self) -> list[Path]:
        self._tmp = tempfile.TemporaryDirectory(prefix="mineaction-import-")
        return safe_unzip(self.path, Path(self._tmp.name))

    def _prepare(self, suffix: str) -> Path:
        readable = self.path
        if suffix == ".kmz":
            kmls = sorted((p for p in self._unpack() if p.suffix.lower() == ".kml"), key=lambda p: p.name != "doc.kml")
            if not kmls:
                raise SourceError(f"{self.path.name}: the KMZ holds no .kml document")
            readable = kmls[0]
        elif suffix == ".zip":
            files = self._unpack()
            shps = [p for p in files if p.suffix.lower() == ".shp"]
            tables = shps + [p for p in files if p.suffix.lower() == ".dbf" and not p.with_suffix(".shp").exists()]
            if not shps or len({p.parent for p in tables}) != 1:
                raise SourceError(f"{self.path.name}: expected Shapefiles in one folder of the zip, "
                                  f"found {len(shps)} .shp", hint="zip .shp, .shx, .dbf, .prj and .cpg together")
            readable = shps[0] if len(tables) == 1 else shps[0].parent  # GDAL reads a folder as one layer per file
        elif suffix == ".xlsx":  # a zip of XML: unpacked once within limits and its XML walked, then GDAL reads it
            for member in self._unpack():
                if member.suffix.lower() in (".xml", ".rels"):
                    check_xml(member, "")
        self._check_content(readable)
        shapefiles = ([readable] if readable.suffix.lower() == ".shp"
                      else sorted(readable.glob("*.shp")) if readable.is_dir() else [])
        for shp in shapefiles:
            self._check_shapefile(shp)
        return readable

    def _check_content(self, readable: Path) -> None:
        """Refuse content that is not the format the name says (GDAL would pick a driver by content)."""
        if readable.is_dir():
            return
        suffix = readable.suffix.lower()
        if suffix in (".kml", ".gpx"):
            check_xml(readable, suffix[1:])
            return
        with readable.open("rb") as f:
            head = f.read(4096)
        magic = _MAGIC.get(suffix)
        if magic is not None and not head.startswith(magic):
            raise SourceError(f"{self.path.name}: not a {self.format} file (it does not start as one)")
        if suffix in (".geojson", ".json"):
            if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
                raise SourceError(f"{self.path.name}: not GeoJSON (it does not start with '{{')")
            check_geojson_crs(readable)
        if suffix == ".csv" and head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise SourceError(f"{self.path.name}: not CSV (it starts like XML)")

    def _check_shapefile(self, shp: Path) -> None:
        siblings = {p.suffix.lower(): p for p in shp.parent.iterdir() if p.stem == shp.stem}
        if ".prj" not in siblings and not self.crs:
            raise CRSRequired(
                f"{self.path.name}: the Shapefile has no .prj, so its coordinate reference system is unknown",
                hint="give the CRS the coordinates are in, e.g. --crs EPSG:32636, or add the .prj from the sender",
            )
        dbf = siblings.get(".dbf")
        if ".cpg" not in siblings and not self.encoding and dbf is not None and _dbf_is_not_utf8(dbf):
            raise SourceError(
                f"{self.path.name}: the Shapefile has no .cpg and its text is not UTF-8",
                hint="give the encoding of the attributes, e.g. --encoding cp1251 for Cyrillic from Windows",
            )

    def _layers(self) -> list[LayerInfo]:
        try:
            names = [str(n) for n, _ in pyogrio.list_layers(self.readable)]
            infos = [pyogrio.read_info(self.readable, layer=n, encoding=self.encoding, **self._open_options)
                     for n in names]
        except MineActionError:
            raise
        except UnicodeError as exc:
            raise _not_text(self.path, self.encoding, exc) from None
        except _READ_ERRORS as exc:
            raise SourceError(f"{self.path.name}: cannot be read as {self.format}: the file is damaged, "
                              f"truncated or not {self.format} ({exc})") from None
        layers = [
            LayerInfo(n, i["crs"], i["geometry_type"], int(i["features"]), tuple(str(f) for f in i["fields"]))
            for n, i in zip(names, infos)
        ]
        if not layers:
            raise SourceError(f"{self.path.name}: holds no layer that can be read")
        return [layer for layer in layers if layer.features != 0] or layers[:1]

    def sidecar_mapping(self, layer: LayerInfo) -> Path | None:
        """A mapping shipped beside the layer (mineaction's Shapefile exports: names cut to 10 characters)."""
        folder = self.readable if self.readable.is_dir() else self.readable.parent
        path = folder / f"{layer.name}.mapping.yaml"
        return path if self._tmp is not None and path.is_file() else None

    def sha256(self) -> str:
        return file_sha256(self.path)

    def layer(self, name: str | None = None) -> LayerInfo:
        if name is None:
            return self.layers[0]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise SourceError(f"{self.path.name}: no layer {name!r}",
                          hint=f"layers are {', '.join(layer.name for layer in self.layers)}")

    def crs_of(self, layer: LayerInfo) -> str | None:
        """The layer's CRS: the file's own, else the one given; a conflict between them is an error."""
        if layer.crs and self.crs and not _same_crs(layer.crs, self.crs):
            raise SourceError(f"{self.path.name}: the file says its CRS is {layer.crs}, but {self.crs} was given",
                              hint="leave out the CRS option: the file's own CRS is used")
        return layer.crs or self.crs

    # -- reading -------------------------------------------------------------

    def _label(self, fid: Any) -> str:
        # GDAL numbers CSV data rows from 1; line 1 is the header
        return f"line {int(fid) + 1}" if self.format == "CSV" else f"feature {fid}"

    def batches(self, layer: LayerInfo, batch_size: int = DEFAULT_BATCH) -> Iterator[Batch]:
        """The layer's features, ``batch_size`` at a time."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes, e.g. unclosed rings: we report them
                with open_arrow(self.readable, layer=layer.name, encoding=self.encoding, batch_size=batch_size,
                                return_fids=True, use_pyarrow=True,
                                datetime_as_string=True, **self._open_options) as (meta, reader):
                    geometry_column = meta["geometry_name"] or "wkb_geometry"
                    fid_column = meta["fid_column"]
                    for record_batch in reader:
                        yield self._batch(record_batch, geometry_column, fid_column)
        except MineActionError:
            raise
        except UnicodeError as exc:
            raise _not_text(self.path, self.encoding, exc) from None
        except _READ_ERRORS as exc:
            raise SourceError(f"{self.path.name}: reading layer {layer.name!r} failed: the file is damaged or "
                              f"truncated ({exc})") from None

    def _batch(self, record_batch: pyarrow.RecordBatch, geometry_column: str, fid_column: str) -> Batch:
        names = record_batch.schema.names
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise SourceError(f"{self.path.name}: column(s) {', '.join(repeated)} appear more than once",
                              hint="rename the columns so that each name is used once")
        fids = record_batch.column(fid_column).to_pylist() if fid_column in names else range(record_batch.num_rows)
        columns = {n: self._text(record_batch.column(n)).to_pylist() for n in names
                   if n not in (geometry_column, fid_column)}
        errors: dict[int, str] = {}
        if geometry_column in names:
            wkb = np.asarray(record_batch.column(geometry_column).to_pylist(), dtype=object)
            geometries = shapely.from_wkb(wkb, on_invalid="ignore")
            if self.drop_z:  # asked for: heights from a GPS are not part of a register geometry
                geometries = shapely.force_2d(geometries)
            for i in np.flatnonzero(shapely.is_missing(geometries) & (wkb != None)):  # noqa: E711 - elementwise on an object array
                try:
                    shapely.from_wkb(wkb[i])
                except shapely.errors.GEOSException as exc:
                    errors[int(i)] = str(exc).removeprefix("IllegalArgumentException: ")
        else:
            geometries = np.full(record_batch.num_rows, None, dtype=object)
        return Batch([self._label(f) for f in fids], columns, geometries, errors)

    def _text(self, column: pyarrow.Array) -> pyarrow.Array:
        """A spreadsheet file's text column without the quotes that kept formulas from running."""
        if self.format not in ("CSV", "XLSX") or not pyarrow.types.is_string(column.type):
            return column
        return restored_column(column)

    # -- context -------------------------------------------------------------

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _not_text(path: Path, encoding: str | None, exc: UnicodeError) -> SourceError:
    return SourceError(f"{path.name}: its text is not {encoding or 'UTF-8'} ({getattr(exc, 'reason', exc)})",
                       hint="give the encoding the file was saved in, e.g. --encoding cp1251")


def _same_crs(a: str, b: str) -> bool:
    try:
        return CRS.from_user_input(a).equals(CRS.from_user_input(b), ignore_axis_order=True)
    except CRSError:
        return False
