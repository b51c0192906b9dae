"""Progress against tasks: % done, burn rate, forecast finish, lateness and alerts, for all tasks at once.

Progress reports (daily or weekly, one row per task, day and method) give
m² searched, cleared, reduced and cancelled, items found, team-days worked
and stoppage days with their reason. Per task:

* **done** = cleared + reduced + cancelled m² (the land the reports say is
  released; m² only *searched*, e.g. a machine pass, is "area worked", shown
  apart and not counted as done), capped at the task's area; **% done** =
  done / task area (NaN for tasks not measured in area);
* **burn rate** = done m² per calendar day since work started (the day the
  task went in progress, inclusive, to ``as_of``) and per team-day worked;
* **forecast finish** = the completion forecast of :mod:`mineaction.domain.forecast`
  for one area worked by the task's teams: working days = remaining m² /
  (teams × productivity), productivity log-normal, converted to a date by
  :func:`~mineaction.domain.forecast.working_days_to_date` from ``as_of``
  (from the planned start for a task not begun). With one area,
  one method and nothing to cancel, that model's finish falls as productivity
  rises, so its quantiles are closed-form: P50 uses the productivity median,
  P90 its 10 % quantile (tests check both against ``forecast()``). The
  median is the task's own burn rate per team-day (total done / total
  team-days); sigma is the standard error of the mean log rate over its
  reports with work and output, since day-to-day variation averages out over
  the remaining work, as it does in ``forecast()``. Below ``min_reports``
  such reports sigma is the fallback's (the task order's expected
  productivity, or the programme default) and with no output yet the median is
  too. The pace in working days per year is the task's own (team-days /
  teams per calendar day) once it has ``min_reports`` reports, so stoppages
  slow the forecast; before that the programme's ``working_days_per_year``;
* **days late** = P50 finish - deadline (negative: early; a finished task
  uses its last report's date; NaN without a forecast, infinite when the
  forecast lies beyond :data:`MAX_FORECAST_YEARS`);
* **alerts**: *stalled* = in progress with no progress (m² or items) for
  more than ``stalled_after_days``, counted from the later of the last
  progress and the start; *overdue* = still open (issued, accepted, in
  progress, suspended) after its deadline.

Everything is NumPy group-by (``bincount``, ``ufunc.at``); only the
date conversion of open tasks' forecasts loops in Python.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.domain.forecast import (
    DEFAULT_MIN_SAMPLE,
    DEFAULT_PRODUCTIVITY,
    Productivity,
    working_days_to_date,
)
from mineaction.domain.operations.tasks import AREA_ACTIVITIES, OPEN_STATES, TaskOrder
from mineaction.domain.operations.vocabularies import VOCABULARIES, check_code
from mineaction.errors import InvalidValue

__all__ = [
    "DEFAULT_STALLED_AFTER_DAYS",
    "MAX_FORECAST_YEARS",
    "ProgressReports",
    "TaskFrame",
    "TaskStatus",
    "task_status",
]

DEFAULT_STALLED_AFTER_DAYS = 14
"""A task in progress with no progress for more than this many days is stalled (configurable)."""

MAX_FORECAST_YEARS = 100
"""A finish further away than this is shown as none (NaT) and counts as infinitely late."""

_FINISHED = frozenset({"completed", "verified", "closed"})
_NAT = np.datetime64("NaT", "D")


def _days(values: ArrayLike, name: str) -> NDArray[np.datetime64]:
    out = np.asarray(values, dtype="datetime64[D]")
    if out.ndim != 1:
        raise InvalidValue(f"{name}: one date per row")
    return out


def _amounts(values: ArrayLike, name: str, n: int) -> NDArray[np.float64]:
    out = np.broadcast_to(np.asarray(values, dtype=float), (n,))
    if not np.isfinite(out).all() or (out < 0).any():
        row = int(np.flatnonzero(~(np.isfinite(out) & (out >= 0)))[0])
        raise InvalidValue(f"progress report row {row}: {name} must be a number ≥ 0, not {out[row]}")
    return np.ascontiguousarray(out)


@dataclass(frozen=True, eq=False)
class TaskFrame:
    """The tasks, one entry per task in every array (column store for speed).

    ``start`` is the day work started (the change to in progress), or the
    planned start for tasks not started; ``fallback`` is the productivity
    used until a task has reports of its own (median, sigma per task).
    """

    ids: Sequence[str]
    state: NDArray[np.str_]
    area_m2: NDArray[np.float64]
    teams: NDArray[np.float64]
    start: NDArray[np.datetime64]
    deadline: NDArray[np.datetime64]
    fallback_median: NDArray[np.float64]
    fallback_sigma: NDArray[np.float64]

    def __post_init__(self) -> None:
        n = len(self.ids)
        object.__setattr__(self, "state", np.asarray(self.state, dtype=str))
        for name in ("area_m2", "teams", "fallback_median", "fallback_sigma"):
            object.__setattr__(self, name, _amounts(getattr(self, name), f"task {name}", n))
        for name in ("start", "deadline"):
            object.__setattr__(self, name, _days(getattr(self, name), f"task {name}"))
        if any(len(getattr(self, a)) != n for a in ("state", "start", "deadline")):
            raise InvalidValue("task columns differ in length")
        unknown = set(np.unique(self.state)) - set(VOCABULARIES["task_state"])
        if unknown:
            check_code("task_state", min(unknown), where="task state")
        if (self.teams <= 0).any() or (self.fallback_median <= 0).any():
            raise InvalidValue("every task needs teams > 0 and a fallback productivity > 0 m² per team-day")

    @classmethod
    def from_orders(
        cls,
        orders: Sequence[TaskOrder],
        states: Sequence[str],
        started: Sequence[dt.date | None],
        *,
        default: Productivity = DEFAULT_PRODUCTIVITY["manual"],
    ) -> TaskFrame:
        """From task orders, their current states and the day each started (None: not yet).

        Tasks not measured in area get area 0, so no % done or forecast.
        """
        medians = [o.expected_m2_per_team_day or default.median for o in orders]
        return cls(
            ids=[o.reference for o in orders],
            state=np.asarray(states, dtype=str),
            area_m2=np.array([o.area_m2 if o.activity in AREA_ACTIVITIES else 0.0 for o in orders]),
            teams=np.array([o.teams for o in orders]),
            start=np.array([s or o.planned_start for o, s in zip(orders, started, strict=True)], dtype="datetime64[D]"),
            deadline=np.array([o.deadline for o in orders], dtype="datetime64[D]"),
            fallback_median=np.array(medians, dtype=float),
            fallback_sigma=np.full(len(orders), default.sigma),
        )


@dataclass(frozen=True, eq=False)
class ProgressReports:
    """Progress report rows: ``task`` is the row's task position in the :class:`TaskFrame`."""

    task: NDArray[np.intp]
    on: NDArray[np.datetime64]
    method: NDArray[np.str_]
    searched_m2: NDArray[np.float64]
    cleared_m2: NDArray[np.float64]
    reduced_m2: NDArray[np.float64]
    cancelled_m2: NDArray[np.float64]
    items_found: NDArray[np.float64]
    team_days: NDArray[np.float64]
    stoppage_days: NDArray[np.float64]
    stoppage_reason: NDArray[np.str_]

    def __post_init__(self) -> None:
        task = np.asarray(self.task)
        n = len(task)
        if task.ndim != 1 or (n and not np.issubdtype(task.dtype, np.integer)):
            raise InvalidValue("progress reports: task must be one task position per row")
        object.__setattr__(self, "task", task.astype(np.intp))
        object.__setattr__(self, "on", _days(self.on, "report date"))
        for name in ("method", "stoppage_reason"):
            object.__setattr__(self, name, np.broadcast_to(np.asarray(getattr(self, name), dtype=str), (n,)))
        for name in ("searched_m2", "cleared_m2", "reduced_m2", "cancelled_m2", "items_found", "team_days",
                     "stoppage_days"):
            object.__setattr__(self, name, _amounts(getattr(self, name), name, n))
        if len(self.on) != n or np.isnat(self.on).any():
            raise InvalidValue("progress reports: every row needs its date")
        stopped = self.stoppage_days > 0
        for reason in np.unique(self.stoppage_reason[stopped]):
            check_code("stoppage_reason", str(reason), where="progress report")

    def __len__(self) -> int:
        return len(self.task)

    @property
    def released_m2(self) -> NDArray[np.float64]:
        """m² released by each row: cleared + reduced + cancelled."""
        return self.cleared_m2 + self.reduced_m2 + self.cancelled_m2

    def released_by_method(self, n_tasks: int) -> dict[str, NDArray[np.float64]]:
        """m² released per task (array of ``n_tasks``) for each method reported."""
        methods, code = np.unique(self.method, return_inverse=True)
        table = _sum(code * n_tasks + self.task, self.released_m2, len(methods) * n_tasks)
        return {str(m): table[k * n_tasks:(k + 1) * n_tasks] for k, m in enumerate(methods)}

    def stoppages_by_reason(self, n_tasks: int) -> dict[str, NDArray[np.float64]]:
        """Stoppage days per task for each reason given."""
        stopped = self.stoppage_days > 0
        reasons, code = np.unique(self.stoppage_reason[stopped], return_inverse=True)
        table = _sum(code * n_tasks + self.task[stopped], self.stoppage_days[stopped], len(reasons) * n_tasks)
        return {str(r): table[k * n_tasks:(k + 1) * n_tasks] for k, r in enumerate(reasons)}


