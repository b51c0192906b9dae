"""RFC 9457 problem details: every error the API returns, mapped in one table.

Domain and access errors never know about HTTP; :data:`STATUS` says which
status each one gets, first match wins (most specific first), and the body
carries the error's message as ``detail`` and its hint as ``hint`` so a client
can say what to fix.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mineaction.access.errors import AccessDenied, NotAuthenticated, TooManyAttempts
from mineaction.domain.operations.states import PartyNotAllowed
from mineaction.errors import (
    ConflictError,
    CRSRequired,
    InvalidGeometry,
    InvalidValue,
    MineActionError,
    RecordNotFound,
    StaleEdit,
    StorageError,
)
from mineaction.storage import database_message
from mineaction.web.schemas import Problem

__all__ = ["PROBLEM_JSON", "STATUS", "UnsupportedParameter", "install_problem_handlers", "problem"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

class UnsupportedParameter(MineActionError):
    """A query parameter the operation does not take, or cannot apply here (OGC API: 400, never ignored)."""


STATUS: tuple[tuple[type[MineActionError], int], ...] = (
    (NotAuthenticated, 401),
    (AccessDenied, 403),
    (PartyNotAllowed, 403),  # a task move the life cycle has, but not for this party
    (TooManyAttempts, 429),
    (RecordNotFound, 404),
    (StaleEdit, 412),  # the If-Match version is not the latest
    (ConflictError, 409),  # LedgerViolation and others
    (InvalidGeometry, 422),
    (CRSRequired, 422),
    (InvalidValue, 422),
    (StorageError, 503),
    (UnsupportedParameter, 400),
    (MineActionError, 400),
)


def _slug(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def problem(
    status: int, detail: str, *, title: str | None = None, kind: str | None = None,
    headers: Mapping[str, str] | None = None, **extra: Any,
) -> JSONResponse:
    body = {
        "type": f"/problems/{kind}" if kind else "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **{k: v for k, v in extra.items() if v not in (None, "")},
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(error: MineActionError) -> int:
    return next(code for kind, code in STATUS if isinstance(error, kind))


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MineActionError)
    status = status_of(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooManyAttempts) else None
    message = Exception.__str__(exc)  # without the hint, which has its own member
    response = problem(status, message, title=type(exc).__name__, kind=_slug(type(exc).__name__),
                       headers=headers, hint=exc.hint, instance=request.url.path)
    if isinstance(exc, NotAuthenticated):
        for challenge in _challenges(request):
            response.headers.append("WWW-Authenticate", challenge)
    return response


def _challenges(request: Request) -> tuple[str, ...]:
    """The schemes a 401 offers: Basic makes GIS clients (and a browser opening the URL) ask for credentials.

    A page's own script (``Sec-Fetch-Dest: empty``: fetch, XHR, the map's
    tiles) is offered Bearer alone, so the browser does not pop up its
    password dialog over the web app's own sign-in.
    """
    bearer = 'Bearer realm="mineaction"'
    if request.headers.get("sec-fetch-dest") == "empty":
        return (bearer,)
    return ('Basic realm="mineaction"', bearer)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), headers=exc.headers, instance=request.url.path)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
    ]
    detail = "; ".join(f"{e['where']}: {e['message']}" for e in errors) or "invalid request"
    return problem(422, detail, title="Invalid request", kind="invalid-request", errors=errors,
                   instance=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # the stack, and the error's first line without the driver's DETAIL: a failed row's values stay out of logs
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s on %s %s: %s\n%s", type(exc).__name__, request.method, request.url.path,
              database_message(exc), stack)
    return problem(500, "the server failed unexpectedly; the error is logged", instance=request.url.path)


#: answers any operation may give, whatever its route declares
_EVERY_OPERATION = {
    "400": "malformed request: a body that is not JSON, or a parameter the operation does not take",
    "422": "invalid value: the problem names the parameter or field",
    "default": "any other error, as RFC 9457 problem details",
}


def _documented(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document saying what the API does: every error is ``application/problem+json``."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    problem_content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for code, text in _EVERY_OPERATION.items():
                responses.setdefault(code, {"description": text})
            for code, response in responses.items():
                if code == "default" or code[0] in "45":
                    response["content"] = problem_content
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return schema


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as problem details, and say so in the OpenAPI document."""
    app.add_exception_handler(MineActionError, _domain)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Exception, _unexpected)
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _documented(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
