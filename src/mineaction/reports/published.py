"""The tables the web publishes: the dashboard's figures and the five report downloads.

Built here, not in the web layer, so that every interface publishes a table
the same way: aggregated in the database within the caller's scope (the
organisations it may read), and counts of people under the annual report's
disclosure control. The casualty download *is* the annual report's casualty
table (every accident on record instead of one year), and the dashboard's
casualty figures are that table's totals column: two tables suppressed
separately could be subtracted from one another to recover a hidden cell,
one table cannot. The other tables count records, items and square metres,
not people, and are published whole, as in the annual report.

A casualty table that cannot be published at all (four people, each alone in
their group, whose small total pins every one of them down) is refused as
the annual report refuses it: the download answers with the reason, and the
dashboard leaves its casualty figures out and says why under ``withheld``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from mineaction.access import ScopedReader
from mineaction.domain.entities import ENTITIES
from mineaction.errors import InvalidValue
from mineaction.reports import DEFAULT_SUPPRESSION
from mineaction.reports.annual import casualty_table
from mineaction.reports.model import ReportTable
from mineaction.storage import released_area

__all__ = ["TABLES", "dashboard", "published_table"]

#: download name → (entity, grouping fields, summed field, title) of the tables that count records
_COUNTS: dict[str, tuple[str, tuple[str, ...], str | None, str]] = {
    "land-release": ("released_part", ("release_type", "method"), "area_m2", "Land released by type and method"),
    "hazards": ("hazard", ("hazard_type", "status"), "area_m2", "Hazardous areas by type and status"),
    "eo-finds": ("eo_find", ("category", "condition"), "quantity", "EO finds by category and condition"),
    "eore": ("eore_session", ("eore_method",), None, "Risk education sessions by method"),
}
TABLES = ("land-release", "hazards", "eo-finds", "casualties", "eore")


def _counts(reader: ScopedReader, entity_name: str, by: tuple[str, ...], total: str | None) -> pd.DataFrame:
    rows = reader.aggregate(entity_name, list(by), total=total)
    frame = pd.DataFrame(rows, columns=[*by, "count", *([total] if total else [])])
    return frame.set_index(list(by))


def published_table(reader: ScopedReader, name: str, *, suppression_threshold: int = DEFAULT_SUPPRESSION) -> ReportTable:
    """One of the web's report downloads (:data:`TABLES`), from what the reader may see."""
    if name == "casualties":
        return casualty_table(reader, None, suppression_threshold)
    if name not in _COUNTS:
        raise InvalidValue(f"no published table {name!r}", hint=f"use one of {', '.join(TABLES)}")
    entity_name, by, total, title = _COUNTS[name]
    return ReportTable(name.replace("-", "_"), title, _counts(reader, entity_name, by, total))


def _casualties(reader: ScopedReader, threshold: int) -> list[dict[str, Any]]:
    """The casualty table's totals by group and outcome, as published: hidden counts are None."""
    frame = casualty_table(reader, None, threshold).frame
    totals = frame["Total"] if "Total" in frame.columns else pd.Series("0", index=frame.index)
    out = []
    for label, shown in totals.drop("Total", errors="ignore").items():
        group, outcome = str(label).split(" ", 1)
        text = str(shown)
        out.append({"victim_group": group, "outcome": outcome, "count": int(text) if text.isdigit() else None,
                    "shown": text})
    return out


def dashboard(reader: ScopedReader, *, suppression_threshold: int = DEFAULT_SUPPRESSION) -> dict[str, Any]:
    """Land release over time, hazards by status, EO by condition, casualties, from what the reader may see;
    ``withheld`` names the figures left out because they cannot be published, and why."""
    by_month = released_area(reader.register, by=("month", "release_type"),
                             scope=reader.scope(ENTITIES["released_part"]))
    withheld = {}
    try:
        casualties = _casualties(reader, suppression_threshold)
    except InvalidValue as exc:  # the disclosure rules refuse the table
        casualties, withheld["casualties"] = [], str(exc)
    return {
        "land_release_by_month": [{"month": r["month"], "release_type": r["release_type"],
                                   "area_m2": r["area_m2"]} for r in by_month],
        "hazards_by_status": reader.aggregate("hazard", ["status"], total="area_m2"),
        "eo_by_condition": reader.aggregate("eo_find", ["condition"], total="quantity"),
        "casualties": casualties,
        "withheld": withheld,
    }
