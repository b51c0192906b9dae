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
from matplotlib.collections import PatchCollection
from matplotlib.colors import LogNorm, Normalize
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from numpy.typing import ArrayLike
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

from mineaction.charts.hazard_curves import new_figure, save_figure
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
        NaN is drawn grey as "no estimate".
    path
        Output path without suffix.
    log_scale
        Logarithmic colour scale, for probabilities spanning decades.
    """
    vals = np.asarray(values, dtype=float).reshape(-1)
    if len(polygons) != vals.size:
        raise InvalidValue(
            f"values: expected {len(polygons)} values (one per polygon), got {vals.size}"
        )
    patches = [PathPatch(_polygon_path(geom, i)) for i, geom in enumerate(polygons)]
    fig = new_figure(8, 7)
    ax = fig.subplots()
    known = ~np.isnan(vals)
    if log_scale:
        positive = vals[known & (vals > 0)]
        norm: Normalize = LogNorm(
            vmin=max(positive.min(), 1e-9) if positive.size else 1e-6, vmax=1.0
        )
    else:
        norm = Normalize(vmin=0.0, vmax=1.0)
    coloured = PatchCollection(
        [p for p, k in zip(patches, known, strict=True) if k],
        cmap="YlOrRd",
        norm=norm,
        edgecolor="black",
        linewidth=0.4,
    )
    coloured.set_array(np.clip(vals[known], norm.vmin, None) if log_scale else vals[known])
    ax.add_collection(coloured)
    if not known.all():
        ax.add_collection(
            PatchCollection(
                [p for p, k in zip(patches, known, strict=True) if not k],
                facecolor="lightgrey",
                edgecolor="black",
                linewidth=0.4,
                hatch="//",
            )
        )
    bounds = shapely.total_bounds(np.asarray(polygons, dtype=object))
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


def _polygon_path(geom: shapely.Geometry, index: int) -> MplPath:
    """One compound path per (multi)polygon; rings oriented so holes stay empty."""
    if isinstance(geom, Polygon):
        parts = [geom]
    elif isinstance(geom, MultiPolygon):
        parts = list(geom.geoms)
    else:
        raise InvalidValue(
            f"polygons[{index}]: expected a Polygon or MultiPolygon, got {geom.geom_type}"
        )
    rings = []
    for part in parts:
        if part.is_empty:
            continue
        oriented = orient(part, sign=1.0)
        rings.append(MplPath(np.asarray(oriented.exterior.coords)[:, :2], closed=True))
        rings += [MplPath(np.asarray(r.coords)[:, :2], closed=True) for r in oriented.interiors]
    if not rings:
        raise InvalidValue(f"polygons[{index}]: empty geometry")
    return MplPath.make_compound_path(*rings)
