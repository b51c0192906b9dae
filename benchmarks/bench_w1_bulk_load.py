"""W1 bulk load: 100,000 hazard polygons from a GeoPackage into the register.

Workload: N (default 100,000) star-shaped hazard polygons, median ~40
vertices, generated with a fixed seed in the fictional demo region and written
to a GeoPackage. The register load streams the file in chunks of 5,000
features (pyogrio) into one transaction, with full validation, geodesic areas,
admin-area assignment against a 17-area gazetteer, reference allocation, and
one changeset (who, when, why) that every new record names as its version 1.

Anchor: ``ogr2ogr`` copying the same file (GeoPackage → GeoPackage, and
GeoPackage → PostgreSQL for the PostGIS run), measured in the same run.
Goal: ≤ 3× the anchor's time; peak memory ≤ 1 GiB.

Run: ``.venv/bin/python benchmarks/bench_w1_bulk_load.py [N] [--postgis URL]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import run_measured, save, write_hazard_gpkg  # noqa: E402

LOADER = Path(__file__).with_name("load_hazards.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgis", help="admin URL of a PostgreSQL server with PostGIS, e.g. postgresql://postgres@127.0.0.1/postgres")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="w1-"))
    source = write_hazard_gpkg(work / "hazards.gpkg", args.n)
    results = {}

    copy = work / "copy.gpkg"
    anchor, _ = run_measured(["ogr2ogr", "-f", "GPKG", str(copy), str(source)])
    ours, ours_mem = _load(source, str(work / "register.gpkg"), work / "peak-gpkg.json")
    results["gpkg"] = {"anchor_s": anchor, "ours_s": ours, "ratio": ours / anchor, "peak_mib": ours_mem}

    if args.postgis:
        base = args.postgis.rsplit("/", 1)[0]
        for name in ("w1_anchor", "w1_register"):
            subprocess.run(["psql", args.postgis, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
            subprocess.run(["psql", args.postgis, "-qc", f"CREATE DATABASE {name}"], check=True)
        subprocess.run(["psql", f"{base}/w1_anchor", "-qc", "CREATE EXTENSION postgis"], check=True)
        pg_dsn = "PG:" + " ".join(f"{k}={v}" for k, v in _dsn(f"{base}/w1_anchor").items())
        anchor, _ = run_measured(["ogr2ogr", "-f", "PostgreSQL", pg_dsn, str(source), "-nln", "hazards"])
        ours, ours_mem = _load(source, f"{base}/w1_register", work / "peak-postgis.json")
        results["postgis"] = {"anchor_s": anchor, "ours_s": ours, "ratio": ours / anchor, "peak_mib": ours_mem}

    print(f"W1 bulk load of {args.n:,} hazard polygons")
    print(f"{'backend':<10}{'anchor s':>10}{'ours s':>10}{'ratio':>8}{'peak MiB':>10}")
    for backend, r in results.items():
        print(f"{backend:<10}{r['anchor_s']:>10.2f}{r['ours_s']:>10.2f}{r['ratio']:>8.2f}{r['peak_mib']:>10.0f}")
    print(f"goal: ratio ≤ 3, peak ≤ 1024 MiB; results in {save('w1_bulk_load', {'n': args.n, 'results': results})}")


def _load(source: Path, target: str, peak: Path) -> tuple[float, float]:
    """The loader's wall time, and its own peak memory (ru_maxrss would count this process's at the fork)."""
    seconds, _ = run_measured([sys.executable, str(LOADER), str(source), target, str(peak)])
    return seconds, json.loads(peak.read_text())["peak_mib"]


def _dsn(url: str) -> dict[str, str]:
    rest = url.split("://", 1)[1]
    auth, _, hostdb = rest.rpartition("@")
    host, _, db = hostdb.partition("/")
    host, _, port = host.partition(":")
    out = {"host": host, "dbname": db}
    if port:
        out["port"] = port
    if auth:
        out["user"] = auth.split(":")[0]
    return out


if __name__ == "__main__":
    main()
