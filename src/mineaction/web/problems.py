"""RFC 9457 problem details: every error the API returns, mapped in one table.

Domain and access errors never know about HTTP; :data:`STATUS` says which
status each one gets, first match wins (most specific first), and the body
carries the error's message as ``detail`` and its hint as ``hint`` so a client
can say what to fix.
"""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from mineaction.access.errors import AccessDenied, NotAuthenticated, TooManyAttempts
from mineaction.storage import database_message
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

__all__ = ["PROBLEM_JSON", "STATUS", "install_problem_handlers", "problem"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)

STATUS: tuple[tuple[type[MineActionError], int], ...] = (
    (NotAuthenticated, 401),
    (AccessDenied, 403),
    (TooManyAttempts, 429),
    (RecordNotFound, 404),
    (StaleEdit, 412),  # the If-Match version is not the latest
    (ConflictError, 409),  # LedgerViolation and others
    (InvalidGeometry, 422),
    (CRSRequired, 422),
    (InvalidValue, 422),
    (StorageError, 503),
    (MineActionError, 400),
)


def _slug(name: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in name).lstrip("-")


def problem(
    status: int, detail: str, *, title: str | None = None, kind: str | None = None,
    headers: dict[str, str] | None = None, **extra: Any,
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
    if isinstance(exc, NotAuthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="mineaction"'}
    message = Exception.__str__(exc)  # without the hint, which has its own member
    return problem(status, message, title=type(exc).__name__, kind=_slug(type(exc).__name__),
                   headers=headers, hint=exc.hint, instance=request.url.path)


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


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MineActionError, _domain)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Exception, _unexpected)
