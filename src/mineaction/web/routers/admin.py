"""Accounts and grants, managed by administrators.

A programme-wide administrator manages every account; an administrator of one
organisation only grants roles in that organisation. Nobody grants more than
they hold: personal-data access only by someone who has it for that scope.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mineaction.access import AccessDenied, Account, Grant, Role
from mineaction.access.roles import ALL, Principal
from mineaction.web.deps import Accounts, CurrentPrincipal

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/admin", tags=["accounts"])


class GrantIn(BaseModel):
    organisation_id: str | None = Field(None, description="null: every organisation")
    role: str = Field(pattern="^(viewer|field_reporter|reviewer|administrator)$")
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


def _check_may_grant(principal: Principal, grant: Grant) -> None:
    if not principal.allows(Role.ADMINISTRATOR, grant.organisation_id):
        scope = "every organisation" if grant.organisation_id is None else f"organisation {grant.organisation_id}"
        raise AccessDenied(f"granting roles in {scope} needs the administrator role there")
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
    return _out(next(a for a in accounts.accounts() if a.id == account_id))
