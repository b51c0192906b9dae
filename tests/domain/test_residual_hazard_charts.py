"""Charts: files written, PNGs with real content, SVGs that parse and carry the explosive caveat."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box

from mineaction.charts.hazard_curves import (
    EXPLOSIVE_LABEL,
    plot_evidence_comparison,
    plot_hazard_curves,
    plot_profile_comparison,
)
from mineaction.charts.hazard_map import plot_hazard_map
from mineaction.domain.residual_hazard import (
    DetectionProbability,
    FindCounts,
    assess_residual_hazard,
    shipped_profiles,
    update_from_finds,
)
from mineaction.errors import InvalidValue


def _assert_real_chart(png: Path, svg: Path) -> str:
    """Both files exist; the PNG is not one flat colour; the SVG is XML. Returns the SVG text."""
    assert png.is_file() and svg.is_file()
    pixels = matplotlib.image.imread(png)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 200
    assert pixels[..., :3].std() > 0.05
    rgb = np.round(pixels[..., :3] * 255).astype(np.uint32)
    colours = np.unique((rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2])
    assert colours.size > 50  # lines, bands, text: far from a blank or flat image
    text = svg.read_text(encoding="utf-8")
    assert ET.fromstring(text).tag.endswith("svg")
    return text


def test_hazard_curves_are_written_with_bands(tmp_path: Path) -> None:
    profile = shipped_profiles()["degraded-field-example-a"]
    result = assess_residual_hazard(np.arange(0.0, 366.0, 2.0), profile, 150.0, 0.8, draws=500)
    png, svg = plot_hazard_curves(result, tmp_path / "curves.png")
    assert (png.name, svg.name) == ("curves.png", "curves.svg")
    text = _assert_real_chart(png, svg)
    # SVG text stays text (searchable, translatable), and the caveat is on the chart.
    assert EXPLOSIVE_LABEL in text
    assert "never a land-release method" in text


def test_design_bound_against_degraded_field(tmp_path: Path) -> None:
    profiles = shipped_profiles()
    png, svg = plot_profile_comparison(
        [profiles["ccw-apii-design-bound"], profiles["degraded-field-example-a"]],
        tmp_path / "compare",
        draws=300,
        log_scale=True,  # the 1-in-1000 bound is only readable on a log axis
    )
    text = _assert_real_chart(png, svg)
    assert "illustrative example" in text and "design bound" in text


def test_before_and_after_clearance_evidence(tmp_path: Path) -> None:
    prior = shipped_profiles()["degraded-field-example-a"]
    update = update_from_finds(
        prior,
        FindCounts(functional=20, self_destructed=60, self_deactivated=40),
        DetectionProbability(0.9, 0.4),
    )
    png, svg = plot_evidence_comparison(update, tmp_path / "sub" / "evidence", level=None)
    _assert_real_chart(png, svg)


def test_hazard_map_colours_polygons_with_holes_and_gaps(tmp_path: Path) -> None:
    polygons = [
        box(0, 0, 1, 1),
        Polygon(
            [(2, 0), (4, 0), (4, 2), (2, 2)], [[(2.5, 0.5), (3.5, 0.5), (3.5, 1.5), (2.5, 1.5)]]
        ),
        MultiPolygon([box(0, 2, 1, 3), box(1.5, 2.5, 2, 3)]),
        box(3, 3, 4, 4),
        box(5, 0, 6, 1),
    ]
    png, svg = plot_hazard_map(
        polygons, [0.95, 0.2, 0.003, 1e-6, np.nan], tmp_path / "map", log_scale=True
    )
    text = _assert_real_chart(png, svg)
    assert "stays a hazard until survey or clearance" in text
    assert "no estimate" in text


def test_plot_inputs_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidValue, match="values"):
        plot_hazard_map([box(0, 0, 1, 1)], [0.1, 0.2], tmp_path / "x")
    with pytest.raises(InvalidValue, match=r"polygons\[0\]"):
        plot_hazard_map([Point(0, 0)], [0.1], tmp_path / "x")
    with pytest.raises(InvalidValue, match="labels"):
        plot_profile_comparison(
            [shipped_profiles()["ccw-apii-design-bound"]], tmp_path / "x", labels=["a", "b"]
        )
    grid_result = assess_residual_hazard(
        [[1.0, 2.0]], shipped_profiles()["ccw-apii-design-bound"], 1.0, level=None
    )
    with pytest.raises(InvalidValue, match="1-D"):
        plot_hazard_curves(grid_result, tmp_path / "x")
