"""Fixtures shared by the whole suite: a real register on each backend.

``register`` is parametrised over the embedded GeoPackage and PostGIS, so one
contract suite runs on both. PostGIS needs a reachable PostgreSQL with the
postgis extension available (``MINEACTION_TEST_PG``, default the local trust
server). Without it the PostGIS cases skip with the reason, except when
``MINEACTION_REQUIRE_SERVICES=1`` (CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from mineaction.storage.register import Register
from tests.common import TEST_PROGRAMME

PG_ADMIN_URL = os.environ.get("MINEACTION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_SERVICES = os.environ.get("MINEACTION_REQUIRE_SERVICES") == "1"
_TEMPLATE_DB = f"mineaction_test_template_{os.getpid()}"  # one per pytest session: sessions may run side by side


def missing_service(reason: str) -> None:
    """Skip on a user's machine, fail in CI: a service a test needs is not there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing (MINEACTION_REQUIRE_SERVICES=1): {reason}")
    pytest.skip(reason)


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgis_template() -> Iterator[str]:
    """A migrated template database; each test clones it (CREATE DATABASE ... TEMPLATE)."""
    try:
        admin = _pg_admin()
        with admin.connect() as c:
            available = c.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").first()
    except sa.exc.OperationalError as exc:
        missing_service(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.orig}")
    if not available:
        missing_service("PostGIS is not installed on the PostgreSQL server (apt install postgresql-15-postgis-3)")
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {_TEMPLATE_DB} WITH (FORCE)")
        c.exec_driver_sql(f"CREATE DATABASE {_TEMPLATE_DB}")
    Register.create(_pg_url(_TEMPLATE_DB), TEST_PROGRAMME).close()
    yield _TEMPLATE_DB
    with admin.connect() as c:
        c.exec_driver_sql(f"DROP DATABASE IF EXISTS {_TEMPLATE_DB} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(scope="session")
def gpkg_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.gpkg"
    Register.create(path, TEST_PROGRAMME).close()
    return path


@pytest.fixture
def gpkg_register(gpkg_template: Path, tmp_path: Path) -> Iterator[Register]:
    path = tmp_path / "register.gpkg"
    shutil.copy(gpkg_template, path)
    register = Register.open(path)
    yield register
    register.close()


@contextmanager
def postgis_database(request: pytest.FixtureRequest, prefix: str, *, migrated: bool = True) -> Iterator[str]:
    """URL of a PostgreSQL database of the caller's own, dropped afterwards.

    ``migrated``: a clone of the session's migrated template (a fresh empty
    register), else an empty database (a restore target). The template is
    asked for either way, so that without PostGIS the caller skips with the
    reason, or fails in CI, in one place.
    """
    template = request.getfixturevalue("postgis_template")
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if migrated else ""))
    try:
        yield _pg_url(name)
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


@pytest.fixture
def postgis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with postgis_database(request, "mineaction_test") as url:
        yield url


@pytest.fixture
def postgis_register(postgis_url: str) -> Iterator[Register]:
    register = Register.open(postgis_url)
    yield register
    register.close()


@pytest.fixture(params=["gpkg", "postgis"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def register(backend: str, request: pytest.FixtureRequest) -> Register:
    """A fresh, empty register (test programme, vocabularies seeded) on each backend."""
    return request.getfixturevalue(f"{backend}_register")


@pytest.fixture
def register_target(backend: str, request: pytest.FixtureRequest, gpkg_template: Path, tmp_path: Path) -> str:
    """Where a fresh register lives (path or URL), for tests that open it in other processes."""
    if backend == "postgis":
        return request.getfixturevalue("postgis_url")
    path = tmp_path / "register.gpkg"
    shutil.copy(gpkg_template, path)
    return str(path)
