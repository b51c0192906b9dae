"""W4 import: 1,000,000 EO-find points from CSV and from GeoPackage, queued for review and approved.

Workload: N (default 1,000,000) explosive-ordnance finds at random points of
the fictional demo region (fixed seed), with category, condition, quantity,
date and operator as a field team's tool writes them (words such as
"AP mine" or "невідомо" that the mapping translates), written once as CSV
(lon/lat columns) and once as a GeoPackage. Each file is imported the way a
user does (``import_file``: streamed in 50,000-feature batches, every feature
mapped, validated and hashed, queued as field reports in one transaction),
then the whole import is approved (``review.approve``: every report applied
through ``Writer.add_many`` as a register record, version 1 of its history).

Anchor: ``ogr2ogr`` loading the same file into a GeoPackage, measured in the
same run. Goal: ≤ 3× the anchor's time (queue + approve); peak memory ≤ 1 GiB.
Each side runs in its own process, so peak RSS is that run's alone.

Run: ``.venv/bin/python benchmarks/bench_w4_import.py [N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

sys.path.insert(0, str(Path(__file__).parent))

from common import EAST, NORTH, SOUTH, WEST, own_peak_mib, run_measured, save

from mineaction.demo.fictional_programme import DEMO_CRS, _gazetteer, demo_programme
from mineaction.domain.geometry import to_wgs84

CATEGORY = ["AP mine", "UXO", "submunition", "ППМ", "at_mine"]
CONDITION = ["intact", "functional", "невідомо", "self-destructed"]


def write_sources(folder: Path, n: int, seed: int = 4) -> tuple[Path, Path]:
    """The same finds as CSV and as GeoPackage."""
    rng = np.random.default_rng(seed)
    points = to_wgs84(shapely.points(rng.uniform(WEST, EAST, n), rng.uniform(SOUTH, NORTH, n)), DEMO_CRS)
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    columns = {
        "category": np.asarray(CATEGORY, dtype=object)[rng.integers(0, len(CATEGORY), n)],
        "condition": np.asarray(CONDITION, dtype=object)[rng.integers(0, len(CONDITION), n)],
        "quantity": rng.integers(1, 5, n),
        "found_on": (np.datetime64("2024-01-01") + rng.integers(0, 700, n)).astype(str).astype(object),
        "organisation": np.full(n, "Benchmark operator", dtype=object),
    }
    csv = folder / "finds.csv"
    with csv.open("w", encoding="utf-8") as f:
        f.write("lon,lat," + ",".join(columns) + "\n")
        for start in range(0, n, 100_000):
            part = slice(start, start + 100_000)
            f.writelines(
                f"{x:.7f},{y:.7f},{c},{k},{q},{d},{o}\n"
                for x, y, c, k, q, d, o in zip(lon[part], lat[part], *(v[part] for v in columns.values()))
            )
    gpkg = folder / "finds.gpkg"
    pyogrio.raw.write(gpkg, shapely.to_wkb(points), list(columns.values()), list(columns), geometry_type="Point",
                      crs="EPSG:4326", layer="finds", driver="GPKG")
    return csv, gpkg


def worker(source: str, target: str, out: str) -> None:
    """The measured side: a new register, then import → queue → approve."""
    from mineaction.io import import_file
    from mineaction.storage import review
    from mineaction.storage.register import Register

    register = Register.create(target, demo_programme())
    with register.write("benchmark", "gazetteer and operator", "benchmark") as w:
        for values, geometry in _gazetteer(np.random.default_rng(1)):
            w.add("admin_area", values, geometry, crs=DEMO_CRS)
        w.add("organisation", {"name": "Benchmark operator", "organisation_type": "ngo"})
    start, start_cpu = time.perf_counter(), time.process_time()
    result = import_file(register, source, entity="eo_find", user="benchmark", reason="W4 import")
    queued, queued_cpu = time.perf_counter(), time.process_time()
    assert result.queued is not None, result.report.summary()
    outcome = review.approve(register, import_id=result.queued.import_id, user="benchmark", reason="W4 approval")
    approved, approved_cpu = time.perf_counter(), time.process_time()
    assert len(outcome.approved) == result.queued.submitted == register.count("eo_find")
    register.close()
    Path(out).write_text(json.dumps({
        "queue_s": queued - start, "approve_s": approved - queued, "reports": result.queued.submitted,
        "queue_cpu_s": queued_cpu - start_cpu, "approve_cpu_s": approved_cpu - queued_cpu,  # steadier on a busy machine
        "peak_mib": own_peak_mib(),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--worker", nargs=3, metavar=("SOURCE", "TARGET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    work = Path(tempfile.mkdtemp(prefix="w4-"))
    csv, gpkg = write_sources(work, args.n)
    anchors = {
        "csv": ["ogr2ogr", "-f", "GPKG", str(work / "anchor-csv.gpkg"), str(csv), "-nln", "finds",
                "-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat", "-a_srs", "EPSG:4326"],
        "gpkg": ["ogr2ogr", "-f", "GPKG", str(work / "anchor-gpkg.gpkg"), str(gpkg)],
    }
    results = {}
    for name, source in (("csv", csv), ("gpkg", gpkg)):
        anchor, anchor_mem = run_measured(anchors[name])
        phases = work / f"{name}.json"
        ours, _ = run_measured([sys.executable, __file__, "--worker", str(source), str(work / f"register-{name}.gpkg"),
                                str(phases)])
        measured = json.loads(phases.read_text())
        results[name] = {"anchor_s": anchor, "ours_s": ours, "ratio": ours / anchor, "anchor_peak_mib": anchor_mem,
                         **measured}
    print(f"W4 import of {args.n:,} EO finds into the review queue, then approved")
    print(f"{'source':<8}{'anchor s':>10}{'ours s':>10}{'queue s':>10}{'approve s':>11}{'ratio':>8}{'peak MiB':>10}"
          f"{'queue CPU s':>13}{'approve CPU s':>15}")
    for name, r in results.items():
        print(f"{name:<8}{r['anchor_s']:>10.2f}{r['ours_s']:>10.2f}{r['queue_s']:>10.2f}{r['approve_s']:>11.2f}"
              f"{r['ratio']:>8.2f}{r['peak_mib']:>10.0f}{r['queue_cpu_s']:>13.2f}{r['approve_cpu_s']:>15.2f}")
    print(f"goal: ratio ≤ 3, peak ≤ 1024 MiB; results in {save('w4_import', {'n': args.n, 'results': results})}")


if __name__ == "__main__":
    main()
