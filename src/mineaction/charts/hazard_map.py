"""Map of hazard polygons coloured by P(≥ 1 functional mine).

The colour is the probability that at least one mine still functions, which
is only part of the hazard: mines that failed to self-destruct still hold
explosive, so every polygon on the map stays a hazard until survey or
clearance releases it. The map says so under the colour bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from matplotlib.collections import PathCollection
from matplotlib.colors import LogNorm, Normalize
from numpy.typing import ArrayLike

from mineaction.charts.figures import new_figure, save_figure
from mineaction.charts.paths import polygon_paths
from mineaction.errors import InvalidValue

__all__ = ["plot_hazard_map"]

_NOTE = (
    "Colour: P(≥1 functional mine) only. Mines that failed to self-destruct still hold explosive: "
    "every hazard shown stays a hazard until survey or clearance releases it."
)


def plot_hazard_map(
    polygons: Sequence[shapely.Geometry],
    values: ArrayLike,
    path: str | Path,
    *,
    title: str = "Residual hazard: P(≥1 functional mine)",
    label: str = "P(≥1 functional mine)",
    log_scale: bool = False,
) -> tuple[Path, Path]:
    """Colour each hazard polygon by its value and add a colour bar; write PNG and SVG.

    Parameters
    ----------
    polygons
        Polygons or multipolygons (holes are drawn as holes), in one CRS.
    values
        One value per polygon, e.g. ``P(≥ 1 functional mine)`` on a date;
        NaN is drawn grey and hatched as "no estimate".
    path
        Output path without suffix.
    title, label
        Map title and colour-bar label.
    log_scale
        Logarithmic colour scale, for probabilities spanning decades.
    """
    geoms = np.asarray(polygons, dtype=object).reshape(-1)
    vals = np.asarray(values, dtype=float).reshape(-1)
    if geoms.size != vals.size:
        raise InvalidValue(
            f"values: expected {geoms.size} values (one per polygon), got {vals.size}"
        )
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))  # Polygon, MultiPolygon
    if not polygonal.all():
        first = int(np.flatnonzero(~polygonal)[0])
        kind = "nothing" if geoms[first] is None else geoms[first].geom_type
        raise InvalidValue(f"polygons[{first}]: expected a Polygon or MultiPolygon, got {kind}")
    paths, owner = polygon_paths(geoms)
    part_values = vals[owner]
    known = ~np.isnan(part_values)
    fig = new_figure(8, 7)
    ax = fig.subplots()
    norm = _norm(vals, log_scale)
    coloured = PathCollection(
        [p for p, k in zip(paths, known, strict=True) if k],
        cmap="YlOrRd",
        norm=norm,
        edgecolor="black",
        linewidth=0.4,
    )
    coloured.set_array(np.clip(part_values[known], norm.vmin, None))
    ax.add_collection(coloured)
    if not known.all():
        ax.add_collection(
            PathCollection(
                [p for p, k in zip(paths, known, strict=True) if not k],
                facecolor="lightgrey",
                edgecolor="black",
                linewidth=0.4,
                hatch="//",
            )
        )
    bounds = shapely.total_bounds(geoms)
    if np.all(np.isfinite(bounds)):
        pad = 0.02 * max(bounds[2] - bounds[0], bounds[3] - bounds[1], 1e-9)
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize="medium")
    fig.colorbar(coloured, ax=ax, label=label, shrink=0.8)
    note = _NOTE if known.all() else _NOTE + " Grey hatched: no estimate."
    fig.supxlabel(note, fontsize="x-small", wrap=True)
    return save_figure(fig, path)


def _norm(values: np.ndarray, log_scale: bool) -> Normalize:
    """Probabilities on [0, 1]; on a log scale, from the smallest positive value up to 1."""
    if not log_scale:
        return Normalize(vmin=0.0, vmax=1.0)
    positive = values[values > 0]
    return LogNorm(vmin=max(positive.min(), 1e-9) if positive.size else 1e-6, vmax=1.0)
