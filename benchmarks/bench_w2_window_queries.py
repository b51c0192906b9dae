"""W2 window queries: 1,000 random map windows over a 100,000-hazard register.

Workload: the W1 register (N hazards, default 100,000). 1,000 random windows,
seeded, each sized so it returns 0.1–1 % of the hazards with their geometry.
Ours: ``Register.features("hazard", bbox=..., fields=("hazard_type", "status"))``
(R-tree candidates, vectorised decoding, exact Shapely intersection, ids,
refs, versions and two attributes); also reported: ``Register.records``, the
full-record path. Anchor: a hand-written R-tree SQL query
on the same file plus ``shapely.from_wkb`` of the candidates (no attributes,
no exact test). Goal: ≤ 1.5× the anchor.

Run: ``.venv/bin/python benchmarks/bench_w2_window_queries.py [N]``
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from common import save, write_hazard_gpkg  # noqa: E402
from load_hazards import load  # noqa: E402

from mineaction.storage import gpkg  # noqa: E402


def windows(bounds: tuple[float, float, float, float], n_hazards: int, count: int, seed: int = 3) -> np.ndarray:
    """Windows whose area is 0.1–1 % of the extent: with evenly spread hazards that returns 0.1–1 %."""
    rng = np.random.default_rng(seed)
    west, south, east, north = bounds
    share = rng.uniform(0.001, 0.01, count)
    width = (east - west) * np.sqrt(share)
    height = (north - south) * np.sqrt(share)
    x = rng.uniform(west, east - width)
    y = rng.uniform(south, north - height)
    return np.column_stack([x, y, x + width, y + height])


def anchor_query(path: str, boxes: np.ndarray) -> int:
    connection = sqlite3.connect(path)
    returned = 0
    sql = ("SELECT h.geom FROM hazard h JOIN rtree_hazard_geom r ON h.fid = r.id "
           "WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?")
    for minx, miny, maxx, maxy in boxes:
        blobs = [row[0] for row in connection.execute(sql, (maxx, minx, maxy, miny))]
        returned += len(gpkg.decode_many(blobs))
    connection.close()
    return returned


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    work = Path(tempfile.mkdtemp(prefix="w2-"))
    register = load(str(write_hazard_gpkg(work / "hazards.gpkg", n)), str(work / "register.gpkg"))
    with sqlite3.connect(register.target) as c:
        bounds = c.execute("SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_hazard_geom").fetchone()
    boxes = windows(bounds, n, 1_000)
    start = time.perf_counter()
    anchor_count = anchor_query(register.target, boxes)
    anchor = time.perf_counter() - start
    start = time.perf_counter()
    ours_count = sum(len(register.features("hazard", bbox=tuple(b), fields=("hazard_type", "status"))) for b in boxes)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    records_count = sum(len(register.records("hazard", bbox=tuple(b))) for b in boxes)
    records = time.perf_counter() - start
    register.close()
    result = {"n": n, "windows": len(boxes), "anchor_s": anchor, "ours_s": ours, "ratio": ours / anchor,
              "records_s": records, "records_ratio": records / anchor,
              "anchor_features": anchor_count, "ours_features": ours_count, "records_features": records_count,
              "mean_features_per_window": ours_count / len(boxes)}
    print(f"W2: 1,000 windows over {n:,} hazards, {ours_count / len(boxes):.0f} features per window on average")
    print(f"anchor {anchor:.2f} s ({anchor_count:,} candidates)   ours {ours:.2f} s ({ours_count:,} exact)   ratio {ours / anchor:.2f} (goal ≤ 1.5)")
    print(f"full records path: {records:.2f} s, ratio {records / anchor:.2f}")
    print(f"results in {save('w2_window_queries', result)}")


if __name__ == "__main__":
    main()
