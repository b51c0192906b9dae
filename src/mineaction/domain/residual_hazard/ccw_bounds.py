"""Compare a reliability profile with the CCW Amended Protocol II design bounds.

Technical Annex, paragraph 3(a): no more than 10% of activated mines may fail
to self-destruct within 30 days after emplacement, and, with the back-up
self-deactivation feature, no more than one in one thousand may still
function as a mine 120 days after emplacement. In this model those are
``1 − e(30) ≥ 0.90`` (``e(30) ≤ 0.10``) and ``f(120) ≤ 0.001``.

These are design bounds, not field measurements. Meeting them says nothing
about a particular area, and never makes land safe: at 120 days up to one mine
in ten may still hold explosive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mineaction.domain.residual_hazard._validation import Param
from mineaction.domain.residual_hazard.profiles import ReliabilityProfile
from mineaction.domain.residual_hazard.survival import survival_fractions

__all__ = [
    "CCW_ROW_COLUMNS",
    "FUNCTIONAL_BOUND_DAYS",
    "MAX_FAILED_TO_SELF_DESTRUCT",
    "MAX_STILL_FUNCTIONAL",
    "SELF_DESTRUCT_BOUND_DAYS",
    "CcwBoundCheck",
    "check_ccw_bounds",
]

SELF_DESTRUCT_BOUND_DAYS = 30.0
MAX_FAILED_TO_SELF_DESTRUCT = 0.10
FUNCTIONAL_BOUND_DAYS = 120.0
MAX_STILL_FUNCTIONAL = 0.001
#: the columns of :meth:`CcwBoundCheck.row`
CCW_ROW_COLUMNS = ("profile", "provenance", "failed to self-destruct by day 30 (%)", "30-day bound (≤ 10%)",
                   "functional at day 120 (per 1000)", "120-day bound (≤ 1 per 1000)", "explosive at day 120 (%)",
                   "verdict")
_ROUNDING = 1e-12  # relative slack, so a profile exactly at a bound meets it


@dataclass(frozen=True, eq=False)
class CcwBoundCheck:
    """Computed figures for the two Annex bounds, at the profile's point values."""

    profile: ReliabilityProfile
    failed_to_self_destruct_30d: Param  # e(30)
    functional_120d: Param  # f(120)
    explosive_120d: Param  # e(120), shown so nobody reads f(120) as "safe"
    meets_30d: bool | np.ndarray
    meets_120d: bool | np.ndarray

    @property
    def meets(self) -> bool | np.ndarray:
        """Both bounds met."""
        both = np.logical_and(self.meets_30d, self.meets_120d)
        return bool(both) if both.ndim == 0 else both

    @property
    def verdict(self) -> str:
        """One line for a scalar profile: which bounds it meets, never a statement that land is safe."""
        missed = [name for name, ok in (("30-day", self.meets_30d), ("120-day", self.meets_120d)) if not ok]
        if not missed:
            return "meets both CCW APII design bounds (not a field measurement; land still needs survey or clearance)"
        return f"VIOLATES the CCW APII {' and '.join(missed)} bound{'s' if len(missed) > 1 else ''}"

    def row(self) -> dict[str, object]:
        """The figures and verdict of a scalar profile as one table row (command line and annual report)."""
        verdict = {True: "meets", False: "VIOLATES"}
        return dict(zip(CCW_ROW_COLUMNS, (
            self.profile.name,
            self.profile.provenance.value,
            round(float(self.failed_to_self_destruct_30d) * 100, 2),
            verdict[bool(self.meets_30d)],
            round(float(self.functional_120d) * 1000, 2),
            verdict[bool(self.meets_120d)],
            round(float(self.explosive_120d) * 100, 2),
            self.verdict,
        ), strict=True))

    def summary(self) -> str:
        """A short report, for a scalar profile.

        Examples
        --------
        >>> from mineaction.domain.residual_hazard import shipped_profiles
        >>> print(check_ccw_bounds(shipped_profiles()["ccw-apii-design-bound"]).summary())
        profile 'ccw-apii-design-bound' (design bound): design bound — not a field measurement
        30-day bound (≤ 10% fail to self-destruct within 30 days): 10.00% failed — meets
        120-day bound (≤ 1 in 1000 still functional at 120 days): 1.00 in 1000 — meets
        Still holding explosive at 120 days: 10.00%. The bounds are design values, not
        field measurements; meeting them never makes land safe: it still needs survey or
        clearance.
        """
        verdict = {True: "meets", False: "VIOLATES"}
        return "\n".join(
            [
                self.profile.describe(),
                (
                    f"30-day bound (≤ {MAX_FAILED_TO_SELF_DESTRUCT:.0%} fail to self-destruct "
                    f"within {SELF_DESTRUCT_BOUND_DAYS:.0f} days): "
                    f"{self.failed_to_self_destruct_30d:.2%} failed"
                    f" — {verdict[bool(self.meets_30d)]}"
                ),
                (
                    f"120-day bound (≤ 1 in {1 / MAX_STILL_FUNCTIONAL:.0f} still functional at "
                    f"{FUNCTIONAL_BOUND_DAYS:.0f} days): {self.functional_120d * 1000:.2f} in 1000"
                    f" — {verdict[bool(self.meets_120d)]}"
                ),
                (
                    f"Still holding explosive at {FUNCTIONAL_BOUND_DAYS:.0f} days: "
                    f"{self.explosive_120d:.2%}. The bounds are design values, not"
                ),
                "field measurements; meeting them never makes land safe: it still needs survey or",
                "clearance.",
            ]
        )


def check_ccw_bounds(profile: ReliabilityProfile) -> CcwBoundCheck:
    """Whether ``profile`` meets the 30-day and 120-day bounds, with the figures.

    Uses the Beta means of ``r_sd`` and ``r_sda``; array-valued profiles give
    one verdict per element.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> check = check_ccw_bounds(shipped_profiles()["degraded-field-example-a"])
    >>> check.meets_30d, check.meets_120d
    (False, False)
    >>> round(check.failed_to_self_destruct_30d, 3), round(check.functional_120d, 3)
    (0.615, 0.272)
    """
    _, failed_30 = survival_fractions(SELF_DESTRUCT_BOUND_DAYS, profile)
    functional_120, explosive_120 = survival_fractions(FUNCTIONAL_BOUND_DAYS, profile)
    return CcwBoundCheck(
        profile=profile,
        failed_to_self_destruct_30d=failed_30,
        functional_120d=functional_120,
        explosive_120d=explosive_120,
        meets_30d=_within(failed_30, MAX_FAILED_TO_SELF_DESTRUCT),
        meets_120d=_within(functional_120, MAX_STILL_FUNCTIONAL),
    )


def _within(value: Param, bound: float) -> bool | np.ndarray:
    ok = np.less_equal(value, bound * (1.0 + _ROUNDING))
    return bool(ok) if ok.ndim == 0 else ok
