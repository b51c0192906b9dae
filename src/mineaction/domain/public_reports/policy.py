"""Intake policy of public reports: the numbers a programme may tune, in one place.

Stored as a programme setting in the next round (``programme_setting``, like
``public_locations``), so every server of a register applies the same rules;
the defaults are the project's own choice, not a standard (docs/civilians.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["IntakePolicy"]


@dataclass(frozen=True)
class IntakePolicy:
    """Limits and thresholds of the public reporting channel."""

    #: the number the safety advice tells people to call (Ukraine: 101, the State Emergency Service)
    emergency_number: str = "112"
    #: per-source throttle (source: client address or partner key), enforced by the shared database throttle
    reports_per_source_per_minute: int = 3
    reports_per_source_per_hour: int = 20
    #: all sources together per minute, above which new challenges ask for the harder proof of work
    reports_per_minute_alert: int = 600
    #: proof of work: leading zero bits of SHA-256 the browser must find (16: about 65,000 hashes)
    pow_difficulty_bits: int = 16
    pow_difficulty_bits_under_load: int = 20
    #: how long an issued challenge stays valid; used challenge ids need keeping only this long
    challenge_ttl: dt.timedelta = dt.timedelta(minutes=30)
    #: a form sent sooner than this after its challenge was issued was not filled in by a person
    min_fill_time: dt.timedelta = dt.timedelta(seconds=5)
    #: photos: what is accepted, and the size a stored copy is re-encoded to
    photo_max_bytes: int = 15_000_000
    photo_max_pixels: int = 50_000_000
    photo_max_side: int = 1600
    photo_jpeg_quality: int = 80
    photos_per_report: int = 3
    #: duplicate folding: reports within this distance and time window are of the same item
    fold_distance_m: float = 50.0
    fold_window: dt.timedelta = dt.timedelta(hours=72)
    #: days an EOD spot task from a report is given: sooner when people are near (targets are the programme's to set)
    spot_task_days_people_near: int = 1
    spot_task_days: int = 3
    #: how far a reported time may lie ahead of the server clock (phones' clocks drift)
    clock_skew: dt.timedelta = dt.timedelta(minutes=10)

    def __post_init__(self) -> None:
        numbers = {f.name: getattr(self, f.name) for f in fields(self) if f.type in ("int", "float")}
        bad = [name for name, value in numbers.items() if value <= 0]
        if bad or not self.pow_difficulty_bits <= self.pow_difficulty_bits_under_load <= 32:
            raise ValueError(f"intake policy: {', '.join(bad) or 'pow_difficulty_bits_under_load'} out of range")

    def pow_difficulty(self, reports_last_minute: int) -> int:
        """Difficulty of the next challenge: harder while the channel as a whole is flooded.

        The per-source throttle stops one sender; a flood from many addresses
        is slowed instead by making each report cost about 16 times the work.
        """
        if reports_last_minute > self.reports_per_minute_alert:
            return self.pow_difficulty_bits_under_load
        return self.pow_difficulty_bits

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (durations in seconds) for the programme setting."""
        return {k: v.total_seconds() if isinstance(v, dt.timedelta) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IntakePolicy:
        durations = {f.name for f in fields(cls) if f.type == "dt.timedelta"}
        values: dict[str, Any] = {k: dt.timedelta(seconds=v) if k in durations else v for k, v in data.items()}
        return cls(**values)
