"""Report tables as people and spreadsheets see them: rounded, and safe to open.

Apart from :mod:`mineaction.reports.writers` so that the web can send a
table as CSV without loading matplotlib.
"""

from __future__ import annotations

import io

import pandas as pd

from mineaction.domain.spreadsheet import neutralise
from mineaction.reports.model import ReportTable

__all__ = ["display_frame", "flat_frame", "spreadsheet_frame", "table_csv"]


def display_frame(table: ReportTable) -> pd.DataFrame:
    """The table as shown to people: areas in whole m², counts as integers, labels kept."""
    frame = table.frame.copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column].round(0).astype("int64")
    return frame


def flat_frame(table: ReportTable) -> pd.DataFrame:
    """The displayed table with its row labels as named columns: what a file holds, no unnamed index column."""
    frame = display_frame(table)
    if isinstance(frame.index, pd.RangeIndex):
        return frame.reset_index(drop=True)
    if any(name is None for name in frame.index.names):
        raise ValueError(f"table {table.key}: its row labels need a name to head their column")
    return frame.reset_index()


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` safe to open in a spreadsheet: text cells and labels quoted where they would run as formulas."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.index = _labels(safe.index)
    safe.columns = _labels(safe.columns)
    return safe


def _labels(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([list(level.map(neutralise)) for level in index.levels])
    return index.map(neutralise)


def table_csv(table: ReportTable) -> str:
    """One table as CSV text (header row, its labels first), as the web sends it."""
    out = io.StringIO()
    spreadsheet_frame(flat_frame(table)).to_csv(out, index=False)
    return out.getvalue()
