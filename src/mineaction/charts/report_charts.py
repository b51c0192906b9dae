"""Charts for reports: land released per month by type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mineaction.charts.figures import new_figure, save_image
from mineaction.charts.register_map import RELEASE_COLOURS

__all__ = ["plot_released_by_month"]


def plot_released_by_month(table: pd.DataFrame, path: str | Path, *, title: str) -> Path:
    """Stacked bars of released hectares per month, one colour per release type."""
    months = table.drop(index="total", errors="ignore")
    fig = new_figure(10, 5)
    ax = fig.subplots()
    bottom = np.zeros(len(months))
    for release_type, colour in RELEASE_COLOURS.items():
        hectares = months.get(release_type, pd.Series(0.0, index=months.index)).to_numpy(dtype=float) / 10_000
        ax.bar(months.index.astype(str), hectares, bottom=bottom, color=colour, label=release_type)
        bottom += hectares
    ax.set_ylabel("released (ha)")
    ax.set_title(title)
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    ax.tick_params(axis="x", rotation=45)
    return save_image(fig, path, dpi=110)
