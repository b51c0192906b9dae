"""``backup``, ``restore``, ``redact``, ``audit``, ``public-locations``, ``grant``, ``revoke``,
``token`` and ``unlock``: keeping a register safe, erasing personal data, reading who changed
permissions or read personal data, choosing how precisely public outputs show restricted
locations, and managing accounts' grants, API tokens and sign-in pauses.

Whoever can open the register's database holds everything in it anyway, so these commands check
no role; each change is logged as made by ``--by`` (default: the operating-system user)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mineaction.access import AccountStore, Grant, Role
from mineaction.access import audit as audit_log
from mineaction.access.accounts import MAX_TOKEN_DAYS
from mineaction.access.publication import describe
from mineaction.cli.options import DbOption, console
from mineaction.domain.generalisation import Generalisation
from mineaction.errors import InvalidValue, StorageError
from mineaction.storage import Register, redaction, utcnow
from mineaction.storage import backup as backups

__all__ = ["install"]

ReplaceOption = Annotated[bool, typer.Option("--replace", help="Overwrite an existing file or register.")]


def backup(
    to: Annotated[Path, typer.Option("--to", help="Backup file to write (one file; .gpkg or a pg_dump archive).")],
    db: DbOption = "mineaction.gpkg",
    replace: ReplaceOption = False,
) -> None:
    """Write a consistent backup of the register while others go on working."""
    with Register.open(db) as register:
        written = backups.backup(register, to, replace=replace)
    console.print(f"[green]backup written[/] {written.path} ({written.size_bytes:,} bytes, {written.backend})")
    console.print("It holds personal data: keep it where the register may be kept.")


def restore(
    source: Annotated[Path, typer.Option("--from", help="Backup file written by `mineaction backup`.")],
    db: DbOption = "mineaction.gpkg",
    replace: ReplaceOption = False,
) -> None:
    """Restore a backup into a new register (or over one, with --replace)."""
    backups.restore(source, db, replace=replace)
    console.print(f"[green]restored[/] {source} into {db}")


def redact(
    entity: Annotated[str, typer.Option(help="Entity whose records hold the personal data, e.g. victim.")] = "victim",
    record: Annotated[list[str] | None, typer.Option(help="Record id or ref to erase (repeat for several).")] = None,
    field_report: Annotated[list[str] | None, typer.Option(
        help="Ref of a field report that created no record (waiting or rejected) to erase (repeat).")] = None,
    recorded_before: Annotated[dt.datetime | None, typer.Option(
        help="Instead of --record: every record first recorded, and every unapplied field report submitted, "
             "before this date that still holds personal data.")] = None,
    field: Annotated[list[str] | None, typer.Option(help="Erase only this personal field (repeat); default all.")] = None,
    user: Annotated[str, typer.Option(help="Who erases (kept in the tombstone).")] = "",
    reason: Annotated[str, typer.Option(help="Why: the request or retention rule. Do not write the person's name.")] = "",
    basis: Annotated[str, typer.Option(help="request (the person asked) or retention (kept long enough).")] = "request",
    purge_only: Annotated[
        bool, typer.Option("--purge-only", help="Only overwrite what earlier erasures left in the files.")
    ] = False,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Erase personal data in every stored version and in the review queue, leaving a tombstone; nothing else changes."""
    with Register.open(db) as register:
        if purge_only:
            _require_purged(register, redaction.purge(register, entity))
            console.print("[green]purged[/]: no erased data left in the database files")
            return
        if recorded_before is not None:
            record = redaction.past_retention(register, entity, recorded_before=recorded_before)
            field_report = redaction.queued_past_retention(register, entity, submitted_before=recorded_before)
            if not record and not field_report:
                console.print(f"no {entity} first recorded before {recorded_before:%Y-%m-%d} holds personal data "
                              "(in the register or the review queue)")
                return
        if not record and not field_report:
            raise InvalidValue("name the records to erase",
                               hint="pass --record REF or --field-report REF (repeatable), or --recorded-before DATE")
        done = redaction.redact(register, entity, record or [], user=user, reason=reason, basis=basis, fields=field,
                                field_reports=field_report or [])
        table = Table(title=f"Erased ({basis}), changeset {done.changeset_id}")
        for column in ("record", "fields erased", "versions rewritten", "field reports scrubbed"):
            table.add_column(column)
        for e in done.erasures:
            table.add_row(e.ref, ", ".join(e.fields), str(e.versions), str(e.field_reports))
        console.print(table)
        _require_purged(register, done.purged)


