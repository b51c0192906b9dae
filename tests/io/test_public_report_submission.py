"""Typed coordinates from a public report form: decimal, degrees-minutes-seconds and MGRS, or a clear refusal."""

from __future__ import annotations

import datetime as dt

import mgrs
import pytest
from pyproj import Geod

from mineaction.domain.geometry import Extent
from mineaction.domain.public_reports.report import ReportRejected
from mineaction.io.public_reports import CoordinatesNotUnderstood, parse_coordinates, report_from_submission

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
UKRAINE = Extent(22.0, 44.0, 41.0, 53.0)
LON, LAT = 35.0462, 48.4647


def _metres(lon: float, lat: float) -> float:
    return float(Geod(ellps="WGS84").inv(lon, lat, LON, LAT)[2])


@pytest.mark.parametrize("text", [
    "48.4647, 35.0462", "48,4647; 35,0462", "48.4647 35.0462",
    "48°27'53\"N 35°2'46\"E", "35°2'46\"E, 48°27'53\"N", "N 48° 27.882 E 35° 2.772", "48 27 53 N 35 2 46 E",
    "48.4647N 35.0462E",
])
def test_the_forms_people_type_all_give_the_same_place(text: str) -> None:
    lon, lat = parse_coordinates(text)
    assert _metres(lon, lat) < 10


def test_mgrs_through_the_shared_parser() -> None:
    reference = mgrs.MGRS().toMGRS(LAT, LON, MGRSPrecision=5)
    spaced = f"{reference[:3]} {reference[3:5]} {reference[5:10]} {reference[10:]}"
    lon, lat = parse_coordinates(spaced.lower())
    assert _metres(lon, lat) < 2


def test_a_swapped_decimal_pair_is_turned_round_only_when_the_extent_says_so() -> None:
    assert parse_coordinates("35.0462, 48.4647") == (48.4647, 35.0462)  # no extent: latitude first, as typed
    assert parse_coordinates("35.0462, 48.4647", extent=UKRAINE) == (35.0462, 48.4647)


@pytest.mark.parametrize(("text", "why"), [
    ("near the school", "is not coordinates"), ("48°75'N 35°E", "under 60"), ("48N 49N", "two latitudes"),
    ("48 27 53 35 2 46", "is not coordinates"),
])
def test_what_is_not_coordinates_is_refused_with_the_forms_expected(text: str, why: str) -> None:
    with pytest.raises(CoordinatesNotUnderstood, match=why):
        parse_coordinates(text)


def test_a_submission_with_typed_coordinates_becomes_a_typed_location() -> None:
    report = report_from_submission({"coordinates": "48.4647, 35.0462", "category": "mine", "people_near": "no"},
                                    now=NOW, extent=UKRAINE)
    assert (report.lon, report.lat, report.location_source) == (LON, LAT, "typed")


def test_device_position_wins_over_typed_text() -> None:
    report = report_from_submission({"lon": 30.5, "lat": 50.4, "coordinates": "48.4647, 35.0462"}, now=NOW)
    assert (report.lon, report.lat, report.location_source) == (30.5, 50.4, "gps")


def test_bad_coordinates_are_reported_with_the_other_problems_and_not_dropped_for_the_place_text() -> None:
    with pytest.raises(ReportRejected) as caught:
        report_from_submission({"coordinates": "somewhere", "category": "nuke"}, now=NOW)
    assert set(caught.value.problems) == {"coordinates", "category"}
    with pytest.raises(ReportRejected) as caught:
        report_from_submission({"coordinates": "48.4647, 35.0462x", "place_text": "by the pond"}, now=NOW)
    assert list(caught.value.problems) == ["coordinates"]


def test_coordinates_outside_the_programme_are_refused() -> None:
    with pytest.raises(ReportRejected) as caught:
        report_from_submission({"coordinates": "-33.9, 18.4"}, now=NOW, extent=UKRAINE)
    assert "outside the programme extent" in caught.value.problems["location"]
