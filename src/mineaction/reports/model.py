"""What a report is: titled tables and figures, with the facts that make it reproducible."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["Report", "ReportTable"]


@dataclass(frozen=True)
class ReportTable:
    key: str  # file and sheet name
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class Report:
    """A report states the register's as-of time and the software version it came from."""

    title: str
    programme: str
    period: tuple[dt.date, dt.date]
    as_of: dt.datetime
    software_version: str
    fictional: bool
    tables: list[ReportTable] = field(default_factory=list)
    figures: list[tuple[str, Path]] = field(default_factory=list)

    @property
    def provenance(self) -> dict[str, str]:
        return {
            "report": self.title,
            "programme": self.programme + (" — FICTIONAL DATA" if self.fictional else ""),
            "period": f"{self.period[0]:%Y-%m-%d} to {self.period[1] - dt.timedelta(days=1):%Y-%m-%d}",
            "register as of (UTC)": f"{self.as_of:%Y-%m-%d %H:%M:%S}",
            "software": f"mineaction {self.software_version}",
        }

    def table(self, key: str) -> ReportTable:
        return next(t for t in self.tables if t.key == key)
