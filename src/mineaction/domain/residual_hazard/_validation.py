"""Parameter checks shared by the residual-hazard modules.

Every public entry point validates once, here, so an error always names the
field the caller got wrong and says what the field accepts.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.errors import InvalidValue

Param: TypeAlias = float | NDArray[np.float64]
"""A model parameter: a Python float, or a read-only float array that broadcasts."""

RngLike: TypeAlias = np.random.Generator | int
"""A NumPy generator, or an integer seed for one (reports stay reproducible)."""


def parameter(
    name: str,
    value: ArrayLike,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> Param:
    """Return ``value`` as a float (or read-only float array) after checking its range.

    NaN and infinity are rejected: a model parameter is never "missing".
    """
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidValue(
            f"{name}: expected a number or an array of numbers, got {value!r}"
        ) from None
    bad = ~np.isfinite(arr)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if bad.any():
        first = float(arr[bad].flat[0])
        allowed = " ".join(("a finite number", _describe(low, high, low_open, high_open))).strip()
        raise InvalidValue(f"{name}: must be {allowed}, got {first!r}")
    if arr.ndim == 0:
        return float(arr)
    arr.flags.writeable = False
    return arr


def scalar_or_array(value: ArrayLike) -> Param:
    """A Python float for 0-d results (readable reprs, like shapely), else the array."""
    arr = np.asarray(value, dtype=float)
    return float(arr) if arr.ndim == 0 else arr


def count(name: str, value: ArrayLike) -> Param:
    """Return a non-negative whole count (or array of counts) as float."""
    checked = parameter(name, value, low=0.0)
    if np.any(np.asarray(checked) % 1.0 != 0.0):
        raise InvalidValue(f"{name}: expected whole counts, got {value!r}")
    return checked


def whole(name: str, value: int, *, low: int = 0) -> int:
    """Check a whole number (not a bool) ≥ ``low``, e.g. a sample size or a number of draws."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InvalidValue(f"{name}: expected a whole number ≥ {low}, got {value!r}")
    return int(value)


def level(value: float) -> float:
    """Check a credible or confidence level in (0, 1)."""
    return float(parameter("level", value, low=0.0, high=1.0, low_open=True, high_open=True))


def broadcast_shape(what: str, **shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The common broadcast shape, or an error listing each parameter's shape."""
    try:
        return np.broadcast_shapes(*shapes.values())
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise InvalidValue(
            f"{what}: parameter shapes do not broadcast together: {listed}"
        ) from None


def generator(rng: RngLike) -> np.random.Generator:
    """A ``numpy.random.Generator`` from a generator or an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise InvalidValue(f"rng: expected a numpy.random.Generator or an integer seed, got {rng!r}")


def _describe(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '≥'} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '≤'} {high:g}"
    return ""
