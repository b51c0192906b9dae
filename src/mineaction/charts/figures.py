"""Creating and saving figures, in one place for every chart and map.

Figures are built on the Agg canvas without pyplot's global state, so
charts can be drawn from threads (the web server) and never leak figures.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mineaction.errors import InvalidValue

__all__ = ["IMAGE_FORMATS", "new_figure", "save_figure", "save_image"]

IMAGE_FORMATS = (".png", ".svg")


def new_figure(width: float, height: float) -> Figure:
    """A figure on the Agg canvas, independent of pyplot's global state."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_image(fig: Figure, path: str | Path, *, dpi: int = 120) -> Path:
    """Save ``fig`` as one PNG or SVG file, chosen by the suffix."""
    out = Path(path)
    if out.suffix.lower() not in IMAGE_FORMATS:
        raise InvalidValue(f"{out.name}: image format must be one of {', '.join(IMAGE_FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays text: searchable, translatable
        fig.savefig(out, dpi=dpi, bbox_inches="tight")
    return out


def save_figure(fig: Figure, path: str | Path) -> tuple[Path, Path]:
    """Save ``fig`` as ``<path>.png`` and ``<path>.svg`` (a .png or .svg suffix is dropped)."""
    base = Path(path)
    if base.suffix.lower() in IMAGE_FORMATS:
        base = base.with_suffix("")
    return save_image(fig, base.with_name(base.name + ".png"), dpi=150), save_image(fig, base.with_name(base.name + ".svg"))
