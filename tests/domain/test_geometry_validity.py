"""Non-finite coordinates: GEOS validity refuses them, so bulk writes need no separate coordinate pass."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from mineaction.domain.geometry import validate
from mineaction.errors import InvalidGeometry

SQUARE = [(30.0, 48.0), (30.01, 48.0), (30.01, 48.01), (30.0, 48.01), (30.0, 48.0)]
HOLE = [(30.002, 48.002), (30.004, 48.002), (30.004, 48.004), (30.002, 48.002)]


def _spoilt(ring: list[tuple[float, float]], value: float, axis: int) -> list[tuple[float, float]]:
    """The ring with one inner vertex's x or y replaced (the closing vertex must stay equal to the first)."""
    spoilt = [list(xy) for xy in ring]
    spoilt[1][axis] = value
    return [tuple(xy) for xy in spoilt]


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # Shapely, building NaN rings
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("axis", [0, 1])
def test_non_finite_coordinates_are_invalid_anywhere(value: float, axis: int) -> None:
    """In a shell, a hole or a later part: the Writer's fast check (is_valid) sends each to
    ``validate``, which names the fault."""
    geometries = [
        shapely.Polygon(_spoilt(SQUARE, value, axis)),
        shapely.Polygon(SQUARE, [_spoilt(HOLE, value, axis)]),
        shapely.MultiPolygon([shapely.box(31, 48, 31.01, 48.01), shapely.Polygon(_spoilt(SQUARE, value, axis))]),
    ]
    assert not shapely.is_valid(geometries).any()
    for geometry in geometries:
        with pytest.raises(InvalidGeometry, match="NaN or infinite"):
            validate(geometry)
