"""People near each hazard, from a layer the user loads or from the register's settlements.

Three sources, in order of preference:

* a population raster (``.tif``/``.tiff``, people per cell, e.g. WorldPop),
  read with rasterio, cells counted by their centre;
* a points layer GDAL reads (GeoPackage, GeoJSON, CSV with ``lon``/``lat``
  columns in WGS 84) with a people-per-point field (each point counts 1 when
  the field is absent);
* otherwise the register's own settlements (``place`` records with a
  population), so a ranking has a population criterion out of the box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely
from numpy.typing import NDArray
from pyproj import Transformer

from mineaction.domain.prioritisation import (
    ProjectedHazards,
    population_within,
    population_within_raster,
)
from mineaction.errors import CRSRequired, InvalidValue
from mineaction.io.errors import SourceError
from mineaction.storage import Register

__all__ = ["RASTER_SUFFIXES", "people_near"]

RASTER_SUFFIXES = (".tif", ".tiff")
_CSV_XY = {"X_POSSIBLE_NAMES": "lon,longitude,x", "Y_POSSIBLE_NAMES": "lat,latitude,y", "KEEP_GEOM_COLUMNS": "NO"}


def _read_points(path: Path, field: str) -> tuple[NDArray[np.float64], NDArray[np.float64], str]:
    """Lon/lat of every point in the file, people per point, and a note on how they were counted."""
    csv = path.suffix.lower() == ".csv"
    options = _CSV_XY if csv else {}
    try:
        meta, _fids, wkb, values = pyogrio.raw.read(path, **options)  # all columns: GDAL builds CSV points from them
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
        raise SourceError(f"{path.name}: cannot read population points ({exc})") from None
    points = shapely.from_wkb(wkb)
    if not (shapely.get_type_id(points) == 0).all():
        raise SourceError(f"{path.name}: population layer must hold points only",
                          hint="give a point layer, or a population raster (.tif)")
    xy = shapely.get_coordinates(points)
    crs = meta["crs"] or ("EPSG:4326" if csv else None)
    if crs is None:
        raise CRSRequired(f"{path.name}: the population layer has no CRS")
    if crs != "EPSG:4326":
        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([lon, lat])
    fields = list(meta["fields"])
    if field not in fields:
        return xy, np.ones(len(xy)), f"{len(xy):,} points in {path.name}, each counted as 1 person (no {field!r} field)"
    try:
        people = np.array([0.0 if v in (None, "") else float(v) for v in values[fields.index(field)]])
    except ValueError as exc:
        raise InvalidValue(f"{path.name}: field {field!r} must hold numbers of people ({exc})") from None
    return xy, people, f"{people.sum():,.0f} people at {len(xy):,} points in {path.name}"


def _register_settlements(register: Register) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lon/lat and population of the register's located settlements that have a population."""
    places = register.features("place", fields=("population",))
    keep = [i for i, (g, n) in enumerate(zip(places.geometries, places.properties["population"], strict=True))
            if g is not None and n is not None]
    xy = shapely.get_coordinates(places.geometries[keep]) if keep else np.empty((0, 2))
    return xy, np.array([places.properties["population"][i] for i in keep], dtype=float)


def people_near(
    register: Register,
    hazards: ProjectedHazards,
    distance_m: float,
    *,
    source: Path | None = None,
    field: str = "population",
) -> tuple[NDArray[np.float64] | None, str]:
    """People within ``distance_m`` of each hazard, and where the figure comes from.

    Returns ``(None, why)`` when there is no population to count: no file was
    given and no settlement in the register has a population.
    """
    if source is not None:
        if not source.is_file():
            raise SourceError(f"no population file at {source}", hint="check the path")
        if source.suffix.lower() in RASTER_SUFFIXES:
            return (population_within_raster(hazards, source, distance_m),
                    f"population raster {source.name}, cells counted by their centre")
        xy, people, note = _read_points(source, field)
        return population_within(hazards, xy, people, distance_m), note
    xy, people = _register_settlements(register)
    if len(xy) == 0:
        return None, "no population layer given and no settlement in the register has a population"
    return (population_within(hazards, xy, people, distance_m),
            f"{people.sum():,.0f} people in {len(xy)} settlements of the register (place.population)")
