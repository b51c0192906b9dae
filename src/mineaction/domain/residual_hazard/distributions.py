"""Time distributions of the two end-of-life mechanisms, and Beta beliefs on their success.

Times are days since emplacement. Each distribution is a small frozen
dataclass with a vectorised ``cdf`` (parameters may be arrays that broadcast
against the times, e.g. one value per hazard), a ``sample`` method for the
Monte Carlo, and a ``to_dict`` form that the YAML profiles use. They are our
own wrappers rather than ``scipy.stats`` frozen distributions so parameters
carry units in their names (``scale_days``), errors name the field, and the
CDFs cost one pass over the data.

=============  =======================================  ==============================
``kind``        parameters                               F(t)
=============  =======================================  ==============================
``point``       ``at_days`` ≥ 0                          1 if t ≥ at_days else 0
``weibull``     ``shape`` > 0, ``scale_days`` > 0         1 − exp(−(t/scale)^shape)
``lognormal``   ``median_days`` > 0, ``sigma`` > 0        Φ(ln(t/median)/sigma)
``gamma``       ``shape`` > 0, ``scale_days`` > 0         P(shape, t/scale) (regularised)
=============  =======================================  ==============================

All CDFs are 0 for t < 0 and propagate NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from mineaction.domain.residual_hazard._validation import (
    Param,
    broadcast_shape,
    parameter,
    scalar_or_array,
)
from mineaction.domain.residual_hazard._validation import (
    level as check_level,
)
from mineaction.errors import InvalidValue

__all__ = [
    "Beta",
    "Gamma",
    "LogNormal",
    "PointMass",
    "TimeDistribution",
    "Weibull",
    "time_distribution_from_dict",
]


@runtime_checkable
class TimeDistribution(Protocol):
    """What the model needs from the distribution of a mechanism's time (days)."""

    kind: ClassVar[str]

    @property
    def param_shape(self) -> tuple[int, ...]: ...

    def cdf(self, t: ArrayLike) -> NDArray[np.float64]: ...

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]: ...

    def to_dict(self) -> dict[str, Any]: ...


class _Distribution:
    """Shared validation and serialisation; subclasses declare ``_bounds``."""

    kind: ClassVar[str]
    _bounds: ClassVar[dict[str, tuple[float, bool]]]  # field -> (lower bound, open?)

    def __post_init__(self) -> None:
        for name, (low, low_open) in self._bounds.items():
            value = parameter(
                f"{self.kind}.{name}", getattr(self, name), low=low, low_open=low_open
            )
            object.__setattr__(self, name, value)
        _ = self.param_shape  # raises when the parameter shapes do not broadcast

    def _params(self) -> dict[str, Param]:
        return {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]

    @property
    def param_shape(self) -> tuple[int, ...]:
        """Broadcast shape of the parameters; ``()`` for one distribution."""
        return broadcast_shape(self.kind, **{k: np.shape(v) for k, v in self._params().items()})

    def to_dict(self) -> dict[str, Any]:
        """Plain form for YAML: ``{"distribution": kind, **parameters}``."""
        if self.param_shape:
            raise InvalidValue(f"{self.kind}: only scalar parameters can be saved, not arrays")
        return {"distribution": self.kind, **self._params()}

    def _scalar(self, what: str) -> None:
        if self.param_shape:
            raise InvalidValue(
                f"{self.kind}: {what} needs scalar parameters, got shape {self.param_shape}"
            )


def _nonnegative_times(t: ArrayLike) -> NDArray[np.float64]:
    """Times clipped at 0 (every CDF here is 0 before emplacement), NaN kept."""
    return np.maximum(np.asarray(t, dtype=float), 0.0)


@dataclass(frozen=True)
class PointMass(_Distribution):
    """A fixed time, e.g. a nominal self-destruct time.

    Examples
    --------
    >>> PointMass(at_days=30).cdf([29.9, 30.0, 400.0])
    array([0., 1., 1.])
    """

    kind: ClassVar[str] = "point"
    _bounds: ClassVar[dict[str, tuple[float, bool]]] = {"at_days": (0.0, False)}
    at_days: Param

    def cdf(self, t: ArrayLike) -> NDArray[np.float64]:
        """``P(T ≤ t)``."""
        t = np.asarray(t, dtype=float)
        return np.where(np.isnan(t), np.nan, np.greater_equal(t, self.at_days))

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """``size`` copies of the fixed time (``rng`` unused, kept for the protocol)."""
        self._scalar("sampling")
        return np.full(size, self.at_days)


