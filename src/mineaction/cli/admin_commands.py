"""``backup`` and ``restore``: keeping a register safe."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mineaction.cli.options import DbOption, console
from mineaction.storage import backup as backups
from mineaction.storage.register import Register

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


def install(app: typer.Typer) -> None:
    app.command()(backup)
    app.command()(restore)
