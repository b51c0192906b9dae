"""The formula-injection rule (:mod:`mineaction.domain.spreadsheet`) for whole Arrow text columns.

Exports write, and imports read, text a column at a time: one regular
expression per column, in Arrow, rather than a Python call per value.
"""

from __future__ import annotations

from typing import cast

import pyarrow as pa
import pyarrow.compute as pc

from mineaction.domain.spreadsheet import NEUTRALISED_PATTERN, QUOTE, UNSAFE_PATTERN

__all__ = ["neutralised_column", "restored_column"]


def _matching(column: pa.Array, pattern: str) -> pa.BooleanArray | None:
    """Which values match ``pattern`` (null for a null value, which stays null); None when none does."""
    matches = pc.match_substring_regex(column, pattern)
    return matches if pc.any(matches).as_py() else None


def neutralised_column(column: pa.Array) -> pa.Array:
    """Text a spreadsheet would run as a formula, with a quote in front; other values as they are."""
    unsafe = _matching(column, UNSAFE_PATTERN)
    if unsafe is None:
        return column
    return cast(pa.Array, pc.if_else(unsafe, pc.utf8_replace_slice(column, 0, 0, QUOTE), column))


def restored_column(column: pa.Array) -> pa.Array:
    """Text read from a spreadsheet file without the quote that kept a formula from running."""
    quoted = _matching(column, NEUTRALISED_PATTERN)
    if quoted is None:
        return column
    return cast(pa.Array, pc.if_else(quoted, pc.utf8_slice_codeunits(column, 1), column))