@dataclass(frozen=True)
class Weibull(_Distribution):
    """Weibull time, the usual model of battery life.

    Examples
    --------
    >>> d = Weibull(shape=2.0, scale_days=100.0)
    >>> round(float(d.cdf(100.0)), 6)  # 1 - 1/e at the scale
    0.632121
    """

    kind: ClassVar[str] = "weibull"
    _bounds: ClassVar[dict[str, tuple[float, bool]]] = {
        "shape": (0.0, True),
        "scale_days": (0.0, True),
    }
    shape: Param
    scale_days: Param

    def cdf(self, t: ArrayLike) -> NDArray[np.float64]:
        """``P(T ≤ t)``."""
        return -np.expm1(-((_nonnegative_times(t) / self.scale_days) ** self.shape))

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """``size`` independent times."""
        self._scalar("sampling")
        return self.scale_days * rng.weibull(self.shape, size)


@dataclass(frozen=True)
class LogNormal(_Distribution):
    """Log-normal time, for spread from manufacture, storage and temperature.

    Examples
    --------
    >>> float(LogNormal(median_days=25.0, sigma=0.5).cdf(25.0))
    0.5
    """

    kind: ClassVar[str] = "lognormal"
    _bounds: ClassVar[dict[str, tuple[float, bool]]] = {
        "median_days": (0.0, True),
        "sigma": (0.0, True),
    }
    median_days: Param
    sigma: Param

    def cdf(self, t: ArrayLike) -> NDArray[np.float64]:
        """``P(T ≤ t)``."""
        with np.errstate(divide="ignore"):  # log(0) = -inf gives F(0) = 0 as it should
            z = np.log(_nonnegative_times(t) / self.median_days) / self.sigma
        return special.ndtr(z)

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """``size`` independent times."""
        self._scalar("sampling")
        return rng.lognormal(np.log(self.median_days), self.sigma, size)


@dataclass(frozen=True)
class Gamma(_Distribution):
    """Gamma time: a sum of stages, e.g. a clock with accumulated drift.

    Examples
    --------
    >>> round(float(Gamma(shape=1.0, scale_days=10.0).cdf(10.0)), 6)  # exponential case
    0.632121
    """

    kind: ClassVar[str] = "gamma"
    _bounds: ClassVar[dict[str, tuple[float, bool]]] = {
        "shape": (0.0, True),
        "scale_days": (0.0, True),
    }
    shape: Param
    scale_days: Param

    def cdf(self, t: ArrayLike) -> NDArray[np.float64]:
        """``P(T ≤ t)``."""
        return np.asarray(special.gammainc(self.shape, _nonnegative_times(t) / self.scale_days), dtype=float)

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """``size`` independent times."""
        self._scalar("sampling")
        return rng.gamma(self.shape, self.scale_days, size)


_KINDS: dict[str, type[_Distribution]] = {
    cls.kind: cls for cls in (PointMass, Weibull, LogNormal, Gamma)
}


def time_distribution_from_dict(data: Mapping[str, Any]) -> TimeDistribution:
    """Build a time distribution from its ``to_dict`` form.

    Examples
    --------
    >>> time_distribution_from_dict({"distribution": "weibull", "shape": 3, "scale_days": 90})
    Weibull(shape=3.0, scale_days=90.0)
    >>> time_distribution_from_dict({"distribution": "exponential"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mineaction.errors.InvalidValue: distribution: unknown kind 'exponential'; expected one of ...
    """
    params = dict(data)
    kind = params.pop("distribution", None)
    if kind not in _KINDS:
        raise InvalidValue(
            f"distribution: unknown kind {kind!r}; expected one of {', '.join(sorted(_KINDS))}"
        )
    cls = _KINDS[kind]
    expected = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    if set(params) != expected:
        raise InvalidValue(f"{kind}: expected parameters {sorted(expected)}, got {sorted(params)}")
    return cls(**params)  # type: ignore[return-value]


