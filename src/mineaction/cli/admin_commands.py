"""``backup``, ``restore``, ``redact``, ``audit`` and ``public-locations``: keeping a register safe,
erasing personal data, reading who changed permissions or read personal data, and choosing how
precisely public outputs show restricted locations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from mineaction.access import audit as audit_log
from mineaction.access.publication import describe
from mineaction.cli.options import DbOption, console
from mineaction.domain.generalisation import Generalisation
from mineaction.errors import InvalidValue, StorageError
from mineaction.storage import Register, redaction
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
        f"{g['role']}@{g['organisation_id'] or 'all'}{'+personal' if g['personal_data'] else ''}" for g in state["grants"]
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


def install(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
    app.command()(redact)
    app.command()(audit)
    app.command("public-locations")(public_locations)
