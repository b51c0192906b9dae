"""Child processes for the fault tests: a fork server and the jobs it runs.

Importing mineaction costs about a second, too much to pay for each of a
hundred kills, so ``python -m tests.faults.worker`` imports once and forks a
fresh child per job. The parent sends one JSON command a line on stdin and
reads one JSON reply a line on stdout:

* ``{"job": name, "log": path, "args": {...}}`` forks a child running
  ``JOBS[name](log, **args)``; reply ``{"pid": ...}``. The child opens its own
  database connections after the fork and writes its log, one JSON line per
  event, to ``log`` (its stderr goes to ``log + ".err"``).
* ``{"wait": pid}`` reaps that child; reply ``{"pid": ..., "status": ...}``
  (``-9`` for SIGKILL, as in :mod:`subprocess`).

:class:`ForkServer` is the parent's side.

Jobs
----
``write_loop``: adds (single and bulk ``add_many``), updates, ledger releases
and soft deletes at random, each in its own changeset. It logs ``open`` once
the register is open, ``begin`` when a changeset starts, ``pending`` with the
changeset's rows just before the commit and ``ack`` after the commit
returns; a refused write (a domain error, rolled back) logs ``refused``.

``contend``: at fixed wall-clock instants every contender reads the same
record and tries to update it from the version it read; it logs whether it
won or was refused as stale.

``long_import``: one large transaction held open a while, logging ``begin``,
``committing`` and ``committed``, for measuring readers meanwhile.

``import_hostile``: reads files through the import entry points, logging
``start`` and then ``done`` with the outcome (refused, reported, nothing to
queue, queued, unhandled) and whether the file or its folder changed; the
parent watches for crashes, hangs and memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import shapely

from mineaction.errors import MineActionError, StaleEdit
from mineaction.io import import_file, import_submissions
from mineaction.storage.register import BULK_ROWS, Register
from mineaction.storage.schema import build_metadata
from mineaction.storage.unit_of_work import Writer
from tests.common import activity_values, hazard_values, square_m

__all__ = ["JOBS", "ForkServer", "contend", "import_hostile", "long_import", "write_loop"]

_SLOTS = 100  # hazards sit on a 100 × 100 grid of 150 m slots
_CELL_DEG = 0.0003  # released parts are cells of one fixed lon/lat grid, so most do not overlap


def _emit(log: IO[str], **entry: Any) -> None:
    log.write(json.dumps(entry) + "\n")
    log.flush()


# -- write_loop ------------------------------------------------------------------


def _plan_add(register: Register, rng: random.Random, org: str) -> Callable[[Writer], list[Any]]:
    geometry = square_m(150 * rng.randrange(_SLOTS), 150 * rng.randrange(_SLOTS), 100)

    def write(w: Writer) -> list[Any]:
        hazard = w.add("hazard", hazard_values(org), geometry)
        return [hazard, w.add("activity", activity_values(hazard.id, org))]

    return write


def _plan_bulk(register: Register, rng: random.Random, org: str) -> Callable[[Writer], list[Any]]:
    # one in four is big enough for the backends' bulk path (R-tree trigger set aside, COPY)
    n = BULK_ROWS + rng.randint(1, 60) if rng.random() < 0.25 else rng.randint(10, 40)
    squares = [square_m(150 * rng.randrange(_SLOTS), 150 * rng.randrange(_SLOTS), 100) for _ in range(n)]

    def write(w: Writer) -> list[Any]:
        hazards = w.add_many("hazard", [hazard_values(org) for _ in squares], squares)
        activities = w.add_many("activity", [activity_values(h.id, org, "ts") for h in hazards])
        finds = w.add_many(
            "eo_find",
            [{"hazard_id": h.id, "category": "ap_mine", "condition": "functional", "quantity": 1,
              "found_on": dt.date(2025, 5, 1), "organisation_id": org} for h in hazards],
            [h.geometry.representative_point() for h in hazards],
        )
        return [*hazards, *activities, *finds]

    return write


def _random_ref(register: Register, rng: random.Random, entity: str, prefix: str) -> str | None:
    count = register.count(entity)  # the loop never deletes hazards or activities: refs 1..count
    return f"{prefix}-{rng.randint(1, count):06d}" if count else None


def _plan_update(register: Register, rng: random.Random, org: str) -> Callable[[Writer], list[Any]] | None:
    ref = _random_ref(register, rng, "hazard", "HAZ")
    if ref is None:
        return None
    hazard = register.get("hazard", ref)
    grown = None
    if rng.random() < 0.5:  # a larger outline keeps every released part inside
        minx, miny, maxx, maxy = hazard.geometry.bounds
        grown = shapely.box(minx - 1e-5, miny - 1e-5, maxx + 1e-5, maxy + 1e-5)

    def write(w: Writer) -> list[Any]:
        values = {"status": rng.choice(["active", "worked_on"]), "description": f"update {rng.random():.6f}"}
        return [w.update("hazard", hazard.id, base_version=hazard.version, values=values, geometry=grown)]

    return write


def _plan_release(register: Register, rng: random.Random, org: str) -> Callable[[Writer], list[Any]] | None:
    ref = _random_ref(register, rng, "activity", "ACT")
    if ref is None:
        return None
    activity = register.get("activity", ref)
    hazard = register.get("hazard", activity["hazard_id"])
    minx, miny, maxx, maxy = (int(v // _CELL_DEG) for v in hazard.geometry.bounds)
    i, j = rng.randint(minx, maxx), rng.randint(miny, maxy)
    part = shapely.box(i * _CELL_DEG, j * _CELL_DEG, (i + 1) * _CELL_DEG, (j + 1) * _CELL_DEG).intersection(
        hazard.geometry
    )
    release_type = "cleared" if activity["activity_type"] == "clearance" else "reduced"

    def write(w: Writer) -> list[Any]:
        return [w.release(activity_id=activity.id, geometry=part, release_type=release_type,
                          method="manual", released_on=dt.date(2025, 6, 1))]

    return write


def _plan_delete(register: Register, rng: random.Random, org: str) -> Callable[[Writer], list[Any]] | None:
    parts = register.records("released_part")
    if not parts:
        return None
    part = rng.choice(parts)
    return lambda w: [w.delete("released_part", part.id, base_version=part.version)]


_PLANS = [(_plan_add, 3), (_plan_bulk, 1), (_plan_update, 3), (_plan_release, 5), (_plan_delete, 1)]


def write_loop(log: IO[str], target: str, seed: int, duration_s: float = 30.0) -> None:
    """Write at random until killed (or ``duration_s`` is up), logging each commit."""
    rng = random.Random(seed)
    register = Register.open(target)
    org = register.records("organisation")[0].id
    _emit(log, t="open")
    plans, weights = zip(*_PLANS)
    deadline = time.monotonic() + duration_s
    n = 0
    while time.monotonic() < deadline:
        plan = rng.choices(plans, weights)[0]
        n += 1
        reason = f"fault test seed {seed} op {n} ({plan.__name__[6:]})"
        try:
            write = plan(register, rng, org)
            if write is None:
                continue
            with register.write("fault.test", reason) as w:
                _emit(log, t="begin", cs=w.changeset_id)
                records = write(w)
                rows = [[r.entity, r.id, r.version] for r in records]
                rows += [["residual_event", event_id, 1] for event_id in w.flagged_events]  # finds in released land
                _emit(log, t="pending", cs=w.changeset_id, reason=reason, rows=rows)
            _emit(log, t="ack", cs=w.changeset_id)
        except MineActionError as exc:
            _emit(log, t="refused", reason=reason, error=type(exc).__name__)


# -- contend ---------------------------------------------------------------------


def contend(log: IO[str], target: str, record: str, tag: str, start_at: float, rounds: int, period_s: float) -> None:
    """At each round's instant, read ``record`` and try to update it from the version read."""
    register = Register.open(target)
    for k in range(rounds):
        time.sleep(max(0.0, start_at + k * period_s - time.time()))
        base = register.get("hazard", record).version
        try:
            with register.write(tag, f"contend round {k}") as w:
                new = w.update("hazard", record, base_version=base, values={"description": f"{tag} from v{base}"})
            _emit(log, t="won", base=base, version=new.version)
        except StaleEdit:
            _emit(log, t="stale", base=base)


