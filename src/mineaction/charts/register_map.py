"""A map of the register: remaining hazards and released land over the gazetteer.

Drawn in the programme's local projected CRS so shapes keep their proportions.
The basemap is the programme's own gazetteer: no tiles, works offline.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.patches import Patch

from mineaction.charts.figures import new_figure, save_image
from mineaction.charts.paths import polygon_paths
from mineaction.domain.geometry import to_crs
from mineaction.domain.ledger import remaining_geometry
from mineaction.storage.register import Register

__all__ = ["RELEASE_COLOURS", "HAZARD_COLOURS", "plot_register_map"]

HAZARD_COLOURS = {"SHA": "#f4a261", "CHA": "#d62828"}
RELEASE_COLOURS = {"cancelled": "#8ecae6", "reduced": "#52b788", "cleared": "#2d6a4f"}


def _project(geometries: list, crs: str) -> np.ndarray:
    return to_crs(np.asarray(geometries, dtype=object), crs)


def _draw(ax, geoms: np.ndarray, colours: list[str], edge: str = "none") -> None:
    paths, owner = polygon_paths(geoms)
    if paths:
        ax.add_collection(PathCollection(paths, facecolor=np.asarray(colours, dtype=object)[owner].tolist(),
                                         edgecolor=edge, linewidth=0.3))


def plot_register_map(register: Register, path: str | Path, *, title: str | None = None) -> Path:
    """Write a PNG (or SVG, by suffix) map of remaining hazards and released land."""
    programme = register.programme
    crs = programme.local_crs
    admins = register.records("admin_area")
    hazards = register.records("hazard")
    parts = register.records("released_part")
    parts_by_hazard: dict[str, list] = {}
    for part in parts:
        parts_by_hazard.setdefault(part["hazard_id"], []).append(part.geometry)

    fig = new_figure(10, 8.5)
    ax = fig.subplots()
    admin_geoms = _project([a.geometry for a in admins], crs)
    for level, width in ((1, 2.0), (2, 1.2), (3, 0.5)):
        chosen = [g for a, g in zip(admins, admin_geoms) if min(a["level"], 3) == level]
        paths, _ = polygon_paths(np.asarray(chosen, dtype=object))
        ax.add_collection(PathCollection(paths, facecolor="#f8f9fa" if level == 1 else "none",
                                         edgecolor="#6c757d", linewidth=width))
    remaining = [remaining_geometry(h.geometry, parts_by_hazard.get(h.id, [])) for h in hazards]
    _draw(ax, _project(remaining, crs), [HAZARD_COLOURS[h["hazard_type"]] for h in hazards], edge="#6a040f")
    _draw(ax, _project([p.geometry for p in parts], crs), [RELEASE_COLOURS[p["release_type"]] for p in parts])
    handles = [Patch(facecolor=c, label=f"{k} (remaining)") for k, c in HAZARD_COLOURS.items()]
    handles += [Patch(facecolor=c, label=f"released: {k}") for k, c in RELEASE_COLOURS.items()]
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.set_xlabel(f"easting (m, {crs})")
    ax.set_ylabel(f"northing (m, {crs})")
    warning = "  —  FICTIONAL DATA" if programme.fictional else ""
    ax.set_title(title or f"{programme.name}: hazards and released land{warning}")
    return save_image(fig, path, dpi=110)
