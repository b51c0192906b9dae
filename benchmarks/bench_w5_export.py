"""W5 export: the 100,000-hazard register to GeoPackage and to GeoJSON.

Workload: a register of N (default 100,000) hazard polygons (median ~40
vertices, fixed seed, fictional demo region) built with the W1 loader (not
timed). Measured: ``mineaction.io.export.export`` of the hazard layer, with
sensitivity filtering, links written as refs, the as-of time and software
version recorded, and for GeoPackage the QGIS style in ``layer_styles``;
GeoJSON is RFC 7946 with 12 decimals.

Anchor: ``ogr2ogr`` copying the hazard table out of the same register file to
the same format, measured in the same run. Goal: ≤ 2× the anchor's time.
Each side runs in its own process; peak RSS is reported.

Run: ``.venv/bin/python benchmarks/bench_w5_export.py [N]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import own_peak_mib, run_measured, save, write_hazard_gpkg

LOADER = Path(__file__).with_name("load_hazards.py")


def worker(register_path: str, target: str, out: str) -> None:
    """The measured side: open the register and export its hazards; write this process's peak RSS."""
    from mineaction.access.scopes import local_operator
    from mineaction.io.export import export
    from mineaction.storage.register import Register

    with Register.open(register_path) as register:
        export(register, target, entities=["hazard"], scope=local_operator("benchmark"))
    Path(out).write_text(str(own_peak_mib()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--worker", nargs=3, metavar=("REGISTER", "TARGET", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    work = Path(tempfile.mkdtemp(prefix="w5-"))
    source = write_hazard_gpkg(work / "hazards.gpkg", args.n)
    register = work / "register.gpkg"
    run_measured([sys.executable, str(LOADER), str(source), str(register)])
    results = {}
    for name, driver, suffix in (("gpkg", "GPKG", ".gpkg"), ("geojson", "GeoJSON", ".geojson")):
        anchor, anchor_mem = run_measured(["ogr2ogr", "-f", driver, str(work / f"anchor{suffix}"), str(register),
                                           "hazard"])
        peak = work / f"{name}.peak"
        ours, _ = run_measured([sys.executable, __file__, "--worker", str(register), str(work / f"ours{suffix}"),
                                str(peak)])
        results[name] = {"anchor_s": anchor, "ours_s": ours, "ratio": ours / anchor,
                         "peak_mib": float(peak.read_text()), "anchor_peak_mib": anchor_mem}
    print(f"W5 export of a {args.n:,}-hazard register")
    print(f"{'format':<9}{'anchor s':>10}{'ours s':>10}{'ratio':>8}{'peak MiB':>10}")
    for name, r in results.items():
        print(f"{name:<9}{r['anchor_s']:>10.2f}{r['ours_s']:>10.2f}{r['ratio']:>8.2f}{r['peak_mib']:>10.0f}")
    print(f"goal: ratio ≤ 2; results in {save('w5_export', {'n': args.n, 'results': results})}")


if __name__ == "__main__":
    main()