@dataclass(frozen=True, eq=False)
class TaskStatus:
    """Per-task figures, one entry per task in every array (NaN/NaT: not applicable)."""

    ids: Sequence[str]
    as_of: dt.date
    deadline: NDArray[np.datetime64]
    done_m2: NDArray[np.float64]
    searched_m2: NDArray[np.float64]
    items_found: NDArray[np.float64]
    team_days: NDArray[np.float64]
    stoppage_days: NDArray[np.float64]
    percent_done: NDArray[np.float64]
    m2_per_day: NDArray[np.float64]
    m2_per_team_day: NDArray[np.float64]
    sigma: NDArray[np.float64]
    own_rate: NDArray[np.bool_]
    last_progress: NDArray[np.datetime64]
    finish_p50: NDArray[np.datetime64]
    finish_p90: NDArray[np.datetime64]
    days_late: NDArray[np.float64]
    stalled: NDArray[np.bool_]
    overdue: NDArray[np.bool_]

    def alerts(self) -> list[tuple[str, str, str]]:
        """(task id, ``stalled`` or ``overdue``, what) for every alert, stalled first."""
        today = np.datetime64(self.as_of, "D")
        out = []
        for i in np.flatnonzero(self.stalled):
            since = self.last_progress[i]
            what = "no progress yet" if np.isnat(since) else f"no progress since {since}"
            out.append((self.ids[int(i)], "stalled", what))
        for i in np.flatnonzero(self.overdue):
            late = int((today - self.deadline[i]).astype(np.int64))
            out.append((self.ids[int(i)], "overdue", f"{late} days past its deadline {self.deadline[i]}"))
        return out

    def row(self, i: int) -> Mapping[str, object]:
        """One task's figures as plain Python values (None where not applicable), for output."""

        def plain(value: object) -> object:
            if isinstance(value, np.datetime64):
                return None if np.isnat(value) else value.astype(dt.date)
            if isinstance(value, np.floating):
                return None if math.isnan(value) else float(value)
            return value.item() if isinstance(value, np.generic) else value

        names = ("done_m2", "searched_m2", "items_found", "team_days", "stoppage_days", "percent_done",
                 "m2_per_day", "m2_per_team_day", "last_progress", "finish_p50", "finish_p90", "days_late",
                 "stalled", "overdue")
        return {"id": self.ids[i], **{n: plain(getattr(self, n)[i]) for n in names}}


