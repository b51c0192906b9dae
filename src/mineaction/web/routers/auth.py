"""Signing in and out, the current account, and API tokens.

A sign-in always opens a new session with a new id (an id planted before
sign-in is never promoted: no session fixation); the cookie is HttpOnly,
SameSite=Strict, and Secure when configured or when the request came over
HTTPS.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from mineaction.access import Principal
from mineaction.web.deps import (
    SESSION_COOKIE,
    Accounts,
    CurrentPrincipal,
    LoginLimiter,
    SettingsDep,
)

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["accounts"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class GrantOut(BaseModel):
    organisation_id: str | None = Field(description="null: every organisation")
    role: str
    personal_data: bool


class Me(BaseModel):
    account_id: str
    username: str
    grants: list[GrantOut]
    csrf_token: str | None = Field(None, description="send as X-CSRF-Token on browser writes")


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    days: int | None = Field(None, ge=1, le=3650, description="expiry; none: until revoked")


class TokenOut(BaseModel):
    token: str = Field(description="shown once: send as 'Authorization: Bearer <token>'")


def _me(principal: Principal, csrf: str | None) -> Me:
    return Me(
        account_id=principal.account_id, username=principal.username, csrf_token=csrf,
        grants=[GrantOut(organisation_id=g.organisation_id, role=g.role.code, personal_data=g.personal_data)
                for g in principal.grants],
    )


@router.post("/login", response_model=Me)
def login(credentials: Credentials, request: Request, response: Response, accounts: Accounts,
          limiter: LoginLimiter, settings: SettingsDep) -> Me:
    """Check the password and open a session (cookie)."""
    limiter.hit(request.client.host if request.client else "unknown")
    principal = accounts.authenticate(credentials.username, credentials.password)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        accounts.close_session(old)
    secret, session = accounts.open_session(principal)
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="strict", path="/",
        secure=settings.secure_cookies or request.url.scheme == "https",
        max_age=int(settings.session_hours * 3600),
    )
    return _me(principal, session.csrf_token)


@router.post("/logout", status_code=204)
def logout(request: Request, principal: CurrentPrincipal, accounts: Accounts) -> Response:
    """Close the session (its id is revoked, not only forgotten by the browser)."""
    response = Response(status_code=204)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.close_session(cookie)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=Me)
def me(request: Request, principal: CurrentPrincipal) -> Me:
    """Who is signed in, their grants, and the CSRF token for browser writes."""
    return _me(principal, getattr(request.state, "csrf_token", None))


@router.post("/tokens", response_model=TokenOut, status_code=201)
def new_token(body: TokenRequest, principal: CurrentPrincipal, accounts: Accounts) -> TokenOut:
    """An API token for scripts and GIS clients, acting with this account's grants."""
    ttl = dt.timedelta(days=body.days) if body.days else None
    return TokenOut(token=accounts.issue_token(principal, body.name, ttl))


