"""Web server settings, in one pydantic-settings class (environment: ``MINEACTION_*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

_REPO_NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"


class Settings(BaseSettings):
    """What ``mineaction serve`` reads; every field can be set as ``MINEACTION_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="MINEACTION_", extra="ignore")

    db: str = "mineaction.gpkg"
    #: Secure cookies always; otherwise only when the request came over HTTPS (proxy headers honoured)
    secure_cookies: bool = False
    session_hours: float = 8.0
    login_attempts_per_minute: int = 20
    max_failed_logins: int = 5
    lockout_minutes: float = 15.0
    #: optional raster basemap, an XYZ URL template reachable offline (e.g. a local tile server)
    basemap_url: str | None = None
    #: optional PMTiles basemap file served at /basemap.pmtiles
    basemap_pmtiles: Path | None = None
    #: where npm installed maplibre-gl (``npm ci`` at set-up)
    node_modules: Path = _REPO_NODE_MODULES
    tile_cache_entries: int = 4096
