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
    #: API tokens expire after this many days unless their creator asks for fewer or more
    token_days: int = 90
    #: failed sign-ins one source may make per minute before it must wait (doubling each time it goes on)
    login_attempts_per_minute: int = 20
    #: failed sign-ins to one account from one source before that source waits ``lockout_minutes`` (doubling)
    max_failed_logins: int = 5
    lockout_minutes: float = 15.0
    #: the longest a source or an account from a source is made to wait
    max_backoff_minutes: float = 24 * 60.0
    #: reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For/-Proto are believed
    trusted_proxies: str = "127.0.0.1,::1"
    #: optional raster basemap, an XYZ URL template reachable offline (e.g. a local tile server)
    basemap_url: str | None = None
    #: optional PMTiles basemap file served at /basemap.pmtiles
    basemap_pmtiles: Path | None = None
    #: where npm installed maplibre-gl (``npm ci`` at set-up)
    node_modules: Path = _REPO_NODE_MODULES
    tile_cache_entries: int = 4096
