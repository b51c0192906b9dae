"""Every GET operation in the OpenAPI document, called by accounts without a personal-data
grant with ids of victims and of everything else: no victim's personal data in any answer."""

from __future__ import annotations

import itertools
import re

import pytest

from mineaction.web.tiles import lonlat_to_tile
from tests.common import square_m
from tests.web.seed import OWNED, Seeded

SECRETS = (b"Secret Person", b"private note")
UNGRANTED = ("viewer_a", "reviewer_b", "national_viewer", "public")  # one organisation, the other, programme-wide


def _choices(name: str, path: str, seeded: Seeded) -> list[str]:
    """Values to try for one path parameter of ``path``."""
    if name == "record_id":
        entity = path.split("/")[3]
        owned = entity in OWNED
        return [seeded.records[org][entity] for org in "AB"] if owned else list(seeded.programme_wide.values())
    z = 12
    x, y = lonlat_to_tile(*square_m(300, 300, 1).centroid.coords[0], z)
    return {
        "feature_id": [seeded.records[org][entity] for org in "AB" for entity in OWNED],
        "collection_id": ["hazard", "released_part", "eo_find", "accident", "admin_area", "place", "eore_session"],
        "ref": ["FR-0000001", "FR-0000002", "FR-0000003"],
        "vocabulary": ["sex", "victim_group"],
        "name": ["casualties", "land-release", "hazards", "eo-finds", "eore"],
        "log": ["permissions", "reads"],
        "account_id": ["no-such-account"],
        "task": ["TSK-000001", "no-such-task"],
        "z": [str(z)], "y": [str(y)], "x": [str(x)],
    }[name]


def _urls(paths: dict, seeded: Seeded) -> list[str]:
    urls = []
    for path, operations in paths.items():
        if "get" not in operations:
            continue
        names = re.findall(r"{(\w+)}", path)
        for combo in itertools.product(*(_choices(n, path, seeded) for n in names)):
            url = path
            for name, value in zip(names, combo):
                url = url.replace(f"{{{name}}}", value)
            urls.append(url)
    return urls


@pytest.mark.parametrize("username", UNGRANTED)
def test_no_get_operation_shows_personal_data_without_a_grant(server, seeded: Seeded, username: str) -> None:
    with server.client(username) as client:
        urls = _urls(client.get("/openapi.json").json()["paths"], seeded)
        assert len(urls) > 60
        for url in urls:
            response = client.get(url, params={"limit": 1000})  # whole lists; other routes ignore it
            assert response.status_code < 500, url
            assert not any(secret in response.content for secret in SECRETS), f"{username} saw personal data at {url}"
