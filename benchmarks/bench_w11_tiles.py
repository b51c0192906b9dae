"""W11 vector tiles: zoom 8–14 over a 100,000-hazard register, against PostGIS ``ST_AsMVT`` queried directly.

Workload: a PostGIS register of N hazards (default 100,000; ``common.write_hazard_gpkg``
loaded by ``load_hazards.load``). Per zoom level 8..14, up to 25 seeded tiles
among those covering the programme extent (all of them where fewer).

Anchor: the same ``ST_AsMVT(ST_AsMVTGeom(...))`` query as the server's, run
with psycopg straight on the database, each tile once. Ours: ``mineaction
serve`` on that database (uvicorn, one worker), each tile fetched over HTTP
with an API token of a programme-wide viewer, first with an empty cache
(cold), then again (warm, served from the cache that any change invalidates).
Goal: cold ≤ 1.5× the anchor's total time, warm far below it.

With ``--gpkg`` the same hazards are also loaded into a GeoPackage and its
Python tile encoder (``mapbox-vector-tile``) is measured cold, for information.

Run: ``.venv/bin/python benchmarks/bench_w11_tiles.py [N] [--postgis ADMIN_URL] [--gpkg]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from bench_w10_ogc_items import free_port, serving
from common import save, write_hazard_gpkg
from load_hazards import load

from mineaction.access import AccountStore, Grant, Role
from mineaction.web.tiles import BUFFER, EXTENT, lonlat_to_tile

ZOOMS = range(8, 15)
TILES_PER_ZOOM = 25
ANCHOR_SQL = f"""
SELECT ST_AsMVT(q, 'hazard', {EXTENT}, 'geom') FROM (
  SELECT ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {EXTENT}, {BUFFER}, true) AS geom,
         ref, hazard_type, status, area_m2
  FROM hazard
  WHERE NOT deleted
    AND geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {BUFFER / EXTENT}), 4326)
) q
"""


def tiles(extent: tuple[float, float, float, float], seed: int = 11) -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(seed)
    west, south, east, north = extent
    out = []
    for z in ZOOMS:
        x0, y0 = lonlat_to_tile(west, north, z)
        x1, y1 = lonlat_to_tile(east, south, z)
        cover = [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
        pick = rng.permutation(len(cover))[:TILES_PER_ZOOM]
        out.extend(cover[i] for i in sorted(pick))
    return out


@contextmanager
def database(admin_url: str) -> Iterator[str]:
    name = f"mineaction_w11_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def prepare(target: str, source: Path) -> tuple[str, tuple[float, float, float, float]]:
    """Load the hazards; return a viewer's API token and the programme extent."""
    register = load(str(source), target)
    store = AccountStore(register)
    account = store.create_account("bench", "benchmark-password", grants=(Grant(None, Role.VIEWER),), by="bench")
    token, _ = store.issue_token(store.principal(account), "w11")
    e = register.programme.extent
    register.close()
    return token, (e.west, e.south, e.east, e.north)


def anchor(url: str, tile_list: list[tuple[int, int, int]]) -> dict[int, float]:
    per_zoom: dict[int, float] = {}
    with psycopg.connect(url) as connection:
        for z, x, y in tile_list:
            start = time.perf_counter()
            connection.execute(ANCHOR_SQL, {"z": z, "x": x, "y": y}).fetchone()
            per_zoom[z] = per_zoom.get(z, 0.0) + time.perf_counter() - start
    return per_zoom


def over_http(target: str, token: str, tile_list: list[tuple[int, int, int]]) -> dict[str, dict[int, float]]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "mineaction.web.app:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    out: dict[str, dict[int, float]] = {"cold": {}, "warm": {}}
    with serving(command, base + "/ogc/conformance", {"MINEACTION_DB": target}), \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
        for phase in ("cold", "warm"):
            for z, x, y in tile_list:
                start = time.perf_counter()
                response = client.get(f"/ogc/collections/hazard/tiles/WebMercatorQuad/{z}/{y}/{x}")
                response.raise_for_status()
                out[phase][z] = out[phase].get(z, 0.0) + time.perf_counter() - start
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgis", default=os.environ.get("MINEACTION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--gpkg", action="store_true", help="also time the GeoPackage's Python encoder (cold)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, database(args.postgis) as url:
        source = write_hazard_gpkg(Path(tmp) / "source.gpkg", args.n)
        token, extent = prepare(url, source)
        tile_list = tiles(extent)
        anchor(url, tile_list[:5])  # warm PostgreSQL's own buffers, as the server's first tiles would
        base = anchor(url, tile_list)
        ours = over_http(url, token, tile_list)
        gpkg = None
        if args.gpkg:
            gpkg_token, _ = prepare(str(Path(tmp) / "register.gpkg"), source)
            gpkg = over_http(str(Path(tmp) / "register.gpkg"), gpkg_token, tile_list)["cold"]
    total = {k: sum(v.values()) for k, v in {"anchor": base, **ours}.items()}
    print(f"{len(tile_list)} tiles, zoom {ZOOMS.start}-{ZOOMS.stop - 1}, {args.n:,} hazards")
    print(" zoom  anchor(s)  cold(s)  warm(s)" + ("  gpkg cold(s)" if gpkg else ""))
    for z in ZOOMS:
        line = f" {z:4d}  {base[z]:9.3f}  {ours['cold'][z]:7.3f}  {ours['warm'][z]:7.3f}"
        print(line + (f"  {gpkg[z]:12.3f}" if gpkg else ""))
    cold, warm = total["cold"] / total["anchor"], total["warm"] / total["anchor"]
    print(f"cold/anchor {cold:.2f}x (goal <= 1.5x), warm/anchor {warm:.3f}x")
    payload = {"hazards": args.n, "tiles": len(tile_list), "zooms": list(ZOOMS), "anchor_s": base, "cold_s": ours["cold"],
               "warm_s": ours["warm"], "totals_s": total, "cold_ratio": cold, "warm_ratio": warm, "goal": "cold <= 1.5x"}
    if gpkg:
        payload |= {"gpkg_cold_s": gpkg, "gpkg_cold_ratio": sum(gpkg.values()) / total["anchor"]}
        print(f"GeoPackage Python encoder cold/anchor {payload['gpkg_cold_ratio']:.2f}x")
    print(f"results: {save('w11_tiles', payload)}")


if __name__ == "__main__":
    main()
