"""Median and P90 response times per admin area, from stored timestamps, against NumPy per group."""

from __future__ import annotations

import numpy as np

from mineaction.domain.public_reports.response_times import group_quantiles, response_times

NaT = np.datetime64("NaT")


def _t(hours: float) -> np.datetime64:
    return np.datetime64("2026-05-01T00:00:00") + np.timedelta64(int(hours * 3600), "s")


def test_hand_worked_areas() -> None:
    area = np.array(["UA12", "UA12", "UA12", "UA63", "UA63"], dtype=object)
    received = np.array([_t(0), _t(10), _t(20), _t(0), _t(5)])
    triaged = np.array([_t(1), _t(12), _t(23), _t(4), NaT])  # one report in UA63 not yet triaged
    tasked = np.array([_t(2), NaT, _t(30), NaT, NaT])
    dealt = np.array([_t(24), NaT, NaT, NaT, NaT])
    rt = response_times(area, received, triaged, tasked, dealt)
    assert rt.areas.tolist() == ["UA12", "UA63"]
    assert rt.n["triaged"].tolist() == [3, 1]  # the open report is left out, not counted as zero
    assert rt.median_h["triaged"].tolist() == [2.0, 4.0]  # hours 1, 2, 3
    assert np.isclose(rt.p90_h["triaged"][0], 2.8)  # linear between 2 and 3 at 0.9 * (3 - 1)
    assert rt.median_h["task_issued"][0] == 6.0  # 2 h and 10 h
    assert rt.n["dealt_with"].tolist() == [1, 0] and np.isnan(rt.median_h["dealt_with"][1])
    rows = rt.rows()
    assert {(r["admin_area"], r["interval"]) for r in rows} == {
        ("UA12", "triaged"), ("UA12", "task_issued"), ("UA12", "dealt_with"), ("UA63", "triaged")}


def test_a_report_outside_every_area_is_counted_apart() -> None:
    rt = response_times(np.array([None, "UA12"], dtype=object), np.array([_t(0), _t(0)]), np.array([_t(3), _t(1)]),
                        np.array([NaT, NaT]), np.array([NaT, NaT]))
    assert rt.areas.tolist() == ["", "UA12"] and rt.median_h["triaged"].tolist() == [3.0, 1.0]


def test_group_quantiles_match_numpy_on_random_groups() -> None:
    rng = np.random.default_rng(19)
    groups = rng.integers(0, 40, 20_000)
    values = rng.exponential(5.0, 20_000)
    values[rng.random(20_000) < 0.1] = np.nan
    counts, q = group_quantiles(groups, values, (0.5, 0.9), 41)  # group 40 has no values
    for g in range(40):
        v = values[(groups == g) & ~np.isnan(values)]
        assert counts[g] == len(v)
        assert np.allclose(q[:, g], np.quantile(v, [0.5, 0.9]))
    assert counts[40] == 0 and np.isnan(q[:, 40]).all()
