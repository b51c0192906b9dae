"""Reliability profiles: what is assumed about a mine type's self-destruct and self-deactivation.

A profile is only ever a hazard assumption for civilians: how quickly and how
reliably non-persistent anti-personnel mines stop functioning, and how many
still hold explosive. It always carries its provenance (design bound, test
report or field evidence), a free-text source and, for the shipped examples,
an ``illustrative`` flag, because field reliability can be far worse than a
design bound and every result must say which assumption it used.

Profiles are stored as YAML::

    profiles:
      - name: ccw-apii-design-bound
        label: design bound — not a field measurement
        provenance: design bound          # or: test report, field evidence
        illustrative: false
        source: CCW Amended Protocol II (1996), Technical Annex, para 3(a)
        self_destruct:
          time: {distribution: point, at_days: 30}
          success: {alpha: 900, beta: 100}    # or {mean: 0.9, strength: 1000}
        self_deactivation:
          time: {distribution: point, at_days: 120}
          success: {alpha: 990, beta: 10}
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from mineaction.domain.residual_hazard._validation import Param, broadcast_shape
from mineaction.domain.residual_hazard.distributions import (
    Beta,
    TimeDistribution,
    time_distribution_from_dict,
)
from mineaction.errors import InvalidValue

__all__ = [
    "Provenance",
    "ReliabilityProfile",
    "load_profiles",
    "save_profiles",
    "shipped_profiles",
]

_MECHANISMS = {
    "self_destruct": ("sd_time", "sd_success"),
    "self_deactivation": ("sda_time", "sda_success"),
}
_TOP_KEYS = {"name", "label", "provenance", "illustrative", "source", *_MECHANISMS}


class Provenance(StrEnum):
    """Where a profile's numbers come from; results always repeat it."""

    DESIGN_BOUND = "design bound"
    TEST_REPORT = "test report"
    FIELD_EVIDENCE = "field evidence"


