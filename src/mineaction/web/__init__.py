"""The web application: REST API, OGC API – Features and Tiles, map UI (FastAPI)."""

from mineaction.web.app import create_app
from mineaction.web.settings import Settings

__all__ = ["Settings", "create_app"]
