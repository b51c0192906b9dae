"""The validation report, and the vectorised geometry check behind it.

Every feature of an import is checked before anything is written; each
problem names the file, the row or feature, the field, what is wrong and what
to do, and is shown as a Rich table and written as CSV and JSON. The checks
are the register's own (:mod:`mineaction.domain.geometry`,
:func:`~mineaction.domain.entities.clean_values`,
:mod:`mineaction.domain.ledger`): the report can only promise what the
register will accept if it asks the same functions.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import shapely
from rich.table import Table

from mineaction.domain.geometry import Extent, prepare_geometry, to_wgs84, validate
from mineaction.domain.spreadsheet import neutralise
from mineaction.errors import InvalidGeometry, MineActionError

__all__ = ["MAX_LISTED", "Problem", "ValidationReport", "check_geometries", "problem_from"]

#: problems listed one by one; beyond this they are counted (a 2 GB file with one
#: systematic fault should not produce a 2 GB report)
MAX_LISTED = 10_000
_COLUMNS = ("file", "feature", "field", "severity", "problem", "action")


@dataclass(frozen=True)
class Problem:
    file: str
    feature: str
    field: str
    severity: str  # error: the feature is not imported | warning: imported or skipped, read this
    problem: str
    action: str


def problem_from(exc: MineActionError, file: str, feature: str, field_name: str = "") -> Problem:
    """A report row from a register error, its hint becoming what to do."""
    message = Exception.__str__(exc)
    message = re.sub(rf"^{re.escape(feature)}(\.\w+)?:\s*", "", message)
    return Problem(file, feature, field_name, "error", message, exc.hint or "correct the source and import again")


@dataclass
class ValidationReport:
    """What an import found, feature by feature."""

    source: str
    features: int = 0
    valid: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, problem: Problem) -> None:
        self.counts[problem.severity] += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)

    @property
    def errors(self) -> int:
        return self.counts["error"]

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def summary(self) -> str:
        unlisted = sum(self.counts.values()) - len(self.problems)
        more = f" ({unlisted:,} more not listed)" if unlisted else ""
        return (f"{self.source}: {self.features:,} features, {self.valid:,} valid, {self.skipped:,} skipped, "
                f"{self.errors:,} errors, {self.counts['warning']:,} warnings{more}")

    def to_csv(self, path: Path) -> Path:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=_COLUMNS)
            writer.writeheader()
            writer.writerows({k: neutralise(v) for k, v in asdict(p).items()} for p in self.problems)
        return path

    def to_json(self, path: Path) -> Path:
        data = {
            "source": self.source, "features": self.features, "valid": self.valid, "skipped": self.skipped,
            "errors": self.errors, "warnings": self.counts["warning"],
            "problems": [asdict(p) for p in self.problems],
        }
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    def table(self, limit: int = 50) -> Table:
        table = Table(title=self.summary(), show_lines=False)
        for column in _COLUMNS[1:]:
            table.add_column(column, overflow="fold")
        for p in self.problems[:limit]:
            colour = "red" if p.severity == "error" else "yellow"
            table.add_row(p.feature, p.field, f"[{colour}]{p.severity}[/]", p.problem, p.action)
        if len(self.problems) > limit:
            table.add_row("…", "", "", f"{len(self.problems) - limit:,} more in the CSV/JSON report", "")
        return table


def _normalise_parts(geometries: np.ndarray, kinds: tuple[str, ...]) -> np.ndarray:
    """A one-part Multi* where the register wants the single kind (Shapefiles write polygons as multi)."""
    out = geometries.copy()
    types = shapely.get_type_id(out)
    for multi, single in ((4, "Point"), (6, "Polygon")):
        if single in kinds and f"Multi{single}" not in kinds:
            idx = np.flatnonzero((types == multi) & (shapely.get_num_geometries(out) == 1))
            out[idx] = shapely.get_geometry(out[idx], 0)
    return out


def check_geometries(
    geometries: np.ndarray,
    labels: Sequence[str],
    *,
    crs: object,
    extent: Extent | None,
    kinds: tuple[str, ...],
) -> tuple[np.ndarray, dict[int, InvalidGeometry]]:
    """Reproject to lon/lat and check a batch the way the register will.

    Returns the lon/lat geometries (None where refused) and, per refused
    index, the register's own error. The common case, all valid, is decided
    in a few vectorised calls; only suspect features take the explaining
    per-feature path (:func:`~mineaction.domain.geometry.prepare_geometry`).
    """
    geoms = _normalise_parts(np.asarray(geometries, dtype=object), kinds)
    present = ~shapely.is_missing(geoms)
    out = np.full(len(geoms), None, dtype=object)
    errors: dict[int, InvalidGeometry] = {}
    if present.any():
        lonlat = np.asarray(to_wgs84(geoms[present], crs), dtype=object)
        allowed = [shapely.GeometryType[k.upper()].value for k in kinds]
        source = geoms[present]  # reprojection drops Z and M, so ask the source about them
        good = (np.isin(shapely.get_type_id(lonlat), allowed) & ~shapely.is_empty(lonlat)
                & ~shapely.has_z(source) & ~shapely.has_m(source) & _finite(source) & _finite(lonlat))
        good[good] &= shapely.is_valid(lonlat[good])
        if extent is not None:
            minx, miny, maxx, maxy = shapely.bounds(lonlat).T
            with np.errstate(invalid="ignore"):
                good &= ~((minx < extent.west) | (maxx > extent.east) | (miny < extent.south) | (maxy > extent.north))
        where = np.flatnonzero(present)
        out[where[good]] = lonlat[good]
        for k in np.flatnonzero(~good):
            i = int(where[k])
            if shapely.has_m(geoms[i]):
                errors[i] = InvalidGeometry(f"{labels[i]}: has M (measure) values; the register stores 2-D geometries",
                                            hint="drop the M values (e.g. ogr2ogr -dim XY) or import with drop_z")
                continue
            try:
                validate(geoms[i], kinds=kinds, where=labels[i])  # empty, kind, Z, NaN, topology: in the source
                prepared, _ = prepare_geometry(geoms[i], crs=crs, extent=extent, kinds=kinds, where=labels[i])
            except InvalidGeometry as exc:
                errors[i] = exc
            else:
                out[i] = prepared
    for i in np.flatnonzero(~present).tolist():
        errors[i] = InvalidGeometry(f"{labels[i]}: geometry is missing",
                                         hint="give coordinates for every feature")
    return out, errors


def _finite(geometries: np.ndarray) -> np.ndarray:
    coords, owner = shapely.get_coordinates(geometries, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    finite = np.ones(len(geometries), dtype=bool)
    finite[np.unique(owner[bad])] = False
    return finite
