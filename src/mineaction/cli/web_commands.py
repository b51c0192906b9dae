"""``serve`` and ``create-admin``: run the web application and create its first administrator."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from mineaction.access import AccountStore, Grant, Role
from mineaction.cli.options import DbOption, console
from mineaction.storage import Register

__all__ = ["install"]


def serve(
    db: DbOption = "mineaction.gpkg",
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    forwarded_allow_ips: Annotated[
        str, typer.Option(envvar="MINEACTION_TRUSTED_PROXIES",
                          help="Proxies (addresses or networks, comma-separated) trusted for X-Forwarded-For and "
                               "X-Forwarded-Proto: the client address sign-in throttles key on, and HTTPS.")
    ] = "127.0.0.1,::1",
) -> None:
    """Serve the register: map, REST API, OGC API – Features and Tiles."""
    import uvicorn

    Register.open(db).close()  # fail here, with the register's own message, if it is not one
    os.environ["MINEACTION_DB"] = db
    os.environ["MINEACTION_TRUSTED_PROXIES"] = forwarded_allow_ips  # the app reads them (web.middleware.TrustedProxies)
    console.print(f"serving {db} on http://{host}:{port}/ (OGC API at /ogc, API docs at /docs)")
    uvicorn.run(
        "mineaction.web.app:create_app", factory=True, host=host, port=port, workers=workers,
        proxy_headers=False, log_level="info",
    )


def create_admin(
    db: DbOption = "mineaction.gpkg",
    username: Annotated[str, typer.Option(prompt=True, help="Login name.")] = "admin",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, envvar="MINEACTION_ADMIN_PASSWORD",
                          help="At least 12 characters, and not easily guessed.")
    ] = "",
    personal_data: Annotated[
        bool, typer.Option("--personal-data", help="Also grant reading victims' personal data (logged).")
    ] = False,
) -> None:
    """Create a programme-wide administrator (every organisation)."""
    with Register.open(db) as register:
        AccountStore(register).create_account(
            username, password, grants=(Grant(None, Role.ADMINISTRATOR, personal_data),), by="mineaction create-admin"
        )
    console.print(f"[green]administrator {username} created[/] in {db}")


def install(app: typer.Typer) -> None:
    app.command()(serve)
    app.command("create-admin")(create_admin)
