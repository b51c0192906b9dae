"""A bounded load test on loopback: 50 concurrent clients for 60 s against tiles, items and writes.

Checks no request fails (no 5xx, no transport error), no write is lost (every
acknowledged create is in the register, and the shared record's version counts
every acknowledged update; 412 for a stale If-Match is the correct answer to
a race, not an error), and reports p50/p99 latencies per kind of request
(printed, and saved to ``benchmarks/results/load_<backend>.json``).
Slow: outside the quick suite (``-m 'not slow'``).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
import shapely.geometry

from mineaction.web.tiles import lonlat_to_tile
from tests.common import square_m
from tests.web.seed import Seeded
from tests.web.server import Server

pytestmark = pytest.mark.slow
CLIENTS = 50
SECONDS = float(os.environ.get("MINEACTION_LOAD_SECONDS", "60"))
RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


async def _client_loop(n: int, base: str, token: str, seeded: Seeded, shared: dict, stats: dict, deadline: float) -> None:
    rng = random.Random(n)
    lon, lat = square_m(200, 200, 1).centroid.coords[0]
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        i = 0
        while time.monotonic() < deadline:
            i += 1
            roll = rng.random()
            start = time.perf_counter()
            try:
                if roll < 0.5:
                    kind = "tile"
                    z = rng.choice((11, 12, 13, 14))
                    x, y = lonlat_to_tile(lon, lat, z)
                    response = await client.get(f"/ogc/collections/hazard/tiles/WebMercatorQuad/{z}/{y}/{x}")
                    ok = response.status_code == 200
                elif roll < 0.85:
                    kind = "items"
                    box = ",".join(map(str, square_m(rng.uniform(-500, 2500), rng.uniform(-500, 500), 2000).bounds))
                    response = await client.get("/ogc/collections/hazard/items", params={"bbox": box, "limit": 50})
                    ok = response.status_code == 200
                elif roll < 0.95:
                    kind = "create"
                    response = await client.post("/api/v1/eore_session", json={
                        "reason": "load test", "held_on": "2025-08-01", "eore_method": "school", "girls": n,
                        "boys": i, "organisation_id": seeded.orgs["A"],
                        "geometry": shapely.geometry.mapping(square_m(rng.uniform(0, 3000), 700, 1).centroid)})
                    ok = response.status_code == 201
                    if ok:
                        stats["created"].add((n, i))
                else:
                    kind = "update"
                    response = await client.patch(f"/api/v1/hazard/{shared['id']}", headers={"If-Match": shared["etag"]},
                                                  json={"reason": "load test", "evidence_description": f"{n}-{i}"})
                    ok = response.status_code in (200, 412)
                    if response.status_code == 200:
                        stats["updates"] += 1
                        shared["etag"] = response.headers["etag"]
                    else:
                        stats["stale"] += 1
                        current = await client.get(f"/api/v1/hazard/{shared['id']}")
                        shared["etag"] = current.headers["etag"]
            except httpx.TransportError as exc:
                kind, ok, response = "transport", False, exc
            stats["latency"].setdefault(kind, []).append(time.perf_counter() - start)
            if not ok:
                detail = response.text[:300] if isinstance(response, httpx.Response) else repr(response)
                stats["errors"].append(f"{kind}: {getattr(response, 'status_code', '')} {detail}")


def test_fifty_clients_for_a_minute(own_server: tuple[Server, Seeded], web_backend: str) -> None:
    server, seeded = own_server
    token = server.token("admin")
    with server.client("admin") as client:
        first = client.get(f"/api/v1/hazard/{seeded.records['B']['hazard']}")
        shared = {"id": first.json()["id"], "etag": first.headers["etag"]}
        version_before = first.json()["version"]
    stats: dict = {"latency": {}, "errors": [], "created": set(), "updates": 0, "stale": 0}
    deadline = time.monotonic() + SECONDS

    async def run() -> None:
        await asyncio.gather(*(_client_loop(n, server.url, token, seeded, shared, stats, deadline) for n in range(CLIENTS)))

    asyncio.run(run())
    assert not stats["errors"], stats["errors"][:10]
    with server.client("admin") as client:
        created = client.get("/api/v1/eore_session", params={"limit": 1, "filter": "held_on = DATE('2025-08-01')"}).json()
        assert created["total"] == len(stats["created"]), "a create acknowledged with 201 is missing"
        final = client.get(f"/api/v1/hazard/{shared['id']}").json()
        assert final["version"] == version_before + stats["updates"], "an acknowledged update was lost"
    report = {kind: {"requests": len(v), "p50_ms": round(1000 * float(np.percentile(v, 50)), 1),
                     "p99_ms": round(1000 * float(np.percentile(v, 99)), 1)} for kind, v in stats["latency"].items()}
    report["totals"] = {"clients": CLIENTS, "seconds": SECONDS, "requests": sum(len(v) for v in stats["latency"].values()),
                        "creates": len(stats["created"]), "updates": stats["updates"], "stale_412": stats["stale"]}
    print(f"\nload test ({web_backend}): {json.dumps(report, indent=1)}")
    if RESULTS.is_dir():
        (RESULTS / f"load_{web_backend}.json").write_text(json.dumps(report, indent=2))
