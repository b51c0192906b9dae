"""W6: residual hazard at register scale: f(t), e(t), P(≥1 functional), 100,000 hazards × 365 dates.

Workload (generated at run time, fixed seed):

* 100,000 hazards, emplacement dates uniform over 3,000 days from 2015-01-01;
  each has its own negative-binomial count model (mean μ ~ Gamma(2, 50), shape
  k ~ U(0.2, 3));
* 365 daily dates in 2024;
* one reliability profile, the shipped illustrative ``degraded-field-example-a``
  (log-normal self-destruct times, Weibull self-deactivation times);
* outputs: f, e and P(≥1 functional) as three 100,000 × 365 float64 arrays
  (36.5 M cells each), via ``assess_hazard_grid`` (point figures, no bands).

Anchor: one ``np.exp`` over a 100,000 × 365 float64 array, timed in the same
run. Goal: ≤ 4 × the anchor, single-threaded. Also reported: the Poisson count
model and 2 worker threads.

Loop baselines (measured on a 200-hazard subsample and extrapolated linearly
to 100,000 hazards):

* *scalar loop*: the straightforward per-hazard Python loop, one hazard and
  one date at a time with the ``math`` module. Goal: ≥ 50 × slower than ours.
* *row loop*: a per-hazard Python loop that calls the library's vectorised
  functions on each hazard's 365 dates (shown for honesty: it is much faster
  than the scalar loop).

Times are the best of ``--repeat`` interleaved runs (anchor and workload
alternate, so a busy machine slows both). Run one benchmark at a time.

Run: ``.venv/bin/python benchmarks/bench_w6_residual_hazard.py [--hazards N] [--dates N]``
Writes benchmarks/results/w6_residual_hazard.json.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from common import save

from mineaction.domain.residual_hazard import (
    ReliabilityProfile,
    assess_hazard_grid,
    prob_any_functional,
    shipped_profiles,
    survival_fractions,
)

SUBSAMPLE = 200


def scalar_loop(
    profile: ReliabilityProfile, emplaced, on, mean, shape
) -> list[list[tuple[float, float, float]]]:
    """The straightforward version: every hazard, every date, ``math`` functions."""
    r_sd, r_sda = profile.r_sd, profile.r_sda
    median, sigma = profile.sd_time.median_days, profile.sd_time.sigma
    k_w, scale_w = profile.sda_time.shape, profile.sda_time.scale_days
    rows = []
    for h in range(len(emplaced)):
        row = []
        for d in range(len(on)):
            age = float(on[d] - emplaced[h])
            if age < 0:
                row.append((math.nan, math.nan, math.nan))
                continue
            f_sd = (
                0.0
                if age == 0
                else 0.5 * math.erfc(-math.log(age / median) / (sigma * math.sqrt(2.0)))
            )
            f_sda = 1.0 - math.exp(-((age / scale_w) ** k_w))
            e = 1.0 - r_sd * f_sd
            f = e * (1.0 - r_sda * f_sda)
            p = 1.0 - (1.0 + mean[h] * f / shape[h]) ** (-shape[h])
            row.append((f, e, p))
        rows.append(row)
    return rows


def row_loop(profile: ReliabilityProfile, emplaced, on, mean, shape) -> list[tuple]:
    """A per-hazard loop over the library's vectorised functions."""
    out = []
    for h in range(len(emplaced)):
        ages = (on - emplaced[h]).astype(float)
        f, e = survival_fractions(ages, profile)
        out.append((f, e, prob_any_functional(f, mean[h], shape[h])))
    return out


