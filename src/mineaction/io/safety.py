"""Refusing hostile files before any parser that trusts them sees them.

Two classic attacks arrive as field data: XML that expands entities (the
"billion laughs") or pulls in external files, and archives (KMZ, zipped
Shapefiles) whose members escape the folder they are unpacked into (``../``)
or inflate to fill the disk. XML is walked once with defusedxml, streaming,
so a large honest KML costs little memory; archives are unpacked member by
member with their names checked and the bytes actually written counted,
since a zip header may lie about sizes.
"""

from __future__ import annotations

import re
import stat
import zipfile
from pathlib import Path, PurePosixPath

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse

from mineaction.io.errors import SourceError, UnsafeSource

__all__ = ["MAX_RATIO", "MAX_UNPACKED_BYTES", "check_geojson_crs", "check_xml", "safe_unzip"]

#: an archive may unpack to at most this much (room for a 2 GB honest file)
MAX_UNPACKED_BYTES = 4 * 1024**3
#: members larger than _RATIO_FLOOR that compress better than this are refused as bombs;
#: real KML and DBF compress 5-20×, a bomb thousands of times
MAX_RATIO = 200
_RATIO_FLOOR = 8 * 1024**2
_COPY_CHUNK = 1024**2


def check_xml(path: Path, root: str) -> None:
    """Walk an XML file (KML, GPX) refusing DTDs, entities, external references and other documents.

    KML and GPX never need a DTD, so any DOCTYPE is refused: that closes
    entity expansion and external entities in one rule. The root element
    must be ``root`` (``kml``/``gpx``), so GDAL never gets to open another
    XML format (a VRT naming remote or local files) by its content.
    """
    try:
        for event, element in iterparse(str(path), events=("start", "end"), forbid_dtd=True,
                                        forbid_entities=True, forbid_external=True):
            if event == "start" and root:
                if element.tag.rsplit("}", 1)[-1] != root:
                    raise SourceError(f"{path.name}: not {root.upper()}: its root element is {element.tag!r}")
                root = ""
            elif event == "end":
                element.clear()
    except DefusedXmlException as exc:
        raise UnsafeSource(
            f"{path.name}: refused: the XML declares a DTD or entities ({type(exc).__name__}); "
            "KML and GPX never need them, and they are how entity-expansion and external-entity attacks work"
        ) from None
    except (ParseError, LookupError, ValueError) as exc:  # LookupError: an encoding Python does not know
        raise SourceError(f"{path.name}: not well-formed XML ({exc})") from None


def _member_name(info: zipfile.ZipInfo, archive: str) -> PurePosixPath:
    name = PurePosixPath(info.filename.replace("\\", "/"))
    if name.is_absolute() or ".." in name.parts or (name.parts and name.parts[0].endswith(":")):
        raise UnsafeSource(f"{archive}: refused: member {info.filename!r} would be written outside the folder")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise UnsafeSource(f"{archive}: refused: member {info.filename!r} is a symbolic link")
    return name


def safe_unzip(archive: Path, into: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> list[Path]:
    """Unpack a zip (or KMZ) into ``into``, refusing path traversal, links and bombs."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SourceError(f"{archive.name}: not a readable zip archive ({exc})") from None
    with zf:
        members = [(info, _member_name(info, archive.name)) for info in zf.infolist()]
        names = [str(name).casefold() for _, name in members]
        if len(set(names)) != len(names):
            raise UnsafeSource(f"{archive.name}: refused: two members have the same name; which one is meant?")
        declared = sum(info.file_size for info, _ in members)
        if declared > max_bytes:
            raise UnsafeSource(f"{archive.name}: refused: unpacks to {declared:,} bytes (limit {max_bytes:,})")
        for info, _ in members:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _RATIO_FLOOR and ratio > MAX_RATIO:
                raise UnsafeSource(
                    f"{archive.name}: refused: member {info.filename!r} expands {ratio:,.0f}× "
                    f"(limit {MAX_RATIO}×): a decompression bomb"
                )
        written, out = 0, []
        for info, name in members:
            target = into.joinpath(*name.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(_COPY_CHUNK):
                        written += len(chunk)
                        if written > min(declared, max_bytes):  # the header lied about the size
                            raise UnsafeSource(f"{archive.name}: refused: unpacks to more than it declares")
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, OSError, RuntimeError, NotImplementedError) as exc:
                # RuntimeError: encrypted; NotImplementedError: a compression zipfile cannot read
                raise SourceError(f"{archive.name}: member {info.filename!r} cannot be unpacked ({exc})",
                                  hint="zip it again without a password, with ordinary (deflate) compression") from None
            out.append(target)
    return out


_REMOTE = re.compile(rb'"(?:href|name)"\s*:\s*"\s*(?:https?|ftp|file)://', re.IGNORECASE)


def check_geojson_crs(path: Path) -> None:
    """Refuse a GeoJSON that names its CRS by a web or file address.

    GDAL resolves such a ``crs`` (a pre-RFC 7946 member) by fetching the
    address: a request to any host (server-side request forgery) or a read
    of a local file. RFC 7946 GeoJSON has no ``crs`` at all. The file is
    scanned in chunks, so a large one costs little memory.
    """
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(_COPY_CHUNK):
            window = tail + chunk
            if _REMOTE.search(window):
                raise UnsafeSource(f"{path.name}: refused: it names a CRS by a web or file address, which GDAL "
                                   "would fetch", hint="remove the 'crs' member (GeoJSON is WGS 84 by RFC 7946)")
            tail = window[-256:]
