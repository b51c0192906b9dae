"""W3 land-release statistics over 100,000 hazards with 200,000 released parts.

Workload: the W1 register (N hazards, default 100,000); each hazard gets an
NTS and a clearance activity and two released parts (cancelled west half,
cleared east half), written through ``Writer.release_many`` so the ledger is
checked (setup, not measured). Measured: released m² by release type, method
and admin area (deepest level and rolled up to level 2), plus the hazard
balance (hazard, released and remaining m²).

Anchor: GeoPandas on the same file: read hazards, parts and admin areas,
``sjoin`` parts to admin areas, ``to_crs`` to an equal-area CRS (EPSG:6933),
``area``, and pandas ``groupby`` for the same tables. Goal: faster than the
anchor. Both backends when ``--postgis`` is given (the anchor reads the
GeoPackage in both cases).

Run: ``.venv/bin/python benchmarks/bench_w3_statistics.py [N] [--postgis ADMIN_URL]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import shapely

sys.path.insert(0, str(Path(__file__).parent))

from common import save, write_hazard_gpkg  # noqa: E402
from load_hazards import load  # noqa: E402

from mineaction.storage.register import Register  # noqa: E402
from mineaction.storage.statistics import hazard_balance, released_area  # noqa: E402
from mineaction.storage.unit_of_work import Release  # noqa: E402


def add_releases(register: Register, chunk: int = 5_000) -> int:
    hazards = register.features("hazard")
    operator = register.records("organisation")[0]
    made = 0
    for start in range(0, len(hazards), chunk):
        ids = hazards.ids[start : start + chunk]
        geoms = hazards.geometries[start : start + chunk]
        with register.write("benchmark", "synthetic survey and clearance", "benchmark") as w:
            acts = []
            for kind in ("nts", "clearance"):
                acts.append(w.add_many("activity", [{"hazard_id": h, "activity_type": kind, "status": "completed",
                                                     "started_on": "2025-03-01", "organisation_id": operator.id} for h in ids]))
            releases = []
            for nts, clearance, geom in zip(acts[0], acts[1], geoms):
                minx, miny, maxx, maxy = geom.bounds
                mid = (minx + maxx) / 2
                releases.append(Release(nts.id, geom.intersection(shapely.box(minx, miny, mid, maxy)), "cancelled", "nts", "2025-04-01"))
                releases.append(Release(clearance.id, geom.intersection(shapely.box(mid, miny, maxx, maxy)), "cleared",
                                        "manual" if len(releases) % 4 else "mechanical", "2025-06-01"))
            made += len(w.release_many(releases))
    return made


def ours(register: Register) -> dict:
    by_method = released_area(register, by=("release_type", "method", "admin_pcode"))
    by_raion = released_area(register, by=("admin_pcode", "release_type"), admin_level=2)
    balance = hazard_balance(register)
    return {"released_m2": balance.released_m2, "remaining_m2": balance.remaining_m2,
            "groups": len(by_method), "raion_groups": len(by_raion)}


def anchor(path: str) -> dict:
    hazards = gpd.read_file(path, layer="hazard", columns=["id"])
    parts = gpd.read_file(path, layer="released_part", columns=["hazard_id", "release_type", "method"])
    admins = gpd.read_file(path, layer="admin_area", columns=["pcode", "level", "parent_pcode"])
    deepest = admins[admins["level"] == admins["level"].max()]
    points = parts.copy()
    points["geometry"] = parts.representative_point()
    joined = gpd.sjoin(points, deepest, predicate="within", how="left")
    parts["admin_pcode"] = joined["pcode"].to_numpy()
    parts["area"] = parts.to_crs(6933).area
    hazards["area"] = hazards.to_crs(6933).area
    by_method = parts.groupby(["release_type", "method", "admin_pcode"])["area"].sum()
    parts["raion"] = parts["admin_pcode"].map(deepest.set_index("pcode")["parent_pcode"])
    by_raion = parts.groupby(["raion", "release_type"])["area"].sum()
    released = float(parts["area"].sum())
    return {"released_m2": released, "remaining_m2": float(hazards["area"].sum()) - released,
            "groups": len(by_method), "raion_groups": len(by_raion)}


def measure(fn, *args) -> tuple[float, dict]:
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgis", help="admin URL of a PostgreSQL server with PostGIS; database w3_register is recreated")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="w3-"))
    source = write_hazard_gpkg(work / "hazards.gpkg", args.n)
    targets = {"gpkg": str(work / "register.gpkg")}
    if args.postgis:
        for sql in ("DROP DATABASE IF EXISTS w3_register WITH (FORCE)", "CREATE DATABASE w3_register"):
            subprocess.run(["psql", args.postgis, "-qc", sql], check=True)
        targets["postgis"] = args.postgis.rsplit("/", 1)[0] + "/w3_register"
    results = {}
    for backend, target in targets.items():
        register = load(str(source), target)
        parts = add_releases(register)
        ours_s, ours_result = measure(ours, register)
        if backend == "gpkg":
            register.close()
            anchor_s, anchor_result = measure(anchor, target)
        results[backend] = {"parts": parts, "ours_s": ours_s, "anchor_s": anchor_s, "speedup": anchor_s / ours_s,
                            "ours": ours_result, "anchor": anchor_result}
        register.close()
    print(f"W3 land-release statistics: {args.n:,} hazards")
    for backend, r in results.items():
        print(f"{backend:<8} parts {r['parts']:,}  ours {r['ours_s']:.2f} s  anchor {r['anchor_s']:.2f} s  "
              f"anchor/ours {r['speedup']:.1f}×  released ours {r['ours']['released_m2']:,.0f} m² vs "
              f"anchor {r['anchor']['released_m2']:,.0f} m² (equal-area planar)")
    print(f"goal: faster than the anchor; results in {save('w3_statistics', {'n': args.n, 'results': results})}")


if __name__ == "__main__":
    main()
