"""A corpus of hostile field-data files, generated on demand (no binaries in the repository).

Every file here should be refused with a clear error or reported as invalid
by whichever import path reads it, without a crash, a hang, a runaway
allocation, a write to the register, a file written outside the import's
folder, a network request or a local file read. Categories:

* ``xml``: KML and GPX (plain and zipped as KMZ) with entity expansion
  (billion laughs, quadratic blow-up), external entities and DTDs pointing at
  a local secret or at a local listener, XInclude, remote schema and
  NetworkLink references, deep nesting, attribute and namespace floods,
  broken encodings, truncation.
* ``zip``: KMZ and zipped Shapefiles with path traversal (``../``, absolute,
  backslash, drive letters), symbolic links, decompression bombs (honest and
  lying headers, many members), encrypted or unsupported members, damaged
  archives, hostile member names.
* ``shapefile``: damaged ``.shp``/``.shx``/``.dbf`` headers and records,
  garbage ``.prj``, unknown ``.cpg`` encodings, missing parts.
* ``geojson``: nesting bombs, non-finite and absurd numbers, wrong types,
  huge strings and vertex counts, remote CRS links, broken encodings.
* ``csv``: NUL bytes, broken quoting and encodings, column floods, absurd
  coordinates, broken WKT and MGRS.
* ``gpkg``: SQLite files that are random, truncated, corrupt, not
  GeoPackages, or GeoPackages with malformed geometry blobs, dangling
  metadata or views calling ``load_extension``.
* ``odk``: ODK/Kobo submission exports with nesting bombs, wrong shapes and
  attachment names that point outside the export folder (the submissions
  are otherwise valid, so they may be queued, but never with that file).
* ``misc``: empty files, wrong contents for the suffix, hostile file names.

Traps are tagged with ``token`` so a test can look for them afterwards:
zip-slip targets are ``/tmp/zipslip-<token>-*``, URLs point at
``http://127.0.0.1:<port>/<token>/...`` (run a listener there and expect no
connection), and ``secret`` is a local file whose content no output may show.
"""

from __future__ import annotations

import functools
import io
import json
import random
import sqlite3
import struct
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Hostile", "Traps", "hostile_files", "write_corpus"]


@dataclass(frozen=True)
class Traps:
    """Where a hostile file may try to reach: to be checked after the run."""

    token: str
    secret: Path  # a local file an external entity or attachment name points at
    port: int  # a local TCP listener that no import may connect to

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.token}"

    def slip(self, tag: str) -> str:
        return f"/tmp/zipslip-{self.token}-{tag}.txt"


@dataclass(frozen=True)
class Hostile:
    category: str
    name: str  # file name, suffix included: it picks the import path
    data: bytes
    importable: bool = False  # valid data with one hostile detail: it may be queued, the detail must not follow

    @property
    def entry(self) -> str:
        """Which import entry point reads it: ODK exports go to import_submissions."""
        return "submissions" if self.category == "odk" else "file"


# -- small builders ------------------------------------------------------------------

_SQUARE = "-33.70,-30.00 -33.69,-30.00 -33.69,-29.99 -33.70,-29.99 -33.70,-30.00"


def _kml(body: str = "", prolog: str = "", root_attrs: str = "") -> str:
    placemark = (f"<Placemark><name>hostile</name><Polygon><outerBoundaryIs><LinearRing><coordinates>"
                 f"{_SQUARE}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
            f'<kml xmlns="http://www.opengis.net/kml/2.2"{root_attrs}><Document>{body}{placemark}</Document></kml>\n')


def _gpx(body: str = "", prolog: str = "", root_attrs: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
            f'<gpx version="1.1" creator="hostile" xmlns="http://www.topografix.com/GPX/1/1"{root_attrs}>'
            f'<wpt lat="-30.0" lon="-33.7"><name>hostile</name>{body}</wpt></gpx>\n')


