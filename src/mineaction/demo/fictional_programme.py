"""A clearly fictional mine action programme, for demonstrations and tests.

Everything here is invented: the region ("Demo Oblast (fictional)") lies in
open ocean in the South Atlantic (UTM zone 25S) so that no generated hazard
can be mistaken for, or coincide with, a real place. Shapes, counts and dates
are plausible so that the register, statistics and maps have something
realistic to work on. The generator is seeded: the same seed gives the same
programme.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mineaction.domain.geometry import Extent, to_wgs84
from mineaction.domain.programme import Programme
from mineaction.storage import Register

__all__ = ["DEMO_ASSESSMENT_DATE", "DEMO_CRS", "DemoSummary", "build_demo", "demo_programme", "star_polygons"]

DEMO_ASSESSMENT_DATE = dt.date(2025, 12, 31)  # end of the demo's year of land release
DEMO_CRS = "EPSG:32725"  # WGS 84 / UTM zone 25S: open ocean, nobody lives there
_WEST, _SOUTH, _EAST, _NORTH = 400_000.0, 6_650_000.0, 460_000.0, 6_700_000.0
_USER = "demo-generator"

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    hazards: int
    activities: int
    released_parts: int
    finds: int
    accidents: int
    victims: int
    eore_sessions: int


def demo_programme() -> Programme:
    corners = to_wgs84(shapely.box(_WEST - 5_000, _SOUTH - 5_000, _EAST + 5_000, _NORTH + 5_000), DEMO_CRS)
    west, south, east, north = corners.bounds
    return Programme(
        name="Demo Oblast (fictional)",
        extent=Extent(round(west, 3), round(south, 3), round(east, 3), round(north, 3)),
        local_crs=DEMO_CRS,
        fictional=True,
        notes={"warning": "FICTIONAL DATA: invented for demonstration; no real place or hazard"},
    )


def star_polygons(rng: np.random.Generator, centres: np.ndarray, radii: np.ndarray, vertices: np.ndarray) -> list[BaseGeometry]:
    """Irregular, always-valid polygons: star-shaped around each centre.

    Sorted angles around a centre with positive radii give a simple ring, so
    every shape is valid whatever the noise. Radius noise is smoothed so the
    outlines look surveyed rather than spiky.
    """
    out: list[BaseGeometry] = []
    for (cx, cy), r, n in zip(centres, radii, vertices):
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        noise = np.convolve(rng.normal(0, 0.25, n + 4), np.ones(5) / 5, mode="valid")[:n]
        rr = r * np.clip(1 + noise, 0.4, 1.6)
        ring = np.column_stack([cx + rr * np.cos(angles), cy + rr * np.sin(angles)])
        out.append(shapely.Polygon(ring))
    return out


def _gazetteer(rng: np.random.Generator) -> list[tuple[dict, BaseGeometry]]:
    region = shapely.box(_WEST, _SOUTH, _EAST, _NORTH)
    seeds = np.column_stack([rng.uniform(_WEST, _EAST, 12), rng.uniform(_SOUTH, _NORTH, 12)])
    parts = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=region))
    cells = [cell.intersection(region) for cell in parts]
    cell_seed = [int(np.argmin([shapely.Point(s).distance(c) for s in seeds])) for c in cells]
    raion_of = (seeds[:, 0] > (_WEST + _EAST) / 2).astype(int) + 2 * (seeds[:, 1] > (_SOUTH + _NORTH) / 2)
    names = ["Pivnichnyi", "Skhidnyi", "Pivdennyi", "Zakhidnyi"]
    rows: list[tuple[dict, BaseGeometry]] = [
        ({"pcode": "ZZ01", "name_en": "Demo Oblast (fictional)", "name_uk": "Демо-область (вигадана)", "level": 1}, region)
    ]
    for r in range(4):
        members = [c for c, s in zip(cells, cell_seed) if raion_of[s] == r]
        if members:
            rows.append(
                ({"pcode": f"ZZ01{r + 1:02d}", "name_en": f"{names[r]} Raion (fictional)",
                  "name_uk": f"{names[r]} район (вигаданий)", "level": 2, "parent_pcode": "ZZ01"},
                 shapely.union_all(members))
            )
    for i, (cell, s) in enumerate(zip(cells, cell_seed)):
        rows.append(
            ({"pcode": f"ZZ01{raion_of[s] + 1:02d}{i + 1:02d}", "name_en": f"Hromada {i + 1} (fictional)",
              "name_uk": f"Громада {i + 1} (вигадана)", "level": 3, "parent_pcode": f"ZZ01{raion_of[s] + 1:02d}"},
             cell)
        )
    return rows


def _slice(polygon: BaseGeometry, lo: float, hi: float) -> BaseGeometry:
    """The part of ``polygon`` between fractions lo..hi of its east-west extent."""
    minx, miny, maxx, maxy = polygon.bounds
    width, height = maxx - minx, maxy - miny
    return polygon.intersection(shapely.box(minx + lo * width, miny - height, minx + hi * width, maxy + height))


def build_demo(register: Register, *, seed: int = 2026, hazards: int = 300, progress: Progress | None = None) -> DemoSummary:
    """Fill an empty register with the fictional programme; returns what was made."""
    rng = np.random.default_rng(seed)
    say = progress or (lambda step, done, total: None)
    steps = 6
    say("gazetteer and organisations", 0, steps)
    with register.write(_USER, "fictional demo programme: gazetteer and organisations", "demo") as w:
        for values, geometry in _gazetteer(rng):
            w.add("admin_area", values, geometry, crs=DEMO_CRS)
        authority = w.add("organisation", {"name": "Demo Mine Action Centre (fictional)", "acronym": "DMAC",
                                           "organisation_type": "authority", "country": "ZZ"})
        operators = [
            w.add("organisation", {"name": name, "acronym": acronym, "organisation_type": kind, "country": "ZZ"})
            for name, acronym, kind in [
                ("Fictional Demining NGO", "FDN", "ngo"),
                ("Example Clearance Ltd (fictional)", "ECL", "commercial"),
                ("Demo Civil Protection Service", "DCPS", "civil_protection"),
            ]
        ]
        centres = np.column_stack([rng.uniform(_WEST, _EAST, 30), rng.uniform(_SOUTH, _NORTH, 30)])
        w.add_many(
            "place",
            [{"name_en": f"Settlement {i + 1} (fictional)", "name_uk": f"Населений пункт {i + 1} (вигаданий)",
              "population": int(rng.lognormal(7, 1.2))} for i in range(30)],
            [shapely.Point(c) for c in centres],
            crs=DEMO_CRS,
        )

    say("hazards", 1, steps)
    grid = int(np.ceil(np.sqrt(hazards * 1.6)))
    cells = rng.permutation(grid * grid)[:hazards]
    cw, ch = (_EAST - _WEST) / grid, (_NORTH - _SOUTH) / grid
    centres = np.column_stack([
        _WEST + (cells % grid + rng.uniform(0.3, 0.7, hazards)) * cw,
        _SOUTH + (cells // grid + rng.uniform(0.3, 0.7, hazards)) * ch,
    ])
    radii = np.minimum(rng.lognormal(np.log(260), 0.5, hazards), 0.3 * min(cw, ch))
    outlines = star_polygons(rng, centres, radii, rng.integers(16, 64, hazards))
    contamination = ["ap_mine", "at_mine", "cmr", "uxo", "ied"]
    land_uses = ["agriculture", "housing", "water", "roads", "schools", "health", "forest"]
    rows = []
    for i in range(hazards):
        confirmed = rng.random() < 0.3
        kinds = sorted(set(rng.choice(contamination, size=rng.integers(1, 3), p=[0.35, 0.2, 0.15, 0.25, 0.05])))
        reported = dt.date(2022, 3, 1) + dt.timedelta(days=int(rng.integers(0, 900)))
        rows.append({
            "hazard_type": "CHA" if confirmed else "SHA",
            "status": "active",
            "contamination": kinds,
            "evidence": "direct" if confirmed else "indirect",
            "blocked_land_use": sorted(set(rng.choice(land_uses, size=rng.integers(1, 3)))),
            "reported_on": reported,
            "confirmed_on": reported + dt.timedelta(days=int(rng.integers(10, 200))) if confirmed else None,
            "reference_lon": None,
            "reference_lat": None,
            "organisation_id": operators[i % 3].id,
            "emplaced_on": reported - dt.timedelta(days=int(rng.integers(5, 120))) if "ap_mine" in kinds else None,
            "residual_profile": ("ccw-apii-design-bound" if rng.random() < 0.5 else "degraded-field-example-a")
            if "ap_mine" in kinds else None,
            "estimated_items": float(rng.integers(5, 120)) if "ap_mine" in kinds else None,
            "count_dispersion": 2.0 if "ap_mine" in kinds else None,
        })
    points = to_wgs84(np.asarray([o.representative_point() for o in outlines], dtype=object), DEMO_CRS)
    for row, point in zip(rows, points):
        row["reference_lon"], row["reference_lat"] = round(point.x, 6), round(point.y, 6)
    with register.write(_USER, "fictional demo programme: hazards from survey", "demo") as w:
        hazard_records = w.add_many("hazard", rows, outlines, crs=DEMO_CRS)

    say("a year of survey and clearance", 2, steps)
    n_activities = n_parts = n_finds = 0
    conditions = ["functional", "self_destructed", "self_deactivated", "unknown"]
    with register.write(_USER, "fictional demo programme: 2025 land release", "demo") as w:
        for record in hazard_records:
            if rng.random() > 0.55:
                continue
            org = record["organisation_id"]
            day = dt.date(2025, 1, 6) + dt.timedelta(days=int(rng.integers(0, 300)))
            cuts = np.sort(rng.uniform(0.1, 0.9, 2))
            full = rng.random() < 0.15
            plan = [("nts", "cancelled", "nts", 0.0, cuts[0]),
                    ("ts", "reduced", rng.choice(["manual", "mechanical", "mdd"]), cuts[0], cuts[1]),
                    ("clearance", "cleared", rng.choice(["manual", "mechanical", "mdd"]), cuts[1],
                     1.0 if full else cuts[1] + (1 - cuts[1]) * rng.uniform(0.3, 0.9))]
            for activity_type, release_type, method, lo, hi in plan[: rng.integers(1, 4) if not full else 3]:
                end = day + dt.timedelta(days=int(rng.integers(2, 40)))
                activity = w.add("activity", {
                    "hazard_id": record.id, "activity_type": activity_type, "status": "completed",
                    "method": [method], "team": f"Team {int(rng.integers(1, 12))}",
                    "clearance_depth_cm": 20 if activity_type == "clearance" else None,
                    "started_on": day, "ended_on": end, "organisation_id": org,
                })
                n_activities += 1
                # cut the stored lon/lat outline, as a surveyor's GIS would cut the register's layer
                part = _slice(record.outline, lo, hi)
                if part.is_empty:
                    continue
                w.release(activity_id=activity.id, geometry=part, release_type=release_type,
                          method=method, released_on=end)
                n_parts += 1
                if activity_type == "clearance" and "ap_mine" in record["contamination"]:
                    k = int(rng.integers(1, 8))
                    scattered = shapely.points(rng.uniform(*part.bounds[0::2], 40), rng.uniform(*part.bounds[1::2], 40))
                    finds = [p for p in np.asarray(scattered) if part.contains(p)][:k]
                    w.add_many("eo_find", [{
                        "hazard_id": record.id, "activity_id": activity.id, "category": "ap_mine",
                        "model": "non-persistent AP mine (unspecified)",
                        "condition": str(rng.choice(conditions, p=[0.25, 0.3, 0.35, 0.1])),
                        "quantity": 1, "depth_cm": int(rng.integers(0, 15)), "found_on": end,
                        "organisation_id": org} for _ in finds], finds)
                    n_finds += len(finds)
                day = end + dt.timedelta(days=int(rng.integers(1, 20)))
            if full:
                w.update("hazard", record.id, base_version=record.version,
                         values={"status": "closed", "closed_on": day})

    say("accidents and victims", 3, steps)
    n_victims = 0
    with register.write(_USER, "fictional demo programme: accidents", "demo") as w:
        picks = rng.choice(len(outlines), 25, replace=False)
        accidents = w.add_many("accident", [{
            "occurred_on": dt.date(2023, 1, 1) + dt.timedelta(days=int(rng.integers(0, 1000))),
            "accident_type": str(rng.choice(["mine", "uxo", "cluster", "demining"], p=[0.5, 0.3, 0.1, 0.1])),
            "device_category": str(rng.choice(["ap_mine", "uxo", "submunition"])),
            "hazard_id": hazard_records[i].id, "organisation_id": authority.id,
            "description": "fictional accident for demonstration"} for i in picks],
            [outlines[i].representative_point() for i in picks], crs=DEMO_CRS)
        victims = []
        for accident in accidents:
            for _ in range(int(rng.integers(1, 4))):
                n_victims += 1
                deminer = accident["accident_type"] == "demining"
                victims.append({
                    "accident_id": accident.id, "name": f"Fictional Person {n_victims}",
                    "age": int(rng.integers(6, 80)), "sex": str(rng.choice(["female", "male"], p=[0.3, 0.7])),
                    "victim_group": "deminer" if deminer else "civilian",
                    "outcome": str(rng.choice(["killed", "injured"], p=[0.3, 0.7])),
                    "activity_at_time": "demining" if deminer
                    else str(rng.choice(["farming", "travelling", "collecting", "playing"])),
                    "organisation_id": authority.id,
                })
        w.add_many("victim", victims)

    say("risk education and quality management", 4, steps)
    with register.write(_USER, "fictional demo programme: EORE and QM", "demo") as w:
        spots = np.column_stack([rng.uniform(_WEST, _EAST, 80), rng.uniform(_SOUTH, _NORTH, 80)])
        w.add_many("eore_session", [{
            "held_on": dt.date(2025, 1, 1) + dt.timedelta(days=int(rng.integers(0, 330))),
            "eore_method": str(rng.choice(["group_session", "house_to_house", "school"])),
            "girls": int(rng.poisson(12)), "boys": int(rng.poisson(12)),
            "women": int(rng.poisson(9)), "men": int(rng.poisson(6)),
            "organisation_id": operators[i % 3].id} for i in range(80)],
            [shapely.Point(p) for p in spots], crs=DEMO_CRS)
        clearances = register.records("activity", where={"activity_type": "clearance"})
        w.add_many("qm_activity", [{
            "qm_type": "qc_inspection", "activity_id": a.id, "hazard_id": a["hazard_id"],
            "held_on": a["ended_on"], "result": str(rng.choice(["pass", "fail"], p=[0.9, 0.1])),
            "organisation_id": authority.id} for a in clearances[:20]])
    say("done", steps, steps)
    return DemoSummary(hazards, n_activities, n_parts, n_finds, len(accidents), n_victims, 80)
