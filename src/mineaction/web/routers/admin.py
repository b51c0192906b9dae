"""Accounts, grants, API tokens and sign-in pauses, managed by administrators, and the audit logs.

A programme-wide administrator manages every account; an administrator of one
organisation only grants and revokes roles in that organisation. Nobody grants
more than they hold: personal-data access only by someone who has it for that
scope, and a grant scoped to a region only by someone administering that
region (or everywhere). Every change is logged
(:mod:`mineaction.access.accounts`); the logs are read here by
programme-wide administrators only.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from mineaction.access import AccessDenied, Account, AccountStore, Grant, Role, audit
from mineaction.access.roles import ALL, Principal
from mineaction.errors import RecordNotFound
from mineaction.web.deps import Accounts, CurrentPrincipal, RegisterDep, UtcTime
from mineaction.web.routers.auth import TokenInfo, token_info

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/admin", tags=["accounts"])


class GrantIn(BaseModel):
    organisation_id: str | None = Field(None, description="null: every organisation")
    region: str | None = Field(None, max_length=200,
                               description="an admin area's pcode: the grant covers its whole subtree; null: everywhere")
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


class UnlockOut(BaseModel):
    cleared: int = Field(description="counters of failed sign-ins removed")


#: a database row id: larger numbers name nothing and are refused before any query
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def _check_administers(principal: Principal, organisation_id: str | None, doing: str, region: str | None = None) -> None:
    if not principal.allows(Role.ADMINISTRATOR, organisation_id, admin_pcode=region):
        scope = "every organisation" if organisation_id is None else f"organisation {organisation_id}"
        where = "" if region is None else f" and region {region}"
        raise AccessDenied(f"{doing} in {scope}{where} needs the administrator role there")


def _check_may_grant(principal: Principal, grant: Grant) -> None:
    _check_administers(principal, grant.organisation_id, "granting roles", grant.region)
    if grant.personal_data and not principal.allows(Role.VIEWER, grant.organisation_id, personal_data=True,
                                                    admin_pcode=grant.region):
        raise AccessDenied("only someone with personal-data access for that scope may grant it")


def _check_administers_account(principal: Principal, account_id: str, accounts: AccountStore, doing: str) -> None:
    """Administer every scope the account holds a grant in (an account without grants: programme-wide).

    Someone who administers nothing is refused before the account is looked
    up, so that they cannot tell which account ids exist.
    """
    if not any(g.role >= Role.ADMINISTRATOR for g in principal.grants):
        raise AccessDenied(f"{doing} needs the administrator role")
    for grant in accounts.account(account_id).grants or (Grant(None, Role.PUBLIC),):
        _check_administers(principal, grant.organisation_id, doing, grant.region)


def _grant(g: GrantIn) -> Grant:
    return Grant(g.organisation_id, Role.parse(g.role), g.personal_data, g.region)


def _out(account: Account) -> AccountOut:
    return AccountOut(
        id=account.id, username=account.username, display_name=account.display_name, active=account.active,
        grants=[GrantIn(organisation_id=g.organisation_id, region=g.region, role=g.role.code,
                        personal_data=g.personal_data) for g in account.grants],
    )


@router.get("/accounts", response_model=list[AccountOut])
def list_accounts(principal: CurrentPrincipal, accounts: Accounts) -> list[AccountOut]:
    """Accounts the administrator manages: those with a grant in an organisation or region they administer."""
    if not any(g.role >= Role.ADMINISTRATOR for g in principal.grants):
        raise AccessDenied("listing accounts needs the administrator role")
    orgs = principal.organisations(Role.ADMINISTRATOR)
    listed = accounts.accounts(None if principal.regional else orgs)
    if orgs is not ALL:
        listed = [a for a in listed if any(
            principal.allows(Role.ADMINISTRATOR, g.organisation_id, admin_pcode=g.region) for g in a.grants)]
    return [_out(a) for a in listed]


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
    region: Annotated[str | None, Query(max_length=200, description="region of the grant; omit for everywhere")] = None,
) -> AccountOut:
    """Remove one grant, named as the account listing shows it (logged)."""
    _check_administers(principal, organisation_id, "revoking roles", region)
    accounts.revoke(account_id, Grant(organisation_id, Role.parse(role), personal_data, region), by=principal.username)
    return _out(accounts.account(account_id))


@router.patch("/accounts/{account_id}", response_model=AccountOut)
def set_active(account_id: str, body: ActiveIn, principal: CurrentPrincipal, accounts: Accounts) -> AccountOut:
    """Disable or enable an account: needs the administrator role wherever it holds a grant (logged)."""
    if account_id == principal.account_id:
        raise AccessDenied("you cannot disable or enable your own account", hint="ask another administrator")
    _check_administers_account(principal, account_id, accounts, "disabling or enabling accounts with roles")
    accounts.set_active(account_id, body.active, by=principal.username)
    return _out(accounts.account(account_id))


@router.post("/accounts/{account_id}/unlock", response_model=UnlockOut)
def unlock(account_id: str, principal: CurrentPrincipal, accounts: Accounts) -> UnlockOut:
    """Lift the sign-in pauses of an account from every address (after repeated failures)."""
    _check_administers_account(principal, account_id, accounts, "unlocking accounts")
    return UnlockOut(cleared=accounts.unlock(account_id=account_id))


@router.post("/sources/{address}/unlock", response_model=UnlockOut)
def unlock_source(address: str, principal: CurrentPrincipal, accounts: Accounts) -> UnlockOut:
    """Lift the sign-in pause of a client address, for every account (programme-wide administrators)."""
    _check_administers(principal, None, "unlocking addresses")
    return UnlockOut(cleared=accounts.unlock(source=address))


@router.get("/accounts/{account_id}/tokens", response_model=list[TokenInfo])
def account_tokens(account_id: str, principal: CurrentPrincipal, accounts: Accounts) -> list[TokenInfo]:
    """An account's API tokens, oldest first, for an administrator of its every grant."""
    _check_administers_account(principal, account_id, accounts, "listing tokens")
    return [token_info(t) for t in accounts.tokens(account_id)]


@router.delete("/accounts/{account_id}/tokens/{token_id}", response_model=TokenInfo)
def revoke_account_token(account_id: str, token_id: TokenId, principal: CurrentPrincipal,
                         accounts: Accounts) -> TokenInfo:
    """Revoke one of an account's API tokens: it stops working at once."""
    _check_administers_account(principal, account_id, accounts, "revoking tokens")
    if token_id not in {t.id for t in accounts.tokens(account_id)}:
        raise RecordNotFound(f"account {account_id} has no token {token_id}",
                             hint=f"list them: GET /api/v1/admin/accounts/{account_id}/tokens")
    return token_info(accounts.revoke_token(token_id, by=principal.username))


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
