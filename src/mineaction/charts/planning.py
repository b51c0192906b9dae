"""Planning charts: completion burn-down, land released per year, priority map.

Each function draws one chart from a domain result and writes it to ``path``,
PNG or SVG by the suffix, without touching pyplot's global state (safe in a
web worker or a test run). Map coordinates are projected to metres so shapes
keep their proportions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.colors import Normalize
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from mineaction.charts.figures import save_image
from mineaction.charts.paths import polygon_paths
from mineaction.domain.forecast import Forecast
from mineaction.domain.prioritisation import Ranking, project_hazards
from mineaction.errors import InvalidValue

__all__ = ["plot_burn_down", "plot_priority_map", "plot_released_by_year"]

_CATEGORY_COLOURS = ("#8ecae6", "#2d6a4f", "#e9c46a", "#9d4edd", "#e76f51", "#264653")


def _area_unit(largest: float) -> tuple[float, str]:
    """Divisor and label so axis numbers stay readable: km² from a square kilometre up."""
    return (1e6, "km²") if largest >= 1e6 else (1.0, "m²")


def plot_burn_down(forecast: Forecast, path: str | Path, *, title: str | None = None) -> Path:
    """Remaining area over time: P50 line, P10–P90 band, P50 and P90 national completion.

    Parameters
    ----------
    forecast : Forecast
    path : str or pathlib.Path
        Ends in ``.png`` or ``.svg``.
    title : str, optional

    Returns
    -------
    pathlib.Path
    """
    bd = forecast.burn_down
    scale, unit = _area_unit(float(bd.p90.max()))
    fig = Figure(figsize=(9, 5))
    ax = fig.subplots()
    dates = np.array(bd.dates, dtype="datetime64[D]")
    ax.fill_between(dates, bd.p10 / scale, bd.p90 / scale, color="#f4a261", alpha=0.35,
                    label="P10–P90 of runs")
    ax.plot(dates, bd.p50 / scale, color="#d62828", linewidth=2, label="P50 (median)")
    ax.plot(dates, bd.p90 / scale, color="#6a040f", linewidth=1, linestyle="--", label="P90 (pessimistic)")
    for q, style in ((0.5, "-"), (0.9, "--")):
        done = forecast.national_completion(q)
        if done is not None:
            # matplotlib's date units take datetime64; its annotation says float only
            ax.axvline(np.datetime64(done, "D"), color="#495057", linestyle=style, linewidth=0.8)  # type: ignore[arg-type]
            ax.annotate(f"P{int(q * 100)}: {done.isoformat()}", (np.datetime64(done, "D"), 0),
                        xytext=(3, 3 + 14 * (q == 0.9)), textcoords="offset points", fontsize=8)
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"remaining area ({unit})")
    ax.set_title(title or "Remaining contaminated area")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    return save_image(fig, path)


def plot_released_by_year(forecast: Forecast, path: str | Path, *, title: str | None = None) -> Path:
    """Expected land released per plan year, stacked by how it is released.

    Cancelled/reduced land and land cleared by each method are stacked, each
    square metre counted once, under the method that releases it.
    """
    released = forecast.released_by_year
    scale, unit = _area_unit(float(released.m2.sum(axis=1).max()))
    fig = Figure(figsize=(9, 5))
    ax = fig.subplots()
    labels = [str(d.year) if (d.month, d.day) == (1, 1) else d.isoformat() for d in released.year_starts]
    x = np.arange(len(labels))
    bottom = np.zeros(len(labels))
    for k, category in enumerate(released.categories):
        heights = released.m2[:, k] / scale
        ax.bar(x, heights, bottom=bottom, label=category, color=_CATEGORY_COLOURS[k % len(_CATEGORY_COLOURS)])
        bottom += heights
    ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0)
    ax.set_ylabel(f"expected area released ({unit})")
    ax.set_xlabel("plan year starting")
    ax.set_title(title or "Land released per year (mean of runs)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return save_image(fig, path)


def plot_priority_map(
    hazard_geoms: ArrayLike,
    ranking: Ranking,
    path: str | Path,
    *,
    by: Literal["rank", "score"] = "rank",
    crs: Any = None,
    title: str | None = None,
) -> Path:
    """Hazard polygons coloured by priority: darkest is most urgent.

    Parameters
    ----------
    hazard_geoms : array_like of shapely geometries
        WGS 84 lon/lat, in the order of ``ranking.alternatives`` (missing ones
        are left off the map).
    ranking : Ranking
    path : str or pathlib.Path
        Ends in ``.png`` or ``.svg``.
    by : {"rank", "score"}
        Colour by rank (1 darkest) or by score (highest darkest).
    crs : pyproj.CRS, int, str or None
        Projected CRS of the map; default the UTM zone of the hazards.
    title : str, optional
    """
    geoms = np.asarray(hazard_geoms, dtype=object)
    if len(geoms) != len(ranking.alternatives):
        raise InvalidValue(f"{len(geoms)} geometries for {len(ranking.alternatives)} ranked hazards")
    if by not in ("rank", "score"):
        raise InvalidValue(f"by must be 'rank' or 'score', not {by!r}")
    projected = project_hazards(geoms, crs)
    paths, owner = polygon_paths(projected.geoms)
    values = (ranking.ranks if by == "rank" else ranking.scores).astype(float)[projected.present]
    norm = Normalize(values.min(), values.max())
    cmap = "viridis" if by == "rank" else "viridis_r"  # viridis starts dark: rank 1, top score
    fig = Figure(figsize=(9, 8))
    ax = fig.subplots()
    collection = PathCollection(paths, array=values[owner], cmap=cmap, norm=norm,
                                edgecolor="#212529", linewidth=0.2)
    ax.add_collection(collection)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.set_xlabel("easting (m)")
    ax.set_ylabel("northing (m)")
    bar = fig.colorbar(collection, ax=ax, shrink=0.7)
    bar.set_label("priority rank (1 = first)" if by == "rank" else f"{ranking.method} score")
    if by == "rank":
        bar.ax.invert_yaxis()
    ax.set_title(title or f"Clearance priority ({ranking.method})")
    return save_image(fig, path)
