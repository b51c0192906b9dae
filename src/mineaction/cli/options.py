"""Options shared by every command, defined once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

__all__ = ["DbOption", "console", "err_console"]

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="MINEACTION_DB",
        help="Register: a GeoPackage file path (embedded, default) or a postgresql:// URL.",
    ),
]
