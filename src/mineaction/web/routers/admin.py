"""Accounts and grants, managed by administrators, and the audit logs.

A programme-wide administrator manages every account; an administrator of one
organisation only grants and revokes roles in that organisation. Nobody grants
more than they hold: personal-data access only by someone who has it for that
scope. Every change is logged (:mod:`mineaction.access.accounts`); the logs
are read here by programme-wide administrators only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from mineaction.access import AccessDenied, Account, Grant, Role, audit
from mineaction.access.roles import ALL, Principal
from mineaction.web.deps import Accounts, CurrentPrincipal, RegisterDep, UtcTime

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/admin", tags=["accounts"])


class GrantIn(BaseModel):
    organisation_id: str | None = Field(None, description="null: every organisation")
    role: str = Field(pattern=f"^({'|'.join(r.code for r in Role)})$")
    personal_data: bool = False


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=12, max_length=1000)
    display_name: str = ""
    grants: list[GrantIn] = Field(default_factory=list)


class AccountOut(BaseModel):
    id: str
    username: str
    display_name: str
    active: bool
    grants: list[GrantIn]


class ActiveIn(BaseModel):
    active: bool


def _check_administers(principal: Principal, organisation_id: str | None, doing: str) -> None:
    if not principal.allows(Role.ADMINISTRATOR, organisation_id):
        scope = "every organisation" if organisation_id is None else f"organisation {organisation_id}"
        raise AccessDenied(f"{doing} in {scope} needs the administrator role there")


def _check_may_grant(principal: Principal, grant: Grant) -> None:
    _check_administers(principal, grant.organisation_id, "granting roles")
    if grant.personal_data and not principal.allows(Role.VIEWER, grant.organisation_id, personal_data=True):
        raise AccessDenied("only someone with personal-data access for that scope may grant it")


def _grant(g: GrantIn) -> Grant:
    return Grant(g.organisation_id, Role.parse(g.role), g.personal_data)


def _out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id, username=account.username, display_name=account.display_name, active=account.active,
        grants=[GrantIn(organisation_id=g.organisation_id, role=g.role.code, personal_data=g.personal_data)
                for g in account.grants],
    )


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(principal: CurrentPrincipal, accounts: Accounts) -> list[AccountOut]:
    """Accounts the administrator manages."""
    orgs = principal.organisations(Role.ADMINISTRATOR)
    if orgs is not ALL and not orgs:
        raise AccessDenied("listing accounts needs the administrator role")
    return [_out(a) for a in accounts.accounts(orgs)]


@router.post("/accounts", response_model=AccountOut, status_code=201)
def create_account(body: AccountIn, principal: CurrentPrincipal, accounts: Accounts) -> AccountOut:
    """Create an account with its grants."""
    grants = tuple(_grant(g) for g in body.grants)
    if not grants and principal.organisations(Role.ADMINISTRATOR) is not ALL:
        raise AccessDenied("an organisation administrator creates accounts with a grant in their organisation")
    for grant in grants:
        _check_may_grant(principal, grant)
    account_id = accounts.create_account(body.username, body.password, display_name=body.display_name,
                                         grants=grants, by=principal.username)
    return _out(accounts.account(account_id))


@router.post("/accounts/{account_id}/grants", response_model=AccountOut)
def grant(account_id: str, body: GrantIn, principal: CurrentPrincipal, accounts: Accounts) -> AccountOut:
    """Give an account one more grant (logged with the account's grants before and after)."""
    new = _grant(body)
    _check_may_grant(principal, new)
    accounts.grant(account_id, new, by=principal.username)
    return _out(accounts.account(account_id))


@router.delete("/accounts/{account_id}/grants", response_model=AccountOut)
def revoke(
    account_id: str, principal: CurrentPrincipal, accounts: Accounts,
    role: Annotated[str, Query(description="role of the grant, as listed")],
    organisation_id: Annotated[str | None, Query(description="organisation of the grant; omit for every organisation")] = None,
    personal_data: Annotated[bool, Query(description="the grant's personal-data flag, as listed")] = False,
) -> AccountOut:
    """Remove one grant, named as the account listing shows it (logged)."""
    _check_administers(principal, organisation_id, "revoking roles")
    accounts.revoke(account_id, Grant(organisation_id, Role.parse(role), personal_data), by=principal.username)
    return _out(accounts.account(account_id))


@router.patch("/accounts/{account_id}", response_model=AccountOut)
def set_active(account_id: str, body: ActiveIn, principal: CurrentPrincipal, accounts: Accounts) -> AccountOut:
    """Disable or enable an account: needs the administrator role wherever it holds a grant (logged)."""
    if account_id == principal.account_id:
        raise AccessDenied("you cannot disable or enable your own account", hint="ask another administrator")
    held = accounts.account(account_id).grants
    for organisation_id in {g.organisation_id for g in held} or {None}:
        _check_administers(principal, organisation_id, "disabling or enabling accounts with roles")
    accounts.set_active(account_id, body.active, by=principal.username)
    return _out(accounts.account(account_id))


@router.get("/audit/{log}")
def audit_log(
    log: Literal["permissions", "reads"], principal: CurrentPrincipal, register: RegisterDep,
    username: Annotated[str | None, Query(description="account changed (permissions) or reading (reads)")] = None,
    since: Annotated[UtcTime | None, Query(description="only entries from this time (UTC)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[dict[str, Any]]:
    """Audit log entries, newest first: permission changes or personal-data reads (programme-wide administrators)."""
    audit.check_may_read(principal)
    return audit.entries(register, log, username=username, since=since, limit=limit)
