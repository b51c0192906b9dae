"""Learning ``r_sd`` and ``r_sda`` from clearance finds, without the detection bias.

Clearance classifies each item found (MDR condition: functional,
self-destructed, self-deactivated; unknown or other is ignored with a note).
For mines whose self-destruct (SD) and self-deactivation (SDA) were both due,
the conditions have probabilities::

    self-destructed       r_sd
    self-deactivated      (1 − r_sd)·r_sda
    functional            (1 − r_sd)·(1 − r_sda)

The likelihood factorises into ``r_sd^n_SD (1 − r_sd)^(n_SDA + n_F)`` times
``r_sda^n_SDA (1 − r_sda)^n_F``, so independent Beta beliefs update by adding
counts (conjugate Beta–Binomial).

Detection bias
--------------
A self-destructed mine leaves only fragments and is found less often than an
intact one. Counting finds as they come then under-counts successes and biases
``r_sd`` towards failure. Functional and self-deactivated mines are the same
intact, explosive object to a detector, so they share one detection
probability ``p_intact``; fragments have ``p_fragments``. Then:

* ``r_sda`` is learnt only from intact finds, which are equally detectable,
  so its conjugate update is exact and unbiased;
* for ``r_sd`` the finds follow the detection-tilted likelihood
  ``(r ρ)^n_SD (1 − r)^n_I / (r ρ + 1 − r)^n`` with ``ρ = p_fragments / p_intact``
  and ``n_I = n_SDA + n_F``. Its maximum is the 1/p-reweighted proportion
  ``r̂ = (n_SD/ρ) / (n_SD/ρ + n_I)``, and its Fisher information there is that
  of a binomial with ``n_eff = m² / (ρ n)`` trials, ``m = n_SD + ρ·n_I``.

We therefore reweight counts by ``1/p`` (which removes the bias) and then
scale them to the information the finds really hold, adding the pseudo-counts
``n_SD·m/(ρ n)`` successes and ``n_I·m/n`` failures. Reweighting alone would
treat each fragment as ``1/ρ`` mines seen and overstate the evidence; this
Beta has the likelihood's maximum and curvature (a Laplace match), is exact
when ``ρ = 1`` and stays conjugate, so per-hazard updates vectorise.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from mineaction.domain.residual_hazard._validation import (
    Param,
    count,
    parameter,
    scalar_or_array,
)
from mineaction.domain.residual_hazard._validation import (
    level as check_level,
)
from mineaction.domain.residual_hazard.distributions import Beta
from mineaction.domain.residual_hazard.profiles import Provenance, ReliabilityProfile
from mineaction.errors import InvalidValue

__all__ = [
    "DUE_FRACTION",
    "EQUAL_DETECTION",
    "DetectionProbability",
    "EvidenceUpdate",
    "FindCounts",
    "update_from_finds",
]

DUE_FRACTION = 0.999
"""Share of SD and SDA times that must have passed before finds can count as failures."""

_CONDITIONS = ("functional", "self_destructed", "self_deactivated")


@dataclass(frozen=True, eq=False)
class FindCounts:
    """Items found in clearance, by condition (arrays: one count per hazard).

    Examples
    --------
    >>> FindCounts.from_conditions(["functional", "self_destructed", "other", "self_destructed"])
    FindCounts(functional=1.0, self_destructed=2.0, self_deactivated=0.0, unknown=1.0)
    """

    functional: Param = 0.0
    self_destructed: Param = 0.0
    self_deactivated: Param = 0.0
    unknown: Param = 0.0  # unknown or other condition: ignored, with a note

    def __post_init__(self) -> None:
        for name in (*_CONDITIONS, "unknown"):
            object.__setattr__(self, name, count(name, getattr(self, name)))

    @classmethod
    def from_conditions(cls, conditions: Iterable[str]) -> FindCounts:
        """Count MDR condition codes; anything else counts as unknown."""
        tally = Counter(
            str(c).strip().lower().replace("-", "_").replace(" ", "_") for c in conditions
        )
        known = {name: float(tally.pop(name, 0)) for name in _CONDITIONS}
        return cls(**known, unknown=float(sum(tally.values())))

    @property
    def intact(self) -> Param:
        """Functional plus self-deactivated: whole mines, equally detectable."""
        return scalar_or_array(np.add(self.functional, self.self_deactivated))

    @property
    def classified(self) -> Param:
        """Finds with a usable condition."""
        return scalar_or_array(np.add(self.intact, self.self_destructed))


@dataclass(frozen=True)
class DetectionProbability:
    """Probability that clearance finds an item, by what is left of it.

    ``intact`` applies to functional and self-deactivated mines, ``fragments``
    to self-destructed ones. Only their ratio matters for the update.
    """

    intact: float = 1.0
    fragments: float = 1.0

    def __post_init__(self) -> None:
        for name in ("intact", "fragments"):
            value = parameter(
                f"detection.{name}", getattr(self, name), low=0.0, high=1.0, low_open=True
            )
            object.__setattr__(self, name, float(value))


EQUAL_DETECTION = DetectionProbability()
"""Fragments and intact mines equally detectable: the plain conjugate update."""


@dataclass(frozen=True, eq=False)
class EvidenceUpdate:
    """Beliefs before and after clearance finds, with how much the finds are worth."""

    prior: ReliabilityProfile
    posterior: ReliabilityProfile
    finds: FindCounts
    detection: DetectionProbability
    uncorrected_sd: Beta  # r_sd belief had the detection bias been ignored
    sd_evidence: Param  # observations' worth added to r_sd (effective, after correction)
    sda_evidence: Param  # observations' worth added to r_sda
    level: float
    notes: tuple[str, ...]

    @property
    def effective_sample_size_sd(self) -> Param:
        """Posterior strength of the ``r_sd`` belief: prior strength plus evidence."""
        return self.posterior.sd_success.strength

    @property
    def effective_sample_size_sda(self) -> Param:
        """Posterior strength of the ``r_sda`` belief."""
        return self.posterior.sda_success.strength

    @property
    def interval_sd(self) -> tuple[Param, Param]:
        """Credible interval of ``r_sd`` after the finds."""
        return self.posterior.sd_success.interval(self.level)

    @property
    def interval_sda(self) -> tuple[Param, Param]:
        """Credible interval of ``r_sda`` after the finds."""
        return self.posterior.sda_success.interval(self.level)

    def summary(self) -> str:
        """Evidence strength and caveats, for a single (scalar) update."""
        lines = [f"{self.posterior.describe()}"]
        for what, before, after, evidence, (lo, hi) in (
            (
                "r_sd",
                self.prior.sd_success,
                self.posterior.sd_success,
                self.sd_evidence,
                self.interval_sd,
            ),
            (
                "r_sda",
                self.prior.sda_success,
                self.posterior.sda_success,
                self.sda_evidence,
                self.interval_sda,
            ),
        ):
            lines.append(
                f"{what}: {before.mean:.3f} → {after.mean:.3f}, {self.level:.0%} interval "
                f"[{lo:.3f}, {hi:.3f}] (width {hi - lo:.3f}); effective sample size "
                f"{after.strength:.1f} = prior {before.strength:.1f} + finds {evidence:.1f}"
            )
        return "\n".join([*lines, *(f"* {note}" for note in self.notes)])


def update_from_finds(
    profile: ReliabilityProfile,
    finds: FindCounts,
    detection: DetectionProbability = EQUAL_DETECTION,
    *,
    age_days: ArrayLike | None = None,
    level: float = 0.9,
    name: str | None = None,
) -> EvidenceUpdate:
    """Update the profile's Beta beliefs with clearance finds, correcting for detection.

    Parameters
    ----------
    profile
        Prior assumption (its time distributions are kept).
    finds
        Counts by condition; arrays give one update per hazard.
    detection
        Detection probabilities of intact mines and of fragments.
    age_days
        Age of the mines at clearance. When given, the update refuses finds
        made before SD and SDA were due (they would count as failures).
    level
        Credible level of the reported intervals.
    name
        Name of the posterior profile (default: prior name + ``"+finds"``).

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import shipped_profiles
    >>> prior = shipped_profiles()["degraded-field-example-a"]  # r_sd ~ Beta(12, 8)
    >>> finds = FindCounts(functional=10, self_destructed=30, self_deactivated=20)
    >>> plain = update_from_finds(prior, finds)  # conjugate: Beta(12 + 30, 8 + 30)
    >>> plain.posterior.sd_success, plain.posterior.sda_success
    (Beta(alpha=42.0, beta=38.0), Beta(alpha=36.0, beta=14.0))
    >>> fair = update_from_finds(prior, finds, DetectionProbability(intact=0.9, fragments=0.45))
    >>> round(fair.posterior.r_sd, 3), round(fair.uncorrected_sd.mean, 3)
    (0.651, 0.525)
    """
    level = check_level(level)
    n_sd, n_i = np.asarray(finds.self_destructed), np.asarray(finds.intact)
    n = n_sd + n_i
    rho = detection.fragments / detection.intact
    worth = np.divide(n_sd + rho * n_i, n, out=np.zeros(np.shape(n)), where=n > 0)
    sd_successes, sd_failures = n_sd * worth / rho, n_i * worth
    if age_days is not None:
        _check_due(profile, age_days)
    total = int(np.sum(finds.classified))
    posterior = replace(
        profile,
        name=name or f"{profile.name}+finds",
        sd_success=profile.sd_success.updated(sd_successes, sd_failures),
        sda_success=profile.sda_success.updated(finds.self_deactivated, finds.functional),
        provenance=Provenance.FIELD_EVIDENCE,
        label=f"{profile.label or profile.name}, updated with {total} clearance finds",
        source=(
            f"{profile.source} Updated with clearance finds: {_describe(finds)}; detection "
            f"probability {detection.intact:g} for intact mines, "
            f"{detection.fragments:g} for fragments."
        ),
    )
    uncorrected = profile.sd_success.updated(n_sd, n_i)
    return EvidenceUpdate(
        prior=profile,
        posterior=posterior,
        finds=finds,
        detection=detection,
        uncorrected_sd=uncorrected,
        sd_evidence=scalar_or_array(sd_successes + sd_failures),
        sda_evidence=finds.intact,
        level=level,
        notes=_notes(finds, detection, posterior, uncorrected, age_days is not None, total),
    )


def _check_due(profile: ReliabilityProfile, age_days: ArrayLike) -> None:
    age = parameter("age_days", age_days, low=0.0)
    for what, dist in (("self-destruct", profile.sd_time), ("self-deactivation", profile.sda_time)):
        passed = float(np.min(dist.cdf(age)))
        if passed < DUE_FRACTION:
            raise InvalidValue(
                f"age_days: at {np.min(age):g} days only {passed:.1%} of {what} times have passed "
                f"under profile {profile.name!r}; finds made before a mechanism was due would "
                "count as its failures",
                hint="update only with finds from mines old enough for both mechanisms to be due",
            )


def _describe(finds: FindCounts) -> str:
    parts = [
        f"{name.replace('_', '-')} {int(np.sum(getattr(finds, name)))}" for name in _CONDITIONS
    ]
    return ", ".join(parts) + f", unknown or other {int(np.sum(finds.unknown))} (ignored)"


def _notes(
    finds: FindCounts,
    detection: DetectionProbability,
    posterior: ReliabilityProfile,
    uncorrected: Beta,
    age_checked: bool,
    total: int,
) -> tuple[str, ...]:
    notes = []
    if detection.fragments < detection.intact:
        notes.append(
            f"Self-destructed mines leave only fragments and are found less often (detection "
            f"{detection.fragments:g} against {detection.intact:g} for intact mines): finds were "
            f"reweighted by 1/p to remove the bias towards failure. Ignoring it would give a mean "
            f"r_sd of {np.mean(uncorrected.mean):.3f} instead of {np.mean(posterior.r_sd):.3f}."
        )
    elif detection.fragments == detection.intact:
        notes.append(
            "Fragments of self-destructed mines were assumed as detectable as intact mines. If "
            "they are found less often, r_sd is underestimated: give detection probabilities."
        )
    else:
        notes.append(
            "Fragments were assumed easier to find than intact mines; finds were reweighted by 1/p."
        )
    if np.any(np.asarray(finds.unknown) > 0):
        notes.append(
            f"{int(np.sum(finds.unknown))} finds of unknown or other condition were ignored; "
            "if one condition tends to be recorded as unknown, the estimates are biased."
        )
    if total == 0:
        notes.append("No classified finds: the beliefs are unchanged.")
    notes.append(
        "Assumes the finds are representative of the mines in the area and were made after "
        "self-destruct and self-deactivation were due"
        + (" (age checked)." if age_checked else " (not checked: give age_days).")
    )
    notes.append(
        "Self-deactivated finds are still explosive ordnance; learning r_sda never makes land "
        "releasable by elapsed time."
    )
    return tuple(notes)
