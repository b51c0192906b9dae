"""W8: rank 100,000 hazards on 8 criteria, 4 of them spatial, against GeoPandas.

Workload (generated at run time, fixed seed, fictional region in UTM zone 25S
converted to lon/lat like field data):

* 100,000 star-shaped hazard polygons of 20-40 vertices (median radius 120 m),
  60 % along a sinuous front line, 40 % scattered over 200 × 150 km;
* 1,000,000 population points (1-6 people each), 85 % around 1,000
  settlements, 15 % dispersed;
* 5,000 accidents (2019-2025, 1-3 victims each) and 3,000 schools/clinics.

Criteria: people within 1 km; accidents and victims within 5 km since
2023-01-01; schools/clinics within 2 km; blocked farmland, evidence
confidence, residual hazard and cost per m² (attributes). Both sides rank
with min-max weighted sum; mineaction also runs TOPSIS.

mineaction: ``project_hazards`` once, then one STRtree ``dwithin`` query per
criterion. Anchor: GeoPandas as an analyst would write it: ``to_crs``,
``buffer`` by the distance, ``sjoin`` points within the buffers, pandas
``groupby`` and min-max ranking. A second anchor uses ``sjoin`` with
``predicate="dwithin"`` (no buffers). Buffers are polygons (8 segments a
quarter circle), so a few points within ~5 m of the distance differ: the
table reports how many hazards agree exactly.

Every step runs on one core; the table gives wall and CPU seconds, and the
CPU ratio is the one to trust when other work shares the machine.

Run: ``.venv/bin/python benchmarks/bench_w8_prioritisation.py [--hazards N] [--points N]``
Writes benchmarks/results/w8_prioritisation.json.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from common import save  # benchmarks/common.py, beside this script
from pyproj import Transformer
from scipy.stats import spearmanr

from mineaction.demo.fictional_programme import DEMO_CRS, star_polygons
from mineaction.domain.prioritisation import (
    count_within,
    population_within,
    project_hazards,
    topsis,
    weighted_sum,
)

WEST, SOUTH, EAST, NORTH = 320_000.0, 6_550_000.0, 520_000.0, 6_700_000.0
SINCE = np.datetime64("2023-01-01")
CRITERIA = ["people_1km", "accidents_5km", "victims_5km", "facilities_2km",
            "farmland_m2", "confidence", "residual_hazard", "cost_per_m2"]
DIRECTIONS = ["benefit"] * 7 + ["cost"]
WEIGHTS = np.array([0.25, 0.15, 0.15, 0.1, 0.1, 0.1, 0.1, 0.05])


@dataclass
class Workload:
    hazards: np.ndarray  # lon/lat polygons
    attributes: np.ndarray  # (n, 4): farmland, confidence, residual hazard, cost
    people_xy: np.ndarray
    people: np.ndarray
    accidents_xy: np.ndarray
    accident_dates: np.ndarray
    victims: np.ndarray
    facilities_xy: np.ndarray


def _to_lonlat(xy: np.ndarray) -> np.ndarray:
    lon, lat = Transformer.from_crs(DEMO_CRS, 4326, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform([WEST, SOUTH], [EAST, NORTH], size=(n, 2))


def generate(n_hazards: int, n_points: int, seed: int = 8) -> Workload:
    rng = np.random.default_rng(seed)
    front = int(0.6 * n_hazards)
    t = rng.uniform(0, 1, front)
    along = np.column_stack([WEST + t * (EAST - WEST),
                             (SOUTH + NORTH) / 2 + 30_000 * np.sin(6 * t) + rng.normal(0, 8_000, front)])
    centres = np.vstack([along, _uniform(rng, n_hazards - front)])
    radii = np.clip(rng.lognormal(np.log(120), 0.5, n_hazards), 30, 600)
    vertices = rng.integers(20, 41, n_hazards)
    hazards_m = np.asarray(star_polygons(rng, centres, radii, vertices), dtype=object)
    to_lonlat = Transformer.from_crs(DEMO_CRS, 4326, always_xy=True)
    hazards = shapely.transform(hazards_m, lambda c: np.column_stack(to_lonlat.transform(c[:, 0], c[:, 1])))

    towns = _uniform(rng, 1_000)
    size = rng.lognormal(0, 1, 1_000)
    clustered = int(0.85 * n_points)
    which = rng.choice(1_000, clustered, p=size / size.sum())
    spread = 400 + 600 * np.sqrt(size[which])
    people_m = np.vstack([towns[which] + rng.normal(0, 1, (clustered, 2)) * spread[:, None],
                          _uniform(rng, n_points - clustered)])
    attributes = np.column_stack([
        rng.uniform(0, 1, n_hazards) * shapely.area(hazards_m),  # farmland blocked, m²
        np.where(rng.random(n_hazards) < 0.3, 1.0, 0.5),  # CHA 1, SHA 0.5
        rng.beta(1, 4, n_hazards),  # P(>= 1 functional mine)
        rng.lognormal(np.log(2.0), 0.4, n_hazards),  # cost per m²
    ])
    days = (np.datetime64("2025-12-31") - np.datetime64("2019-01-01")).astype(int)
    return Workload(
        hazards=hazards,
        attributes=attributes,
        people_xy=_to_lonlat(people_m),
        people=rng.integers(1, 7, n_points).astype(float),
        accidents_xy=_to_lonlat(along[rng.integers(0, front, 5_000)] + rng.normal(0, 3_000, (5_000, 2))),
        accident_dates=np.datetime64("2019-01-01") + rng.integers(0, days, 5_000),
        victims=rng.integers(1, 4, 5_000).astype(float),
        facilities_xy=_to_lonlat(towns[rng.integers(0, 1_000, 3_000)] + rng.normal(0, 1_500, (3_000, 2))),
    )


def mineaction_criteria(w: Workload) -> np.ndarray:
    hazards = project_hazards(w.hazards, DEMO_CRS)
    recent = {"event_dates": w.accident_dates, "since": SINCE}
    return np.column_stack([
        population_within(hazards, w.people_xy, w.people, 1000),
        count_within(hazards, w.accidents_xy, 5000, **recent),
        count_within(hazards, w.accidents_xy, 5000, weights=w.victims, **recent),
        count_within(hazards, w.facilities_xy, 2000),
        w.attributes,
    ])


def _points_frame(xy: np.ndarray, **columns: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326).to_crs(DEMO_CRS)


def geopandas_criteria(w: Workload, predicate: str) -> np.ndarray:
    """The same criteria with GeoPandas: ``buffer`` + ``sjoin``, or ``sjoin`` with ``dwithin``."""
    hazards = gpd.GeoDataFrame(geometry=gpd.GeoSeries(w.hazards, crs=4326)).to_crs(DEMO_CRS)

    def near(points: gpd.GeoDataFrame, distance: float) -> pd.DataFrame:
        if predicate == "buffer":
            zones = gpd.GeoDataFrame(geometry=hazards.buffer(distance), crs=DEMO_CRS)
            joined = gpd.sjoin(points, zones, predicate="within")
        else:
            joined = gpd.sjoin(points, hazards, predicate="dwithin", distance=distance)
        return joined.groupby("index_right")

    people = near(_points_frame(w.people_xy, people=w.people), 1000)["people"].sum()
    accidents = _points_frame(w.accidents_xy, victims=w.victims)
    recent = near(accidents[w.accident_dates >= SINCE], 5000)["victims"].agg(["size", "sum"])
    facilities = near(_points_frame(w.facilities_xy), 2000).size()
    table = pd.DataFrame(
        {"people_1km": people, "accidents_5km": recent["size"], "victims_5km": recent["sum"],
         "facilities_2km": facilities},
        index=pd.RangeIndex(len(hazards)),
    ).fillna(0)
    return np.column_stack([table.to_numpy(dtype=float), w.attributes])


def pandas_weighted_sum(matrix: np.ndarray) -> pd.Series:
    frame = pd.DataFrame(matrix, columns=CRITERIA)
    low, high = frame.min(), frame.max()
    normalised = (frame - low) / (high - low)
    normalised["cost_per_m2"] = 1 - normalised["cost_per_m2"]
    return (normalised * (WEIGHTS / WEIGHTS.sum())).sum(axis=1).rank(ascending=False, method="min")


@dataclass
class Timing:
    wall: float
    cpu: float

    def __add__(self, other: Timing) -> Timing:
        return Timing(self.wall + other.wall, self.cpu + other.cpu)


def timed(fn: Callable[[], Any]) -> tuple[Timing, Any]:
    """Wall and CPU seconds of one call. Every step here runs on one core, so
    CPU time is the figure to trust on a machine shared with other work."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return Timing(time.perf_counter() - wall, time.process_time() - cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()

    t_gen, w = timed(lambda: generate(args.hazards, args.points))
    t_ours, ours = timed(lambda: mineaction_criteria(w))
    t_ws, ranking = timed(lambda: weighted_sum(ours, WEIGHTS, DIRECTIONS, criteria=CRITERIA))
    t_topsis, _ = timed(lambda: topsis(ours, WEIGHTS, DIRECTIONS, criteria=CRITERIA))
    t_buffer, anchor = timed(lambda: geopandas_criteria(w, "buffer"))
    t_pd_ws, anchor_ranks = timed(lambda: pandas_weighted_sum(anchor))
    t_dwithin, anchor_dwithin = timed(lambda: geopandas_criteria(w, "dwithin"))

    ours_total = t_ours + t_ws
    buffer_total = t_buffer + t_pd_ws
    dwithin_total = t_dwithin + t_pd_ws
    same_people = float((ours[:, 0] == anchor[:, 0]).mean())
    rel_diff = np.abs(ours[:, 0] - anchor[:, 0]) / np.maximum(ours[:, 0], 1)
    exact_dwithin = bool((ours == anchor_dwithin).all())
    rho = float(spearmanr(ranking.ranks, anchor_ranks.to_numpy()).statistic)

    rows = [
        ("generate workload (not in the ratio)", t_gen),
        ("mineaction: 4 spatial criteria", t_ours),
        ("mineaction: weighted sum", t_ws),
        ("mineaction: TOPSIS (extra)", t_topsis),
        ("mineaction: criteria + weighted sum", ours_total),
        ("GeoPandas buffer + sjoin + pandas rank", buffer_total),
        ("GeoPandas sjoin dwithin + pandas rank", dwithin_total),
    ]
    speedups = {
        "buffer": (buffer_total.wall / ours_total.wall, buffer_total.cpu / ours_total.cpu),
        "dwithin": (dwithin_total.wall / ours_total.wall, dwithin_total.cpu / ours_total.cpu),
    }
    print(f"W8 prioritisation: {args.hazards:,} hazards, {args.points:,} population points, 8 criteria")
    print(f"  {'step':<42} {'wall s':>8} {'CPU s':>8}")
    for name, t in rows:
        print(f"  {name:<42} {t.wall:8.2f} {t.cpu:8.2f}")
    for anchor_name, (by_wall, by_cpu) in speedups.items():
        print(f"  {'speed-up vs GeoPandas ' + anchor_name + ' anchor':<42} {by_wall:7.2f}× {by_cpu:7.2f}×")
    print(f"  hazards with identical population (buffer) {same_people:8.2%}"
          f"  (max relative difference {rel_diff.max():.2%})")
    print(f"  criteria identical to sjoin dwithin        {exact_dwithin!s:>8}")
    print(f"  Spearman rank correlation with anchor      {rho:8.5f}")
    out = save("w8_prioritisation", {
        "hazards": args.hazards, "points": args.points, "criteria": CRITERIA,
        "seconds": {name: {"wall": round(t.wall, 3), "cpu": round(t.cpu, 3)} for name, t in rows},
        "speedup_wall_cpu": speedups,
        "identical_population_share_vs_buffer": same_people,
        "max_relative_population_difference_vs_buffer": float(rel_diff.max()),
        "identical_to_dwithin_anchor": exact_dwithin,
        "spearman_vs_anchor": rho,
    })
    print(f"  written {out}")


if __name__ == "__main__":
    main()
