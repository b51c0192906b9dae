"""The register map shows released land apart from the hazard area that remains."""

from __future__ import annotations

import numpy as np
import shapely
from matplotlib.colors import to_rgb

from mineaction.charts.register_map import HAZARD_COLOURS, RELEASE_COLOURS, plot_register_map, register_map_figure
from mineaction.domain.geometry import to_wgs84
from mineaction.storage.register import Register
from tests.common import E0, N0, UTM, activity_values, add_organisation, box_m, hazard_values, square_m


def _colour_at(fig, x: float, y: float) -> tuple[float, float, float]:
    """The rendered colour at (x, y) metres from the test origin, in the map's CRS (the programme's UTM)."""
    column, row = fig.axes[0].transData.transform((E0 + x, N0 + y))
    pixels = np.asarray(fig.canvas.buffer_rgba())
    return tuple(pixels[pixels.shape[0] - round(row), round(column), :3] / 255)


def _close(colour: tuple[float, float, float], hex_colour: str) -> bool:
    return np.allclose(colour, to_rgb(hex_colour), atol=2 / 255)


def test_released_parts_cover_their_hazard_and_the_rest_shows_as_remaining(register: Register, tmp_path) -> None:
    with register.write("alice", "a hazard half cleared, and one with a hole") as w:
        org = add_organisation(w)
        cha = w.add("hazard", hazard_values(org.id, hazard_type="CHA"), square_m(0, 0, 100))
        clearance = w.add("activity", activity_values(cha.id, org.id, "clearance"))
        w.release(activity_id=clearance.id, geometry=box_m(0, 0, 50, 100), release_type="cleared",
                  method="manual", released_on="2025-06-01")
        # the hole runs the same way round as the exterior, as files often have it
        around_village = shapely.Polygon(shapely.box(E0 + 150, N0 + 50, E0 + 300, N0 + 200).exterior,
                                         [shapely.box(E0 + 200, N0 + 100, E0 + 250, N0 + 150).exterior])
        w.add("hazard", hazard_values(org.id), to_wgs84(around_village, UTM))

    fig = register_map_figure(register)
    fig.canvas.draw()

    assert _close(_colour_at(fig, 25, 50), RELEASE_COLOURS["cleared"])
    assert _close(_colour_at(fig, 75, 50), HAZARD_COLOURS["CHA"])
    assert _close(_colour_at(fig, 170, 70), HAZARD_COLOURS["SHA"])
    assert not any(_close(_colour_at(fig, 225, 125), c) for c in (*HAZARD_COLOURS.values(), *RELEASE_COLOURS.values()))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "CHA: remaining hazard area" in legend and "released: cleared" in legend
    assert "FICTIONAL DATA" in fig.axes[0].get_title()
    png = plot_register_map(register, tmp_path / "map.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