@dataclass(frozen=True)
class Beta:
    """Beta belief on a success probability (self-destruct or self-deactivation works).

    ``alpha`` and ``beta`` behave as prior counts of successes and failures:
    their sum, the *strength*, is the effective sample size of the belief.
    Parameters may be arrays (one belief per hazard).

    Examples
    --------
    >>> b = Beta(alpha=90, beta=10)
    >>> b.mean, b.strength
    (0.9, 100.0)
    >>> round(b.updated(successes=8, failures=2).mean, 4)  # (90 + 8) / (100 + 10)
    0.8909
    >>> round(Beta.from_mean(0.6, strength=20).alpha, 9)
    12.0
    >>> Beta.from_mean(1.2, strength=10)
    Traceback (most recent call last):
    ...
    mineaction.errors.InvalidValue: mean: must be a finite number in (0, 1), got 1.2
    """

    alpha: Param
    beta: Param

    def __post_init__(self) -> None:
        for name in ("alpha", "beta"):
            value = parameter(name, getattr(self, name), low=0.0, low_open=True)
            object.__setattr__(self, name, value)
        _ = self.param_shape  # raises when the parameter shapes do not broadcast

    @classmethod
    def from_mean(cls, mean: ArrayLike, strength: ArrayLike) -> Beta:
        """A belief with the given mean and strength (``alpha + beta``)."""
        m = parameter("mean", mean, low=0.0, high=1.0, low_open=True, high_open=True)
        s = parameter("strength", strength, low=0.0, low_open=True)
        return cls(np.multiply(m, s), np.multiply(1.0 - np.asarray(m), s))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Beta:
        """From ``{alpha, beta}`` or ``{mean, strength}``."""
        keys = set(data)
        if keys == {"alpha", "beta"}:
            return cls(data["alpha"], data["beta"])
        if keys == {"mean", "strength"}:
            return cls.from_mean(data["mean"], data["strength"])
        raise InvalidValue(
            f"expected keys alpha and beta, or mean and strength; got {sorted(keys)}"
        )

    def to_dict(self) -> dict[str, float]:
        """Plain form for YAML (exact: ``alpha`` and ``beta``)."""
        if np.shape(self.alpha) or np.shape(self.beta):
            raise InvalidValue("Beta: only scalar parameters can be saved, not arrays")
        return {"alpha": float(self.alpha), "beta": float(self.beta)}

    @property
    def param_shape(self) -> tuple[int, ...]:
        """Broadcast shape of ``alpha`` and ``beta``."""
        return broadcast_shape("Beta", alpha=np.shape(self.alpha), beta=np.shape(self.beta))

    @property
    def strength(self) -> Param:
        """``alpha + beta``: how many observations the belief is worth."""
        return scalar_or_array(np.add(self.alpha, self.beta))

    @property
    def mean(self) -> Param:
        """Mean of the probability: the value point results use."""
        return scalar_or_array(np.divide(self.alpha, self.strength))

    @property
    def variance(self) -> Param:
        """Variance of the probability."""
        s = self.strength
        return scalar_or_array(np.multiply(self.alpha, self.beta) / (s * s * (s + 1.0)))

    def interval(self, level: float = 0.9) -> tuple[Param, Param]:
        """Equal-tailed credible interval at ``level``.

        Examples
        --------
        >>> lo, hi = Beta(1, 1).interval(0.9)
        >>> round(float(lo), 6), round(float(hi), 6)
        (0.05, 0.95)
        """
        tail = (1.0 - check_level(level)) / 2.0
        lo = stats.beta.ppf(tail, self.alpha, self.beta)
        hi = stats.beta.isf(tail, self.alpha, self.beta)
        return scalar_or_array(lo), scalar_or_array(hi)

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """``size`` draws of the probability (a leading axis before the parameter shape)."""
        return rng.beta(self.alpha, self.beta, (size, *self.param_shape))

    def updated(self, successes: ArrayLike, failures: ArrayLike) -> Beta:
        """Conjugate update with (possibly fractional, reweighted) counts."""
        s = parameter("successes", successes, low=0.0)
        f = parameter("failures", failures, low=0.0)
        return Beta(np.add(self.alpha, s), np.add(self.beta, f))
