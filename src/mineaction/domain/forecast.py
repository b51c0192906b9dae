"""When will the remaining contamination be released? A Monte Carlo completion forecast.

The model, for each administrative area and each clearance method (manual,
mechanical, dogs, ...):

* the remaining area ``A`` (m²) is split by the method expected to clear it;
* a share ``s`` of the *suspected* part (fraction ``f`` of ``A``) will be
  cancelled by non-technical survey or reduced by technical survey rather than
  cleared (history says most SHA area is), so the area to clear is
  ``A (1 - f s)``. The cancelled/reduced part is released when the teams of
  that method reach the area: survey is assumed to run just ahead of clearance
  and not to limit progress;
* clearance takes ``A (1 - f s) / p`` team-days at productivity ``p`` (m² per
  team-day of that method);
* all teams of a method work the areas one after another in the plan's
  priority order, pooled, so the work of method k on the area in position i
  ends after ``sum of the work up to i / teams_k`` working days. An area is
  complete when its last method finishes; the country when its last area is.
* working days convert to dates at ``working_days_per_year`` a year, spread
  evenly: ``w`` working days after ``start`` is ``w / working_days_per_year``
  years after it, the part-year counted in calendar days of that year and
  rounded up (work finishes *during* that day).

Uncertainty: ``s`` is drawn from a Beta distribution and each method's
productivity from a log-normal, once per run (they are programme-wide
quantities whose *estimate* is uncertain; day-to-day variation averages out
over a multi-year plan). With zero variances every run is the hand
calculation. Runs share their random numbers between plans (common random
numbers), so comparing plans with the same seed shows the effect of the plan,
not noise, and adding teams can never make a run finish later. The runs'
draws are scrambled Sobol points rather than independent ones (randomised
quasi-Monte Carlo), and :data:`DEFAULT_RUNS` of them: P50 and P90 then move by
days, not years, between seeds.

What the model leaves out: travel and set-up between areas, seasonal stops
beyond the working-day count, teams switching method, new contamination
being found.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import beta as beta_dist
from scipy.stats import norm, qmc

from mineaction.errors import InvalidValue

__all__ = [
    "DEFAULT_MIN_SAMPLE",
    "DEFAULT_PRODUCTIVITY",
    "DEFAULT_RUNS",
    "AreaWork",
    "BurnDown",
    "Forecast",
    "Plan",
    "Productivity",
    "ReleaseShare",
    "ReleasedByYear",
    "WhatIf",
    "forecast",
    "what_if",
    "working_days_to_date",
]

DEFAULT_MIN_SAMPLE = 10
"""Fewer completed activities than this and the default productivity is used."""

DEFAULT_RUNS = 2**14
"""Monte Carlo runs by default: with scrambled Sobol points, enough that P50 and P90 of a decades-long
national forecast move by less than a month between seeds (2,000 independent runs moved P90 by years)."""

_MAX_YEARS = 50  # horizon of the burn-down when some runs never finish
_CELLS_PER_BLOCK = 200_000  # runs × areas × methods simulated at once, to bound memory


@dataclass(frozen=True)
class Productivity:
    """Productivity of one method: log-normal, in m² per team-day.

    Parameters
    ----------
    median : float
        Median m² cleared per team per working day.
    sigma : float
        Standard deviation of its logarithm (0: known exactly). 0.5 means the
        central 80 % lies within ×/÷ 1.9 of the median.
    source : str
        Where the figure comes from, carried into reports.
    """

    median: float
    sigma: float = 0.0
    source: str = "given"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.median) and self.median > 0):
            raise InvalidValue(f"productivity median must be > 0 m² per team-day, not {self.median}")
        if not (math.isfinite(self.sigma) and self.sigma >= 0):
            raise InvalidValue(f"productivity sigma must be ≥ 0, not {self.sigma}")

    @classmethod
    def from_sample(
        cls, rates: ArrayLike, *, default: Productivity, min_n: int = DEFAULT_MIN_SAMPLE
    ) -> Productivity:
        """Fit to completed activities (m² per team-day each), or fall back to ``default``.

        The log-normal is fitted by the mean and standard deviation of the
        logarithms; below ``min_n`` activities the fit is too unstable and
        ``default`` is returned with its source saying why.

        >>> Productivity.from_sample([100, 400] * 5, default=DEFAULT_PRODUCTIVITY["manual"])
        Productivity(median=200.0..., sigma=0.730..., source='fitted to 10 completed activities')
        >>> Productivity.from_sample([100], default=Productivity(250, 0.5, "default")).source
        'default (1 completed activities, fewer than 10)'
        """
        values = np.asarray(rates, dtype=float).reshape(-1)
        if not (np.isfinite(values).all() and (values > 0).all()):
            raise InvalidValue("productivity sample: every rate must be a positive number of m² per team-day")
        if len(values) < max(min_n, 2):
            return cls(default.median, default.sigma, f"{default.source} ({len(values)} completed "
                       f"activities, fewer than {min_n})")
        logs = np.log(values)
        return cls(
            float(np.exp(logs.mean())), float(logs.std(ddof=1)), f"fitted to {len(values)} completed activities"
        )

    def quantile(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Productivity at probability ``u`` (exactly the median when sigma is 0)."""
        return self.median * np.exp(self.sigma * norm.ppf(u))


