"""Factories and Hypothesis strategies shared by the residual-hazard tests (no tests here)."""

from __future__ import annotations

from hypothesis import strategies as st

from mineaction.domain.residual_hazard import (
    Beta,
    Gamma,
    LogNormal,
    PointMass,
    ReliabilityProfile,
    TimeDistribution,
    Weibull,
)


def make_profile(
    *,
    sd_time: TimeDistribution | None = None,
    r_sd: float = 0.9,
    sda_time: TimeDistribution | None = None,
    r_sda: float = 0.99,
    strength: float = 1000.0,
    name: str = "test",
) -> ReliabilityProfile:
    """A profile with Beta means ``r_sd`` and ``r_sda`` (default: SD at 30 d, SDA at 120 d)."""
    return ReliabilityProfile(
        name=name,
        sd_time=PointMass(30) if sd_time is None else sd_time,
        sd_success=Beta.from_mean(r_sd, strength),
        sda_time=PointMass(120) if sda_time is None else sda_time,
        sda_success=Beta.from_mean(r_sda, strength),
        provenance="test report",
        source="unit test",
    )


def _finite(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


time_distributions: st.SearchStrategy[TimeDistribution] = st.one_of(
    st.builds(PointMass, at_days=_finite(0.0, 500.0)),
    st.builds(Weibull, shape=_finite(0.3, 8.0), scale_days=_finite(1.0, 1000.0)),
    st.builds(LogNormal, median_days=_finite(1.0, 1000.0), sigma=_finite(0.05, 2.0)),
    st.builds(Gamma, shape=_finite(0.3, 50.0), scale_days=_finite(0.1, 100.0)),
)

betas: st.SearchStrategy[Beta] = st.builds(
    Beta, alpha=_finite(0.5, 1000.0), beta=_finite(0.5, 1000.0)
)

profiles: st.SearchStrategy[ReliabilityProfile] = st.builds(
    ReliabilityProfile,
    name=st.just("hypothesis"),
    sd_time=time_distributions,
    sd_success=betas,
    sda_time=time_distributions,
    sda_success=betas,
    provenance=st.sampled_from(["design bound", "test report", "field evidence"]),
    source=st.just("generated"),
)
