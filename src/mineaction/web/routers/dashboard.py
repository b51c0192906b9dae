"""Dashboard figures and report downloads: tables built by :mod:`mineaction.reports.published`.

The tables come from the reader's scope with the annual report's disclosure
control, so the web never publishes a count the report would hide.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response

from mineaction.web.deps import Reader

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["dashboard and reports"])


@router.get("/dashboard")
def dashboard(reader: Reader) -> dict[str, Any]:
    """Land release over time, hazards by status, EO by condition, casualties (small counts hidden:
    ``count`` null, ``shown`` e.g. ``<5``)."""
    from mineaction.reports import published  # here: pandas and SciPy would slow the server's start

    return published.dashboard(reader)


@router.get("/reports/{name}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with header"}})
def report(name: Literal["land-release", "hazards", "eo-finds", "casualties", "eore"], reader: Reader) -> Response:
    """A report as CSV, aggregated from the records you may see; counts of people below 5 are suppressed."""
    from mineaction.reports import published
    from mineaction.reports.frames import table_csv

    return Response(table_csv(published.published_table(reader, name)), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