DEFAULT_PRODUCTIVITY: Mapping[str, Productivity] = MappingProxyType(
    {
        "manual": Productivity(250.0, 0.5, "illustrative default, replace with programme data"),
        "mechanical": Productivity(3000.0, 0.6, "illustrative default, replace with programme data"),
        "dog": Productivity(1000.0, 0.5, "illustrative default, replace with programme data"),
    }
)
"""Order-of-magnitude placeholders (m² per team-day), not from a standard.

They only stand in until a programme has :data:`DEFAULT_MIN_SAMPLE` completed
activities of a method; forecasts say so in their sources.
"""


@dataclass(frozen=True)
class ReleaseShare:
    """Share of suspected area that will be cancelled or reduced rather than cleared (Beta).

    Parameters
    ----------
    mean : float
        Expected share, 0..1, e.g. released-by-NTS/TS m² over all released m²
        of suspected areas closed in past years.
    sd : float
        Its uncertainty (0: known exactly); must be below
        ``sqrt(mean (1 - mean))``.
    """

    mean: float
    sd: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.mean <= 1:
            raise InvalidValue(f"release share mean must be within 0..1, not {self.mean}")
        if not (self.sd == 0 or 0 < self.sd**2 < self.mean * (1 - self.mean)):
            raise InvalidValue(
                f"release share sd {self.sd} impossible for a share with mean {self.mean}: "
                f"it must be below {math.sqrt(self.mean * (1 - self.mean)):.3g}"
            )

    @classmethod
    def from_sample(cls, shares: ArrayLike) -> ReleaseShare:
        """Moments of the shares observed per closed suspected area.

        >>> ReleaseShare.from_sample([0.6, 0.8, 0.7, 0.9, 0.5])
        ReleaseShare(mean=0.7, sd=0.158...)
        """
        values = np.asarray(shares, dtype=float).reshape(-1)
        if len(values) < 2 or not ((values >= 0) & (values <= 1)).all():
            raise InvalidValue("release share sample: need at least two shares within 0..1")
        return cls(float(values.mean()), float(values.std(ddof=1)))

    def quantile(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Share at probability ``u`` (exactly the mean when sd is 0)."""
        if self.sd == 0:
            return np.full_like(u, self.mean)
        k = self.mean * (1 - self.mean) / self.sd**2 - 1
        return beta_dist.ppf(u, self.mean * k, (1 - self.mean) * k)


@dataclass(frozen=True)
class AreaWork:
    """What remains to do in one administrative area.

    Parameters
    ----------
    name : str
        Area identifier (P-code, KATOTTH code, or name).
    remaining_m2 : mapping of str to float
        Remaining hazardous area by the method expected to clear it.
    suspected_fraction : float
        Part of it that is suspected (SHA) rather than confirmed, 0..1: only
        that part can be cancelled or reduced.
    priority : bool
        Whether the area's land is priority land (e.g. blocks farms, schools,
        water), for the "priority land released in year one" figure.
    """

    name: str
    remaining_m2: Mapping[str, float]
    suspected_fraction: float = 1.0
    priority: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.suspected_fraction <= 1:
            raise InvalidValue(f"{self.name}: suspected_fraction must be within 0..1")
        for method, m2 in self.remaining_m2.items():
            if not (math.isfinite(m2) and m2 >= 0):
                raise InvalidValue(f"{self.name}: remaining {method} area must be ≥ 0 m², not {m2}")


@dataclass(frozen=True)
class Plan:
    """Teams per method and the order areas are worked in: the levers of a what-if.

    Parameters
    ----------
    teams : mapping of str to float
        Teams (or machines) per method; fractions allowed for part-time teams.
    order : sequence of str, optional
        Area names, first worked first; default the order the areas are given.
    """

    teams: Mapping[str, float]
    order: Sequence[str] | None = None


@dataclass(frozen=True, eq=False)
class BurnDown:
    """Remaining area over time, P10/P50/P90 over the runs, for charts."""

    dates: tuple[date, ...]
    p10: NDArray[np.float64]
    p50: NDArray[np.float64]
    p90: NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class ReleasedByYear:
    """Expected m² released in each plan year, by category (cancelled/reduced, then each method)."""

    year_starts: tuple[date, ...]
    categories: tuple[str, ...]
    m2: NDArray[np.float64]  # (years, categories)


@dataclass(frozen=True, eq=False)
class Forecast:
    """Monte Carlo completion forecast; every array has one row per run.

    Attributes
    ----------
    areas : tuple of str
        Area names, in input order (the columns of ``finish``).
    start : date
    working_days_per_year : float
    finish : numpy.ndarray, shape (runs, areas)
        Working days from ``start`` until each area is complete (inf: never,
        a method with work has no teams).
    priority_year_one : numpy.ndarray, shape (runs,)
        m² of priority areas released in the first year.
    burn_down : BurnDown
    released_by_year : ReleasedByYear
    sources : mapping of str to str
        Provenance of each method's productivity.
    """

    areas: tuple[str, ...]
    start: date
    working_days_per_year: float
    finish: NDArray[np.float64]
    priority_year_one: NDArray[np.float64]
    burn_down: BurnDown
    released_by_year: ReleasedByYear
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def national(self) -> NDArray[np.float64]:
        """Working days until the last area is complete, per run."""
        return self.finish.max(axis=1)

    def _date(self, working_days: float) -> date | None:
        return working_days_to_date(self.start, working_days, self.working_days_per_year)

    def completion(self, q: float = 0.5) -> dict[str, date | None]:
        """Date by which each area is complete with probability ``q`` (None: never)."""
        days = np.quantile(self.finish, q, axis=0, method="inverted_cdf")
        return {name: self._date(d) for name, d in zip(self.areas, days, strict=True)}

    def national_completion(self, q: float = 0.5) -> date | None:
        """Date by which every area is complete with probability ``q`` (None: never)."""
        return self._date(float(np.quantile(self.national, q, method="inverted_cdf")))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def working_days_to_date(start: date, working_days: float, per_year: float) -> date | None:
    """Calendar date after ``working_days`` spread evenly at ``per_year`` a year.

    Whole years land on the anniversary of ``start``; the part-year is that
    share of the following year's calendar days, rounded up.

    >>> working_days_to_date(date(2025, 1, 1), 500, 250)
    datetime.date(2027, 1, 1)
    >>> working_days_to_date(date(2025, 1, 1), 200, 250)  # 0.8 × 365 = 292 days
    datetime.date(2025, 10, 20)
    >>> working_days_to_date(date(2025, 1, 1), float("inf"), 250) is None
    True
    """
    if not math.isfinite(working_days):
        return None
    years = working_days / per_year
    whole = math.floor(years + 1e-12)
    anchor = _add_years(start, whole)
    year_length = (_add_years(start, whole + 1) - anchor).days
    # tolerance of a microsecond of a day: 0.8 * 365 is 292.00000000000006 in floating point
    return anchor + timedelta(days=math.ceil(max(0.0, years - whole) * year_length - 1e-6))


@dataclass(frozen=True, eq=False)
class _Queues:
    """For a block of runs, per run × area (in work order) × method: the m² to
    cancel, the m² to clear, and the team-days the clearance takes."""

    cancel: NDArray[np.float64]
    clear: NDArray[np.float64]
    work: NDArray[np.float64]

    @classmethod
    def draw(
        cls,
        u: NDArray[np.float64],
        area_m2: NDArray[np.float64],
        suspected: NDArray[np.float64],
        release_share: ReleaseShare,
        rates: Sequence[Productivity],
    ) -> _Queues:
        share = release_share.quantile(u[:, 0])
        rate = np.column_stack([p.quantile(u[:, 1 + k]) for k, p in enumerate(rates)])
        cancel = area_m2[None] * (suspected[:, None] * share[:, None, None])
        clear = area_m2[None] - cancel
        return cls(cancel, clear, clear / rate[:, None, :])

    def finish(self, area_m2: NDArray[np.float64], teams: NDArray[np.float64]) -> NDArray[np.float64]:
        """Working days until each area's last method is done: (runs, areas)."""
        done = np.cumsum(self.work, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ends = np.where(done > 0, done / teams, 0.0)  # x / 0 -> inf: no teams, never
        return np.where(area_m2[None] > 0, ends, 0.0).max(axis=2)

    def released(
        self,
        at: NDArray[np.float64],
        teams: NDArray[np.float64],
        masses: Sequence[tuple[NDArray[np.float64], NDArray[np.float64]]],
    ) -> list[NDArray[np.float64]]:
        """m² released by working day ``at`` for each (cancelled, cleared) pair of
        masses, each of shape (runs, methods, len(at)).

        In each method's queue the released area, as a function of team-days
        of work done, jumps by the cancelled part when the teams reach an area
        and then grows linearly with its clearance.
        """
        runs, _, methods = self.work.shape
        start = np.cumsum(self.work, axis=1) - self.work
        outs = [np.zeros((runs, methods, len(at))) for _ in masses]
        for k in range(methods):
            done = at * teams[k]
            started = done > 0  # before any work (or with no teams) nothing is released
            xp = np.stack([start[:, :, k], start[:, :, k], start[:, :, k] + self.work[:, :, k]], axis=2)
            xp = xp.reshape(runs, -1)
            for out, (cancel, clear) in zip(outs, masses, strict=True):
                steps = np.stack([np.zeros_like(cancel[:, :, k]), cancel[:, :, k], clear[:, :, k]], axis=2)
                fp = np.cumsum(steps.reshape(runs, -1), axis=1)
                for r in range(runs):
                    out[r, k, started] = np.interp(done[started], xp[r], fp[r])
        return outs


def _validate(
    areas: Sequence[AreaWork], plan: Plan, productivity: Mapping[str, Productivity]
) -> tuple[list[str], NDArray[np.intp]]:
    names = [a.name for a in areas]
    if not names:
        raise InvalidValue("no areas to forecast")
    if len(set(names)) != len(names):
        raise InvalidValue("area names must be unique")
    methods = sorted({m for a in areas for m in a.remaining_m2})
    for m in methods:
        if m not in productivity:
            raise InvalidValue(f"no productivity for method {m!r}", hint="give one, or use DEFAULT_PRODUCTIVITY")
        if m not in plan.teams:
            raise InvalidValue(f"the plan gives no teams for method {m!r} (give 0 to mean none)")
    for m, n in plan.teams.items():
        if not (math.isfinite(n) and n >= 0):
            raise InvalidValue(f"teams for {m!r} must be ≥ 0, not {n}")
    order = names if plan.order is None else list(plan.order)
    if sorted(order) != sorted(names):
        raise InvalidValue("the plan's order must list every area exactly once")
    position = {name: i for i, name in enumerate(names)}
    return methods, np.array([position[name] for name in order])


def _uniforms(runs: int, dimensions: int, seed: int) -> NDArray[np.float64]:
    """``runs`` points spread evenly over the unit cube: a scrambled Sobol sequence (randomised quasi-Monte Carlo).

    A run's outcome is a smooth function of a handful of programme-wide draws, so low-discrepancy points
    estimate its quantiles far more steadily than independent ones: at the default 2,000 runs P50 and P90
    move by days between seeds where independent draws moved them by years. The first ``runs`` points of the
    next power of two are taken, so any number of runs works and the same seed gives the same points."""
    sobol = qmc.Sobol(dimensions, scramble=True, seed=np.random.default_rng(seed))
    points = sobol.random_base2(max(0, math.ceil(math.log2(runs))))[:runs]
    return np.clip(points, np.finfo(float).tiny, 1.0 - np.finfo(float).eps)


def forecast(
    areas: Sequence[AreaWork],
    plan: Plan,
    productivity: Mapping[str, Productivity],
    release_share: ReleaseShare,
    *,
    start: date,
    working_days_per_year: float = 220.0,
    runs: int = DEFAULT_RUNS,
    seed: int = 0,
    burn_down_points: int = 101,
) -> Forecast:
    """Simulate the completion of the remaining work under one plan.

    Parameters
    ----------
    areas : sequence of AreaWork
    plan : Plan
        Teams per method and the priority order.
    productivity : mapping of str to Productivity
        One per method that has remaining area.
    release_share : ReleaseShare
    start : date
        First day of work.
    working_days_per_year : float
        Days a team works in a year (weather, holidays, stand-downs).
    runs : int
        Monte Carlo runs (scrambled Sobol points); with zero variances a single run is enough.
    seed : int
        Same seed, same forecast; share it between plans you compare.
    burn_down_points : int
        Points of the burn-down series.

    Returns
    -------
    Forecast

    Examples
    --------
    One area, 50,000 m² for manual clearance, a fifth of it cancelled, 2 teams
    at 100 m² a day, 250 working days a year: 40,000 / 100 / 2 = 200 working
    days = 0.8 year = 292 days:

    >>> fc = forecast([AreaWork("A", {"manual": 50_000}, priority=True)], Plan({"manual": 2}),
    ...               {"manual": Productivity(100)}, ReleaseShare(0.2),
    ...               start=date(2025, 1, 1), working_days_per_year=250, runs=1)
    >>> fc.national_completion(0.5)
    datetime.date(2025, 10, 20)
    >>> float(fc.priority_year_one[0])
    50000.0
    """
    if runs < 1 or burn_down_points < 2:
        raise InvalidValue("need at least one run and two burn-down points")
    if not (math.isfinite(working_days_per_year) and 0 < working_days_per_year <= 366):
        raise InvalidValue(f"working_days_per_year must be within 1..366, not {working_days_per_year}")
    methods, queue = _validate(areas, plan, productivity)
    ordered = [areas[i] for i in queue]
    area_m2 = np.array([[a.remaining_m2.get(m, 0.0) for m in methods] for a in ordered])  # (I, K)
    suspected = np.array([a.suspected_fraction for a in ordered])
    priority = np.array([a.priority for a in ordered])
    teams = np.array([float(plan.teams[m]) for m in methods])

    rates = [productivity[m] for m in methods]
    u = _uniforms(runs, 1 + len(methods), seed)
    step = max(1, _CELLS_PER_BLOCK // area_m2.size)
    blocks = [slice(i, i + step) for i in range(0, runs, step)]
    finish = np.empty((runs, len(ordered)))
    for block in blocks:
        finish[block, queue] = _Queues.draw(u[block], area_m2, suspected, release_share, rates).finish(
            area_m2, teams
        )

    national = finish.max(axis=1)
    finite = national[np.isfinite(national)]
    longest = math.ceil(finite.max() / working_days_per_year) if len(finite) else _MAX_YEARS
    horizon_years = max(1, min(_MAX_YEARS, longest))
    grid = np.linspace(0.0, horizon_years * working_days_per_year, burn_down_points)
    year_ends = working_days_per_year * np.arange(horizon_years + 1)
    remaining = np.empty((runs, burn_down_points))
    released_by_year = np.zeros((horizon_years + 1, 1 + len(methods)))
    year_one = np.empty(runs)
    prio = priority[None, :, None]
    for block in blocks:
        q = _Queues.draw(u[block], area_m2, suspected, release_share, rates)
        (everything,) = q.released(grid, teams, [(q.cancel, q.clear)])
        remaining[block] = area_m2.sum() - everything.sum(axis=1)
        nothing = np.zeros_like(q.cancel)
        cancelled, cleared, priority_land = q.released(
            year_ends, teams, [(q.cancel, nothing), (nothing, q.clear), (q.cancel * prio, q.clear * prio)]
        )
        released_by_year[:, 0] += cancelled.sum(axis=(0, 1))
        released_by_year[:, 1:] += cleared.sum(axis=0).T
        year_one[block] = priority_land[:, :, 1].sum(axis=1)  # year_ends[1] is the end of year one
    p10, p50, p90 = np.quantile(remaining, [0.1, 0.5, 0.9], axis=0)
    per_year = np.diff(released_by_year, axis=0) / runs

    def to_date(days: float) -> date:
        result = working_days_to_date(start, days, working_days_per_year)
        assert result is not None  # finite grid
        return result

    return Forecast(
        areas=tuple(a.name for a in areas),
        start=start,
        working_days_per_year=working_days_per_year,
        finish=finish,
        priority_year_one=year_one,
        burn_down=BurnDown(tuple(to_date(d) for d in grid), p10, p50, p90),
        released_by_year=ReleasedByYear(
            tuple(_add_years(start, y) for y in range(horizon_years)),
            ("cancelled/reduced", *(f"cleared: {m}" for m in methods)),
            per_year,
        ),
        sources={m: productivity[m].source for m in methods},
    )


@dataclass(frozen=True, eq=False)
class WhatIf:
    """Two forecasts of the same work under two plans, with the same random numbers."""

    base: Forecast
    alternative: Forecast

    def completion_change_days(self, q: float = 0.5) -> int | None:
        """Calendar days the national completion moves (negative: earlier); None if either never ends."""
        before, after = self.base.national_completion(q), self.alternative.national_completion(q)
        return None if before is None or after is None else (after - before).days

    def priority_year_one_change_m2(self, q: float = 0.5) -> float:
        """Quantile over the runs of the extra priority m² released in year one (paired runs)."""
        return float(np.quantile(self.alternative.priority_year_one - self.base.priority_year_one, q))


def what_if(
    areas: Sequence[AreaWork],
    base: Plan,
    alternative: Plan,
    productivity: Mapping[str, Productivity],
    release_share: ReleaseShare,
    **options: object,
) -> WhatIf:
    """Forecast ``areas`` under ``base`` and ``alternative`` with the same seed.

    ``options`` are those of :func:`forecast`. Two more mechanical teams:

    >>> areas = [AreaWork("A", {"manual": 40_000, "mechanical": 300_000}, priority=True),
    ...          AreaWork("B", {"manual": 80_000})]
    >>> prod = {"manual": Productivity(100), "mechanical": Productivity(1000)}
    >>> w = what_if(areas, Plan({"manual": 2, "mechanical": 1}), Plan({"manual": 2, "mechanical": 3}),
    ...             prod, ReleaseShare(0.0), start=date(2025, 1, 1), working_days_per_year=200, runs=1)
    >>> w.base.completion()["A"], w.alternative.completion()["A"]
    (datetime.date(2026, 7, 3), datetime.date(2026, 1, 1))
    >>> w.completion_change_days()  # manual clearance of B still takes 3 years
    0
    >>> w.priority_year_one_change_m2()
    100000.0
    """
    return WhatIf(
        forecast(areas, base, productivity, release_share, **options),  # type: ignore[arg-type]
        forecast(areas, alternative, productivity, release_share, **options),  # type: ignore[arg-type]
    )
