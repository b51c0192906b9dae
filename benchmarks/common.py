"""Shared workload generation and measurement for the benchmarks.

Data are generated at run time with a fixed seed in the fictional demo region
(UTM zone 25S, open ocean): star-shaped hazard polygons with a median of ~40
vertices, reprojected to lon/lat, written to a GeoPackage with pyogrio.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely

from mineaction.demo.fictional_programme import DEMO_CRS, star_polygons
from mineaction.domain.geometry import to_wgs84

RESULTS = Path(__file__).parent / "results"
WEST, SOUTH, EAST, NORTH = 400_000.0, 6_650_000.0, 460_000.0, 6_700_000.0


def hazard_polygons(n: int, seed: int = 1) -> np.ndarray:
    """``n`` valid, non-overlapping lon/lat polygons, median ~40 vertices."""
    rng = np.random.default_rng(seed)
    grid = int(np.ceil(np.sqrt(n * 1.3)))
    cells = rng.permutation(grid * grid)[:n]
    cw, ch = (EAST - WEST) / grid, (NORTH - SOUTH) / grid
    centres = np.column_stack([
        WEST + (cells % grid + rng.uniform(0.35, 0.65, n)) * cw,
        SOUTH + (cells // grid + rng.uniform(0.35, 0.65, n)) * ch,
    ])
    radii = np.minimum(rng.lognormal(np.log(0.2 * cw), 0.3, n), 0.3 * min(cw, ch))
    vertices = np.clip(rng.normal(40, 8, n).astype(int), 12, 80)
    return to_wgs84(np.asarray(star_polygons(rng, centres, radii, vertices), dtype=object), DEMO_CRS)


def write_hazard_gpkg(path: Path, n: int, seed: int = 1) -> Path:
    """A field-style GeoPackage of ``n`` hazard polygons with register-ready attributes."""
    rng = np.random.default_rng(seed + 1)
    geoms = hazard_polygons(n, seed)
    columns = {
        "hazard_type": np.where(rng.random(n) < 0.3, "CHA", "SHA"),
        "status": np.full(n, "active"),
        "contamination": rng.choice(["ap_mine", "at_mine", "uxo", "ap_mine;uxo", "cmr"], n),
        "evidence": rng.choice(["direct", "indirect"], n),
        "reported_on": np.full(n, "2024-05-01"),
    }
    path.unlink(missing_ok=True)
    pyogrio.raw.write(str(path), shapely.to_wkb(geoms), list(columns.values()), list(columns),
                      geometry_type="Polygon", crs="EPSG:4326", layer="hazards", driver="GPKG")
    return path


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best wall-clock time of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run_measured(args: list[str]) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS of the child in MiB).

    Files written before it (the generated data, an earlier run's output) are
    flushed to disk first, so their write-back is not timed as part of it.
    """
    os.sync()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(args, check=True)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    payload = {"benchmark": name, "python": sys.version.split()[0], "machine": platform.machine(),
               "cpus": os.cpu_count(), **payload}
    out = RESULTS / f"{name}.json"
    out.write_text(json.dumps(payload, indent=2))
    return out


def own_peak_mib() -> float:
    """This process's own peak RSS in MiB.

    ``ru_maxrss`` of a process started by another counts the parent's
    resident memory at the fork before ``exec`` (a benchmark's parent holds
    the generated data: 830 MiB at a million points), so on Linux the peak
    is read from the process's own memory map (``VmHWM``).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
