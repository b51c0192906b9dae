"""Fixtures of the fault tests: the fork server that runs writer processes, restore targets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import postgis_database
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
    with postgis_database(request, "mineaction_restore", migrated=False) as url:
        yield url
