"""A public report from what a phone form or a partner's app sends: typed coordinates parsed here.

The domain takes a location as lon/lat; people type it in many ways. This
module reads decimal degrees (``48.4647, 35.0462`` as map apps copy them:
latitude first), degrees-minutes-seconds with hemispheres
(``48°27'53"N 35°2'46"E``, in either order), and MGRS (``36U YU 12345 67890``,
through :func:`mineaction.io.coordinates.mgrs_points`). A decimal pair with
no hemisphere letters is taken as latitude, longitude unless only the other
order falls inside the programme extent. Anything else is a described place
for the dispatcher, never a guess.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from mineaction.domain.geometry import Extent
from mineaction.domain.public_reports.policy import IntakePolicy
from mineaction.domain.public_reports.report import PublicReport, ReportRejected, validate_report
from mineaction.io.coordinates import mgrs_points

__all__ = ["CoordinatesNotUnderstood", "parse_coordinates", "report_from_submission"]

_NUMBER = r"[-+]?\d{1,3}(?:[.,]\d+)?"
_DECIMAL_PAIR = re.compile(rf"^\s*({_NUMBER})\s*[,;\s]\s*({_NUMBER})\s*$")
_END = r"(?=\s*[NSEWnsew]\b)|(?=\s*[,;]|$)"
_DEGREES = rf"""(?P<deg>\d{{1,3}}(?:[.,]\d+)?)(?:\s*[°º]\s*|\s+|{_END})
        (?:(?P<min>\d{{1,2}}(?:[.,]\d+)?)\s*(?:['′’]\s*|\s+|{_END}))?
        (?:(?P<sec>\d{{1,2}}(?:[.,]\d+)?)\s*(?:["″”]|'')?\s*)?"""
#: degrees (minutes (seconds)) with the hemisphere after (48°27'53"N) or before (N 48° 27.883)
_DMS = (re.compile(rf"{_DEGREES}(?P<hem>[NSEWnsew])\b", re.VERBOSE),
        re.compile(rf"(?P<hem>[NSEWnsew])\s*{_DEGREES}", re.VERBOSE))
_MGRS = re.compile(r"^\s*\d{1,2}\s*[C-HJ-NP-X]\s*[A-HJ-NP-Z]{2}\s*(\d\s*){2,10}$", re.IGNORECASE)
_SOUTH_WEST = {"S", "s", "W", "w"}
_LATITUDE = {"N", "n", "S", "s"}


class CoordinatesNotUnderstood(ValueError):
    """The text is not coordinates in any form read here."""


def _float(text: str) -> float:
    return float(text.replace(",", "."))


def _dms(text: str) -> tuple[float, float] | None:
    found = next((f for f in (list(p.finditer(text)) for p in _DMS) if len(f) == 2), None)
    if found is None:
        return None
    values: dict[str, float] = {}
    for m in found:
        hemisphere = m["hem"]
        value = _float(m["deg"]) + _float(m["min"] or "0") / 60 + _float(m["sec"] or "0") / 3600
        if any(_float(m[part] or "0") >= 60 for part in ("min", "sec")):
            raise CoordinatesNotUnderstood(f"{m.group(0).strip()!r}: minutes and seconds must be under 60")
        axis = "lat" if hemisphere in _LATITUDE else "lon"
        if axis in values:
            raise CoordinatesNotUnderstood(f"{text!r} gives two {'latitudes' if axis == 'lat' else 'longitudes'}")
        values[axis] = -value if hemisphere in _SOUTH_WEST else value
    return values["lon"], values["lat"]


def parse_coordinates(text: str, *, extent: Extent | None = None) -> tuple[float, float]:
    """``(lon, lat)`` from typed coordinates, or :class:`CoordinatesNotUnderstood` saying what was expected.

    >>> parse_coordinates("48.4647, 35.0462")
    (35.0462, 48.4647)
    >>> [round(v, 5) for v in parse_coordinates("48°27'53\\"N 35°2'46\\"E")]
    [35.04611, 48.46472]
    """
    text = " ".join(str(text).split())
    if _MGRS.match(text):
        points, errors = mgrs_points([text])
        if errors:
            raise CoordinatesNotUnderstood(errors[0])
        return float(points[0].x), float(points[0].y)
    dms = _dms(text)
    if dms is not None:
        return dms
    m = _DECIMAL_PAIR.match(text)
    if m is None:
        raise CoordinatesNotUnderstood(
            f"{text!r} is not coordinates: give latitude, longitude in degrees (48.4647, 35.0462), "
            f"degrees with N/E (48°27'53\"N 35°2'46\"E) or an MGRS reference (36U YU 12345 67890)"
        )
    lat, lon = _float(m[1]), _float(m[2])
    if extent is not None and not _inside(extent, lon, lat) and _inside(extent, lat, lon):
        lat, lon = lon, lat
    return lon, lat


def _inside(extent: Extent, lon: float, lat: float) -> bool:
    return extent.west <= lon <= extent.east and extent.south <= lat <= extent.north


def report_from_submission(
    data: Mapping[str, Any], *, now: dt.datetime, extent: Extent | None = None, policy: IntakePolicy | None = None
) -> PublicReport:
    """Validate a submitted form or JSON body; ``coordinates`` (typed text) stands for lon/lat when given.

    Raises :class:`ReportRejected` with every problem, the coordinates' included.
    """
    fields = dict(data)
    typed = str(fields.pop("coordinates", "") or "").strip()
    problem = ""
    if typed and fields.get("lon") is None and fields.get("lat") is None:
        try:
            fields["lon"], fields["lat"] = parse_coordinates(typed, extent=extent)
            fields.setdefault("location_source", "typed")
        except CoordinatesNotUnderstood as exc:
            problem = str(exc)
    try:
        report = validate_report(fields, now=now, extent=extent, policy=policy)
    except ReportRejected as rejected:
        if not problem:
            raise
        others = {name: message for name, message in rejected.problems.items() if name != "location"}
        raise ReportRejected({"coordinates": problem, **others}) from None
    if problem:  # a described place was given too, but coordinates typed wrong are to be fixed, not dropped
        raise ReportRejected({"coordinates": problem})
    return report
