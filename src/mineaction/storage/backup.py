"""Backups of a register taken while people work, and restores.

A backup is one consistent snapshot (the register as of one commit), written
as one file that exists whole or not at all:

* **GeoPackage:** SQLite's online backup API copies every page in one step
  inside one read transaction, which in WAL mode does not stop writers. The
  copy is vacuumed (so pages the register freed, erased personal data
  included, are not carried over), switched to a rollback journal so it is
  self-contained, checked with ``integrity_check``, synced and renamed into place.
* **PostgreSQL:** ``pg_dump --format=custom`` reads one snapshot while others
  write; ``pg_restore --single-transaction`` restores all or nothing. The
  password goes to the client programs in the environment, never on their
  command line.

Restoring never silently replaces a register: ``replace=True`` is needed, and
a GeoPackage with a ``-wal`` file beside it (open somewhere, or not cleanly
closed) is refused, since a new main file under an old WAL would mix two
databases. See docs/durability.md.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import sqlalchemy as sa

from mineaction.errors import StorageError
from mineaction.storage.engine import create_engine, is_postgres_url
from mineaction.storage.register import Register

__all__ = ["Backup", "backup", "restore"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_PGDUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class Backup:
    """A backup file written by :func:`backup`."""

    path: Path
    backend: str
    size_bytes: int


def backup(register: Register, destination: str | Path, *, replace: bool = False) -> Backup:
    """Write a consistent snapshot of ``register`` to ``destination``, one file."""
    path = Path(destination).expanduser()
    if path.exists() and not replace:
        raise StorageError(f"{path} already exists", hint="choose another file name, or pass --replace")
    with _partial(path) as partial:
        if register.dialect == "sqlite":
            _sqlite_backup(register, partial)
        else:
            _pg_dump(register.target, partial)
    return Backup(path, register.dialect, path.stat().st_size)


def restore(source: str | Path, target: str | Path, *, replace: bool = False) -> None:
    """Restore a backup file into ``target`` (a GeoPackage path or a PostgreSQL URL).

    The target's kind must match the backup's. Afterwards the target is
    opened as a register, so a backup that is not one is reported here.
    """
    source_path = Path(source).expanduser()
    try:
        with source_path.open("rb") as f:
            magic = f.read(16)
    except OSError as exc:
        raise StorageError(f"cannot read backup {source_path}: {exc.strerror}") from None
    text = str(target)
    if is_postgres_url(text):
        if not magic.startswith(_PGDUMP_MAGIC):
            raise StorageError(f"{source_path} is not a PostgreSQL backup (pg_dump custom format)",
                               hint="a GeoPackage backup restores to a .gpkg path")
        _pg_restore(source_path, text, replace=replace)
    else:
        if not magic.startswith(_SQLITE_MAGIC):
            raise StorageError(f"{source_path} is not a GeoPackage backup",
                               hint="a PostgreSQL backup restores to a postgresql:// URL")
        _sqlite_restore(source_path, Path(text).expanduser(), replace=replace)
    Register.open(text).close()


# -- files ------------------------------------------------------------------------


@contextlib.contextmanager
def _partial(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path``, synced and renamed onto it only if the block succeeds."""
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.unlink(missing_ok=True)
    try:
        yield partial
        _fsync(partial)
        os.replace(partial, path)
        _fsync(path.parent)
    finally:
        partial.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- SQLite -----------------------------------------------------------------------


def _sqlite_backup(register: Register, partial: Path) -> None:
    raw = register.engine.raw_connection()
    try:
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            cast(sqlite3.Connection, raw.driver_connection).backup(copy)  # all pages in one step: one snapshot
            copy.execute("PRAGMA journal_mode = DELETE")
            copy.execute("VACUUM")
            _integrity(copy, partial)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise StorageError(f"backing up {register.target}: {exc}",
                           hint="check there is room on the destination's disk") from exc
    finally:
        raw.close()


def _integrity(connection: sqlite3.Connection, path: Path) -> None:
    verdict = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    if verdict != ["ok"]:
        raise StorageError(f"{path} failed its integrity check: {'; '.join(verdict[:3])}")


def _sqlite_restore(source: Path, target: Path, *, replace: bool) -> None:
    if target.exists() and not replace:
        raise StorageError(f"{target} already exists", hint="restore to a new file, or pass --replace")
    for suffix in ("-wal", "-shm"):
        if Path(f"{target}{suffix}").exists():
            raise StorageError(
                f"{target} is open somewhere or was not closed cleanly ({target.name}{suffix} exists)",
                hint="close every program using it (or open and close it once) before replacing it",
            )
    with _partial(target) as partial:
        shutil.copyfile(source, partial)
        try:
            with contextlib.closing(sqlite3.connect(partial)) as connection:
                _integrity(connection, source)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{source} is not a readable GeoPackage: {exc}") from None


# -- PostgreSQL -------------------------------------------------------------------


def _client(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise StorageError(
            f"{program} is not installed; PostgreSQL backups use it",
            hint="install the PostgreSQL client programs (Debian: apt install postgresql-client), "
            "at least as new as the server",
        )
    return path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq takes it, and an environment carrying the password instead of the URL."""
    parsed = sa.make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    bare = parsed.set(drivername="postgresql", password=None)
    return bare.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], action: str) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StorageError(f"{action} failed: {result.stderr.strip() or f'exit code {result.returncode}'}")


def _pg_dump(url: str, partial: Path) -> None:
    dbname, env = _libpq(url)
    _run([_client("pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={dbname}"], env, "pg_dump")
    _run([_client("pg_restore"), "--list", str(partial)], env, "checking the dump")


def _pg_restore(source: Path, url: str, *, replace: bool) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            existing = sa.inspect(connection).has_table("alembic_version")
    except sa.exc.OperationalError as exc:
        raise StorageError(f"cannot reach {sa.make_url(url).render_as_string()}: {exc.orig}",
                           hint="the target database must exist (createdb) and be reachable") from None
    finally:
        engine.dispose()
    if existing and not replace:
        raise StorageError(f"{sa.make_url(url).database} already holds a register",
                           hint="restore into an empty database, or pass --replace")
    dbname, env = _libpq(url)
    clean = ["--clean", "--if-exists"] if existing else []
    _run([_client("pg_restore"), "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges",
          *clean, f"--dbname={dbname}", str(source)], env, "pg_restore")
