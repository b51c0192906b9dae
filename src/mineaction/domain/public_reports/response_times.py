"""Median and 90th-percentile response times per admin area, from stored timestamps.

Each report contributes one duration per interval (received → triaged,
received → task issued, received → dealt with) once the later step has
happened; open reports are left out of that interval, not counted as zero.
One sort and index arithmetic compute every group's quantiles at once (the
same linear interpolation as :func:`numpy.quantile`), so a dashboard over
100,000 reports is a NumPy call, not a Python loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["INTERVALS", "ResponseTimes", "group_quantiles", "response_times"]

#: interval name -> the later timestamp (all measured from received)
INTERVALS = ("triaged", "task_issued", "dealt_with")


@dataclass(frozen=True)
class ResponseTimes:
    """Per admin area and interval: how many reports, median and P90 in hours."""

    areas: np.ndarray  # admin area codes, sorted
    n: dict[str, np.ndarray]
    median_h: dict[str, np.ndarray]
    p90_h: dict[str, np.ndarray]

    def rows(self) -> list[dict[str, object]]:
        """One row per area and interval with at least one report (for a table or JSON)."""
        out: list[dict[str, object]] = []
        for i, area in enumerate(self.areas):
            for name in INTERVALS:
                if self.n[name][i]:
                    out.append({"admin_area": str(area), "interval": name, "reports": int(self.n[name][i]),
                                "median_h": float(self.median_h[name][i]), "p90_h": float(self.p90_h[name][i])})
        return out


def group_quantiles(
    groups: np.ndarray, values: np.ndarray, qs: tuple[float, ...], n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles ``qs`` of ``values`` within each group 0..n_groups-1, ignoring NaN.

    Returns the count of values per group and an array (len(qs), n_groups),
    NaN where a group has none.

    >>> n, q = group_quantiles(np.array([0, 0, 0, 1]), np.array([3.0, 1.0, 2.0, np.nan]), (0.5,), 2)
    >>> n.tolist(), q.tolist()
    ([3, 0], [[2.0, nan]])
    """
    valid = ~np.isnan(values)
    g, v = groups[valid], values[valid]
    order = np.lexsort((v, g))
    g, v = g[order], v[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = np.full((len(qs), n_groups), np.nan)
    has = counts > 0
    for k, q in enumerate(qs):
        pos = starts[has] + q * (counts[has] - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, starts[has] + counts[has] - 1)
        out[k, has] = v[lo] + (pos - lo) * (v[hi] - v[lo])
    return counts, out


def response_times(
    admin_area: np.ndarray, received: np.ndarray, triaged: np.ndarray, task_issued: np.ndarray, dealt_with: np.ndarray
) -> ResponseTimes:
    """Median and P90 hours from received to each later step, per admin area.

    Timestamps are ``datetime64`` arrays (NaT where a step has not happened),
    one element per report, as a column read from storage gives them. A
    report outside every admin area (None) is counted under ``""``.
    """
    codes = np.array(admin_area, dtype=object)
    codes[codes == None] = ""  # noqa: E711 - elementwise on an object array
    areas, group = np.unique(codes.astype(str), return_inverse=True)
    start = np.asarray(received, dtype="datetime64[s]")
    n, median, p90 = {}, {}, {}
    for name, later in zip(INTERVALS, (triaged, task_issued, dealt_with)):
        hours = (np.asarray(later, dtype="datetime64[s]") - start).astype("timedelta64[s]").astype(float) / 3600
        hours[np.isnat(np.asarray(later, dtype="datetime64[s]")) | np.isnat(start)] = np.nan
        counts, q = group_quantiles(group, hours, (0.5, 0.9), len(areas))
        n[name], median[name], p90[name] = counts, q[0], q[1]
    return ResponseTimes(areas, n, median, p90)
