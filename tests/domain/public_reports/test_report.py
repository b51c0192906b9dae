"""A civilian's report: what is taken, what is refused and why, and that the contact is personal data."""

from __future__ import annotations

import datetime as dt

import pytest

from mineaction.domain.entities import Sensitivity
from mineaction.domain.geometry import Extent
from mineaction.domain.public_reports.report import FIELD_SENSITIVITY, PublicReport, ReportRejected, validate_report
from mineaction.domain.public_reports.vocabularies import VOCABULARIES, label

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
UKRAINE = Extent(22.0, 44.0, 41.0, 53.0)
GOOD = {"lon": 35.0462, "lat": 48.4647, "location_source": "gps", "accuracy_m": 8, "category": "shell",
        "seen_at": "2026-05-01T14:10+03:00", "count": "2", "people_near": "yes", "language": "uk",
        "description": "У полі біля дороги", "contact": "+380 (67) 123-45-67"}


def test_a_complete_report_is_taken_with_its_values_normalised() -> None:
    report = validate_report(GOOD, now=NOW, extent=UKRAINE)
    assert (report.lon, report.lat, report.count, report.accuracy_m) == (35.0462, 48.4647, 2, 8.0)
    assert report.seen_at == dt.datetime(2026, 5, 1, 11, 10, tzinfo=dt.UTC)
    assert report.contact == "+380671234567"
    assert report.point is not None and report.point.x == 35.0462


def test_a_minimal_report_defaults_to_unknown_and_now() -> None:
    report = validate_report({"lon": 35.0, "lat": 48.0}, now=NOW)
    assert (report.category, report.people_near, report.count, report.seen_at, report.contact) == (
        "unknown", "unknown", None, NOW, "")
    assert report.location_source == "gps"


def test_a_described_place_without_coordinates_is_taken_for_the_dispatcher_to_locate() -> None:
    report = validate_report({"place_text": "Вилхівка, за школою, біля ставка"}, now=NOW)
    assert (report.lon, report.location_source, report.place_text) == (None, "address", "Вилхівка, за школою, біля ставка")


def test_every_problem_is_named_at_once() -> None:
    bad = {"lon": 35.0, "lat": "north", "category": "nuke", "people_near": "maybe", "count": 0,
           "seen_at": "2026-05-02T12:00+00:00", "contact": "call me", "description": "x" * 2001}
    with pytest.raises(ReportRejected) as caught:
        validate_report(bad, now=NOW)
    assert set(caught.value.problems) == {"location", "category", "people_near", "count", "seen_at", "contact", "description"}
    assert "future" in caught.value.problems["seen_at"]
    assert "2001 characters" in caught.value.problems["description"]


def test_no_location_and_no_place_is_refused() -> None:
    with pytest.raises(ReportRejected) as caught:
        validate_report({"category": "mine"}, now=NOW)
    assert list(caught.value.problems) == ["location"]


def test_swapped_coordinates_are_named_as_such_against_the_programme_extent() -> None:
    with pytest.raises(ReportRejected) as caught:
        validate_report({"lon": 48.4647, "lat": 35.0462}, now=NOW, extent=UKRAINE)
    assert "wrong order" in caught.value.problems["location"]


def test_a_time_without_a_zone_or_a_clock_slightly_ahead() -> None:
    with pytest.raises(ReportRejected, match="time zone"):
        validate_report({**GOOD, "seen_at": "2026-05-01T11:00"}, now=NOW)
    ahead = validate_report({**GOOD, "seen_at": "2026-05-01T12:05+00:00"}, now=NOW)  # within the 10 min skew
    assert ahead.seen_at > NOW


def test_an_email_contact_is_kept_lower_case_and_the_contact_is_personal_data() -> None:
    assert validate_report({**GOOD, "contact": "Olena.K@Example.org"}, now=NOW).contact == "olena.k@example.org"
    assert FIELD_SENSITIVITY["contact"] is Sensitivity.PERSONAL
    assert set(FIELD_SENSITIVITY) == {f for f in PublicReport.__dataclass_fields__ if f not in ("lon", "lat")} | {"location"}


def test_every_vocabulary_term_has_an_english_and_a_ukrainian_label() -> None:
    for name, terms in VOCABULARIES.items():
        for code, (en, uk) in terms.items():
            assert en.strip() and uk.strip() and en != uk, (name, code)
    assert label("reported_item", "submunition", "en") == "Small bomblet (cluster munition)"
    assert label("people_near", "unknown", "uk") == "Не знаю"


def test_values_of_the_wrong_type_from_an_api_are_problems_not_crashes() -> None:
    with pytest.raises(ReportRejected) as caught:
        validate_report({"lon": [35], "lat": {"x": 1}, "category": ["mine"], "people_near": 1, "count": 2.5}, now=NOW)
    assert set(caught.value.problems) == {"location", "category", "people_near", "count"}
