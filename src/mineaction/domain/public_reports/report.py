"""The public report of a found item, and the rules it must meet before it is stored.

A civilian's report is short and often imperfect, so validation collects
every problem at once (:class:`ReportRejected` maps field to message, for a
form to show beside each field) rather than stopping at the first. Location
is a WGS 84 point (from the device, a map tap, or typed coordinates that
``io.public_reports`` has parsed), or, failing that, a place described in
words for the dispatcher to locate. The callback contact is personal data:
:data:`FIELD_SENSITIVITY` marks it so, for storage and every output.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely

from mineaction.domain.entities import Sensitivity
from mineaction.domain.geometry import Extent, check_extent
from mineaction.domain.public_reports.policy import IntakePolicy
from mineaction.domain.public_reports.vocabularies import VOCABULARIES
from mineaction.errors import InvalidGeometry, InvalidValue

__all__ = ["FIELD_SENSITIVITY", "PublicReport", "ReportRejected", "validate_report"]

#: most items one report may count; more is a stockpile, reported as "unknown" count with a description
MAX_COUNT = 1000
DESCRIPTION_MAX = 2000
PLACE_MAX = 500
CONTACT_MAX = 200
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-.]{5,24}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")

#: who may see each field: the place is restricted (a hazard location in a war zone), the contact personal
FIELD_SENSITIVITY: Mapping[str, Sensitivity] = {
    "location": Sensitivity.RESTRICTED,
    "location_source": Sensitivity.RESTRICTED,
    "accuracy_m": Sensitivity.RESTRICTED,
    "place_text": Sensitivity.RESTRICTED,
    "category": Sensitivity.PUBLIC,
    "seen_at": Sensitivity.PUBLIC,
    "count": Sensitivity.PUBLIC,
    "people_near": Sensitivity.RESTRICTED,
    "description": Sensitivity.RESTRICTED,
    "contact": Sensitivity.PERSONAL,
    "language": Sensitivity.RESTRICTED,
}


class ReportRejected(InvalidValue):
    """A report that cannot be taken as it is; ``problems`` maps each field to what is wrong with it."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in problems.items()))
        self.problems = dict(problems)


@dataclass(frozen=True)
class PublicReport:
    """A validated report, as the reporter gave it (the server adds id, time received and status)."""

    lon: float | None
    lat: float | None
    location_source: str
    category: str
    seen_at: dt.datetime
    people_near: str
    language: str
    count: int | None = None  # None: the reporter could not count them
    accuracy_m: float | None = None
    place_text: str = ""
    description: str = ""
    contact: str = ""  # personal data: a phone number or e-mail for a call back

    @property
    def point(self) -> shapely.Point | None:
        return None if self.lon is None or self.lat is None else shapely.Point(self.lon, self.lat)


def _text(value: Any, limit: int, name: str, problems: dict[str, str]) -> str:
    text = "" if value is None else " ".join(str(value).split())
    if len(text) > limit:
        problems[name] = f"is {len(text)} characters long; at most {limit}"
    return text


def _code(vocabulary: str, value: Any, name: str, problems: dict[str, str]) -> str:
    terms = VOCABULARIES[vocabulary]
    if not isinstance(value, str) or value not in terms:
        problems[name] = f"{value!r} is not one of {', '.join(terms)}"
    return str(value)


def _number(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def _contact(value: Any, problems: dict[str, str]) -> str:
    text = _text(value, CONTACT_MAX, "contact", problems)
    if not text or "contact" in problems:
        return text
    if _EMAIL.match(text):
        return text.lower()
    if _PHONE.match(text):
        return ("+" if text.startswith("+") else "") + re.sub(r"\D", "", text)
    problems["contact"] = "is neither a phone number nor an e-mail address"
    return text


def _location(data: Mapping[str, Any], extent: Extent | None, problems: dict[str, str]) -> tuple[float | None, float | None]:
    lon, lat = data.get("lon"), data.get("lat")
    if lon is None and lat is None:
        return None, None
    try:
        x, y = _number(lon), _number(lat)
    except (TypeError, ValueError):
        problems["location"] = f"({lon!r}, {lat!r}) are not a longitude and a latitude in degrees"
        return None, None
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        problems["location"] = f"({x}, {y}) is not a longitude and latitude on Earth"
        return None, None
    try:
        check_extent(shapely.Point(x, y), extent, where="location")
    except InvalidGeometry as exc:
        problems["location"] = str(exc)
        return None, None
    return x, y


def _seen_at(value: Any, now: dt.datetime, policy: IntakePolicy, problems: dict[str, str]) -> dt.datetime:
    if value is None or value == "":
        return now  # "just now" is what an unanswered "when" means on a phone form
    try:
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    except ValueError:
        problems["seen_at"] = f"{value!r} is not a date and time (ISO 8601)"
        return now
    if when.tzinfo is None:
        problems["seen_at"] = "needs a time zone (e.g. 2026-05-01T14:30+03:00)"
        return now
    if when > now + policy.clock_skew:
        problems["seen_at"] = "lies in the future"
    return when


def _count(value: Any, problems: dict[str, str]) -> int | None:
    if value is None or value == "" or value == "unknown":
        return None
    try:
        count = int(str(value).strip())
    except ValueError:
        problems["count"] = f"{value!r} is not a whole number"
        return None
    if not 1 <= count <= MAX_COUNT:
        problems["count"] = f"{count} is not between 1 and {MAX_COUNT}"
    return count


def validate_report(
    data: Mapping[str, Any], *, now: dt.datetime, extent: Extent | None = None, policy: IntakePolicy | None = None
) -> PublicReport:
    """The report in ``data`` (form or JSON fields) if it meets the rules, else :class:`ReportRejected`.

    Rules: a location as lon/lat inside the programme extent, or a described
    place (then ``location_source`` is ``address``); a category and "people
    near" from their vocabularies; a time seen with a time zone, not in the
    future beyond the allowed clock skew (missing: now); a count from 1 to
    :data:`MAX_COUNT` or unknown; a contact that is a phone number or e-mail
    if given; bounded free text.
    """
    policy = policy or IntakePolicy()
    problems: dict[str, str] = {}
    lon, lat = _location(data, extent, problems)
    place = _text(data.get("place_text"), PLACE_MAX, "place_text", problems)
    source = data.get("location_source") or ("address" if lon is None else "gps")
    source = _code("location_source", source, "location_source", problems)
    if lon is None and "location" not in problems:
        if not place:
            problems["location"] = "give the position (device, map or coordinates) or describe the place"
        elif source != "address":
            problems["location"] = f"a {source} location needs a longitude and latitude"
    accuracy = data.get("accuracy_m")
    if accuracy not in (None, ""):
        try:
            accuracy = _number(accuracy)
            if accuracy < 0:
                raise ValueError(accuracy)
        except (TypeError, ValueError):
            problems["accuracy_m"] = f"{accuracy!r} is not a distance in metres"
            accuracy = None
    else:
        accuracy = None
    report = PublicReport(
        lon=lon, lat=lat, location_source=source,
        category=_code("reported_item", data.get("category") or "unknown", "category", problems),
        seen_at=_seen_at(data.get("seen_at"), now, policy, problems),
        people_near=_code("people_near", data.get("people_near") or "unknown", "people_near", problems),
        language=_code("language", data.get("language") or "uk", "language", problems),
        count=_count(data.get("count"), problems),
        accuracy_m=accuracy,
        place_text=place,
        description=_text(data.get("description"), DESCRIPTION_MAX, "description", problems),
        contact=_contact(data.get("contact"), problems),
    )
    if problems:
        raise ReportRejected(problems)
    return report
