"""Duplicate folding: same item within the distance and window folds into one primary; nothing is lost."""

from __future__ import annotations

import datetime as dt

import numpy as np
from pyproj import Geod

from mineaction.domain.public_reports.folding import fold

GEOD = Geod(ellps="WGS84")
DAY = dt.timedelta(hours=72)
T = np.datetime64("2026-05-01T08:00:00")


def _offset(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, azimuth, metres)
    return x, y


def _h(hours: float) -> np.datetime64:
    return T + np.timedelta64(int(hours * 3600), "s")


def test_near_reports_fold_far_ones_and_late_ones_do_not() -> None:
    base = (35.0, 48.5)
    pts = [base, _offset(*base, 90, 30), _offset(*base, 0, 49), _offset(*base, 180, 51), base]
    lon, lat = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    at = np.array([_h(0), _h(1), _h(2), _h(3), _h(80)])  # the last is the same spot, 80 h later
    assert fold(lon, lat, at, distance_m=50, window=DAY).tolist() == [0, 0, 0, 3, 4]


def test_no_chaining_every_member_lies_within_the_distance_of_its_primary() -> None:
    base = (30.5, 50.4)
    pts = [_offset(*base, 90, 40 * k) for k in range(5)]  # a line of reports 40 m apart
    lon, lat = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    primary = fold(lon, lat, np.array([_h(k) for k in range(5)]), distance_m=50, window=DAY)
    assert primary.tolist() == [0, 0, 2, 2, 4]


def test_input_order_does_not_matter_only_the_time_received() -> None:
    base = (24.0, 49.8)
    far = _offset(*base, 45, 500)
    lon = np.array([base[0], far[0], base[0]])
    lat = np.array([base[1], far[1], base[1]])
    at = np.array([_h(5), _h(0), _h(1)])  # the third row was received first at this spot
    assert fold(lon, lat, at, distance_m=50, window=DAY).tolist() == [2, 1, 2]


def test_unlocated_reports_are_never_folded() -> None:
    lon, lat = np.array([35.0, np.nan, 35.0]), np.array([48.0, np.nan, 48.0])
    assert fold(lon, lat, np.array([_h(0), _h(0), _h(1)]), distance_m=50, window=DAY).tolist() == [0, 1, 0]


def test_many_reports_each_member_near_its_primary_and_earlier() -> None:
    rng = np.random.default_rng(7)
    n = 20_000
    centre_lon, centre_lat = rng.uniform(30, 38, 400), rng.uniform(46, 51, 400)
    pick = rng.integers(0, 400, n)
    lon = centre_lon[pick] + rng.normal(0, 0.0003, n)
    lat = centre_lat[pick] + rng.normal(0, 0.0003, n)
    at = T + rng.integers(0, 30 * 24 * 3600, n).astype("timedelta64[s]")
    primary = fold(lon, lat, at, distance_m=50, window=DAY)
    folded = np.flatnonzero(primary != np.arange(n))
    assert 0 < len(folded) < n
    _, _, metres = GEOD.inv(lon[folded], lat[folded], lon[primary[folded]], lat[primary[folded]])
    assert (np.asarray(metres) <= 50).all()
    assert (at[primary[folded]] <= at[folded]).all()
    assert (at[folded] - at[primary[folded]] <= np.timedelta64(72, "h")).all()
    assert (primary[primary] == primary).all()  # a primary is never itself folded


def test_the_stated_rule_against_a_direct_reading_of_it() -> None:
    """Received order; fold into the nearest earlier primary within 50 m and 72 h; else a primary."""
    rng = np.random.default_rng(3)
    n = 400
    lon, lat = 35 + rng.normal(0, 0.001, n), 48 + rng.normal(0, 0.001, n)
    at = T + rng.integers(0, 10 * 24 * 3600, n).astype("timedelta64[s]")
    expected = np.arange(n)
    for i in np.argsort(at, kind="stable"):
        earlier = [j for j in range(n) if (at[j], j) < (at[i], i) and expected[j] == j
                   and at[i] - at[j] <= np.timedelta64(72, "h")]
        if earlier:
            _, _, d = GEOD.inv(np.full(len(earlier), lon[i]), np.full(len(earlier), lat[i]), lon[earlier], lat[earlier])
            best = int(np.argmin(d))
            if d[best] <= 50:
                expected[i] = earlier[best]
    assert fold(lon, lat, at, distance_m=50, window=DAY).tolist() == expected.tolist()


def test_folding_at_intake_against_the_stored_primaries_agrees_with_the_batch() -> None:
    rng = np.random.default_rng(11)
    n = 150
    lon, lat = 30 + rng.normal(0, 0.0005, n), 50 + rng.normal(0, 0.0005, n)
    at = np.sort(T + rng.integers(0, 8 * 24 * 3600, n).astype("timedelta64[s]"))
    batch = fold(lon, lat, at, distance_m=50, window=DAY)
    primaries: list[int] = []  # what intake reads from storage: the primaries so far
    at_intake = []
    for k in range(n):
        rows = [*primaries, k]
        p = rows[int(fold(lon[rows], lat[rows], at[rows], distance_m=50, window=DAY)[-1])]
        at_intake.append(p)
        if p == k:
            primaries.append(k)
    assert at_intake == batch.tolist()
    assert len(set(at_intake)) < n  # some did fold
