"""Every hostile file, through every import path: refused or reported, and nothing else happens.

The corpus (:mod:`tests.faults.hostile_files`, 251 files) is read in a child
process through the import entry points that exist (``import_file``;
``import_submissions`` for ODK/Kobo exports; ``Register.open`` for
GeoPackages). The parent watches it: a crash (a signal), a file that keeps
it busy for a minute or that makes it hold more than 2 GB counts against
that file, and the run resumes with the next one. Then, for every file: the
outcome is a clear refusal (a ``MineActionError``) or a report of errors,
nothing was queued (a few valid submissions with one hostile detail may be,
without the detail), the file and its folder are unchanged; and overall no
zip-slip target exists, no unpacking folder is left, the listener got no
connection, the secret appears in no message, and the register's records
are as they were.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mineaction.domain.entities import ENTITIES
from mineaction.storage.register import Register
from mineaction.storage.schema import history_name
from tests.faults.checks import snapshot
from tests.faults.hostile_files import Hostile, Traps, hostile_files, write_corpus
from tests.faults.worker import ForkServer

STALL_S = 60.0  # no progress for this long: the file hangs the import
RSS_LIMIT = 2 * 1024**3  # resident memory the reader may use for one file
ADDRESS_LIMIT = 8 * 1024**3  # hard cap on the child's address space, so a bomb cannot take the machine
OK = {"refused", "reported", "nothing to queue"}

#: files an import path mishandles today, with the finding: the test fails on any other finding, and on
#: a listed one that no longer occurs (remove it then). The 17 found first were fixed in ba47b84.
KNOWN: dict[str, str] = {}


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A local TCP port that records every connection: no import may make one."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                seen.append(connection.recv(4096))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join()
    server.close()


def test_the_corpus_has_at_least_200_distinct_files() -> None:
    traps = Traps("TOKEN", Path("/nonexistent/secret"), 9)
    corpus = hostile_files(traps)
    assert len(corpus) >= 200
    assert len({(h.category, h.name) for h in corpus}) == len(corpus)
    assert set(Counter(h.category for h in corpus)) == {"xml", "zip", "shapefile", "geojson", "csv", "gpkg", "odk",
                                                         "misc"}
    assert hostile_files(traps) == corpus  # deterministic


def _state(pid: int) -> tuple[str, int]:
    """(process state letter, resident bytes) from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return fields["State"].split()[0], int(fields.get("VmRSS", "0 kB").split()[0]) * 1024


def _watch(fork_server: ForkServer, pid: int, log: Path) -> str | None:
    """Wait for the child; None when it finished, else why it was stopped."""
    size, last_progress, reason = -1, time.monotonic(), None
    while True:
        state, rss = _state(pid)
        if state == "Z":
            break
        current = log.stat().st_size if log.exists() else 0
        if current != size:
            size, last_progress = current, time.monotonic()
        if rss > RSS_LIMIT or time.monotonic() - last_progress > STALL_S:
            reason = "memory" if rss > RSS_LIMIT else "hung"
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    status = fork_server.wait(pid)
    return reason or (None if status == 0 else f"crashed (exit {status})")


def _run(fork_server: ForkServer, target: str, paths: list[Path], work: Path) -> dict[str, dict[str, Any]]:
    """Outcome per file; a file that stopped the reader gets the reason, and the run resumes after it."""
    outcomes: dict[str, dict[str, Any]] = {}
    for attempt in range(len(paths)):
        remaining = [str(p) for p in paths if str(p) not in outcomes]
        if not remaining:
            break
        log = work / f"reader-{attempt}.log"
        pid = fork_server.start("import_hostile", log, target=target, paths=remaining,
                                tmpdir=str(work / "tmp"), memory_limit=ADDRESS_LIMIT)
        stopped = _watch(fork_server, pid, log)
        started = None
        for line in log.read_text().splitlines():
            entry = json.loads(line)
            started = entry["file"] if entry["t"] == "start" else None
            if entry["t"] == "done":
                outcomes[entry["file"]] = entry
        if stopped and started:
            outcomes[started] = {"outcome": stopped, "message": Path(f"{log}.err").read_text()[-500:]}
    return outcomes


