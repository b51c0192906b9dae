"""From fractions to mines: expected functional count and P(at least one functional mine).

The initial number of mines ``N`` in an area is uncertain:

* Poisson with mean ``μ`` (``shape=None``), or
* negative binomial with mean ``μ`` and shape ``k`` (over-dispersed, for
  clustered emplacement; variance ``μ + μ²/k``).

Each mine is still functional at age ``t`` with probability ``f(t)``,
independently, so the functional mines are a thinning of ``N``: Poisson with
mean ``μ·f``, or negative binomial with mean ``μ·f`` and the same ``k``. Hence::

    P(no functional mine) = exp(−μ·f)              (Poisson)
                          = (1 + μ·f/k)^(−k)        (negative binomial)

and the negative binomial tends to the Poisson as ``k → ∞``. The civilian
figure is ``P(≥ 1 functional mine) = 1 − P(none)``, computed as
``−expm1(log P(none))`` so that small probabilities keep their digits.

Everything broadcasts: ``f`` of shape ``(n_hazards, n_dates)`` with ``μ`` and
``k`` of shape ``(n_hazards, 1)`` gives one value per hazard and date.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mineaction.domain.residual_hazard._validation import (
    Param,
    broadcast_shape,
    parameter,
    scalar_or_array,
)
from mineaction.errors import InvalidValue

__all__ = [
    "count_model_description",
    "expected_functional",
    "prob_any_functional",
    "prob_no_functional",
]


def expected_functional(functional: ArrayLike, mean_count: ArrayLike) -> Param:
    """Expected number of functional mines, ``μ·f``.

    Examples
    --------
    >>> expected_functional([1.0, 0.1, 0.001], 200)
    array([200. ,  20. ,   0.2])
    """
    f, mean, _, _ = _checked(functional, mean_count, None)
    return scalar_or_array(f * mean)


def prob_no_functional(
    functional: ArrayLike, mean_count: ArrayLike, shape: ArrayLike | None = None
) -> Param:
    """``P(no functional mine)`` under the Poisson (``shape=None``) or negative binomial model.

    Examples
    --------
    >>> round(prob_no_functional(0.01, 100), 6)  # Poisson: exp(-1)
    0.367879
    >>> round(prob_no_functional(0.01, 100, shape=1.0), 6)  # NB: (1 + 1/1)^-1
    0.5
    """
    f, mean, k, out = _checked(functional, mean_count, shape)
    log_prob_no_functional(f, mean, k, out)
    return scalar_or_array(np.exp(out, out=out))


def prob_any_functional(
    functional: ArrayLike, mean_count: ArrayLike, shape: ArrayLike | None = None
) -> Param:
    """``P(≥ 1 functional mine)``, accurate for tiny probabilities.

    Examples
    --------
    >>> prob_any_functional(1e-12, 1.0)  # 1 - exp(-1e-12) to full precision, not 0
    9.999999999995e-13
    >>> prob_any_functional([0.0, 1.0], 50, shape=[[0.5], [5.0]])
    array([[0.        , 0.90049628],
           [0.        , 0.99999379]])
    """
    f, mean, k, out = _checked(functional, mean_count, shape)
    return scalar_or_array(prob_any_into(f, mean, k, out))


def count_model_description(mean_count: ArrayLike, shape: ArrayLike | None = None) -> str:
    """How the initial number of mines was modelled, for result captions.

    Examples
    --------
    >>> count_model_description(200, 0.8)
    'negative binomial, mean 200, shape k = 0.8'
    >>> count_model_description([10, 20])
    'Poisson, mean per hazard (2 values)'
    """

    def text(value: ArrayLike, what: str) -> str:
        arr = np.asarray(value, dtype=float)
        return (
            f"{what} {arr.item():g}" if arr.size == 1 else f"{what} per hazard ({arr.size} values)"
        )

    if shape is None:
        return f"Poisson, {text(mean_count, 'mean')}"
    return f"negative binomial, {text(mean_count, 'mean')}, {text(shape, 'shape k =')}"


def log_prob_no_functional(
    functional: NDArray[np.float64],
    mean_count: ArrayLike,
    shape: ArrayLike | None,
    out: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``log P(no functional mine)`` written into ``out`` (no validation; the grid's kernel)."""
    if shape is None:
        return np.multiply(functional, np.negative(mean_count), out=out)
    np.multiply(functional, np.divide(mean_count, shape), out=out)
    np.log1p(out, out=out)
    return np.multiply(out, np.negative(shape), out=out)


def prob_any_into(
    functional: NDArray[np.float64],
    mean_count: ArrayLike,
    shape: ArrayLike | None,
    out: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``P(≥ 1 functional mine)`` written into ``out`` (no validation; the grid's kernel)."""
    log_prob_no_functional(functional, mean_count, shape, out)
    np.expm1(out, out=out)
    return np.negative(out, out=out)


def _checked(
    functional: ArrayLike, mean_count: ArrayLike, shape: ArrayLike | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], Param | None, NDArray[np.float64]]:
    """Validated inputs and an output array of their broadcast shape."""
    f = np.asarray(functional, dtype=float)
    if np.any((f < 0.0) | (f > 1.0)):
        raise InvalidValue("functional: fractions must be in [0, 1] (NaN allowed for missing)")
    mean = np.asarray(parameter("mean_count", mean_count, low=0.0))
    k = None if shape is None else parameter("shape", shape, low=0.0, low_open=True)
    out_shape = broadcast_shape(
        "count model", functional=f.shape, mean_count=mean.shape, shape=() if k is None else np.shape(k)
    )
    return f, mean, k, np.empty(out_shape)
