"""Reports: land release statistics, treaty (Article 7) tables, casualty and EORE statistics.

The package itself stays light (no pandas), so the command line can show the
report's defaults without loading what builds the report.
"""

__all__ = ["DEFAULT_SUPPRESSION"]

DEFAULT_SUPPRESSION = 5
"""Counts of people below this are suppressed in published tables."""
