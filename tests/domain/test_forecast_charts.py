"""Planning charts are written, in both formats, and show something."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import matplotlib.image
import numpy as np
import pytest
import shapely

from mineaction.charts.planning import plot_burn_down, plot_priority_map, plot_released_by_year
from mineaction.domain.forecast import AreaWork, Plan, Productivity, ReleaseShare, forecast
from mineaction.domain.prioritisation import topsis
from mineaction.errors import InvalidValue


@pytest.fixture(scope="module")
def fc():
    areas = [
        AreaWork("A", {"manual": 300_000, "mechanical": 2_000_000}, priority=True),
        AreaWork("B", {"manual": 500_000, "dog": 800_000}, suspected_fraction=0.6),
    ]
    productivity = {
        "manual": Productivity(250, 0.4),
        "mechanical": Productivity(3000, 0.5),
        "dog": Productivity(1000, 0.4),
    }
    return forecast(
        areas, Plan({"manual": 4, "mechanical": 1, "dog": 2}), productivity, ReleaseShare(0.6, 0.1),
        start=date(2025, 1, 1), runs=300,
    )


def _coloured_share(png) -> float:
    """Share of pixels that are neither white nor grey: drawn data, not axes and text."""
    rgb = matplotlib.image.imread(png)[..., :3]
    return float((rgb.max(axis=2) - rgb.min(axis=2) > 0.1).mean())


def _svg_paths(svg) -> int:
    return sum(1 for e in ET.parse(svg).iter() if e.tag.endswith("path"))


@pytest.mark.parametrize("plot", [plot_burn_down, plot_released_by_year])
def test_forecast_charts_are_written_and_not_blank(tmp_path, fc, plot) -> None:
    png = plot(fc, tmp_path / "chart.png")
    svg = plot(fc, tmp_path / "sub" / "chart.svg")
    assert _coloured_share(png) > 0.02
    assert _svg_paths(svg) > 20


def test_priority_map(tmp_path) -> None:
    rng = np.random.default_rng(4)
    centres = rng.uniform([30.0, 50.0], [30.5, 50.3], size=(60, 2))
    hazards = shapely.buffer(shapely.points(centres), rng.uniform(0.002, 0.01, 60), quad_segs=6)
    hazards[0] = shapely.difference(hazards[0], shapely.buffer(shapely.points(centres[0]), 0.001))  # a hole
    ranking = topsis(rng.uniform(0, 10, (60, 3)), [1, 1, 1], ["benefit", "benefit", "cost"])
    png = plot_priority_map(hazards, ranking, tmp_path / "map.png")
    svg = plot_priority_map(hazards, ranking, tmp_path / "map.svg", by="score")
    assert _coloured_share(png) > 0.02
    assert _svg_paths(svg) >= 60
    with pytest.raises(InvalidValue, match="geometries"):
        plot_priority_map(hazards[:5], ranking, tmp_path / "map.png")


def test_unknown_format_is_refused(tmp_path, fc) -> None:
    with pytest.raises(InvalidValue, match="format"):
        plot_burn_down(fc, tmp_path / "chart.jpg")
