"""Fixtures of the web tests: a seeded register on each backend and a real server on it.

One server per backend for the whole session (starting one costs seconds on
a shared machine): tests that write use records of their own, and the seeded
records stay at version 1, so tests do not disturb one another.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import postgis_database
from tests.web.seed import Seeded, seed
from tests.web.server import Server, running


@pytest.fixture(scope="session", params=["gpkg", "postgis"])
def web_backend(request: pytest.FixtureRequest) -> str:
    return request.param


@contextmanager
def _fresh_target(backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh register (not yet seeded): a copy of the GeoPackage template or a clone of PostGIS's."""
    if backend == "gpkg":
        path = tmp_path_factory.mktemp("web") / "register.gpkg"
        shutil.copy(request.getfixturevalue("gpkg_template"), path)
        yield str(path)
        return
    with postgis_database(request, "mineaction_web") as url:
        yield url


@pytest.fixture(scope="session")
def web_target(web_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _fresh_target(web_backend, request, tmp_path_factory) as target:
        yield target


@pytest.fixture(scope="session")
def seeded(web_target: str) -> Seeded:
    return seed(web_target)


@pytest.fixture(scope="session")
def server(web_target: str, seeded: Seeded) -> Iterator[Server]:
    with running(web_target, login_attempts_per_minute="100000") as s:
        yield s


@pytest.fixture(scope="module")
def own_server(
    web_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Seeded]]:
    """A server on a seeded register of its own, for tests that write a lot (load, fuzzing),
    so the shared server's records stay as the other tests expect them."""
    with _fresh_target(web_backend, request, tmp_path_factory) as target:
        seeded = seed(target)
        with running(target, login_attempts_per_minute="100000") as s:
            yield s, seeded


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
