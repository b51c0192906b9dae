"""An import refuses over-long text and non-finite numbers with the row and field named, as the API does.

The limits are the domain's (``clean_values``); nothing is queued or stored.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely.geometry

from mineaction.domain.entities import DESCRIPTION_MAX_LENGTH
from mineaction.io import import_file
from mineaction.storage import review
from mineaction.storage.register import Register
from tests.common import square_m

HAZARD = {"hazard_type": "SHA", "status": "active", "contamination": "AP mine", "evidence": "indirect",
          "reported_on": "2025-03-01", "organisation_id": "Test Operator"}


def _errors(register: Register, path: Path, rows: list[dict[str, object]]) -> list[str]:
    features = [{"type": "Feature", "properties": {**HAZARD, **row},
                 "geometry": shapely.geometry.mapping(square_m(300 * i, 0, 100))} for i, row in enumerate(rows)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = import_file(register, path, user="im", reason="field data", entity="hazard")
    assert result.queued is None and not result.report.ok
    assert review.reports(register) == [] and register.count("hazard") == 0
    return [f"{p.field}: {p.problem}" for p in result.report.problems if p.severity == "error"]


def test_an_import_refuses_a_description_longer_than_the_field_allows(gpkg_register: Register, tmp_path: Path) -> None:
    with gpkg_register.write("im", "operator") as w:
        w.add("organisation", {"name": "Test Operator", "organisation_type": "ngo"})
    errors = _errors(gpkg_register, tmp_path / "h.geojson",
                     [{"description": "fine"}, {"description": "z" * (DESCRIPTION_MAX_LENGTH + 1)},
                      {"estimated_items": "Infinity"}])
    assert len(errors) == 2, errors
    assert errors[0].startswith("description") and f"{DESCRIPTION_MAX_LENGTH + 1:,} characters" in errors[0]
    assert errors[1].startswith("estimated_items") and "finite" in errors[1]
    assert all(len(e) < 300 for e in errors)
