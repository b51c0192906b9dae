"""Fixtures of the fault tests: the fork server that runs writer processes, restore targets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _pg_admin, _pg_url
from tests.faults.worker import ForkServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fork_server() -> Iterator[ForkServer]:
    server = ForkServer(REPO)
    yield server
    server.close()


@pytest.fixture
def restore_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """Where a backup may be restored: a new GeoPackage path, or a new empty PostgreSQL database."""
    if backend == "gpkg":
        yield str(tmp_path / "restored.gpkg")
        return
    request.getfixturevalue("postgis_template")  # skips, or fails in CI, without PostGIS
    name = f"mineaction_restore_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    yield _pg_url(name)
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()