def interleaved(tasks: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best time of each task over ``repeat`` rounds, the tasks alternating within a round."""
    best = dict.fromkeys(tasks, math.inf)
    for _ in range(repeat):
        for name, task in tasks.items():
            start = time.perf_counter()
            result = task()
            best[name] = min(best[name], time.perf_counter() - start)
            del result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--dates", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n, m = args.hazards, args.dates

    rng = np.random.default_rng(6)
    emplaced = np.datetime64("2015-01-01") + rng.integers(0, 3000, n).astype("timedelta64[D]")
    on = np.datetime64("2024-01-01") + np.arange(m).astype("timedelta64[D]")
    mean = rng.gamma(2.0, 50.0, n)
    shape = rng.uniform(0.2, 3.0, n)
    profile = shipped_profiles()["degraded-field-example-a"]
    anchor_input = rng.uniform(0.0, 1.0, (n, m))

    times = interleaved(
        {
            "anchor_np_exp": lambda: np.exp(anchor_input),
            "grid_nb_1_thread": lambda: assess_hazard_grid(emplaced, on, profile, mean, shape),
            "grid_poisson_1_thread": lambda: assess_hazard_grid(emplaced, on, profile, mean),
            "grid_nb_2_threads": lambda: assess_hazard_grid(
                emplaced, on, profile, mean, shape, workers=2
            ),
        },
        args.repeat,
    )
    anchor = times["anchor_np_exp"]

    # Loops on a subsample, extrapolated linearly (their cost is per hazard).
    sub = slice(0, min(SUBSAMPLE, n))
    e_days, o_days = emplaced.astype(np.int64), on.astype(np.int64)
    loops = interleaved(
        {
            "scalar_loop": lambda: scalar_loop(profile, e_days[sub], o_days, mean[sub], shape[sub]),
            "row_loop": lambda: row_loop(profile, e_days[sub], o_days, mean[sub], shape[sub]),
        },
        max(1, args.repeat // 2),
    )
    scale = n / min(SUBSAMPLE, n)
    extrapolated = {name: t * scale for name, t in loops.items()}

    # The grid must give the loop's numbers.
    grid = assess_hazard_grid(emplaced[sub], on, profile, mean[sub], shape[sub])
    reference = np.array(scalar_loop(profile, e_days[sub], o_days, mean[sub], shape[sub]))
    max_diff = float(
        np.nanmax(
            np.abs(
                np.stack([grid.functional, grid.explosive, grid.p_any_functional], -1) - reference
            )
        )
    )

    ours = times["grid_nb_1_thread"]
    rows = [
        ("anchor: np.exp over n×m", anchor, 1.0),
        ("grid, negative binomial, 1 thread", ours, ours / anchor),
        (
            "grid, Poisson, 1 thread",
            times["grid_poisson_1_thread"],
            times["grid_poisson_1_thread"] / anchor,
        ),
        (
            "grid, negative binomial, 2 threads",
            times["grid_nb_2_threads"],
            times["grid_nb_2_threads"] / anchor,
        ),
        (
            f"scalar Python loop (extrapolated from {SUBSAMPLE})",
            extrapolated["scalar_loop"],
            extrapolated["scalar_loop"] / anchor,
        ),
        (
            f"per-hazard loop of vectorised calls (extrapolated from {SUBSAMPLE})",
            extrapolated["row_loop"],
            extrapolated["row_loop"] / anchor,
        ),
    ]
    print(
        f"W6 residual hazard: {n:,} hazards × {m} dates = {n * m / 1e6:.1f} M cells, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{'':70s} {'seconds':>9s} {'× anchor':>9s}")
    for label, seconds, ratio in rows:
        print(f"{label:70s} {seconds:9.3f} {ratio:9.2f}")
    speedup_scalar = extrapolated["scalar_loop"] / ours
    speedup_row = extrapolated["row_loop"] / ours
    print(
        f"goal ≤ 4× anchor: {ours / anchor:.2f}× ({'met' if ours / anchor <= 4 else 'NOT met'}); "
        f"speed-up over the scalar loop {speedup_scalar:.0f}× "
        f"({'met' if speedup_scalar >= 50 else 'NOT met'}, goal ≥ 50×); "
        f"over the row loop {speedup_row:.1f}×; max |grid − loop| = {max_diff:.1e}"
    )

    path = save(
        "w6_residual_hazard",
        {
            "hazards": n,
            "dates": m,
            "repeat": args.repeat,
            "load_average_1min": os.getloadavg()[0],
            "seconds": times,
            "loop_subsample": min(SUBSAMPLE, n),
            "loop_seconds_subsample": loops,
            "loop_seconds_extrapolated": extrapolated,
            "ratio_to_anchor": {name: t / anchor for name, t in times.items()},
            "goal_ratio_to_anchor": 4.0,
            "speedup_over_scalar_loop": speedup_scalar,
            "speedup_over_row_loop": speedup_row,
            "goal_speedup_over_loop": 50.0,
            "max_abs_difference_grid_vs_loop": max_diff,
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()