@dataclass(frozen=True)
class ReliabilityProfile:
    """Self-destruct (SD) and self-deactivation (SDA) assumptions for one mine type.

    Parameters
    ----------
    name
        Short identifier, unique within a profile file.
    sd_time, sda_time
        Distributions of the time (days since emplacement) at which SD and SDA
        are due.
    sd_success, sda_success
        Beta beliefs on ``r_sd`` and ``r_sda``, the probabilities that each
        mechanism works when due. Point results use their means.
    provenance
        Design bound, test report or field evidence.
    source
        Free text: document, test or survey the numbers come from.
    label
        One line shown with every result, e.g. "design bound — not a field measurement".
    illustrative
        True for made-up example profiles: their results are not findings.

    Notes
    -----
    Parameters may be arrays that broadcast together (e.g. one ``Beta`` per
    hazard after evidence updates); the profile's :attr:`param_shape` is their
    broadcast shape.

    Examples
    --------
    >>> from mineaction.domain.residual_hazard import Beta, PointMass
    >>> p = ReliabilityProfile(
    ...     name="example",
    ...     sd_time=PointMass(at_days=30), sd_success=Beta(9, 1),
    ...     sda_time=PointMass(at_days=120), sda_success=Beta(99, 1),
    ...     provenance="design bound", source="worked example",
    ... )
    >>> p.r_sd, p.r_sda, p.provenance
    (0.9, 0.99, <Provenance.DESIGN_BOUND: 'design bound'>)
    >>> ReliabilityProfile(  # doctest: +ELLIPSIS
    ...     "bad", PointMass(30), Beta(9, 1), PointMass(120), Beta(99, 1), "rumour", ""
    ... )
    Traceback (most recent call last):
    ...
    mineaction.errors.InvalidValue: provenance: 'rumour' is not one of design bound, test report, ...
    """

    name: str
    sd_time: TimeDistribution
    sd_success: Beta
    sda_time: TimeDistribution
    sda_success: Beta
    provenance: Provenance
    source: str
    label: str = ""
    illustrative: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidValue(f"name: expected a non-empty text, got {self.name!r}")
        for field in ("sd_time", "sda_time"):
            if not isinstance(getattr(self, field), TimeDistribution):
                raise InvalidValue(
                    f"{field}: expected a time distribution, got {getattr(self, field)!r}"
                )
        for field in ("sd_success", "sda_success"):
            if not isinstance(getattr(self, field), Beta):
                raise InvalidValue(f"{field}: expected a Beta belief, got {getattr(self, field)!r}")
        try:
            object.__setattr__(self, "provenance", Provenance(self.provenance))
        except ValueError:
            allowed = ", ".join(p.value for p in Provenance)
            raise InvalidValue(f"provenance: {self.provenance!r} is not one of {allowed}") from None
        for field in ("source", "label"):
            if not isinstance(getattr(self, field), str):
                raise InvalidValue(f"{field}: expected text, got {getattr(self, field)!r}")
        _ = self.param_shape  # raises when the parameter shapes do not broadcast

    @property
    def r_sd(self) -> Param:
        """Point value (Beta mean) of the probability that self-destruct works."""
        return self.sd_success.mean

    @property
    def r_sda(self) -> Param:
        """Point value (Beta mean) of the probability that self-deactivation works."""
        return self.sda_success.mean

    @property
    def param_shape(self) -> tuple[int, ...]:
        """Broadcast shape of all parameters; ``()`` for a single profile."""
        return broadcast_shape(
            f"profile {self.name!r}",
            sd_time=self.sd_time.param_shape,
            sd_success=self.sd_success.param_shape,
            sda_time=self.sda_time.param_shape,
            sda_success=self.sda_success.param_shape,
        )

    def describe(self) -> str:
        """One line naming the profile and its provenance, for every result.

        Examples
        --------
        >>> shipped_profiles()["ccw-apii-design-bound"].describe()
        "profile 'ccw-apii-design-bound' (design bound): design bound — not a field measurement"
        """
        text = f"profile {self.name!r} ({self.provenance.value})"
        if self.label:
            text += f": {self.label}"
        if self.illustrative:
            text += " [ILLUSTRATIVE EXAMPLE — not a finding]"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain form for YAML (scalar profiles only)."""
        data: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "provenance": self.provenance.value,
            "illustrative": self.illustrative,
            "source": self.source,
        }
        for key, (time_field, success_field) in _MECHANISMS.items():
            data[key] = {
                "time": getattr(self, time_field).to_dict(),
                "success": getattr(self, success_field).to_dict(),
            }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReliabilityProfile:
        """Build a profile from its YAML form; errors name the profile and the field."""
        if not isinstance(data, Mapping):
            raise InvalidValue(f"profile: expected a mapping, got {data!r}")
        where = f"profile {data.get('name')!r}"
        if unknown := set(data) - _TOP_KEYS:
            raise InvalidValue(f"{where}: unknown keys {sorted(unknown)}")
        kwargs: dict[str, Any] = {
            k: data[k] for k in ("name", "label", "illustrative") if k in data
        }
        for key in ("provenance", "source", *_MECHANISMS):
            if key not in data:
                raise InvalidValue(f"{where}: missing {key!r}")
        kwargs["provenance"] = data["provenance"]
        kwargs["source"] = str(data["source"]).strip()
        for key, (time_field, success_field) in _MECHANISMS.items():
            part = data[key]
            if not isinstance(part, Mapping) or set(part) != {"time", "success"}:
                raise InvalidValue(f"{where}: {key}: expected keys 'time' and 'success'")
            try:
                kwargs[time_field] = time_distribution_from_dict(part["time"])
                kwargs[success_field] = Beta.from_dict(part["success"])
            except (InvalidValue, TypeError) as exc:
                raise InvalidValue(f"{where}: {key}: {exc}") from None
        if not isinstance(kwargs.get("illustrative", False), bool):
            raise InvalidValue(f"{where}: illustrative: expected true or false")
        try:
            return cls(**kwargs)
        except InvalidValue as exc:
            raise InvalidValue(f"{where}: {exc}") from None


def load_profiles(path: str | Path) -> dict[str, ReliabilityProfile]:
    """Read the profiles of a YAML file, keyed by name (in file order).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = pathlib.Path(tempfile.mkdtemp()) / "profiles.yaml"
    >>> save_profiles(shipped_profiles().values(), tmp)
    >>> load_profiles(tmp) == shipped_profiles()
    True
    """
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InvalidValue(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("profiles"), list):
        raise InvalidValue(f"{path}: expected a mapping with a 'profiles' list")
    profiles: dict[str, ReliabilityProfile] = {}
    for entry in document["profiles"]:
        try:
            profile = ReliabilityProfile.from_dict(entry)
        except InvalidValue as exc:
            raise InvalidValue(f"{path}: {exc}") from None
        if profile.name in profiles:
            raise InvalidValue(f"{path}: profile name {profile.name!r} appears twice")
        profiles[profile.name] = profile
    return profiles


def save_profiles(profiles: Iterable[ReliabilityProfile], path: str | Path) -> None:
    """Write profiles as YAML that :func:`load_profiles` reads back unchanged."""
    document = {"profiles": [p.to_dict() for p in profiles]}
    header = (
        "# Reliability profiles of non-persistent anti-personnel mines (mineaction).\n"
        "# Hazard assumptions for civilians only: a self-deactivated mine still holds\n"
        "# explosive, and elapsed time is never a land-release method.\n"
    )
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    Path(path).write_text(header + text, encoding="utf-8")


def shipped_profiles() -> dict[str, ReliabilityProfile]:
    """Profiles shipped with mineaction: the CCW design bound and illustrative degraded ones.

    Examples
    --------
    >>> sorted(shipped_profiles())
    ['ccw-apii-design-bound', 'degraded-field-example-a', 'degraded-field-example-b']
    >>> [p.illustrative for p in shipped_profiles().values()]
    [False, True, True]
    """
    folder = importlib.resources.files("mineaction") / "data" / "reliability_profiles"
    profiles: dict[str, ReliabilityProfile] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            with importlib.resources.as_file(entry) as path:
                loaded = load_profiles(path)
            if clash := profiles.keys() & loaded.keys():
                raise InvalidValue(
                    f"{entry.name}: profile names {sorted(clash)} are already shipped"
                )
            profiles.update(loaded)
    return profiles
