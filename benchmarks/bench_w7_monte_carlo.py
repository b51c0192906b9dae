"""W7: Monte Carlo over 10,000,000 individual mines, speed and peak memory.

Workload: ``simulate_mines`` with the shipped illustrative profile
``degraded-field-example-a`` (log-normal self-destruct times, Weibull
self-deactivation times, success probabilities 0.6 and 0.8), 10,000,000 mines
(``--mines``) in chunks of 1,000,000 (``--chunk``), counted at 366 daily ages
(0–365 days). Each mine draws whether SD works and when, and whether SDA works
and when (four random numbers per mine).

Reported: mines per second (best of ``--repeat`` runs, without tracing), the
peak of traced Python/NumPy allocations (``tracemalloc``, a separate run) and
the process peak RSS (``resource.getrusage``, which includes the interpreter
and libraries). Goal: chunked so the simulation stays ≤ 1 GiB. As a check, the
estimates at 30, 120 and 365 days are compared with the closed forms in units
of their binomial standard error.

Run: ``.venv/bin/python benchmarks/bench_w7_monte_carlo.py [--mines N] [--chunk N]``
Writes benchmarks/results/w7_monte_carlo.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from common import save

from mineaction.domain.residual_hazard import shipped_profiles, simulate_mines, survival_fractions

GIB = 2**30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mines", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    profile = shipped_profiles()["degraded-field-example-a"]
    ages = np.arange(0.0, 366.0)

    best = float("inf")
    for seed in range(args.repeat):
        start = time.perf_counter()
        sim = simulate_mines(profile, ages, args.mines, rng=seed, chunk_size=args.chunk)
        best = min(best, time.perf_counter() - start)

    tracemalloc.start()
    simulate_mines(profile, ages, args.mines, rng=args.repeat, chunk_size=args.chunk)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB

    f, e = survival_fractions(ages, profile)
    check = {}
    for day in (30, 120, 365):
        for name, exact, estimate in (("f", f, sim.functional), ("e", e, sim.explosive)):
            z = (estimate.value[day] - exact[day]) / estimate.standard_error[day]
            check[f"{name}({day})"] = {
                "closed_form": float(exact[day]),
                "simulated": float(estimate.value[day]),
                "z": float(z),
            }

    rate = args.mines / best
    print(
        f"W7 Monte Carlo: {args.mines:,} mines in chunks of {args.chunk:,}, {ages.size} ages, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"  best time           {best:8.2f} s   ({rate / 1e6:.2f} M mines/s)")
    print(f"  traced peak         {traced_peak / 2**20:8.1f} MiB")
    print(
        f"  process peak RSS    {rss_peak / 2**20:8.1f} MiB   (goal ≤ 1 GiB: "
        f"{'met' if max(traced_peak, rss_peak) <= GIB else 'NOT met'})"
    )
    for label, row in check.items():
        print(
            f"  {label:8s} closed form {row['closed_form']:.5f}  simulated {row['simulated']:.5f}  "
            f"z = {row['z']:+.2f}"
        )
    path = save(
        "w7_monte_carlo",
        {
            "mines": args.mines,
            "chunk": args.chunk,
            "ages": int(ages.size),
            "load_average_1min": os.getloadavg()[0],
            "best_seconds": best,
            "mines_per_second": rate,
            "traced_peak_bytes": traced_peak,
            "process_peak_rss_bytes": rss_peak,
            "goal_peak_bytes": GIB,
            "closed_form_check": check,
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