def _sum(index: NDArray[np.intp], weights: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Sum of ``weights`` per group ``index`` (0..n-1)."""
    return np.bincount(index, weights, minlength=n).astype(np.float64, copy=False)


def _group_max(index: NDArray[np.intp], days: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    out = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(out, index, days)
    return out


def task_status(
    tasks: TaskFrame,
    reports: ProgressReports,
    as_of: dt.date,
    *,
    stalled_after_days: int = DEFAULT_STALLED_AFTER_DAYS,
    min_reports: int = DEFAULT_MIN_SAMPLE,
    working_days_per_year: float = 220.0,
) -> TaskStatus:
    """Compute every task's status on ``as_of`` (reports after ``as_of`` are ignored).

    Examples
    --------
    A 10,000 m² clearance task started 1 March 2026 with 2 teams, one
    report of 2,000 m² cleared in 10 team-days by 5 March:

    >>> tasks = TaskFrame(["T-1"], ["in_progress"], [10_000], [2], ["2026-03-01"], ["2026-03-31"], [250], [0.5])
    >>> reports = ProgressReports([0], ["2026-03-05"], "manual", 0, [2_000], 0, 0, 0, [10], 0, "")
    >>> s = task_status(tasks, reports, dt.date(2026, 3, 10))
    >>> float(s.percent_done[0]), float(s.m2_per_day[0]), float(s.m2_per_team_day[0])
    (20.0, 200.0, 200.0)
    >>> s.stalled[0], s.overdue[0]
    (np.False_, np.False_)
    """
    if stalled_after_days < 1 or min_reports < 2:
        raise InvalidValue("stalled_after_days must be ≥ 1 and min_reports ≥ 2")
    n = len(tasks.ids)
    if len(reports) and (reports.task.min() < 0 or reports.task.max() >= n):
        raise InvalidValue("progress reports point at a task position outside the task list")
    today = np.datetime64(as_of, "D")
    keep = reports.on <= today
    task = reports.task[keep]
    released = reports.released_m2[keep]
    team_days_row = reports.team_days[keep]

    def total(values: NDArray[np.float64]) -> NDArray[np.float64]:
        return _sum(task, values[keep], n)

    team_days = _sum(task, team_days_row, n)
    searched, items = total(reports.searched_m2), total(reports.items_found)
    done = np.minimum(_sum(task, released, n), np.where(tasks.area_m2 > 0, tasks.area_m2, np.inf))
    count = np.bincount(task, minlength=n)

    days = reports.on[keep].astype(np.int64)
    progressed = (released > 0) | (reports.searched_m2[keep] > 0) | (reports.items_found[keep] > 0)
    last = _group_max(task[progressed], days[progressed], n)
    has_last = last > np.iinfo(np.int64).min
    last_progress = np.where(has_last, last.astype("datetime64[D]"), _NAT)

    started = ~np.isin(tasks.state, ["draft", "issued", "accepted"])
    elapsed = (today - tasks.start).astype(np.int64) + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(tasks.area_m2 > 0, 100.0 * done / tasks.area_m2, np.nan)
        per_day = np.where(started & (elapsed > 0), done / np.maximum(elapsed, 1), np.nan)
        per_team_day = np.where(team_days > 0, done / team_days, np.nan)

        # spread of the log burn rate over reports with work and output: standard error of its mean
        useful = (released > 0) & (team_days_row > 0)
        log_rate = np.log(released[useful] / team_days_row[useful])
        k = np.bincount(task[useful], minlength=n)
        mean = _sum(task[useful], log_rate, n) / np.maximum(k, 1)
        ss = _sum(task[useful], (log_rate - mean[task[useful]]) ** 2, n)
        own_sigma = np.sqrt(ss / np.maximum(k - 1, 1) / np.maximum(k, 1))
    own_rate = per_team_day > 0
    median = np.where(own_rate, per_team_day, tasks.fallback_median)
    sigma = np.where(own_rate & (k >= min_reports), own_sigma, tasks.fallback_sigma)
    enough = (count >= min_reports) & (elapsed > 0) & (team_days > 0)
    pace = np.where(enough, np.minimum(366.0, team_days / tasks.teams / np.maximum(elapsed, 1) * 365.0),
                    working_days_per_year)

    finished = np.isin(tasks.state, list(_FINISHED)) | ((tasks.area_m2 > 0) & (done >= tasks.area_m2))
    p50 = np.full(n, _NAT)
    p90 = np.full(n, _NAT)
    p50[finished & has_last] = last_progress[finished & has_last]
    p90[finished & has_last] = last_progress[finished & has_last]
    # P90 finish <- 10 % productivity quantile (the forecast model's log-normal)
    z50, z10 = NormalDist().inv_cdf(0.5), NormalDist().inv_cdf(0.1)  # the standard library's: the CLI starts without SciPy
    remaining = tasks.area_m2 - done
    to_forecast = np.flatnonzero(~finished & (tasks.area_m2 > 0) & (tasks.state != "cancelled"))
    beyond = np.zeros(n, dtype=bool)
    begins = np.maximum(tasks.start, today).astype(object)  # work not begun yet starts on its planned day
    for z, out in ((z50, p50), (z10, p90)):
        working = remaining[to_forecast] / (tasks.teams[to_forecast] * median[to_forecast]
                                            * np.exp(sigma[to_forecast] * z))
        for i, w, per_year, begin in zip(to_forecast, working.tolist(), pace[to_forecast].tolist(),
                                         begins[to_forecast].tolist(), strict=True):
            day = working_days_to_date(begin, w, per_year) if w / per_year <= MAX_FORECAST_YEARS else None
            out[i] = _NAT if day is None else np.datetime64(day, "D")
            beyond[i] |= z == z50 and day is None
    days_late = np.where(np.isnat(p50), np.where(beyond, np.inf, np.nan),
                         (p50 - tasks.deadline).astype(np.int64).astype(float))

    quiet_since = np.where(has_last, np.maximum(last, tasks.start.astype(np.int64)), tasks.start.astype(np.int64))
    stalled = (tasks.state == "in_progress") & (today.astype(np.int64) - quiet_since > stalled_after_days)
    overdue = np.isin(tasks.state, list(OPEN_STATES)) & (today > tasks.deadline)
    return TaskStatus(
        ids=tasks.ids, as_of=as_of, deadline=tasks.deadline, done_m2=done, searched_m2=searched,
        items_found=items, team_days=team_days,
        stoppage_days=total(reports.stoppage_days), percent_done=percent, m2_per_day=per_day,
        m2_per_team_day=per_team_day, sigma=sigma, own_rate=own_rate, last_progress=last_progress,
        finish_p50=p50, finish_p90=p90, days_late=days_late, stalled=stalled, overdue=overdue,
    )
