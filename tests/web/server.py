"""A real uvicorn server in a child process, on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO

import httpx
import sqlalchemy as sa

from mineaction.storage.engine import create_engine
from mineaction.storage.schema import build_metadata
from tests.web.seed import password


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen

    @contextmanager
    def client(self, username: str | None = None, **kw) -> Iterator[httpx.Client]:
        """A client signed in as ``username`` (session cookie and CSRF header), or anonymous."""
        with httpx.Client(base_url=self.url, timeout=30, **kw) as client:
            if username:
                response = client.post("/auth/login", json={"username": username, "password": password(username)})
                response.raise_for_status()
                client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
            yield client

    def token(self, username: str) -> str:
        with self.client(username) as client:
            response = client.post("/auth/tokens", json={"name": "test"})
            response.raise_for_status()
            return response.json()["token"]


@contextmanager
def database(target: str) -> Iterator[tuple[sa.Engine, dict[str, sa.Table]]]:
    """Direct access to a served register's tables, for checks behind the API.

    Not ``Register.open``: its ``close`` checkpoints the WAL, which waits for
    the server's readers.
    """
    engine = create_engine(target)
    try:
        yield engine, build_metadata(engine.dialect.name).tables
    finally:
        engine.dispose()


@contextmanager
def running(db: str, *, workers: int = 1, **settings: str) -> Iterator[Server]:
    """Start ``uvicorn`` on ``db``; wait until it answers; stop it afterwards.

    The server's log is printed when it holds a traceback (pytest shows it
    with a failing test).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MINEACTION_DB": db, **{f"MINEACTION_{k.upper()}": v for k, v in settings.items()}}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "mineaction.web.app:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(workers), "--log-level", "warning",
             "--timeout-graceful-shutdown", "2", "--no-proxy-headers"],  # the app's TrustedProxies decides
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(process, url, log)
            yield Server(url, process)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            errors = _tail(log)
            if "Traceback" in errors:
                print(f"server log of {url}:\n{errors}")


def _wait_until_up(process: subprocess.Popen, url: str, log: IO[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {_tail(log)}")
        try:
            if httpx.get(url + "/ogc/conformance", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not start within {timeout_s} s")
        time.sleep(0.1)


def _tail(log: IO[bytes], size: int = 20_000) -> str:
    log.seek(0, 2)
    log.seek(max(log.tell() - size, 0))
    return log.read().decode(errors="replace")
