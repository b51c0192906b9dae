"""The FastAPI application: one register, its accounts, routers per area.

``create_app`` opens the register named in the settings for the lifetime of
the app; routes reach it, the account store and the tile cache through the
dependencies in :mod:`mineaction.web.deps`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mineaction.access import AccountStore
from mineaction.access.ratelimit import SlidingWindow
from mineaction.storage import Register
from mineaction.web.middleware import RefuseNul
from mineaction.web.problems import install_problem_handlers
from mineaction.web.routers import admin, auth, dashboard, ogc, records, review, ui
from mineaction.web.settings import Settings
from mineaction.web.tiles import TileCache

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app serving the register at ``settings.db`` (opened at start-up, closed at shutdown)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        register = Register.open(settings.db)
        app.state.register = register
        app.state.accounts = AccountStore(
            register,
            max_failures=settings.max_failed_logins,
            lockout=dt.timedelta(minutes=settings.lockout_minutes),
            session_ttl=dt.timedelta(hours=settings.session_hours),
        )
        try:
            yield
        finally:
            register.close()

    app = FastAPI(
        title="mineaction",
        summary="Humanitarian mine action register: REST API, OGC API – Features and Tiles",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.tiles = TileCache(settings.tile_cache_entries)
    app.state.login_limiter = SlidingWindow(settings.login_attempts_per_minute, 60.0)
    install_problem_handlers(app)
    app.add_middleware(RefuseNul)
    for module in (auth, admin, records, review, dashboard, ogc, ui):
        app.include_router(module.router)
    ui.install_static(app, settings)
    return app
