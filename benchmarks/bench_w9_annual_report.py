"""W9: the full annual report for a 100,000-hazard register: tables, CSV, XLSX and PDF with charts and map.

Workload (setup, not measured): the W1 register (N hazards, default 100,000,
loaded by ``load_hazards.load``), two released parts per hazard as in W3
(``add_releases``: cancelled west half, cleared east half, in 2025), and
N/20 accidents with 1-3 victims each and N/10 EORE sessions spread over 2025,
written through ``Writer.add_many``.

Measured: ``mineaction report --year 2025`` run as users run it, in a child
process: ``annual_report`` (every table), the released-per-month chart and
the register map, then ``write_csv``, ``write_xlsx`` and ``write_pdf``. The
child's wall and CPU time and peak resident memory are reported. There is no anchor:
the goal is absolute, under 2 minutes on this 2-core machine. ``--profile``
runs the child under cProfile and prints where the time goes.

Run: ``.venv/bin/python benchmarks/bench_w9_annual_report.py [N] [--postgis ADMIN_URL] [--work DIR] [--profile]``
(``--work`` keeps the built register there and reuses it on the next run).
Writes benchmarks/results/w9_annual_report.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

# scripts beside this one (the script's folder is first on sys.path)
from bench_w3_statistics import add_releases
from common import EAST, NORTH, SOUTH, WEST, save, write_hazard_gpkg
from load_hazards import load

from mineaction.demo.fictional_programme import DEMO_CRS
from mineaction.storage.register import Register

YEAR = 2025


def add_people_events(register: Register, n: int, seed: int = 9) -> tuple[int, int, int]:
    """``n // 20`` accidents with 1-3 victims each and ``n // 10`` EORE sessions, all in ``YEAR``."""
    rng = np.random.default_rng(seed)
    operator = register.records("organisation")[0]
    days = [dt.date(YEAR, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, n)]

    def spots(k: int) -> list[shapely.Point]:
        return list(shapely.points(rng.uniform(WEST, EAST, k), rng.uniform(SOUTH, NORTH, k)))

    n_accidents, n_sessions = max(1, n // 20), max(1, n // 10)
    with register.write("benchmark", "synthetic accidents, victims and risk education", "benchmark") as w:
        accidents = w.add_many("accident", [
            {"occurred_on": days[i], "accident_type": str(rng.choice(["mine", "uxo", "cluster", "demining"])),
             "organisation_id": operator.id} for i in range(n_accidents)], spots(n_accidents), crs=DEMO_CRS)
        victims = [
            {"accident_id": a.id, "age": int(rng.integers(5, 80)), "sex": str(rng.choice(["female", "male"])),
             "victim_group": "deminer" if a["accident_type"] == "demining" else "civilian",
             "outcome": str(rng.choice(["killed", "injured"])), "organisation_id": operator.id}
            for a in accidents for _ in range(int(rng.integers(1, 4)))]
        w.add_many("victim", victims)
        w.add_many("eore_session", [
            {"held_on": days[-1 - i], "eore_method": str(rng.choice(["group_session", "school"])),
             "girls": int(rng.poisson(12)), "boys": int(rng.poisson(12)), "women": int(rng.poisson(9)),
             "men": int(rng.poisson(6)), "organisation_id": operator.id} for i in range(n_sessions)],
            spots(n_sessions), crs=DEMO_CRS)
    return n_accidents, len(victims), n_sessions


def build(n: int, work: Path, target: str) -> dict[str, int]:
    source = write_hazard_gpkg(work / "hazards.gpkg", n)
    register = load(str(source), target)
    try:
        parts = add_releases(register)
        accidents, victims, sessions = add_people_events(register, n)
    finally:
        register.close()
    return {"parts": parts, "accidents": accidents, "victims": victims, "eore_sessions": sessions}


def report(target: str, out: Path, profile: Path | None) -> tuple[float, float, float]:
    """Run ``mineaction report`` in a child process: its wall seconds, CPU seconds and peak RSS (MiB).

    ``os.wait4`` gives the figures of that one child, so other children of
    this process (``psql``, an earlier backend's report) do not mix in, and
    CPU seconds stay meaningful when other work shares the machine.
    """
    runner = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    args = [*runner, "-m", "mineaction.cli", "report", "--year", str(YEAR), "--db", target, "--out", str(out)]
    start = time.perf_counter()
    child = subprocess.Popen(args)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise subprocess.CalledProcessError(child.returncode, args)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgis", help="admin URL of a PostgreSQL server with PostGIS; database w9_register "
                                          "is recreated")
    parser.add_argument("--work", type=Path, help="folder to build the register in, and reuse it from")
    parser.add_argument("--profile", action="store_true", help="profile the report and print the top functions")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="w9-"))
    work.mkdir(parents=True, exist_ok=True)
    targets = {"gpkg": str(work / "register.gpkg")}
    if args.postgis:
        targets["postgis"] = args.postgis.rsplit("/", 1)[0] + "/w9_register"
    results = {}
    for backend, target in targets.items():
        built = None
        if backend == "postgis":
            for sql in ("DROP DATABASE IF EXISTS w9_register WITH (FORCE)", "CREATE DATABASE w9_register"):
                subprocess.run(["psql", args.postgis, "-qc", sql], check=True)
            built = build(args.n, work, target)
        elif not Path(target).exists():
            built = build(args.n, work, target)
        profile = work / f"w9-{backend}.prof" if args.profile else None
        seconds, cpu, peak = report(target, work / f"report-{backend}", profile)
        results[backend] = {"report_s": seconds, "cpu_s": cpu, "peak_mib": peak, "built": built,
                            "pdf_bytes": (work / f"report-{backend}" / f"annual-report-{YEAR}.pdf").stat().st_size}
        if profile:
            pstats.Stats(str(profile)).sort_stats("cumulative").print_stats("mineaction|openpyxl|backend_pdf", 30)
    print(f"W9 annual report {YEAR}: {args.n:,} hazards (register in {work})")
    for backend, r in results.items():
        print(f"{backend:<8} {r['report_s']:.1f} s wall, {r['cpu_s']:.1f} s CPU, peak {r['peak_mib']:.0f} MiB, "
              f"PDF {r['pdf_bytes']:,} bytes"
              + ("" if r["built"] is None else f"; built {r['built']}"))
    print(f"goal: under 120 s; results in {save('w9_annual_report', {'n': args.n, 'year': YEAR, 'results': results})}")


if __name__ == "__main__":
    main()
