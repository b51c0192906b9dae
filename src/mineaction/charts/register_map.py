"""A map of the register: remaining hazards and released land over the gazetteer.

Drawn in the programme's local projected CRS so shapes keep their proportions.
The basemap is the programme's own gazetteer: no tiles, works offline.

Released parts lie inside their hazard (a ledger rule), so drawing whole
hazards first and their released parts over them leaves exactly the remaining
area in the hazard's colour. Computing hazard − parts for each hazard instead
took most of an annual report's time at 100,000 hazards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mineaction.charts.figures import new_figure, save_image
from mineaction.charts.paths import polygon_paths
from mineaction.storage import Register

__all__ = ["HAZARD_COLOURS", "HAZARD_EDGE", "RELEASE_COLOURS", "plot_register_map", "register_map_figure"]

HAZARD_COLOURS = {"SHA": "#f4a261", "CHA": "#d62828"}
HAZARD_EDGE = "#6a040f"
RELEASE_COLOURS = {"cancelled": "#8ecae6", "reduced": "#52b788", "cleared": "#2d6a4f"}
_ADMIN_LINE_WIDTHS = {1: 2.0, 2: 1.2, 3: 0.5}  # level 3 stands for every deeper level too


def _layer(ax: Axes, geoms: np.ndarray, crs: str, facecolor: str | list[str], *, edgecolor: str = "none",
           linewidth: float = 0.0) -> None:
    """Add lon/lat polygons as one collection, in one colour or a colour per geometry; later layers draw on top."""
    paths, owner = polygon_paths(geoms, crs=crs)
    if paths:
        colours = facecolor if isinstance(facecolor, str) else np.asarray(facecolor, dtype=object)[owner].tolist()
        ax.add_collection(PathCollection(paths, facecolor=colours, edgecolor=colours if edgecolor == "face" else edgecolor,
                                         linewidth=linewidth))


def _coloured_layer(ax: Axes, register: Register, entity: str, field: str, colours: dict[str, str], crs: str,
                    **style: Any) -> None:
    """One entity's features coloured by a code field; read here, so one layer's geometries are held at a time."""
    features = register.features(entity, fields=(field,))
    _layer(ax, features.geometries, crs, [colours[code] for code in features.properties[field]], **style)


def register_map_figure(register: Register, *, title: str | None = None) -> Figure:
    """The map as a figure: gazetteer, whole hazards, and released parts over their hazards."""
    programme = register.programme
    crs = programme.local_crs
    fig = new_figure(10, 8.5)
    ax = fig.subplots()
    admins = register.features("admin_area", fields=("level",))
    levels = np.minimum(np.asarray(admins.properties["level"], dtype=int), max(_ADMIN_LINE_WIDTHS))
    _layer(ax, admins.geometries[levels == 1], crs, "#f8f9fa", edgecolor="#6c757d", linewidth=_ADMIN_LINE_WIDTHS[1])
    _coloured_layer(ax, register, "hazard", "hazard_type", HAZARD_COLOURS, crs, edgecolor=HAZARD_EDGE, linewidth=0.3)
    # Edges in their own colour, wider than the hazard's, so a wholly released hazard shows no hazard outline
    # and a hazard smaller than a pixel (a national map) still shows whether it is released.
    _coloured_layer(ax, register, "released_part", "release_type", RELEASE_COLOURS, crs, edgecolor="face", linewidth=0.6)
    for level in (2, 3):  # inner boundaries over the hazards, so dense registers do not hide them
        _layer(ax, admins.geometries[levels == level], crs, "none", edgecolor="#6c757d",
               linewidth=_ADMIN_LINE_WIDTHS[level])

    handles = [Patch(facecolor=c, edgecolor=HAZARD_EDGE, linewidth=0.5, label=f"{k}: remaining hazard area")
               for k, c in HAZARD_COLOURS.items()]
    handles += [Patch(facecolor=c, label=f"released: {k}") for k, c in RELEASE_COLOURS.items()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)  # outside: hides no hazard
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.ticklabel_format(style="plain", useOffset=False)
    ax.set_xlabel(f"easting (m, {crs})")
    ax.set_ylabel(f"northing (m, {crs})")
    warning = "  —  FICTIONAL DATA" if programme.fictional else ""
    ax.set_title(title or f"{programme.name}: hazards and released land{warning}")
    return fig


def plot_register_map(register: Register, path: str | Path, *, title: str | None = None) -> Path:
    """Write a PNG (or SVG, by suffix) map of remaining hazards and released land."""
    return save_image(register_map_figure(register, title=title), path, dpi=110)