def _zip(members: list[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``members``, byte for byte the same on every run (fixed timestamps)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the attacks
        for name, data in members:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = method
            archive.writestr(info, data)
    return buffer.getvalue()


def _patch_all(data: bytes, signature: bytes, offset: int, fmt: str, value: int) -> bytes:
    """Overwrite a field at ``offset`` in every zip header starting with ``signature``."""
    out = bytearray(data)
    start = 0
    while (at := out.find(signature, start)) != -1:
        struct.pack_into(fmt, out, at + offset, value)
        start = at + 4
    return bytes(out)


_LOCAL, _CENTRAL = b"PK\x03\x04", b"PK\x01\x02"
_EPOCH = (2026, 1, 1, 0, 0, 0)


@functools.cache
def _bomb(inner: str, megabytes: int) -> bytes:
    """A zip whose one member is ``megabytes`` MB of zeros (it compresses about 1,000 times)."""
    return _zip([(inner, bytes(megabytes * 1024**2))])


def _symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.external_attr = 0o120777 << 16
    info.create_system = 3
    return info


# -- xml -----------------------------------------------------------------------------


def _xml_attacks(t: Traps) -> dict[str, tuple[str, str, str]]:
    """name -> (prolog, body, root attributes); the body is valid in a KML Document and a GPX wpt."""
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return {
        "billion-laughs": (f'<!DOCTYPE x [<!ENTITY l0 "lol">{lol}]>\n', "<desc>&l9;</desc>", ""),
        "quadratic-blowup": (f'<!DOCTYPE x [<!ENTITY a "{"A" * 50_000}">]>\n', f"<desc>{'&a;' * 5_000}</desc>", ""),
        "xxe-file": (f'<!DOCTYPE x [<!ENTITY s SYSTEM "file://{t.secret}">]>\n', "<desc>&s;</desc>", ""),
        "xxe-http": (f'<!DOCTYPE x [<!ENTITY s SYSTEM "{t.url}/xxe">]>\n', "<desc>&s;</desc>", ""),
        "xxe-parameter": (f'<!DOCTYPE x [<!ENTITY % p SYSTEM "{t.url}/param.dtd"> %p;]>\n', "", ""),
        "external-dtd": (f'<!DOCTYPE x SYSTEM "{t.url}/external.dtd">\n', "", ""),
        "internal-dtd-only": ("<!DOCTYPE x [<!ELEMENT x ANY>]>\n", "", ""),
        "entity-undeclared": ("", "<desc>&nothing;</desc>", ""),
        "xinclude-file": ("", (f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{t.secret}" '
                              'parse="text"/>'), ""),
        "xinclude-http": ("", f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{t.url}/xi"/>', ""),
        "schema-location": ("", "", (' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                                f'xsi:schemaLocation="http://www.opengis.net/kml/2.2 {t.url}/schema.xsd"')),
        "network-link": ("", f"<NetworkLink><Link><href>{t.url}/link.kml</href></Link></NetworkLink>", ""),
        "remote-style": ("", f"<styleUrl>{t.url}/style.kml#s</styleUrl>", ""),
        "deep-nesting": ("", "<Folder>" * 20_000 + "</Folder>" * 20_000, ""),
        "huge-attribute": ("", f'<desc note="{"x" * 2_000_000}"/>', ""),
        "attribute-flood": ("", "<desc " + " ".join(f'a{i}="1"' for i in range(20_000)) + "/>", ""),
        "namespace-flood": ("", "", "".join(f' xmlns:n{i}="urn:n{i}"' for i in range(20_000))),
        "pi-flood": ("", "<?pi x?>" * 50_000, ""),
        "comment-flood": ("", "<!--" + "c" * 1_500_000 + "-->", ""),
        "cdata-unclosed": ("", "<desc><![CDATA[never closed</desc>", ""),
        "garbage-coordinates": ("", ("<Placemark><Point><coordinates>NaN,inf,1e999 -1e999,nan</coordinates>"
                                    "</Point></Placemark>"), ""),
        "huge-polygon": ("", "<Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>"
                             + " ".join(f"{-33.7 + i * 1e-7:.7f},-30.0" for i in range(150_000))
                             + "</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>", ""),
    }


def _xml_files(t: Traps) -> Iterator[Hostile]:
    for name, (prolog, body, attrs) in _xml_attacks(t).items():
        kml = _kml(body, prolog, attrs).encode()
        yield Hostile("xml", f"{name}.kml", kml)
        yield Hostile("xml", f"{name}.gpx", _gpx(body if "Placemark" not in body else "", prolog, attrs).encode())
        yield Hostile("xml", f"{name}.kmz", _zip([("doc.kml", kml)]))
    plain = _kml().encode()
    broken = {
        "invalid-utf8": plain.replace(b"hostile", b"host\xff\xfeile"),
        "utf16-declared-utf8": plain.decode().encode("utf-16"),
        "unknown-encoding": plain.replace(b'encoding="UTF-8"', b'encoding="x-mineaction-evil"'),
        "nul-bytes": plain.replace(b"hostile", b"host\x00ile"),
        "truncated": plain[: len(plain) // 2],
        "not-xml": b"\x89PNG\r\n\x1a\n" + bytes(random.Random(1).randbytes(2048)),
    }
    for name, data in broken.items():
        for suffix in (".kml", ".gpx"):
            yield Hostile("xml", f"{name}{suffix}", data)
        yield Hostile("xml", f"{name}.kmz", _zip([("doc.kml", data)]))


# -- zip ----------------------------------------------------------------------------


def _zip_attacks(t: Traps, inner: str) -> dict[str, Callable[[], bytes]]:
    payload = _kml().encode()

    def lying_sizes() -> bytes:
        data = _bomb(inner, 16)
        data = _patch_all(data, _LOCAL, 22, "<I", 100)  # uncompressed size: 100 bytes
        return _patch_all(data, _CENTRAL, 24, "<I", 100)

    def encrypted() -> bytes:
        data = _zip([(inner, payload)])
        data = _patch_all(data, _LOCAL, 6, "<H", 1)  # general purpose flag bit 0: encrypted
        return _patch_all(data, _CENTRAL, 8, "<H", 1)

    def method(value: int) -> Callable[[], bytes]:
        def build() -> bytes:
            data = _zip([(inner, payload)])
            data = _patch_all(data, _LOCAL, 8, "<H", value)
            return _patch_all(data, _CENTRAL, 10, "<H", value)
        return build

    return {
        "slip-dotdot": lambda: _zip([(inner, payload), ("../" * 12 + t.slip("dotdot")[1:], b"slipped")]),
        "slip-absolute": lambda: _zip([(inner, payload), (t.slip("absolute"), b"slipped")]),
        "slip-backslash": lambda: _zip([(inner, payload), ("..\\" * 12 + t.slip("backslash")[1:].replace("/", "\\"),
                                                          b"slipped")]),
        "slip-drive": lambda: _zip([(inner, payload), ("C:" + t.slip("drive"), b"slipped")]),
        "slip-nested": lambda: _zip([(inner, payload), ("a/b/" + "../" * 14 + t.slip("nested")[1:], b"slipped")]),
        "symlink-secret": lambda: _zip([(_symlink(inner, str(t.secret)), str(t.secret).encode())]),
        "symlink-dir-then-write": lambda: _zip([(_symlink("d", "/tmp"), b"/tmp"),
                                                (f"d/zipslip-{t.token}-via-link.txt", b"slipped"), (inner, payload)]),
        "bomb-ratio": lambda: _bomb(inner, 32),
        "bomb-lying-header": lying_sizes,
        "bomb-many-members": lambda: _zip([(f"m/{i}.txt", b"") for i in range(5_000)] + [(inner, payload)],
                                          zipfile.ZIP_STORED),
        "bomb-nested": lambda: _zip([("inner.zip", _zip([("inner2.zip", _bomb(inner, 16))]))]),
        "encrypted-member": encrypted,
        "unsupported-method": method(99),
        "lzma-claimed": method(14),
        "truncated": lambda: _zip([(inner, payload)])[:-30],
        "end-record-only": lambda: b"PK\x05\x06" + b"\0" * 18,
        "empty": lambda: b"",
        "duplicate-names": lambda: _zip([(inner, payload), (inner, b"second")]),
        "long-name": lambda: _zip([("n" * 4_000 + ".txt", b"x"), (inner, payload)]),
        "nul-in-name": lambda: _zip([(inner.replace(".", "\0."), payload)]),
        "control-chars-name": lambda: _zip([("doc\n\r\x1b[2J.kml", payload), (inner, payload)]),
        "zip-in-disguise": lambda: _zip([(inner, _zip([(inner, payload)]))]),
    }


def _zip_files(t: Traps) -> Iterator[Hostile]:
    for suffix, inner in ((".kmz", "doc.kml"), (".zip", "hazards.shp")):
        for name, build in _zip_attacks(t, inner).items():
            yield Hostile("zip", f"{name}{suffix}", build())


# -- shapefile ---------------------------------------------------------------------------


def _shp_polygon(points: list[tuple[float, float]], *, parts: int = 1, count: int | None = None,
                 shape_type: int = 5, file_words: int | None = None, content_words: int | None = None) -> bytes:
    n = len(points) if count is None else count
    xs, ys = [p[0] for p in points] or [0.0], [p[1] for p in points] or [0.0]
    box = struct.pack("<4d", min(xs), min(ys), max(xs), max(ys))
    body = struct.pack("<i", shape_type) + box + struct.pack("<ii", parts, n) + struct.pack("<i", 0)
    body += b"".join(struct.pack("<2d", *p) for p in points)
    record = struct.pack(">ii", 1, content_words if content_words is not None else len(body) // 2) + body
    length = file_words if file_words is not None else (100 + len(record)) // 2
    header = struct.pack(">i5ii", 9994, 0, 0, 0, 0, 0, length) + struct.pack("<ii", 1000, shape_type) + box
    header += struct.pack("<4d", 0, 0, 0, 0)
    return header + record


def _shx(records: int = 1, offset_words: int = 50, length_words: int = 60) -> bytes:
    header = struct.pack(">i5ii", 9994, 0, 0, 0, 0, 0, 50 + 4 * records) + struct.pack("<ii", 1000, 5)
    return header + b"\0" * 64 + b"".join(struct.pack(">ii", offset_words, length_words) for _ in range(records))


def _dbf(rows: int = 1, *, claimed: int | None = None, header_len: int | None = None, field_len: int = 10) -> bytes:
    fields = b"NAME".ljust(11, b"\0") + b"C" + b"\0" * 4 + bytes([field_len, 0]) + b"\0" * 14
    hlen = 32 + len(fields) + 1 if header_len is None else header_len
    header = struct.pack("<BBBBIHH", 3, 125, 1, 1, rows if claimed is None else claimed, hlen, 1 + field_len)
    header += b"\0" * 20
    return header + fields + b"\r" + b"".join(b" " + b"hostile".ljust(field_len)[:field_len] for _ in range(rows)) + b"\x1a"


_PRJ = (b'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
        b'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]')
_RING = [(-33.70, -30.00), (-33.69, -30.00), (-33.69, -29.99), (-33.70, -29.99), (-33.70, -30.00)]


def _shapefile_files(t: Traps) -> Iterator[Hostile]:
    good = {"h.shp": _shp_polygon(_RING), "h.shx": _shx(), "h.dbf": _dbf(), "h.prj": _PRJ, "h.cpg": b"UTF-8"}
    variants: dict[str, dict[str, bytes | None]] = {
        "shp-record-length-huge": {"h.shp": _shp_polygon(_RING, content_words=2**30)},
        "shp-file-length-huge": {"h.shp": _shp_polygon(_RING, file_words=2**31 - 1)},
        "shp-negative-parts": {"h.shp": _shp_polygon(_RING, parts=-1)},
        "shp-point-count-huge": {"h.shp": _shp_polygon(_RING, count=2**31 - 1)},
        "shp-unknown-type": {"h.shp": _shp_polygon(_RING, shape_type=99)},
        "shp-nan-coordinates": {"h.shp": _shp_polygon([(float("nan"), float("inf"))] * 5)},
        "shp-truncated": {"h.shp": _shp_polygon(_RING)[:130]},
        "shx-offsets-beyond": {"h.shx": _shx(records=3, offset_words=2**30)},
        "dbf-claims-billions": {"h.dbf": _dbf(claimed=2**31 - 1)},
        "dbf-header-length-zero": {"h.dbf": _dbf(header_len=0)},
        "dbf-field-length-zero": {"h.dbf": _dbf(field_len=0)},
        "prj-garbage": {"h.prj": b"PROJCS[" * 10_000},
        "cpg-unknown": {"h.cpg": b"x-mineaction-evil"},
        "missing-shx": {"h.shx": None},
        "missing-dbf": {"h.dbf": None},
    }
    for name, change in variants.items():
        files = {**good, **change}
        yield Hostile("shapefile", f"{name}.zip", _zip([(k, v) for k, v in files.items() if v is not None]))


# -- geojson ------------------------------------------------------------------------------


def _feature(geometry: object, **properties: object) -> dict[str, object]:
    return {"type": "Feature", "properties": {"hazard_type": "SHA", **properties}, "geometry": geometry}


def _collection(*features: object, **extra: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": list(features)}).encode()


def _geojson_files(t: Traps) -> Iterator[Hostile]:
    ring = [list(p) for p in _RING]
    polygon = {"type": "Polygon", "coordinates": [ring]}
    cases: dict[str, bytes] = {
        "array-nesting-bomb": b'{"type":"FeatureCollection","features":' + b"[" * 200_000 + b"]" * 200_000 + b"}",
        "object-nesting-bomb": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "geometrycollection-nesting": b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                                      b'"geometry":' + b'{"type":"GeometryCollection","geometries":[' * 3_000
                                      + json.dumps(polygon).encode() + b"]}" * 3_000 + b"}]}",
        "number-overflow": b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                           b'"geometry":{"type":"Point","coordinates":[1e999,-1e999]}}]}',
        "nan-literal": b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                       b'"geometry":{"type":"Point","coordinates":[NaN,Infinity]}}]}',
        "coordinates-as-string": _collection(_feature({"type": "Polygon", "coordinates": "-33.7 -30.0"})),
        "coordinates-too-deep": _collection(_feature({"type": "Point", "coordinates": [[[[[-33.7, -30.0]]]]]})),
        "unknown-geometry-type": _collection(_feature({"type": "Pentagon", "coordinates": [ring]})),
        "missing-type": json.dumps({"features": [_feature(polygon)]}).encode(),
        "features-not-a-list": json.dumps({"type": "FeatureCollection", "features": {"a": 1}}).encode(),
        "huge-property": _collection(_feature(polygon, description="x" * 8_000_000)),
        "property-flood": _collection(_feature(polygon, **{f"p{i}": i for i in range(20_000)})),
        "duplicate-keys": b'{"type":"FeatureCollection","type":"Topology","features":[]}',
        "vertex-flood": _collection(_feature({"type": "Polygon", "coordinates": [
            [[-33.7 + i * 1e-7, -30.0 + (i % 2) * 1e-7] for i in range(300_000)] + [[-33.7, -30.0]]]})),
        "hole-flood": _collection(_feature({"type": "Polygon", "coordinates": [ring] + [
            [[-33.699 + i * 1e-6, -29.995], [-33.699 + i * 1e-6 + 5e-7, -29.995], [-33.699 + i * 1e-6, -29.9949],
             [-33.699 + i * 1e-6, -29.995]] for i in range(5_000)]})),
        "crs-unknown-epsg": _collection(_feature(polygon), crs={"type": "name", "properties": {
            "name": "urn:ogc:def:crs:EPSG::999999"}}),
        "crs-remote-link": _collection(_feature(polygon), crs={"type": "link", "properties": {
            "href": f"{t.url}/crs.wkt", "type": "ogcwkt"}}),
        "id-overflow": b'{"type":"FeatureCollection","features":[{"type":"Feature","id":1e400,"properties":{},'
                       b'"geometry":null}]}',
        "bbox-garbage": _collection(_feature(polygon), bbox=["a", None, {}, []]),
        "null-geometries": _collection(*[_feature(None) for _ in range(1_000)]),
        "topojson": json.dumps({"type": "Topology", "objects": {}, "arcs": [[[0, 0]] * 10]}).encode(),
        "esri-json": json.dumps({"geometryType": "esriGeometryPolygon", "features": [
            {"attributes": {}, "geometry": {"rings": [ring]}}]}).encode(),
        "trailing-garbage": _collection(_feature(polygon)) + b"\x00\xff garbage",
        "comments": b"// hostile\n" + _collection(_feature(polygon)),
        "json-lines": b"\n".join(json.dumps(_feature(polygon)).encode() for _ in range(3)),
        "utf16": _collection(_feature(polygon)).decode().encode("utf-16"),
        "invalid-utf8": _collection(_feature(polygon, description="ok")).replace(b'"ok"', b'"\xff\xfe\xfd"'),
        "bom-then-garbage": b"\xef\xbb\xbf\x00\x00\x00",
        "literal-null": b"null",
        "top-level-array": b"[1, 2, 3]",
        "truncated": _collection(_feature(polygon))[:40],
        "empty": b"",
        "random-bytes": random.Random(2).randbytes(1_000_000),
    }
    for name, data in cases.items():
        yield Hostile("geojson", f"{name}.geojson", data)


# -- csv ------------------------------------------------------------------------------------


def _csv_files(t: Traps) -> Iterator[Hostile]:
    header = "hazard_type,lon,lat,description\n"
    row = "SHA,-33.7,-30.0,hostile\n"
    cases: dict[str, bytes] = {
        "nul-bytes": (header + row.replace("hostile", "host\0ile")).encode(),
        "invalid-utf8": header.encode() + b"SHA,-33.7,-30.0,\xff\xfe\xfa\n",
        "utf16-bom": (header + row).encode("utf-16"),
        "unbalanced-quote": (header + 'SHA,-33.7,-30.0,"never closed\n' + row * 3).encode(),
        "quote-in-field": (header + 'SHA,-33.7,-30.0,ho"st"ile\n').encode(),
        "huge-field": (header + "SHA,-33.7,-30.0," + "x" * 5_000_000 + "\n").encode(),
        "column-flood": (",".join(f"c{i}" for i in range(60_000)) + "\n" + ",".join("1" * 60_000) + "\n").encode(),
        "duplicate-headers": b"lon,lon,lat,lat\n1,2,3,4\n",
        "empty-header": b",,,\n1,2,3,4\n",
        "header-only": header.encode(),
        "cr-only-lines": (header + row * 3).replace("\n", "\r").encode(),
        "mixed-delimiters": b"hazard_type;lon,lat\tdescription\nSHA;-33.7,-30.0\thostile\n",
        "lonlat-nan": (header + "SHA,nan,NaN,hostile\n").encode(),
        "lonlat-infinite": (header + "SHA,inf,-Infinity,hostile\n").encode(),
        "lonlat-huge": (header + "SHA,1e308,-1e308,hostile\n").encode(),
        "lonlat-out-of-range": (header + "SHA,-33.7,200,hostile\n").encode(),
        "lonlat-comma-decimal": (header + 'SHA,"-33,7","-30,0",hostile\n').encode(),
        "lonlat-text": (header + "SHA,east,south,hostile\n").encode(),
        "wkt-truncated": b"hazard_type,wkt\nSHA,\"POLYGON((-33.7 -30.0, -33.69\"\n",
        "wkt-huge-numbers": b"hazard_type,wkt\nSHA,\"POINT(1e308 -1e308)\"\n",
        "wkt-empty-collection": b"hazard_type,wkt\nSHA,GEOMETRYCOLLECTION EMPTY\n",
        "wkt-nesting": ("hazard_type,wkt\nSHA,\"" + "GEOMETRYCOLLECTION(" * 5_000 + "POINT(0 0)" + ")" * 5_000
                        + "\"\n").encode(),
        "mgrs-garbage": b"hazard_type,mgrs\nSHA,ZZZZZ99999\nSHA,\nSHA,37U\n",
        "row-flood": (header + row * 200_000).encode(),
        "binary": b"\x7fELF\x02\x01\x01" + random.Random(3).randbytes(4096),
        "excel-sep-hint": ("sep=;\n" + header + row).encode(),
        "nul-header": b"lon\0,lat\n1,2\n",
        "long-header-names": (",".join("h" * 100_000 + str(i) for i in range(3)) + "\n1,2,3\n").encode(),
    }
    for name, data in cases.items():
        yield Hostile("csv", f"{name}.csv", data)


# -- geopackage / sqlite -------------------------------------------------------------------


def _sqlite(build: Callable[[sqlite3.Connection], None]) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.gpkg"
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA synchronous = OFF")  # a throwaway file: no need to wait for the disk
        build(connection)
        connection.commit()
        connection.close()
        return path.read_bytes()


def _gpkg(connection: sqlite3.Connection, blobs: list[bytes | None], *, table: str = "hazards") -> None:
    connection.executescript(f"""
        PRAGMA application_id = 1196444487; PRAGMA user_version = 10300;
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
            organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
            description TEXT);
        INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84"]', '');
        CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME, min_x DOUBLE,
            min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
        CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL);
        INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
            VALUES ('{table}', 'features', '{table}', 4326);
        INSERT INTO gpkg_geometry_columns VALUES ('{table}', 'geom', 'POLYGON', 4326, 0, 0);
    """)
    if table == "hazards":
        connection.execute("CREATE TABLE hazards (fid INTEGER PRIMARY KEY, geom BLOB, hazard_type TEXT)")
        connection.executemany("INSERT INTO hazards (geom, hazard_type) VALUES (?, 'SHA')", [(b,) for b in blobs])


def _gp(wkb: bytes, flags: int = 0b0000_0001) -> bytes:
    return b"GP" + bytes([0, flags]) + struct.pack("<i", 4326) + wkb


def _gpkg_files(t: Traps) -> Iterator[Hostile]:
    ring = struct.pack("<I", 5) + b"".join(struct.pack("<2d", *p) for p in _RING)
    polygon = struct.pack("<BII", 1, 3, 1) + ring
    good = _sqlite(lambda c: _gpkg(c, [_gp(polygon)]))
    cases: dict[str, bytes] = {
        "random-after-header": b"SQLite format 3\x00" + random.Random(4).randbytes(8192),
        "page-size-invalid": good[:16] + struct.pack(">H", 3) + good[18:],
        "truncated-1k": good[:1024],
        "truncated-half": good[: len(good) // 2],
        "corrupt-pages": good[:4096] + bytes(b ^ 0x5A for b in good[4096:8192]) + good[8192:],
        "not-a-geopackage": _sqlite(lambda c: c.execute("CREATE TABLE x (a)")),
        "dangling-contents": _sqlite(lambda c: _gpkg(c, [], table="missing_table")),
        "blob-bad-magic": _sqlite(lambda c: _gpkg(c, [b"XX" + _gp(polygon)[2:]])),
        "blob-envelope-7": _sqlite(lambda c: _gpkg(c, [_gp(polygon, flags=0b0000_1111)])),
        "blob-empty-flag-lies": _sqlite(lambda c: _gpkg(c, [_gp(polygon, flags=0b0001_0001)])),
        "blob-truncated-wkb": _sqlite(lambda c: _gpkg(c, [_gp(polygon[:20])])),
        "blob-point-count-huge": _sqlite(lambda c: _gpkg(c, [_gp(struct.pack("<BIII", 1, 3, 1, 2**31 - 1))])),
        "blob-ring-count-huge": _sqlite(lambda c: _gpkg(c, [_gp(struct.pack("<BII", 1, 3, 2**31 - 1))])),
        "blob-unknown-type": _sqlite(lambda c: _gpkg(c, [_gp(struct.pack("<BI", 1, 9999) + ring)])),
        "blob-header-only": _sqlite(lambda c: _gpkg(c, [b"GP\x00\x01"])),
        "blob-text": _sqlite(lambda c: _gpkg(c, [b"POLYGON((0 0,1 0,1 1,0 0))"])),
        "blob-nested-collections": _sqlite(lambda c: _gpkg(c, [_gp(
            struct.pack("<BII", 1, 7, 1) * 2_000 + struct.pack("<BII", 1, 7, 0))])),
        "view-load-extension": _sqlite(lambda c: (_gpkg(c, [], table="v"), c.executescript(
            f"CREATE VIEW v AS SELECT 1 AS fid, load_extension('/tmp/evil-{t.token}') AS geom;"))),
        "srs-garbage": _sqlite(lambda c: (_gpkg(c, [_gp(polygon)]), c.execute(
            "UPDATE gpkg_spatial_ref_sys SET definition = 'PROJCS[' || hex(zeroblob(5000))"))),
        "column-flood": _sqlite(lambda c: (_gpkg(c, [_gp(polygon)]), c.execute(
            "CREATE TABLE wide (" + ", ".join(f"c{i}" for i in range(1_900)) + ")"))),
        "wal-header-no-wal": good[:18] + b"\x02\x02" + good[20:],
        "zip-named-gpkg": _zip([("x.gpkg", good)]),
    }
    for name, data in cases.items():
        yield Hostile("gpkg", f"{name}.gpkg", data)


# -- odk --------------------------------------------------------------------------------


def _odk_files(t: Traps) -> Iterator[Hostile]:
    def export(*answers: dict[str, object]) -> bytes:
        return json.dumps({"value": [{"__id": f"uuid:{i}", "meta": {"instanceID": f"uuid:{i}"}, **a}
                                     for i, a in enumerate(answers)]}).encode()

    spot = {"category": "ap_mine", "condition": "functional", "quantity": 1, "found_on": "2025-05-01",
            "location": "-30.0 -33.7 0 5"}
    cases: dict[str, bytes] = {
        "nesting-bomb": b'{"value":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "value-not-a-list": b'{"value": "hostile"}',
        "top-level-number": b"42",
        "no-instance-id": json.dumps({"value": [{"category": "ap_mine"}]}).encode(),
        "attachment-absolute": export({**spot, "photo": str(t.secret)}),
        "attachment-traversal": export({**spot, "photo": "../" * 20 + str(t.secret)[1:]}),
        "attachment-listed-traversal": export({**spot, "photo": "p.jpg",
                                               "_attachments": [{"filename": "../" * 20 + str(t.secret)[1:]}]}),
        "geopoint-garbage": export({**spot, "location": "nan inf 1e999 x"}),
        "geoshape-garbage": export({**spot, "location": ";" * 10_000}),
        "answers-wrong-types": export({**spot, "quantity": {"nested": [1]}, "found_on": ["2025"], "category": 7}),
        "submission-flood": export(*[{**spot, "category": "not_a_code"}] * 5_000),
        "csv-nul": b"meta-instanceID,category\nuuid:1,ap\0mine\n",
    }
    for name, data in cases.items():
        suffix = ".csv" if name.startswith("csv-") else ".json"
        yield Hostile("odk", f"eo_spot_report__{name}{suffix}", data, importable=name.startswith("attachment-"))


# -- misc --------------------------------------------------------------------------------


def _misc_files(t: Traps) -> Iterator[Hostile]:
    for suffix in (".gpkg", ".geojson", ".json", ".zip", ".kml", ".kmz", ".gpx", ".csv", ".shp"):
        yield Hostile("misc", f"zero-bytes{suffix}", b"")
    yield Hostile("misc", "unknown-format.exe", b"MZ" + b"\0" * 64)
    yield Hostile("misc", "name-with-\u202eslip.kml", _kml(f"<desc>{t.token}</desc>").encode())
    yield Hostile("misc", "name with\nnewline.geojson", _collection())
    yield Hostile("misc", "png-as.geojson", b"\x89PNG\r\n\x1a\n" + random.Random(5).randbytes(4096))


_CATEGORIES = (_xml_files, _zip_files, _shapefile_files, _geojson_files, _csv_files, _gpkg_files, _odk_files,
               _misc_files)


def hostile_files(traps: Traps) -> list[Hostile]:
    """The whole corpus, deterministic for given traps."""
    return [h for build in _CATEGORIES for h in build(traps)]


def write_corpus(folder: Path, traps: Traps) -> list[tuple[Hostile, Path]]:
    """Write every file into its category's sub-folder of ``folder``."""
    written = []
    for hostile in hostile_files(traps):
        path = folder / hostile.category / hostile.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(hostile.data)
        written.append((hostile, path))
    return written
