"""Locations as a caller without the viewer role (only ``public``) may see them.

How precisely is a programme setting, :attr:`Programme.public_locations`
(exact, grid cells of a size, or admin areas of a level), kept in the
register so that every interface applies the same one. The reader
generalises records through :func:`generalise_locations`, and widens
bounding-box filters through :func:`coarse_bbox` so that a shrinking box
cannot find a generalised record's exact place.

Admin areas come from the register's own gazetteer, read once and kept
until an admin area changes.
"""

from __future__ import annotations

import weakref

import numpy as np
from numpy.typing import NDArray

from mineaction.domain.generalisation import AdminAreas, Geometries, coarsen_bbox, generalise
from mineaction.storage import Register, admin_areas_at, admin_areas_stamp

__all__ = ["coarse_bbox", "describe", "generalise_locations"]

_ADMIN_AREAS: weakref.WeakKeyDictionary[Register, tuple[tuple[int, int], AdminAreas]] = weakref.WeakKeyDictionary()


def describe(register: Register) -> str:
    """The setting in words, e.g. ``grid 1000 m`` or ``admin level 1``."""
    config = register.programme.public_locations
    if config.method == "grid":
        return f"grid {config.cell_m:g} m"
    return f"admin level {config.admin_level}" if config.method == "admin" else "exact"


def _admin_areas(register: Register) -> AdminAreas | None:
    config = register.programme.public_locations
    if config.method != "admin":
        return None
    key = (admin_areas_stamp(register), config.admin_level)
    cached = _ADMIN_AREAS.get(register)
    if cached is not None and cached[0] == key:
        return cached[1]
    rows = admin_areas_at(register, config.admin_level)
    areas = AdminAreas([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    _ADMIN_AREAS[register] = (key, areas)
    return areas


def generalise_locations(register: Register, geometries: Geometries) -> NDArray[np.object_]:
    """Lon/lat geometries as the programme publishes them (None where withheld)."""
    return generalise(geometries, register.programme.public_locations, _admin_areas(register))


def coarse_bbox(register: Register, bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``bbox`` widened to the grid cells or admin areas it reaches, for filtering exact locations."""
    return coarsen_bbox(bbox, register.programme.public_locations, _admin_areas(register))
