"""The annual report: land release, EO destroyed, Article 7 tables, casualties, EORE.

Everything is aggregated in the database from the ledger, so the report's
totals are the ledger's totals, within the caller's scope: the records of the
organisations it may read (a programme-wide account or the command line's
local operator: all of them). Personal data never enter a report: casualty
and EORE tables are counts by sex and age group, with small counts suppressed
(primary and secondary, :mod:`mineaction.domain.disclosure`). The web's
casualty figures are this same table (:mod:`mineaction.reports.published`).

Article 7 of the Anti-Personnel Mine Ban Convention asks each year for the
areas known or suspected to contain anti-personnel mines (location, type and
quantity where known) and the progress in releasing them; Article 7 of the
Convention on Cluster Munitions asks the same for cluster munition remnants.
Locations are given at admin-area level, never as coordinates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import pandas as pd

import mineaction
from mineaction.access import Principal, ScopedReader
from mineaction.domain.disclosure import suppress_small_counts
from mineaction.domain.entities import ENTITIES
from mineaction.domain.residual_hazard import ReliabilityProfile, check_ccw_bounds, shipped_profiles
from mineaction.domain.residual_hazard.ccw_bounds import CCW_ROW_COLUMNS
from mineaction.reports import DEFAULT_SUPPRESSION
from mineaction.reports.model import Report, ReportTable
from mineaction.storage import (
    ContaminatedArea,
    Register,
    admin_ancestors,
    casualty_counts,
    contaminated_areas,
    eo_destroyed,
    eore_audience,
    released_area,
    residual_events,
)

__all__ = ["DEFAULT_SUPPRESSION", "annual_report", "casualty_table"]

_RELEASE_TYPES = ("cancelled", "reduced", "cleared")


def _year(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


def _admin_names(register: Register) -> dict[str, str]:
    return {a["pcode"]: a["name_en"] for a in register.records("admin_area")}


def _pivot(rows: list[dict], index: str, columns: str, values: str, order: tuple[str, ...] = ()) -> pd.DataFrame:
    """Cross-table with the ``order`` columns always present, and total row and column."""
    frame = pd.DataFrame(rows, columns=[index, columns, values])
    table = frame.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", fill_value=0)
    table = table.reindex(columns=[*order, *(c for c in table.columns if c not in order)], fill_value=0)
    table["total"] = table.sum(axis=1)
    table.loc["total"] = table.sum(axis=0)
    table.columns.name = None
    return table


def _named(table: pd.DataFrame, column: str, names: dict[str, str]) -> pd.DataFrame:
    """``table`` keyed by codes, with each code's name as its first column (the total row's is empty)."""
    table.insert(0, column, [names.get(code, code) if code != "total" else "" for code in table.index])
    return table


def _land_release_tables(reader: ScopedReader, period: tuple[dt.date, dt.date]) -> list[ReportTable]:
    register = reader.register
    scope = reader.scope(ENTITIES["released_part"])
    labels = _admin_names(register)
    orgs = {o.id: o["acronym"] or o["name"] for o in register.records("organisation")}
    by_month = released_area(register, by=("month", "release_type"), period=period, scope=scope)
    by_admin = released_area(register, by=("admin_pcode", "release_type"), period=period, admin_level=2,
                             scope=scope)
    by_method = released_area(register, by=("release_type", "method"), period=period, scope=scope)
    by_org = released_area(register, by=("organisation_id", "release_type"), period=period, scope=scope)
    for row in by_admin:
        row["admin_pcode"] = row["admin_pcode"] or "unknown"
    admin_table = _named(_pivot(by_admin, "admin_pcode", "release_type", "area_m2", _RELEASE_TYPES), "admin_name",
                         {**labels, "unknown": "unknown"})
    org_table = _named(_pivot(by_org, "organisation_id", "release_type", "area_m2", _RELEASE_TYPES), "organisation",
                       orgs)
    method_frame = pd.DataFrame(by_method, columns=["release_type", "method", "area_m2", "parts"])
    total = pd.DataFrame([["total", "", method_frame["area_m2"].sum(), method_frame["parts"].sum()]],
                         columns=method_frame.columns)
    method_frame = pd.concat([method_frame, total], ignore_index=True)
    note = "m², geodesic; each square metre counted once, under the method that released it"
    return [
        ReportTable("land_release_by_month", "Land released by month and type (m²)",
                    _pivot(by_month, "month", "release_type", "area_m2", _RELEASE_TYPES), note),
        ReportTable("land_release_by_admin", "Land released by admin area (level 2) and type (m²)",
                    admin_table, note),
        ReportTable("land_release_by_method", "Land released by type and method (m², parts)", method_frame, note),
        ReportTable("land_release_by_organisation", "Land released by organisation and type (m²)",
                    org_table, note),
    ]


def _eo_table(reader: ScopedReader, period: tuple[dt.date, dt.date]) -> ReportTable:
    rows = eo_destroyed(reader.register, period, reader.scope(ENTITIES["eo_find"]))
    order = ("functional", "self_destructed", "self_deactivated", "unknown", "other")
    return ReportTable("eo_destroyed", "Explosive ordnance found and destroyed, by category and condition (items)",
                       _pivot(rows, "category", "condition", "items", order),
                       "self-deactivated items still contain explosive and were destroyed as EO")


def _status_at_end(area: ContaminatedArea, end: dt.date) -> str:
    """A back-filled hazard closed after the period was not closed at its end: worked on if land was released."""
    if area.backfilled and area.status == "closed" and area.closed_on is not None and area.closed_on >= end:
        return "worked_on" if area.released_m2 > 0 else "active"
    return area.status


def _treaty_table(reader: ScopedReader, period: tuple[dt.date, dt.date], as_at: dt.datetime, code: str, key: str,
                  title: str) -> ReportTable:
    """The areas as at the period's end: as the register recorded them then, so later edits leave the year's
    table as it was; hazards entered only afterwards (a migration) as recorded now, status from their dates."""
    register = reader.register
    labels = _admin_names(register)
    rows = contaminated_areas(register, code, period, reader.scope(ENTITIES["hazard"]),
                              as_of=as_at)
    in_year = {r["release_type"]: r["area_m2"]
               for r in released_area(register, by=("release_type",), period=period, contamination=code,
                                      scope=reader.scope(ENTITIES["released_part"]))}
    frame = pd.DataFrame(
        [{"area": r.ref, "admin area": None if r.admin_pcode is None else labels.get(r.admin_pcode, r.admin_pcode),
          "type": r.hazard_type, "status": _status_at_end(r, period[1]),
          "remaining m² at year end": max(r.area_m2 - r.released_m2, 0.0),
          "estimated quantity": "unknown" if r.estimated_items is None else int(r.estimated_items)}
         for r in rows],
        columns=["area", "admin area", "type", "status", "remaining m² at year end", "estimated quantity"],
    )
    remaining = float(frame["remaining m² at year end"].sum()) if len(frame) else 0.0
    note = (f"{len(frame)} areas as at {period[1] - dt.timedelta(days=1):%d %B %Y}; "
            f"{remaining:,.0f} m² remaining at year end; released during the year: "
            + ", ".join(f"{t} {in_year.get(t, 0.0):,.0f} m²" for t in _RELEASE_TYPES)
            + ". Locations are given by admin area only.")
    return ReportTable(key, title, frame, note)


def _ccw_table(reader: ScopedReader, profiles: Mapping[str, ReliabilityProfile]) -> ReportTable:
    """Each reliability profile that hazards name against the CCW Amended Protocol II bounds."""
    named = reader.aggregate("hazard", ["residual_profile"])
    rows = []
    for row in sorted((r for r in named if r["residual_profile"]), key=lambda r: r["residual_profile"]):
        name = row["residual_profile"]
        figures = (check_ccw_bounds(profiles[name]).row() if name in profiles
                   else {"profile": name, "verdict": "profile not known to this report: not judged"})
        # two decimals as text: the report rounds numbers to whole m², which would show 0.4 in 1000 as 0
        figures = {k: f"{v:.2f}" if isinstance(v, float) else v for k, v in figures.items()}
        rows.append({**figures, "hazards": int(row["count"])})
    return ReportTable("ccw_bounds", "Residual hazard: reliability profiles against the CCW Amended Protocol II bounds",
                       pd.DataFrame(rows, columns=[*CCW_ROW_COLUMNS, "hazards"]),
                       "Technical Annex 3(a): ≤ 10% fail to self-destruct by day 30, ≤ 1 in 1000 functional at day "
                       "120. Design bounds, not field measurements: meeting them never makes land safe.")


def casualty_table(reader: ScopedReader, period: tuple[dt.date, dt.date] | None, threshold: int) -> ReportTable:
    """Casualties by group and outcome (rows), sex and age (columns), small counts suppressed;
    ``period`` None: every accident on record."""
    counted = casualty_counts(reader.register, period, reader.scope(ENTITIES["victim"]))
    rows = [{"group": f"{g} {o}", "sex_age": f"{s} {a}", "n": n} for g, o, s, a, n in counted]
    columns = [f"{s} {a}" for s in ("female", "male", "unknown") for a in ("child", "adult", "age unknown")]
    index = [f"{g} {o}" for g in ("civilian", "deminer") for o in ("killed", "injured")]
    counts = pd.DataFrame(rows, columns=["group", "sex_age", "n"]).pivot_table(
        index="group", columns="sex_age", values="n", aggfunc="sum", fill_value=0)
    counts = counts.reindex(index=index, columns=columns, fill_value=0).astype(int)
    counts.columns.name = None
    if counts.to_numpy().sum():  # an empty table keeps every column, all zero
        counts = counts.loc[:, counts.sum(axis=0) > 0]
    published = suppress_small_counts(counts, threshold)
    return ReportTable("casualties", "Casualties by group, outcome, sex and age (persons)", published,
                       f"counts below {threshold} are shown as '<{threshold}'; 'x' hides a cell that would reveal one")


def _eore_table(reader: ScopedReader, period: tuple[dt.date, dt.date], threshold: int) -> ReportTable:
    register = reader.register
    rows = eore_audience(register, period, reader.scope(ENTITIES["eore_session"]))
    ancestors = admin_ancestors(register, 2)
    names = _admin_names(register)
    frame = pd.DataFrame([("unknown" if p is None else names.get(ancestors.get(p, p), p or "unknown"), *map(int, v))
                          for p, *v in rows],
                         columns=["admin area", "girls", "boys", "women", "men"])
    counts = frame.groupby("admin area").sum()
    published = suppress_small_counts(counts, threshold) if len(counts) else counts
    return ReportTable("eore_audience", "Risk education audience by admin area (level 2), sex and age (persons)",
                       published, f"girls/boys: under 18; counts below {threshold} suppressed")


def _residual_table(reader: ScopedReader, period: tuple[dt.date, dt.date]) -> ReportTable:
    names = _admin_names(reader.register)
    rows = residual_events(reader.register, period, reader.scope(ENTITIES["residual_event"]))
    frame = pd.DataFrame(
        [{"event": r["ref"], "flagged on": r["flagged_on"], "admin area": names.get(r["admin_pcode"], r["admin_pcode"]),
          "find": r["find"], "items": r["quantity"], "released part": r["released_part"],
          "released on": r["released_on"], "task": r["task"] or "",
          "where": "inside" if r["inside"] else f"{r['distance_m']:.1f} m outside", "review": r["state"],
          "cause": r["cause"] or ""} for r in rows],
        columns=["event", "flagged on", "admin area", "find", "items", "released part", "released on", "task",
                 "where", "review", "cause"],
    )
    inside = int(sum(1 for r in rows if r["inside"]))
    return ReportTable("residual_contamination", "Residual contamination: finds in land already released", frame,
                       f"{len(rows)} events, {inside} inside released land, {len(rows) - inside} within the 5 m "
                       "tolerance of its edge (handheld GNSS accuracy)")


def annual_report(
    register: Register,
    year: int,
    *,
    scope: Principal,
    suppression_threshold: int = DEFAULT_SUPPRESSION,
    progress: Callable[[str], None] | None = None,
    as_at: dt.datetime | None = None,
    profiles: Mapping[str, ReliabilityProfile] | None = None,
) -> Report:
    """Build the annual report for calendar ``year`` from what ``scope`` may read of the register as it is now;
    the Article 7 tables from the register as recorded at ``as_at``, by default the end of the year; the
    residual-hazard profiles hazards name judged from ``profiles`` (default: the shipped ones)."""
    say = progress or (lambda step: None)
    reader = ScopedReader(register, scope, purpose=f"annual report {year}")
    period = _year(year)
    as_at = as_at or dt.datetime.combine(period[1], dt.time(), tzinfo=dt.UTC)
    programme = register.programme
    report = Report(
        title=f"Mine action annual report {year}",
        programme=programme.name,
        period=period,
        as_of=register.latest_change(),
        software_version=mineaction.__version__,
        fictional=programme.fictional,
    )
    say("land release")
    report.tables += _land_release_tables(reader, period)
    say("explosive ordnance")
    report.tables.append(_eo_table(reader, period))
    report.tables.append(_residual_table(reader, period))
    say("Article 7 tables")
    report.tables.append(_treaty_table(reader, period, as_at, "ap_mine", "apmbc_article7",
                                       "APMBC Article 7: areas known or suspected to contain anti-personnel mines"))
    report.tables.append(_treaty_table(reader, period, as_at, "cmr", "ccm_article7",
                                       "CCM Article 7: areas contaminated by cluster munition remnants"))
    report.tables.append(_ccw_table(reader, shipped_profiles() if profiles is None else profiles))
    say("casualties and risk education")
    report.tables.append(casualty_table(reader, period, suppression_threshold))
    report.tables.append(_eore_table(reader, period, suppression_threshold))
    return report