# -- long_import -------------------------------------------------------------------


def long_import(log: IO[str], target: str, hazards: int, hold_s: float) -> None:
    """One big transaction: add ``hazards`` hazards, keep the transaction open ``hold_s`` more, commit."""
    register = Register.open(target)
    org = register.records("organisation")[0].id
    squares = [square_m(150 * (i % _SLOTS), 150 * (i // _SLOTS), 100) for i in range(hazards)]
    with register.write("fault.test", "long import") as w:
        _emit(log, t="begin")
        w.add_many("hazard", [hazard_values(org) for _ in squares], squares)
        time.sleep(hold_s)
        _emit(log, t="committing")
    _emit(log, t="committed")


# -- import_hostile ------------------------------------------------------------------


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _import_one(register: Register, path: Path) -> str:
    """Read one file through the import path its folder names; what came of it."""
    if path.parent.name == "odk":
        result = import_submissions(register, path, user="hostile.test", reason="hostile file",
                                    form=path.name.split("__")[0])
    else:
        result = import_file(register, path, user="hostile.test", reason="hostile file", entity="hazard",
                             crs="EPSG:4326")
    if result.queued is not None and result.queued.submitted:
        return "queued"
    return "nothing to queue" if result.report.ok else "reported"


def _unchanged(path: Path, digest: str, siblings: set[Path]) -> bool:
    return _file_digest(path) == digest and set(path.parent.iterdir()) == siblings


def _open_as_register(path: Path) -> str:
    digest, siblings = _file_digest(path), set(path.parent.iterdir())
    try:
        Register.open(path).close()
    except MineActionError as exc:
        return f"refused ({type(exc).__name__})" if _unchanged(path, digest, siblings) else "refused, file changed"
    return "opened"


def import_hostile(log: IO[str], target: str, paths: list[str], tmpdir: str, memory_limit: int) -> None:
    """Run each file through its import entry point (and a .gpkg through Register.open), logging outcomes.

    Each file's bytes are compared before and after, and its folder checked
    for new side files: reading must never write.
    """
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))  # a bomb fails here, not the machine
    tempfile.tempdir = tmpdir  # unpacking folders land where the test can see leftovers
    register = Register.open(target)
    for text in paths:
        path = Path(text)
        _emit(log, t="start", file=text)
        digest, siblings, started = _file_digest(path), set(path.parent.iterdir()), time.monotonic()
        entry: dict[str, Any] = {"t": "done", "file": text}
        try:
            entry["outcome"] = _import_one(register, path)
        except MineActionError as exc:
            entry.update(outcome="refused", error=type(exc).__name__, message=str(exc)[:500])
        except Exception as exc:  # an unhandled error is what this job looks for
            entry.update(outcome="unhandled", error=type(exc).__name__, message=str(exc)[:500])
        entry["modified"] = not _unchanged(path, digest, siblings)
        if path.suffix == ".gpkg":
            entry["as_register"] = _open_as_register(path)
        _emit(log, **entry, seconds=round(time.monotonic() - started, 3))


JOBS: dict[str, Callable[..., None]] = {
    "write_loop": write_loop, "contend": contend, "long_import": long_import, "import_hostile": import_hostile,
}


# -- the fork server ---------------------------------------------------------------


def _run_child(command: dict[str, Any]) -> None:
    """In the forked child: run one job with its own log; never return into the server loop."""
    code = 1
    try:
        stdin = os.open(os.devnull, os.O_RDONLY)
        os.dup2(stdin, 0)
        err = os.open(command["log"] + ".err", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(err, 1)
        os.dup2(err, 2)
        with open(command["log"], "a", encoding="utf-8") as log:
            JOBS[command["job"]](log, **command["args"])
        code = 0
    except BaseException:  # report anything to the log; os._exit follows
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


def main() -> None:
    """Serve fork requests until stdin closes."""
    for dialect in ("sqlite", "postgresql"):  # pay the lazy imports once, not in every child
        build_metadata(dialect)
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if "wait" in command:
            pid, status = os.waitpid(command["wait"], 0)
            print(json.dumps({"pid": pid, "status": os.waitstatus_to_exitcode(status)}), flush=True)
            continue
        pid = os.fork()
        if pid == 0:
            _run_child(command)
        print(json.dumps({"pid": pid}), flush=True)


class ForkServer:
    """The parent's side: start jobs in fresh child processes, kill them, reap them."""

    def __init__(self, cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.faults.worker"],
            cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self._reply()

    def _reply(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"fork server exited with {self.process.wait()}")
        return json.loads(line)

    def _send(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def start(self, job: str, log: Path, **args: Any) -> int:
        return self._send({"job": job, "log": str(log), "args": args})["pid"]

    def wait(self, pid: int) -> int:
        """Reap a child; its exit code, or minus the signal that ended it."""
        return self._send({"wait": pid})["status"]

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


if __name__ == "__main__":
    main()
