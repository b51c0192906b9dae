"""The browser interface: static pages, MapLibre GL JS from npm, and the map's settings.

Everything is served from this server (no CDN, no web fonts), so the map works
offline; an optional raster tile URL or PMTiles file adds a basemap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from mineaction.web.deps import RegisterDep, SettingsDep
from mineaction.web.settings import Settings
from mineaction.web.tiles import LAYERS

__all__ = ["install_static", "router"]

STATIC = Path(__file__).resolve().parent.parent / "static"
#: npm packages whose dist/ folder the pages load (see package.json)
VENDORED = ("maplibre-gl", "pmtiles", "terra-draw", "terra-draw-maplibre-gl-adapter", "mgrs")
router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/ui/config.json")
def config(register: RegisterDep, settings: SettingsDep) -> dict[str, Any]:
    """What the map needs to start: programme, extent, layers, basemap options."""
    programme = register.programme
    extent = programme.extent
    return {
        "programme": programme.name,
        "fictional": programme.fictional,
        "extent": None if extent is None else [extent.west, extent.south, extent.east, extent.north],
        "tiled_layers": list(LAYERS),
        "basemap_url": settings.basemap_url,
        "basemap_pmtiles": "/basemap.pmtiles" if settings.basemap_pmtiles else None,
    }


def install_static(app: FastAPI, settings: Settings) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for package in VENDORED:
        dist = settings.node_modules / package / "dist"
        if dist.is_dir():
            app.mount(f"/vendor/{package}", StaticFiles(directory=dist), name=package)
    if settings.basemap_pmtiles:
        pmtiles = settings.basemap_pmtiles

        @app.get("/basemap.pmtiles", include_in_schema=False)
        def basemap() -> FileResponse:
            return FileResponse(pmtiles)
