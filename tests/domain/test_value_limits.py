"""Every text field has a maximum length and every number is finite, checked by the domain's value checks.

``clean_values`` and ``clean_columns`` are what the REST API, review submissions,
imports and the Writer all call, so a limit checked here holds for each of them.
"""

from __future__ import annotations

import pytest

from mineaction.domain.entities import (
    DESCRIPTION_MAX_LENGTH,
    ENTITIES,
    TEXT_MAX_LENGTH,
    Kind,
    clean_columns,
    clean_values,
)
from mineaction.errors import InvalidValue

HAZARD = ENTITIES["hazard"]
TEXT_FIELDS = [(spec.name, f.name) for spec in ENTITIES.values() for f in spec.fields
               if f.kind in (Kind.TEXT, Kind.LINK, Kind.CODES) and not f.derived]


@pytest.mark.parametrize(("entity", "name"), TEXT_FIELDS)
def test_every_text_field_has_a_maximum_and_refuses_one_character_more(entity: str, name: str) -> None:
    f = ENTITIES[entity].field_map[name]
    assert 0 < f.longest <= DESCRIPTION_MAX_LENGTH
    value = "x" * (f.longest + 1)
    with pytest.raises(InvalidValue, match=rf"{entity}\.{name}: {f.longest + 1:,} characters, at most {f.longest:,}"):
        clean_values(ENTITIES[entity], {name: [value] if f.kind is Kind.CODES else value}, {}, partial=True)


def test_descriptions_are_longer_than_names_and_links_shorter() -> None:
    assert HAZARD.field_map["description"].longest == DESCRIPTION_MAX_LENGTH
    assert ENTITIES["victim"].field_map["notes"].longest == DESCRIPTION_MAX_LENGTH
    assert ENTITIES["organisation"].field_map["name"].longest == TEXT_MAX_LENGTH
    assert HAZARD.field_map["organisation_id"].longest == 64
    at_most = clean_values(HAZARD, {"description": "é" * DESCRIPTION_MAX_LENGTH}, {}, partial=True)
    assert len(at_most["description"]) == DESCRIPTION_MAX_LENGTH


def test_a_long_value_in_a_batch_names_its_row_and_the_message_stays_short() -> None:
    rows = [{"description": "fine"}, {"description": "y" * 1_000_000}]
    with pytest.raises(InvalidValue) as raised:
        clean_columns(HAZARD, rows, {}, where=["row 1", "row 2"], partial=True)
    assert str(raised.value).startswith("row 2.description: 1,000,000 characters")
    assert len(str(raised.value)) < 200


def test_a_lone_surrogate_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValue, match=r"hazard\.description: not valid Unicode text"):
        clean_values(HAZARD, {"description": "a\ud800b"}, {}, partial=True)
    assert clean_values(HAZARD, {"description": "Поле 🙂"}, {}, partial=True) == {"description": "Поле 🙂"}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity", "1e999"])
def test_real_fields_refuse_infinity_and_nan(value: object) -> None:
    with pytest.raises(InvalidValue, match=r"hazard\.estimated_items: .*not a finite number"):
        clean_values(HAZARD, {"estimated_items": value}, {}, partial=True)


@pytest.mark.parametrize("value", [10**20, 10**400, -(2**63), "1e30", float("inf")])
def test_integer_fields_refuse_values_beyond_their_range(value: object) -> None:
    with pytest.raises(InvalidValue, match=r"eo_find\.quantity"):
        clean_values(ENTITIES["eo_find"], {"quantity": value}, {}, partial=True)


def test_principal_dates_are_date_fields_of_their_entity() -> None:
    dated = {name: spec.principal_date for name, spec in ENTITIES.items() if spec.principal_date}
    assert dated["hazard"] == "reported_on" and dated["eo_find"] == "found_on"
    for name, field_name in dated.items():
        assert ENTITIES[name].field_map[field_name].kind is Kind.DATE
