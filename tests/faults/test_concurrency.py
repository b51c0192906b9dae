"""Several writers at once never overwrite each other; readers are not held up by writers.

* Processes and threads read the same version of one record and update it
  from that version: exactly one wins each version, the others get
  :class:`StaleEdit`, and every win is in the history, in order, none lost.
* While another process holds a large import transaction open, no read is
  blocked for a second (time neither running nor waiting for a CPU, so a busy
  shared machine does not count) and every read sees the register as it was
  before the import.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from mineaction.errors import StaleEdit
from mineaction.storage.register import Register
from tests.common import add_organisation, hazard_values, square_m
from tests.faults.checks import check_history
from tests.faults.worker import ForkServer

CONTENDERS = 4
ROUNDS = 12
READ_LIMIT_S = 1.0


def _hazard(register: Register) -> str:
    with register.write("concurrency.test", "hazard everyone edits") as w:
        org = add_organisation(w)
        return w.add("hazard", hazard_values(org.id), square_m(0, 0, 100)).id


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_one_winner_per_version(register: Register, hazard_id: str, wins: list[tuple[str, int, int]]) -> None:
    """``wins`` holds (writer, base version, new version); the history must tell the same story."""
    history = register.history("hazard", hazard_id)
    assert [v.version for v in history] == list(range(1, len(history) + 1))
    assert sorted(new for _, _, new in wins) == list(range(2, len(history) + 1)), "a win is missing or doubled"
    for writer, base, new in wins:
        assert new == base + 1
        assert history[new - 1]["description"] == f"{writer} from v{base}", "an update was overwritten"
    check_history(register)


def test_writer_processes_never_overwrite(register_target: str, fork_server: ForkServer, tmp_path: Path) -> None:
    with Register.open(register_target) as register:
        hazard_id = _hazard(register)
    start_at = time.time() + 2.0  # every contender has opened the register by then
    logs = {f"writer-{k}": tmp_path / f"writer-{k}.log" for k in range(CONTENDERS)}
    pids = [
        fork_server.start("contend", log, target=register_target, record=hazard_id, tag=tag,
                          start_at=start_at, rounds=ROUNDS, period_s=0.25)
        for tag, log in logs.items()
    ]
    assert all(fork_server.wait(pid) == 0 for pid in pids), [p.with_suffix(".log.err").read_text() for p in logs.values()]
    outcomes = {tag: _lines(log) for tag, log in logs.items()}
    wins = [(tag, e["base"], e["version"]) for tag, events in outcomes.items() for e in events if e["t"] == "won"]
    stale = sum(e["t"] == "stale" for events in outcomes.values() for e in events)
    assert len(wins) + stale == CONTENDERS * ROUNDS
    assert stale > 0, "the contenders never collided: the test proved nothing"
    with Register.open(register_target) as register:
        _check_one_winner_per_version(register, hazard_id, wins)


def _in_threads(work: Callable[[str, threading.Barrier], None]) -> None:
    """``work(tag, barrier)`` in CONTENDERS threads at once; a failure in any is raised here."""
    barrier = threading.Barrier(CONTENDERS)
    errors: list[BaseException] = []

    def run(tag: str) -> None:
        try:
            work(tag, barrier)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(f"thread-{k}",)) for k in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_writer_threads_never_overwrite(register: Register) -> None:
    """All threads read the same version before any writes: one winner, the rest stale, every round."""
    hazard_id = _hazard(register)
    wins: list[tuple[str, int, int]] = []
    outcomes: Counter[str] = Counter()

    def contend(tag: str, barrier: threading.Barrier) -> None:
        for _ in range(ROUNDS):
            base = register.get("hazard", hazard_id).version
            barrier.wait()
            try:
                with register.write(tag, "concurrent edit") as w:
                    new = w.update("hazard", hazard_id, base_version=base,
                                   values={"description": f"{tag} from v{base}"})
                wins.append((tag, base, new.version))
                outcomes["won"] += 1
            except StaleEdit:
                outcomes["stale"] += 1
            barrier.wait()  # the round is over for everyone before the next read

    _in_threads(contend)
    assert outcomes == {"won": ROUNDS, "stale": ROUNDS * (CONTENDERS - 1)}
    _check_one_winner_per_version(register, hazard_id, wins)


def test_concurrent_writers_take_distinct_references_with_no_gaps(register: Register) -> None:
    """The first references of an entity are taken by several writers at once: each gets its own, none is skipped."""
    with register.write("concurrency.test", "operator") as w:
        org_id = add_organisation(w).id
    refs: list[str] = []

    def add(tag: str, barrier: threading.Barrier) -> None:
        barrier.wait()
        for k in range(3):
            with register.write(tag, "concurrent add") as w:  # numbers taken twice in one unit of work
                added = w.add_many("hazard", [hazard_values(org_id)] * 2,
                                   [square_m(100 * k, 0, 50), square_m(100 * k, 100, 50)])
                one_more = w.add("hazard", hazard_values(org_id), square_m(100 * k, 200, 50))
            refs.extend([*added.column("ref"), one_more.ref])

    _in_threads(add)
    assert sorted(refs) == [f"HAZ-{i:06d}" for i in range(1, CONTENDERS * 9 + 1)]


def _schedstat() -> tuple[int, int]:
    """Nanoseconds this thread has run on a CPU and waited for one (Linux)."""
    on_cpu, waiting, _slices = map(int, Path("/proc/thread-self/schedstat").read_text().split())
    return on_cpu, waiting


def _timed(read: Callable[[], object]) -> tuple[object, float, float]:
    """``read()``, its wall-clock seconds, and the seconds it was blocked: neither running nor waiting for a CPU.

    Blocked time is what a lock (SQLite's busy handler, a PostgreSQL row lock)
    costs a reader; on a shared machine the wall clock also counts the CPU
    the reader did not get, which says nothing about locks.
    """
    cpu0, queue0, started = *_schedstat(), time.monotonic()
    result = read()
    cpu1, queue1 = _schedstat()
    wall = time.monotonic() - started
    return result, wall, wall - (cpu1 - cpu0 + queue1 - queue0) / 1e9


def test_readers_are_not_blocked_during_a_long_import(
    register_target: str, fork_server: ForkServer, tmp_path: Path
) -> None:
    with Register.open(register_target) as register:
        _hazard(register)
        log = tmp_path / "import.log"
        pid = fork_server.start("long_import", log, target=register_target, hazards=3000, hold_s=1.5)
        while not log.exists() or "begin" not in log.read_text():
            time.sleep(0.01)
        walls, blocked = [], []
        while "committed" not in log.read_text():
            seen, wall, waited = _timed(lambda: (
                register.count("hazard"), len(register.records("hazard", bbox=(-34.0, -30.5, -33.0, -29.5))),
                register.get("hazard", "HAZ-000001").version))
            walls.append(wall)
            blocked.append(waited)
            if "committing" not in log.read_text():  # the whole read happened before the commit began
                assert seen == (1, 1, 1), "a reader saw the uncommitted import"
        assert fork_server.wait(pid) == 0, Path(f"{log}.err").read_text()
        assert register.count("hazard") == 3001
    print(f"\n{register.dialect}: {len(walls)} reads during the import; slowest {max(walls) * 1000:.0f} ms wall, "
          f"longest blocked {max(blocked) * 1000:.0f} ms")
    assert len(walls) >= 10
    assert max(blocked) < READ_LIMIT_S