def _require_purged(register: Register, purged: bool) -> None:
    if not purged:
        raise StorageError(
            "the data is erased from the register, but old bytes may remain in the database files "
            "(another program has it open, or the clean-up failed)",
            hint=f"close every other program using it, then run: mineaction redact --purge-only --db {register.target}",
        )


#: columns shown per log, after the time
_AUDIT_COLUMNS = {
    "permissions": ("changed_by", "username", "action", "state_before", "state_after"),
    "reads": ("username", "entity", "record_id", "fields", "purpose"),
}


def audit(
    log: Annotated[str, typer.Argument(help="permissions (account and grant changes) or reads (of personal data).")],
    username: Annotated[str | None, typer.Option(help="Only this account (changed, or reading).")] = None,
    since: Annotated[dt.datetime | None, typer.Option(help="Only entries from this time (UTC).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Newest entries to show.")] = 100,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Show the append-only audit log, newest first: who changed permissions, or who read personal data."""
    with Register.open(db) as register:
        rows = audit_log.entries(register, log, username=username, since=since, limit=limit)
    time_column = audit_log.LOGS[log][1]
    table = Table(title=f"Audit log: {log} ({len(rows)} newest)")
    for column in (time_column, *_AUDIT_COLUMNS[log]):
        table.add_column(column)
    for row in rows:
        cells = [_state_text(row[c]) if c.startswith("state_") else str(row[c]) for c in _AUDIT_COLUMNS[log]]
        table.add_row(f"{row[time_column]:%Y-%m-%d %H:%M:%S}", *cells)
    console.print(table)


def _state_text(state: dict[str, Any] | None) -> str:
    """An account's logged state in one line, e.g. ``viewer@ORG-1+personal, reviewer@all``."""
    if state is None:
        return "(new account)"
    grants = ", ".join(
        f"{g['role']}@{g['organisation_id'] or 'all'}{'/' + g['region'] if g.get('region') else ''}"
        f"{'+personal' if g['personal_data'] else ''}" for g in state["grants"]
    )
    return f"{'' if state['active'] else 'DISABLED; '}{grants or 'no grants'}"


def public_locations(
    method: Annotated[str | None, typer.Argument(
        help="exact, grid or admin; none: show the current setting.")] = None,
    cell_m: Annotated[float, typer.Option(help="grid: side of a cell in metres.")] = 1000.0,
    admin_level: Annotated[int, typer.Option(help="admin: level of the admin areas shown.")] = 1,
    user: Annotated[str, typer.Option(help="Who decides (kept in the register's changesets).")] = "",
    reason: Annotated[str, typer.Option(help="Why, e.g. the decision or policy it follows.")] = "",
    db: DbOption = "mineaction.gpkg",
) -> None:
    """How precisely hazards, finds and accidents are shown to accounts with only the public role."""
    with Register.open(db) as register:
        if method is None:
            console.print(f"public locations: {describe(register)}")
            return
        chosen = Generalisation(method, cell_m, admin_level)  # type: ignore[arg-type]  # checked by Generalisation
        register.update_programme(dataclasses.replace(register.programme, public_locations=chosen),
                                  user=user or getpass.getuser(), reason=reason or f"public locations: {method}")
        console.print(f"[green]public locations[/]: {describe(register)} (restart `mineaction serve` to apply)")


UsernameArgument = Annotated[str, typer.Argument(help="The account's username.")]
ByOption = Annotated[str, typer.Option("--by", help="Who makes the change (kept in the logs); default: you.")]
RoleOption = Annotated[str, typer.Option(help="public, viewer, field_reporter, reviewer or administrator.")]
OrganisationOption = Annotated[
    str | None, typer.Option("--organisation", help="Organisation id the grant is limited to; omit for every one.")]
RegionOption = Annotated[str | None, typer.Option(
    "--region", help="Admin area pcode: the grant covers that area and every area below it; omit for everywhere.")]
PersonalOption = Annotated[bool, typer.Option("--personal-data", help="The grant reads victims' personal data.")]


def grant(username: UsernameArgument, role: RoleOption, organisation: OrganisationOption = None,
          region: RegionOption = None, personal_data: PersonalOption = False, by: ByOption = "",
          db: DbOption = "mineaction.gpkg") -> None:
    """Give an account a role, for one organisation and/or one region or everywhere (logged)."""
    _change_grant(username, Grant(organisation, Role.parse(role), personal_data, region), by, db)


def revoke(username: UsernameArgument, role: RoleOption, organisation: OrganisationOption = None,
           region: RegionOption = None, personal_data: PersonalOption = False, by: ByOption = "",
           db: DbOption = "mineaction.gpkg") -> None:
    """Remove one grant of an account, named as `mineaction grant` made it (logged)."""
    _change_grant(username, Grant(organisation, Role.parse(role), personal_data, region), by, db, revoke=True)


def _change_grant(username: str, change: Grant, by: str, db: str, *, revoke: bool = False) -> None:
    """Give or (``revoke``) remove one grant, logged with who did it, and print the account's grants after."""
    with Register.open(db) as register:
        accounts = AccountStore(register)
        account = accounts.account_named(username)
        apply = accounts.revoke if revoke else accounts.grant
        apply(account.id, change, by=by or getpass.getuser())
        grants = _grants_text(accounts.account(account.id).grants) or "no grants"
        console.print(f"[green]{'revoked' if revoke else 'granted'}[/] {username}: {grants}")


def _grants_text(grants: tuple[Grant, ...]) -> str:
    return _state_text({"active": True, "grants": [
        {"role": g.role.code, "organisation_id": g.organisation_id, "region": g.region, "personal_data": g.personal_data}
        for g in grants]})


def unlock(
    username: Annotated[str | None, typer.Argument(help="Account to unlock from every address.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Client address to unlock, for every account.")] = None,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Lift sign-in pauses after repeated failures: an account's (from every address) and/or an address's."""
    with Register.open(db) as register:
        accounts = AccountStore(register)
        account_id = accounts.account_named(username).id if username else None
        cleared = accounts.unlock(account_id=account_id, source=source)
    plural = "s" if cleared != 1 else ""
    console.print(f"[green]unlocked[/]: {cleared} pause{plural} or failure count{plural} cleared")


token_app = typer.Typer(help="API tokens: create, list and revoke (each expires; secrets are shown once).",
                        no_args_is_help=True)


@token_app.command("create")
def token_create(
    username: UsernameArgument,
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'QGIS on the field laptop'.")],
    days: Annotated[int, typer.Option(min=1, max=MAX_TOKEN_DAYS, help="Days until it expires.")] = 90,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Create an API token acting as the account; prints the secret once."""
    with Register.open(db) as register:
        accounts = AccountStore(register)
        secret, token = accounts.issue_token(accounts.principal(accounts.account_named(username).id), name,
                                             dt.timedelta(days=days))
    console.print(f"token {token.id} for {username}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC "
                  "(send as 'Authorization: Bearer <token>'; it is not shown again):")
    console.print(secret, soft_wrap=True, highlight=False)


@token_app.command("list")
def token_list(
    username: Annotated[str | None, typer.Argument(help="Only this account's tokens.")] = None,
    db: DbOption = "mineaction.gpkg",
) -> None:
    """List API tokens (all accounts, or one), with their state."""
    with Register.open(db) as register:
        accounts = AccountStore(register)
        tokens = accounts.tokens(accounts.account_named(username).id if username else None)
    now = utcnow()
    table = Table(title=f"API tokens ({len(tokens)})")
    for column in ("id", "account", "name", "created", "expires", "state"):
        table.add_column(column)
    for t in tokens:
        table.add_row(str(t.id), t.username, t.name, f"{t.created_at:%Y-%m-%d %H:%M}", f"{t.expires_at:%Y-%m-%d %H:%M}",
                      t.state(now) + (f" by {t.revoked_by}" if t.revoked_by else ""))
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="Token id, as `mineaction token list` shows.")],
    by: ByOption = "",
    db: DbOption = "mineaction.gpkg",
) -> None:
    """Revoke one API token: it stops working at once."""
    with Register.open(db) as register:
        token = AccountStore(register).revoke_token(token_id, by=by or getpass.getuser())
    console.print(f"[green]revoked[/] token {token.id} ({token.name}) of {token.username}")


def install(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
    app.command()(redact)
    app.command()(audit)
    app.command("public-locations")(public_locations)
    app.command()(grant)
    app.command()(revoke)
    app.command()(unlock)
    app.add_typer(token_app, name="token")
