"""Signing in and out, the current account, and its API tokens.

A sign-in always opens a new session with a new id (an id planted before
sign-in is never promoted: no session fixation); the cookie is HttpOnly,
SameSite=Strict, and Secure when configured or when the request came over
HTTPS. Failed sign-ins are throttled by the client's address (as a trusted
proxy reports it, see :class:`~mineaction.web.middleware.TrustedProxies`).
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from mineaction.access import Principal
from mineaction.access.accounts import MAX_TOKEN_DAYS, Token
from mineaction.errors import RecordNotFound
from mineaction.storage import utcnow
from mineaction.web.deps import (
    SESSION_COOKIE,
    Accounts,
    CurrentPrincipal,
    SettingsDep,
)

__all__ = ["router"]

router = APIRouter(prefix="/auth", tags=["accounts"])


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class GrantOut(BaseModel):
    organisation_id: str | None = Field(description="null: every organisation")
    region: str | None = Field(None, description="admin area pcode whose subtree the grant covers; null: everywhere")
    role: str
    personal_data: bool


class Me(BaseModel):
    account_id: str
    username: str
    grants: list[GrantOut]
    csrf_token: str | None = Field(None, description="send as X-CSRF-Token on browser writes")


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    days: int | None = Field(None, ge=1, le=MAX_TOKEN_DAYS,
                             description="days until it expires; none: the server's default (90 unless configured)")


class TokenInfo(BaseModel):
    id: int
    name: str
    account_id: str
    username: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoked_by: str | None
    state: str = Field(description="active, expired or revoked")


class TokenOut(TokenInfo):
    token: str = Field(description="shown once: send as 'Authorization: Bearer <token>'")


def token_info(token: Token) -> TokenInfo:
    """A token as listed (here and by administrators)."""
    return TokenInfo(id=token.id, name=token.name, account_id=token.account_id, username=token.username,
                     created_at=_utc(token.created_at), expires_at=_utc(token.expires_at),
                     revoked_at=_utc(token.revoked_at) if token.revoked_at else None, revoked_by=token.revoked_by,
                     state=token.state(utcnow()))


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC)


def _me(principal: Principal, csrf: str | None) -> Me:
    return Me(
        account_id=principal.account_id, username=principal.username, csrf_token=csrf,
        grants=[GrantOut(organisation_id=g.organisation_id, region=g.region, role=g.role.code,
                         personal_data=g.personal_data) for g in principal.grants],
    )


def client_address(request: Request) -> str:
    """The address sign-in throttles are keyed on (a trusted proxy's client, else the socket's peer)."""
    return request.client.host if request.client else "unknown"


@router.post("/login", response_model=Me)
def login(credentials: Credentials, request: Request, response: Response, accounts: Accounts,
          settings: SettingsDep) -> Me:
    """Check the password and open a session (cookie).

    An unknown user, a wrong password and an account paused after failures
    from this address get the same 401; an address that failed too often
    gets 429 with Retry-After, whichever account it names.
    """
    principal = accounts.authenticate(credentials.username, credentials.password, source=client_address(request))
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
    """An API token for scripts and GIS clients, acting with this account's grants until it expires."""
    ttl = dt.timedelta(days=body.days) if body.days else None
    secret, token = accounts.issue_token(principal, body.name, ttl)
    return TokenOut(token=secret, **token_info(token).model_dump())


@router.get("/tokens", response_model=list[TokenInfo])
def list_tokens(principal: CurrentPrincipal, accounts: Accounts) -> list[TokenInfo]:
    """This account's API tokens, oldest first (names and dates; secrets are never stored)."""
    return [token_info(t) for t in accounts.tokens(principal.account_id)]


@router.delete("/tokens/{token_id}", response_model=TokenInfo)
def revoke_token(token_id: int, principal: CurrentPrincipal, accounts: Accounts) -> TokenInfo:
    """Revoke one of this account's tokens: it stops working at once."""
    if token_id not in {t.id for t in accounts.tokens(principal.account_id)}:
        raise RecordNotFound(f"you have no token {token_id}",
                             hint="list yours with GET /auth/tokens; an administrator revokes others'")
    return token_info(accounts.revoke_token(token_id, by=principal.username))


