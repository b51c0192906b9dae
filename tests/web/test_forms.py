"""The entry-form description (GET /api/v1/entities/{name}/form) the browser builds its forms from."""

from __future__ import annotations

from mineaction.domain.entities import ENTITIES
from tests.web.seed import Seeded


def test_hazard_form_lists_writable_fields_with_labelled_choices(server, seeded: Seeded) -> None:
    with server.client("reviewer_a") as client:
        response = client.get("/api/v1/entities/hazard/form")
    assert response.status_code == 200, response.text
    form = response.json()
    assert form["writable"] is True and form["geometry"] == "POLYGON"
    fields = {f["name"]: f for f in form["fields"]}
    declared = {f.name for f in ENTITIES["hazard"].fields if not f.derived}
    assert set(fields) == declared  # area_m2 and admin_pcode are derived: not in the form
    assert fields["hazard_type"]["required"] and fields["hazard_type"]["kind"] == "text"
    sha = next(c for c in fields["hazard_type"]["choices"] if c["code"] == "SHA")
    assert sha["en"] and sha["uk"] and sha["uk"] != sha["en"]
    assert fields["contamination"]["kind"] == "codes" and fields["contamination"]["choices"]
    assert fields["description"]["max_length"] == 10_000
    assert fields["reference_lon"]["unit"] == "°"
    assert [c["code"] for c in fields["organisation_id"]["choices"]] == [seeded.orgs["A"]]  # only where a reviewer


def test_a_viewer_gets_a_read_only_form_and_an_unknown_entity_is_404(server, seeded: Seeded) -> None:
    with server.client("viewer_a") as client:
        form = client.get("/api/v1/entities/hazard/form").json()
        assert form["writable"] is False
        assert next(f for f in form["fields"] if f["name"] == "organisation_id")["choices"] == []
        assert client.get("/api/v1/entities/bogus/form").status_code == 404