def _findings(corpus: list[tuple[Hostile, Path]], outcomes: dict[str, dict[str, Any]],
              requests: list[bytes]) -> dict[str, str]:
    """What went wrong, per file (``category/name``)."""
    found: dict[str, str] = {}
    for hostile, path in corpus:
        name, entry = f"{hostile.category}/{hostile.name}", outcomes[str(path)]
        allowed = OK | ({"queued"} if hostile.importable else set())
        if entry["outcome"] not in allowed:
            found[name] = f"{entry['outcome']}: {entry.get('error', '')} {entry.get('message', '')[:150]}".strip()
        elif entry.get("modified"):
            found[name] = "reading it changed the file or its folder"
        elif not entry.get("as_register", "refused (").startswith("refused ("):
            found[name] = f"Register.open: {entry['as_register']}"
    for request in requests:
        target = request.split(b" ")[1]
        culprits = [f"{h.category}/{h.name}" for h, _ in corpus if target in h.data]
        for name in culprits or ["(unknown file)"]:
            found[name] = f"network request: {request.splitlines()[0].decode(errors='replace')}"
    return found


def _traps_queued(register: Register, corpus: list[tuple[Hostile, Path]], token: str) -> dict[str, str]:
    """Files whose queued field reports carry a trap (a path to the secret, a URL), by the import's source."""
    names = {h.name: f"{h.category}/{h.name}" for h, _ in corpus}
    imports, reports = register.tables["field_import"], register.tables["field_report"]
    with register.engine.connect() as connection:
        rows = connection.execute(
            sa.select(imports.c.source_name, reports).join(reports, reports.c.import_id == imports.c.id)
        ).all()
    return {names[row[0]]: "a trap reached the review queue (a local file outside the export as attachment?)"
            for row in rows if token in repr(tuple(row))}


def test_hostile_files_are_refused_without_side_effects(
    gpkg_register: Register, fork_server: ForkServer, tmp_path: Path, listener: tuple[int, list[bytes]]
) -> None:
    port, requests = listener
    token = f"T{os.getpid()}x{time.time_ns() % 10**9}"
    secret = tmp_path / "outside" / f"secret-{token}.txt"
    secret.parent.mkdir()
    secret.write_text(f"SECRET-{token}")
    corpus = write_corpus(tmp_path / "corpus", Traps(token, secret, port))
    (tmp_path / "tmp").mkdir()
    before = snapshot(gpkg_register)

    outcomes = _run(fork_server, gpkg_register.target, [path for _, path in corpus], tmp_path)

    assert len(outcomes) == len(corpus)
    found = _findings(corpus, outcomes, requests) | _traps_queued(gpkg_register, corpus, token)
    summary = Counter(entry["outcome"] for entry in outcomes.values())
    print(f"\n{len(corpus)} hostile files: {dict(summary)}; findings: {len(found)} ({len(KNOWN)} known)")
    for name, finding in sorted(found.items()):
        print(f"  {name}: {finding}")
    assert {name: found[name] for name in found.keys() - KNOWN.keys()} == {}, "new findings"
    assert KNOWN.keys() <= found.keys(), f"fixed: remove from KNOWN {sorted(KNOWN.keys() - found.keys())}"

    assert not list(Path("/tmp").glob(f"*{token}*")), "a file was written outside the import folder"
    assert not list((tmp_path / "tmp").iterdir()), "an import left its unpacking folder behind"
    assert f"SECRET-{token}" not in json.dumps(list(outcomes.values())), "a message showed the secret file"
    after = snapshot(gpkg_register)
    records = ["changeset", *ENTITIES, *map(history_name, ENTITIES)]  # the queue is checked above
    assert {t: after[t] for t in records} == {t: before[t] for t in records}, "a write to the register's records"
