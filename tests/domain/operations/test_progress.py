"""Task progress: hand-computed figures, the forecast model's own answer, alerts, and group-by at scale."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mineaction.domain.forecast import AreaWork, Plan, Productivity, ReleaseShare, forecast
from mineaction.domain.operations.progress import ProgressReports, TaskFrame, task_status
from mineaction.domain.operations.tasks import TaskOrder
from mineaction.errors import InvalidValue

START = dt.date(2026, 3, 1)
DEADLINE = dt.date(2026, 3, 31)


def frame(n: int = 1, *, state: str = "in_progress", area: float = 10_000, teams: float = 2,
          start: dt.date = START, deadline: dt.date = DEADLINE) -> TaskFrame:
    return TaskFrame([f"T-{i}" for i in range(n)], [state] * n, [area] * n, [teams] * n, [start] * n,
                     [deadline] * n, [250.0] * n, [0.5] * n)


def daily(days: list[dt.date], cleared: list[float], team_days: float = 2.0, task: int = 0) -> ProgressReports:
    n = len(days)
    return ProgressReports([task] * n, days, "manual", 0, cleared, 0, 0, 0, [team_days] * n, 0, "")


TWELVE_DAYS = [START + dt.timedelta(days=i) for i in range(12)]


def test_steady_task_figures_by_hand() -> None:
    # 12 daily reports of 200 m² in 2 team-days: 100 m² per team-day, 200 m² per calendar day
    s = task_status(frame(), daily(TWELVE_DAYS, [200.0] * 12), dt.date(2026, 3, 12))
    assert s.done_m2[0] == 2_400
    assert s.percent_done[0] == pytest.approx(24.0)
    assert s.m2_per_day[0] == pytest.approx(200.0)
    assert s.m2_per_team_day[0] == pytest.approx(100.0)
    assert s.sigma[0] == pytest.approx(0.0)
    # 7,600 m² left at 200 m² a day (2 teams x 100, every day: pace 365 working days a year) = 38 days
    assert s.row(0)["finish_p50"] == dt.date(2026, 4, 19)
    assert s.row(0)["finish_p90"] == dt.date(2026, 4, 19)
    assert s.row(0)["days_late"] == 19
    assert not s.stalled[0] and not s.overdue[0]


def test_forecast_equals_the_forecast_model_for_one_area() -> None:
    s = task_status(frame(), daily(TWELVE_DAYS, [200.0] * 12), dt.date(2026, 3, 12))
    fc = forecast([AreaWork("T-0", {"manual": 7_600})], Plan({"manual": 2}), {"manual": Productivity(100)},
                  ReleaseShare(0), start=dt.date(2026, 3, 12), working_days_per_year=365, runs=1)
    assert fc.national_completion(0.5) == s.row(0)["finish_p50"]


def test_uncertain_burn_rate_p90_matches_the_monte_carlo_forecast() -> None:
    # alternating 50 and 200 m² per team-day: pooled rate 3,000 m² / 24 team-days = 125;
    # log rates ±ln 2 about ln 100: sd = ln 2 · sqrt(12/11), standard error sd / sqrt(12)
    s = task_status(frame(), daily(TWELVE_DAYS, [100.0, 400.0] * 6), dt.date(2026, 3, 12))
    assert s.m2_per_team_day[0] == pytest.approx(125.0)
    sigma = np.log(2) * np.sqrt(12 / 11) / np.sqrt(12)
    assert s.sigma[0] == pytest.approx(sigma)
    fc = forecast([AreaWork("T-0", {"manual": 7_000})], Plan({"manual": 2}), {"manual": Productivity(125, sigma)},
                  ReleaseShare(0), start=dt.date(2026, 3, 12), working_days_per_year=365, runs=20_000, seed=3)
    # 20,000 runs pin the 50 % and 90 % quantiles of the finish to well within a day of the closed form
    for q, name in ((0.5, "finish_p50"), (0.9, "finish_p90")):
        assert abs((fc.national_completion(q) - s.row(0)[name]).days) <= 1
    assert s.row(0)["finish_p90"] > s.row(0)["finish_p50"]


def test_stoppages_slow_the_pace_and_the_forecast() -> None:
    # the same 12 reports, every other day: 24 team-days over 24 calendar days for 2 teams = 182.5 working
    # days a year, so the 38 working days left take 76 calendar days
    days = [START + dt.timedelta(days=2 * i) for i in range(12)]
    s = task_status(frame(), daily(days, [200.0] * 12), dt.date(2026, 3, 24))
    assert s.m2_per_day[0] == pytest.approx(100.0)
    assert s.row(0)["finish_p50"] == dt.date(2026, 3, 24) + dt.timedelta(days=76)


def test_few_reports_keep_the_fallback_spread_and_no_output_the_fallback_rate() -> None:
    s = task_status(frame(2), ProgressReports([0, 0, 1], ["2026-03-02", "2026-03-03", "2026-03-02"], "manual",
                                              [0, 0, 500], [300, 300, 0], 0, 0, 0, 2, 0, ""), dt.date(2026, 3, 4))
    assert s.m2_per_team_day[0] == pytest.approx(150.0) and s.sigma[0] == 0.5 and s.own_rate[0]
    assert np.isnan(s.m2_per_team_day[1]) or s.m2_per_team_day[1] == 0
    assert not s.own_rate[1] and s.sigma[1] == 0.5
    # 10,000 m² at the fallback 250 m² per team-day x 2 teams, 220 working days a year: 20 working days
    assert s.row(1)["finish_p50"] == dt.date(2026, 3, 4) + dt.timedelta(days=int(np.ceil(20 / 220 * 365 - 1e-6)))


def test_stalled_after_n_quiet_days_configurable() -> None:
    reports = ProgressReports([0, 0], ["2026-03-05", "2026-03-20"], "manual", 0, [500, 0], 0, 0, 0, [2, 0],
                              [0, 5], ["", "weather"])
    as_of = dt.date(2026, 3, 25)  # 20 days after the last progress; the stoppage report is no progress
    s = task_status(frame(), reports, as_of)
    assert s.stalled[0]
    assert s.alerts() == [("T-0", "stalled", "no progress since 2026-03-05")]
    assert s.stoppage_days[0] == 5
    assert not task_status(frame(), reports, as_of, stalled_after_days=30).stalled[0]


def test_a_task_with_no_reports_stalls_from_its_start() -> None:
    empty = ProgressReports(np.array([], dtype=int), [], "manual", 0, 0, 0, 0, 0, 0, 0, "")
    assert not task_status(frame(), empty, START + dt.timedelta(days=3)).stalled[0]
    late = task_status(frame(), empty, START + dt.timedelta(days=20))
    assert late.stalled[0] and late.alerts()[0] == ("T-0", "stalled", "no progress yet")


def test_overdue_only_for_open_tasks_past_their_deadline() -> None:
    states = ["draft", "issued", "accepted", "in_progress", "suspended", "completed", "cancelled"]
    tasks = TaskFrame([f"T-{i}" for i in range(7)], states, [10_000] * 7, [1] * 7, [START] * 7, [DEADLINE] * 7,
                      [250] * 7, [0.5] * 7)
    empty = ProgressReports(np.array([], dtype=int), [], "manual", 0, 0, 0, 0, 0, 0, 0, "")
    s = task_status(tasks, empty, dt.date(2026, 4, 10))
    assert s.overdue.tolist() == [False, True, True, True, True, False, False]
    assert ("T-1", "overdue", "10 days past its deadline 2026-03-31") in s.alerts()
    assert not task_status(tasks, empty, DEADLINE).overdue.any()


def test_finished_task_uses_its_last_report_and_caps_done_at_the_area() -> None:
    reports = daily([dt.date(2026, 3, 10), dt.date(2026, 4, 4)], [6_000, 5_000])
    s = task_status(frame(state="completed"), reports, dt.date(2026, 4, 30))
    assert s.done_m2[0] == 10_000 and s.percent_done[0] == 100.0
    assert s.row(0)["finish_p50"] == dt.date(2026, 4, 4) and s.row(0)["days_late"] == 4


def test_reports_after_as_of_are_ignored() -> None:
    s = task_status(frame(), daily([dt.date(2026, 3, 2), dt.date(2026, 3, 9)], [1_000, 3_000]), dt.date(2026, 3, 5))
    assert s.done_m2[0] == 1_000


def test_tasks_not_measured_in_area_have_no_percent_or_forecast() -> None:
    eod = TaskOrder("T-9", "eod_spot", "org-1", (), START, DEADLINE)
    tasks = TaskFrame.from_orders([eod], ["in_progress"], [START])
    reports = ProgressReports([0], ["2026-03-02"], "manual", 0, 0, 0, 0, [3], [1], 0, "")
    row = task_status(tasks, reports, dt.date(2026, 3, 3)).row(0)
    assert row["percent_done"] is None and row["finish_p50"] is None and row["days_late"] is None
    assert row["items_found"] == 3 and row["last_progress"] == dt.date(2026, 3, 2)


def test_group_by_agrees_with_pandas_on_random_reports() -> None:
    rng = np.random.default_rng(7)
    n_tasks, n_rows = 300, 20_000
    task = rng.integers(0, n_tasks, n_rows)
    day = np.datetime64("2026-01-01") + rng.integers(0, 150, n_rows)
    cleared, reduced = rng.uniform(0, 400, n_rows) * (rng.random(n_rows) < 0.8), rng.uniform(0, 50, n_rows)
    team_days = rng.uniform(0, 3, n_rows)
    method = rng.choice(["manual", "mechanical", "mdd"], n_rows)
    reports = ProgressReports(task, day, method, 0, cleared, reduced, 0, 0, team_days, 0, "")
    tasks = frame(n_tasks, area=1e9, start=dt.date(2026, 1, 1), deadline=dt.date(2026, 12, 31))
    s = task_status(tasks, reports, dt.date(2026, 6, 1))
    df = pd.DataFrame({"task": task, "day": day, "released": cleared + reduced, "team_days": team_days,
                       "method": method})
    expected = df.groupby("task").agg(done=("released", "sum"), team_days=("team_days", "sum"), last=("day", "max"))
    assert np.allclose(s.done_m2[expected.index], expected["done"])
    assert np.allclose(s.team_days[expected.index], expected["team_days"])
    assert (s.last_progress[expected.index] == expected["last"].to_numpy().astype("datetime64[D]")).all()
    by_method = reports.released_by_method(n_tasks)
    per_method = df.groupby(["method", "task"])["released"].sum()
    assert np.isclose(by_method["mdd"][5], per_method.get(("mdd", 5), 0.0))
    assert np.allclose(sum(by_method.values()), s.done_m2)


def test_stoppages_by_reason() -> None:
    reports = ProgressReports([0, 0, 1], ["2026-03-02"] * 3, "manual", 0, 0, 0, 0, 0, 0, [2, 1, 4],
                              ["weather", "breakdown", "weather"])
    table = reports.stoppages_by_reason(2)
    assert table["weather"].tolist() == [2, 4] and table["breakdown"].tolist() == [1, 0]


def test_bad_reports_are_refused_with_the_row() -> None:
    with pytest.raises(InvalidValue, match="row 1: cleared_m2 must be a number ≥ 0"):
        daily([START, START], [10, -5])
    with pytest.raises(InvalidValue, match="not a stoppage_reason code"):
        ProgressReports([0], [START], "manual", 0, 0, 0, 0, 0, 0, [1], "")
    with pytest.raises(InvalidValue, match="outside the task list"):
        task_status(frame(), daily([START], [10], task=3), START)


def test_a_forecast_beyond_a_century_is_none_and_infinitely_late() -> None:
    # 1 m² a team-day over 1 km² with one team: about 4,500 years at 220 working days a year
    s = task_status(frame(area=1e6, teams=1), daily(TWELVE_DAYS, [1.0] * 12, team_days=1.0), dt.date(2026, 3, 12))
    assert s.row(0)["finish_p50"] is None and s.days_late[0] == np.inf


def test_a_task_not_begun_is_forecast_from_its_planned_start() -> None:
    # 10,000 m² at the task order's 500 m² per team-day with 2 teams = 10 working days at 220 a year,
    # counted from the planned start 1 April, not from as_of
    order = TaskOrder("T-5", "clearance", "org-1", ("HAZ-1",), dt.date(2026, 4, 1), dt.date(2026, 4, 30), teams=2,
                      area_m2=10_000, expected_m2_per_team_day=500)
    tasks = TaskFrame.from_orders([order], ["accepted"], [None])
    empty = ProgressReports(np.array([], dtype=int), [], "manual", 0, 0, 0, 0, 0, 0, 0, "")
    row = task_status(tasks, empty, dt.date(2026, 3, 10)).row(0)
    assert row["finish_p50"] == dt.date(2026, 4, 1) + dt.timedelta(days=int(np.ceil(10 / 220 * 365 - 1e-6)))
    assert row["finish_p90"] > row["finish_p50"]  # the fallback's sigma 0.5 widens it
    assert row["m2_per_day"] is None and not row["stalled"] and not row["overdue"]
