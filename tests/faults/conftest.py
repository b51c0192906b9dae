"""Fixtures of the fault tests: the fork server that runs writer processes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.worker import ForkServer

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def fork_server() -> Iterator[ForkServer]:
    server = ForkServer(REPO)
    yield server
    server.close()
