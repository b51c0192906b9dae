"""Request dependencies, each defined once as an ``Annotated`` alias.

Credentials: ``Authorization: Bearer <token>`` (scripts, QGIS, GDAL), or the
session cookie (browsers). A browser write must echo the session's CSRF token
in ``X-CSRF-Token``; token requests need none, since a browser never attaches
a bearer token by itself.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from fastapi import Depends, Header, HTTPException, Query, Request
from pydantic import AfterValidator

from mineaction.access import (
    AccessDenied,
    AccountStore,
    NotAuthenticated,
    Principal,
    ScopedEditor,
    ScopedReader,
)
from mineaction.storage import Register
from mineaction.web.problems import UnsupportedParameter
from mineaction.web.settings import Settings
from mineaction.web.tiles import TileCache

__all__ = [
    "SESSION_COOKIE",
    "Accounts",
    "BaseVersion",
    "CurrentPrincipal",
    "Editor",
    "Offset",
    "OnlyDeclaredParameters",
    "Reader",
    "RegisterDep",
    "SettingsDep",
    "Tiles",
    "UtcTime",
    "etag",
    "malformed_request",
]

SESSION_COOKIE = "mineaction_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_ETAG = re.compile(r'^(?:W/)?"(?P<id>[^".]+)\.v(?P<version>\d+)"$')
_INT64 = (-(2**63), 2**63 - 1)
#: how far a paged list may be skipped into; deeper pages are reached by filtering
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="records to skip")]


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("outside the years 1 to 9999 once in UTC") from None


#: a time parameter, read in UTC (a zone far from UTC can move a time out of the calendar)
UtcTime = Annotated[dt.datetime, AfterValidator(_utc)]


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


def _query_names(dependant: Any) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _only_declared_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not declare (OGC API Features /req/core/query-param-unknown)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    unknown = sorted(name for name in request.query_params if name not in known)
    if unknown:
        raise UnsupportedParameter(
            f"unknown query parameter(s): {', '.join(repr(name[:100]) for name in unknown[:10])}",
            hint=f"this operation takes {', '.join(sorted(known)) or 'no query parameters'}",
        )


#: a router dependency: unknown query parameters get 400 instead of being ignored
OnlyDeclaredParameters = Depends(_only_declared_parameters)


# -- text the register could not store ------------------------------------------------


def malformed_request(raw_path: bytes, query: bytes, content_type: str, body: bytes) -> str | None:
    """Why a request cannot be read as it was sent, naming the parameter; None when it can.

    Checked once at the door (:class:`mineaction.web.middleware.RefuseNul`) for
    every route: the path and each query parameter must be UTF-8 once
    percent-decoded (``%ED%A0%80``, a lone surrogate, is not); a JSON body
    must be UTF-8 and RFC 8259 JSON (no ``NaN`` or ``Infinity``), with no lone
    surrogate, no integer beyond 64 bits and no number beyond a double. The
    framework would otherwise replace such text silently or fail on it deep
    in a driver.
    """
    if not _utf8(raw_path):
        return "the path is not UTF-8 text once percent-decoded"
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if not _utf8(name):
            return "a query parameter's name is not UTF-8 text once percent-decoded"
        if not _utf8(value):
            return f"query parameter {_decoded(name)!r} is not UTF-8 text once percent-decoded"
    if body and "json" in content_type.lower():
        return _malformed_json(body)
    return None


def _decoded(text: bytes) -> str:
    return unquote_to_bytes(text.replace(b"+", b" ")).decode()[:100]


def _utf8(text: bytes) -> bool:
    try:
        _decoded(text)
    except UnicodeDecodeError:
        return False
    return True


class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(name)


def _malformed_json(body: bytes) -> str | None:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return "the body is not UTF-8 text"
    try:
        data = json.loads(text, parse_constant=_constant)
    except _NotJson as exc:
        return f"the body holds {exc}, which JSON (RFC 8259) does not allow: send a finite number or null"
    except RecursionError:
        return "the body is nested too deeply"
    except ValueError:
        return None  # not JSON at all: the route says so, with the position
    return _unstorable(data)


def _unstorable(data: Any) -> str | None:
    """The first member of parsed JSON the register could not hold, named by its path in the body."""
    stack = [(data, "body")]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if not _encodable(value):
                return f"{where}: not valid Unicode text (a lone surrogate)"
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int):
            if not _INT64[0] <= value <= _INT64[1]:
                return f"{where}: an integer outside the 64-bit range"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"{where}: a number beyond the range of a double"
        elif isinstance(value, dict):
            for key, item in value.items():
                if not _encodable(key):
                    return f"{where}: a member name is not valid Unicode text (a lone surrogate)"
                stack.append((item, f"{where}.{key[:100]}"))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(value))
    return None


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
