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
from mineaction.access.ratelimit import LoginThrottle
from mineaction.storage import Register
from mineaction.web.middleware import (
    RefuseNul,
    SecurityHeaders,
    TrustedProxies,
    content_security_policy,
)
from mineaction.web.problems import install_problem_handlers
from mineaction.web.routers import admin, auth, dashboard, forms, ogc, records, review, tasks, ui
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
        throttle = LoginThrottle(
            register,
            source_limit=settings.login_attempts_per_minute,
            account_limit=settings.max_failed_logins,
            lockout=dt.timedelta(minutes=settings.lockout_minutes),
            max_block=dt.timedelta(minutes=settings.max_backoff_minutes),
        )
        app.state.accounts = AccountStore(
            register,
            throttle=throttle,
            session_ttl=dt.timedelta(hours=settings.session_hours),
            token_ttl=dt.timedelta(days=settings.token_days),
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
    install_problem_handlers(app)
    app.add_middleware(RefuseNul)
    app.add_middleware(SecurityHeaders, policy=content_security_policy(settings.basemap_url))
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies.split(","))  # outermost: first to run
    for module in (auth, admin, records, forms, tasks, review, dashboard, ogc, ui):
        app.include_router(module.router)
    ui.install_static(app, settings)
    return app
