"""Completion forecast: hand calculations, monotonicity in teams, Monte Carlo against closed forms."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mineaction.domain.forecast import (
    DEFAULT_PRODUCTIVITY,
    AreaWork,
    Plan,
    Productivity,
    ReleaseShare,
    forecast,
    what_if,
    working_days_to_date,
)
from mineaction.errors import InvalidValue

START = date(2025, 1, 1)
EXACT = {"manual": Productivity(100), "mechanical": Productivity(1000)}

# A is half suspected and priority land; B all suspected; C confirmed (nothing to cancel)
AREAS = [
    AreaWork("A", {"manual": 30_000}, suspected_fraction=0.5, priority=True),
    AreaWork("B", {"manual": 20_000, "mechanical": 100_000}),
    AreaWork("C", {"mechanical": 50_000}, suspected_fraction=0.0),
]
PLAN = Plan({"manual": 2, "mechanical": 1}, order=["B", "A", "C"])


def _deterministic(**options):
    return forecast(
        AREAS, PLAN, EXACT, ReleaseShare(0.4), start=START, working_days_per_year=200, **options
    )


def test_deterministic_case_is_the_hand_calculation() -> None:
    """Worked in the order B, A, C; 40 % of suspected area is cancelled or reduced.

    Manual (2 teams, 100 m²/team-day):
      B clears 20,000 × 0.6 = 12,000 m² = 120 team-days, done at 60 working days;
      A clears 30,000 × (1 − 0.5 × 0.4) = 24,000 m² = 240 team-days, done at 180.
    Mechanical (1 team, 1,000 m²/team-day):
      B clears 100,000 × 0.6 = 60,000 m² = 60 team-days, done at 60;
      C clears 50,000 m² = 50 team-days, done at 110.
    At 200 working days a year (365 calendar days in 2025), rounded up:
      B 60/200 × 365 = 109.5 -> 110 days -> 21 April 2025;
      A 180/200 × 365 = 328.5 -> 329 days -> 26 November 2025;
      C 110/200 × 365 = 200.75 -> 201 days -> 21 July 2025.
    """
    fc = _deterministic(runs=50)
    expected = {"A": date(2025, 11, 26), "B": date(2025, 4, 21), "C": date(2025, 7, 21)}
    assert fc.completion(0.5) == expected
    assert fc.completion(0.9) == expected
    assert fc.national_completion(0.5) == fc.national_completion(0.9) == date(2025, 11, 26)
    np.testing.assert_array_equal(fc.finish, np.tile([180.0, 60.0, 110.0], (50, 1)))
    assert fc.priority_year_one.tolist() == [30_000.0] * 50


def test_deterministic_burn_down_and_released_by_year() -> None:
    """At 100 working days manual teams have done 200 team-days: all of B
    (20,000 m²), A's cancelled 6,000 m² and 80/240 of its 24,000 m² to clear;
    the mechanical team 100 team-days: all of B (100,000 m²) and 40/50 of C.
    Released 174,000 of 200,000 m², so 26,000 m² remain."""
    fc = _deterministic(runs=3, burn_down_points=201)  # one point per working day of year one
    bd = fc.burn_down
    assert bd.dates[0] == START and bd.dates[-1] == date(2026, 1, 1)
    np.testing.assert_array_equal(bd.p10, bd.p90)
    assert bd.p50[0] == 200_000 and bd.p50[-1] == 0
    assert bd.p50[100] == pytest.approx(26_000, abs=1e-9)
    assert (np.diff(bd.p50) <= 0).all()
    by_year = fc.released_by_year
    assert by_year.categories == ("cancelled/reduced", "cleared: manual", "cleared: mechanical")
    assert by_year.year_starts == (START,)
    np.testing.assert_allclose(by_year.m2, [[54_000, 36_000, 110_000]], atol=1e-9)


def test_priority_order_what_if() -> None:
    """Working A first: A's manual work (240 team-days) ends at 120 working days;
    B's manual work then ends at 180. Completion stays 180 working days, and A
    (priority) is released in year one either way, so the gain is 0; with 100
    working days a year, A released fully in year one only when it goes first."""
    first = Plan(PLAN.teams, order=["A", "B", "C"])
    same = what_if(AREAS, PLAN, first, EXACT, ReleaseShare(0.4), start=START, working_days_per_year=200, runs=1)
    assert same.completion_change_days(0.5) == 0
    assert same.priority_year_one_change_m2() == 0
    short = what_if(AREAS, PLAN, first, EXACT, ReleaseShare(0.4), start=START, working_days_per_year=100, runs=1)
    # B first: by 100 working days manual did 200 team-days: A got 80 of 240 -> 6,000 + 8,000 m²
    assert short.base.priority_year_one.tolist() == [14_000.0]
    # A first: 200 team-days of its 240: 6,000 + 20,000 m²
    assert short.alternative.priority_year_one.tolist() == [26_000.0]
    assert short.priority_year_one_change_m2() == 12_000.0


def test_no_teams_means_never() -> None:
    fc = forecast(
        AREAS, Plan({"manual": 2, "mechanical": 0}, PLAN.order), EXACT, ReleaseShare(0.4),
        start=START, working_days_per_year=200, runs=2,
    )
    assert fc.national_completion() is None
    assert fc.completion()["A"] == date(2025, 11, 26) and fc.completion()["C"] is None
    assert fc.burn_down.dates[-1] == date(2075, 1, 1)
    # the mechanical area of B (cancelled part included) and all of C stay: 100,000 + 50,000 m²
    assert fc.burn_down.p50[-1] == pytest.approx(150_000)


def test_monte_carlo_matches_log_normal_quantiles() -> None:
    """One area, 1,000,000 m² by machine, nothing cancelled, 2 machines at a
    log-normal productivity with median 1,000 and sigma 0.5: completion
    = 500 × 1000/p working days, log-normal with median 500 and P90 500 ×
    exp(1.2816 × 0.5) = 948.2. The standard error of a sample quantile q of
    n = 4000 runs, on the log scale, is sigma sqrt(q (1 − q) / n) / phi(z_q):
    0.0099 at P50, 0.0135 at P90; allow four."""
    fc = forecast(
        [AreaWork("A", {"mechanical": 1_000_000})], Plan({"mechanical": 2}),
        {"mechanical": Productivity(1000, 0.5)}, ReleaseShare(0.0),
        start=START, working_days_per_year=250, runs=4000, seed=5,
    )
    p50, p90 = np.quantile(fc.national, [0.5, 0.9])
    assert math.log(p50 / 500) == pytest.approx(0, abs=4 * 0.0099)
    assert math.log(p90 / 948.2) == pytest.approx(0, abs=4 * 0.0135)
    assert fc.national_completion(0.9) >= fc.national_completion(0.5)


def test_release_share_uncertainty_moves_the_mean_as_expected() -> None:
    """Completion = 1e6 (1 − s) / 1000 team-days with s ~ Beta(mean 0.6, sd 0.1):
    mean 400, sd 100; the standard error of the mean of 2000 runs is 2.24."""
    fc = forecast(
        [AreaWork("A", {"manual": 1_000_000})], Plan({"manual": 1}),
        {"manual": Productivity(1000)}, ReleaseShare(0.6, 0.1),
        start=START, working_days_per_year=250, runs=2000, seed=2,
    )
    assert fc.national.mean() == pytest.approx(400, abs=4 * 2.24)
    assert fc.national.std() == pytest.approx(100, rel=0.1)


area_lists = st.lists(
    st.builds(
        AreaWork,
        name=st.just(""),
        remaining_m2=st.dictionaries(
            st.sampled_from(["manual", "mechanical", "dog"]), st.floats(0, 200_000), min_size=1
        ),
        suspected_fraction=st.floats(0, 1),
        priority=st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(
    areas=area_lists,
    teams=st.fixed_dictionaries({m: st.floats(0.5, 5) for m in ("manual", "mechanical", "dog")}),
    extra=st.fixed_dictionaries({m: st.floats(0, 3) for m in ("manual", "mechanical", "dog")}),
    seed=st.integers(0, 1000),
)
def test_more_teams_never_finish_later(areas, teams, extra, seed) -> None:
    areas = [AreaWork(str(i), a.remaining_m2, a.suspected_fraction, a.priority) for i, a in enumerate(areas)]
    more = {m: teams[m] + extra[m] for m in teams}
    w = what_if(
        areas, Plan(teams), Plan(more), DEFAULT_PRODUCTIVITY, ReleaseShare(0.7, 0.15),
        start=START, runs=40, seed=seed,
    )
    assert (w.alternative.finish <= w.base.finish).all()
    for q in (0.5, 0.9):
        assert w.alternative.national_completion(q) <= w.base.national_completion(q)
        assert w.completion_change_days(q) <= 0
    assert (w.alternative.priority_year_one >= w.base.priority_year_one - 1e-6).all()
    for fc in (w.base, w.alternative):
        assert fc.national_completion(0.9) >= fc.national_completion(0.5)
        p50, p90 = fc.completion(0.5), fc.completion(0.9)
        assert all(p90[name] >= p50[name] for name in fc.areas)
        assert (fc.burn_down.p90 >= fc.burn_down.p50).all() and (fc.burn_down.p50 >= fc.burn_down.p10).all()


def test_productivity_from_sample_and_default() -> None:
    rates = np.exp(np.array([5.0, 5.2, 4.8, 5.1, 4.9, 5.0, 5.3, 4.7, 5.0, 5.0]))
    fitted = Productivity.from_sample(rates, default=DEFAULT_PRODUCTIVITY["manual"])
    assert fitted.median == pytest.approx(math.exp(5.0), rel=1e-12)
    assert fitted.sigma == pytest.approx(np.std(np.log(rates), ddof=1), rel=1e-12)
    fallback = Productivity.from_sample(rates[:9], default=DEFAULT_PRODUCTIVITY["manual"])
    assert fallback.median == DEFAULT_PRODUCTIVITY["manual"].median
    assert "fewer than 10" in fallback.source and "illustrative" in fallback.source


def test_working_days_to_date_leap_years() -> None:
    assert working_days_to_date(date(2024, 2, 29), 220, 220) == date(2025, 2, 28)
    assert working_days_to_date(date(2024, 1, 1), 110, 220) == date(2024, 7, 2)  # 183 of 366 days
    assert working_days_to_date(date(2024, 1, 1), 0, 220) == date(2024, 1, 1)


@pytest.mark.parametrize(
    ("areas", "plan", "message"),
    [
        ([AreaWork("A", {"manual": 1}), AreaWork("A", {"manual": 1})], Plan({"manual": 1}), "unique"),
        ([AreaWork("A", {"dig": 1})], Plan({"dig": 1}), "productivity"),
        ([AreaWork("A", {"manual": 1})], Plan({"mechanical": 1}), "no teams"),
        ([AreaWork("A", {"manual": 1})], Plan({"manual": -1}), "≥ 0"),
        ([AreaWork("A", {"manual": 1})], Plan({"manual": 1}, order=["B"]), "order"),
    ],
)
def test_bad_plans_are_refused(areas, plan, message) -> None:
    with pytest.raises(InvalidValue, match=message):
        forecast(areas, plan, EXACT, ReleaseShare(0.5), start=START)


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(InvalidValue, match="sd"):
        ReleaseShare(0.5, 0.6)
    with pytest.raises(InvalidValue, match="median"):
        Productivity(0)
    with pytest.raises(InvalidValue, match="suspected_fraction"):
        AreaWork("A", {"manual": 1}, suspected_fraction=2)


def test_p50_and_p90_move_less_than_a_month_between_seeds_at_the_defaults() -> None:
    """Decades of work at the default productivities: the dates a plan is built on must not hang on the seed."""
    draw = np.random.default_rng(1)
    areas = [AreaWork(f"R{i}", {"manual": float(draw.uniform(2e5, 3e6)), "mechanical": float(draw.uniform(1e6, 2e7)),
                                "dog": float(draw.uniform(1e5, 2e6))},
                      suspected_fraction=float(draw.uniform(0.3, 0.9)), priority=i % 3 == 0) for i in range(12)]
    plan = Plan({"manual": 20, "mechanical": 6, "dog": 5})
    dates = {q: [] for q in (0.5, 0.9)}
    for seed in (0, 1, 2):
        fc = forecast(areas, plan, DEFAULT_PRODUCTIVITY, ReleaseShare(0.6, 0.15), start=START, seed=seed)
        for q in dates:
            dates[q].append(fc.national_completion(q))
    assert dates[0.9][0] - START > timedelta(days=20 * 365)  # a long horizon, where noise shows most
    for q, found in dates.items():
        assert max(found) - min(found) < timedelta(days=30), (q, found)
