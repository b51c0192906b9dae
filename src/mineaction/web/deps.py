"""Request dependencies, each defined once as an ``Annotated`` alias.

Credentials: ``Authorization: Bearer <token>`` (scripts, QGIS, GDAL), or the
session cookie (browsers). A browser write must echo the session's CSRF token
in ``X-CSRF-Token``; token requests need none, since a browser never attaches
a bearer token by itself.
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request

from mineaction.access import (
    AccessDenied,
    AccountStore,
    NotAuthenticated,
    Principal,
    ScopedEditor,
    ScopedReader,
)
from mineaction.storage.register import Register
from mineaction.web.settings import Settings
from mineaction.web.tiles import TileCache

__all__ = [
    "SESSION_COOKIE",
    "Accounts",
    "BaseVersion",
    "CurrentPrincipal",
    "Editor",
    "Offset",
    "Reader",
    "RegisterDep",
    "SettingsDep",
    "Tiles",
    "etag",
]

SESSION_COOKIE = "mineaction_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_ETAG = re.compile(r'^(?:W/)?"(?P<id>[^".]+)\.v(?P<version>\d+)"$')
#: how far a paged list may be skipped into; deeper pages are reached by filtering
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="records to skip")]


def _register(request: Request) -> Register:
    return request.app.state.register


def _accounts(request: Request) -> AccountStore:
    return request.app.state.accounts


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _tiles(request: Request) -> TileCache:
    return request.app.state.tiles


RegisterDep = Annotated[Register, Depends(_register)]
Accounts = Annotated[AccountStore, Depends(_accounts)]
SettingsDep = Annotated[Settings, Depends(_settings)]
Tiles = Annotated[TileCache, Depends(_tiles)]


def _principal(request: Request, accounts: Accounts) -> Principal:
    authorization = request.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return accounts.token(credentials.strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise NotAuthenticated("sign in first: this needs an account")
    session = accounts.session(cookie)
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise AccessDenied(
                f"a browser write must carry the session's {CSRF_HEADER} header",
                hint="reload the page to get a fresh token (GET /auth/me returns it)",
            )
    request.state.csrf_token = session.csrf_token
    return session.principal


CurrentPrincipal = Annotated[Principal, Depends(_principal)]


def _reader(request: Request, register: RegisterDep, principal: CurrentPrincipal) -> ScopedReader:
    return ScopedReader(register, principal, f"{request.method} {request.url.path}")


def _editor(register: RegisterDep, principal: CurrentPrincipal) -> ScopedEditor:
    return ScopedEditor(register, principal)


Reader = Annotated[ScopedReader, Depends(_reader)]
Editor = Annotated[ScopedEditor, Depends(_editor)]


def etag(record_id: str, version: int) -> str:
    return f'"{record_id}.v{version}"'


def _base_version(
    if_match: Annotated[str | None, Header(description="ETag of the version the edit is based on")] = None,
) -> tuple[str, int]:
    if not if_match:
        raise HTTPException(428, "an edit must say which version it is based on: send If-Match with the record's ETag")
    match = _ETAG.match(if_match.strip())
    if not match:
        raise HTTPException(412, f"If-Match {if_match!r} is not an ETag this API issued")
    return match["id"], int(match["version"])


BaseVersion = Annotated[tuple[str, int], Depends(_base_version)]
