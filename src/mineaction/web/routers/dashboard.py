"""Dashboard figures and report downloads, aggregated within the reader's scope.

Aggregates never group by personal fields (``ScopedReader.aggregate`` refuses
them), so casualty figures carry no victim's personal data.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response

from mineaction.access import ScopedReader
from mineaction.web.deps import Reader

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["dashboard and reports"])

#: report name → (entity, grouping fields, summed field)
REPORTS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "land-release": ("released_part", ("release_type", "method"), "area_m2"),
    "hazards": ("hazard", ("hazard_type", "status"), "area_m2"),
    "eo-finds": ("eo_find", ("category", "condition"), "quantity"),
    "casualties": ("victim", ("victim_group", "outcome"), None),
    "eore": ("eore_session", ("eore_method",), None),
}


def _release_by_month(reader: ScopedReader) -> list[dict[str, Any]]:
    months: dict[tuple[str, str], float] = defaultdict(float)
    for row in reader.aggregate("released_part", ["released_on", "release_type"], total="area_m2"):
        if row["released_on"] is not None:
            months[(str(row["released_on"])[:7], row["release_type"])] += float(row["area_m2"])
    return [{"month": m, "release_type": t, "area_m2": a} for (m, t), a in sorted(months.items())]


@router.get("/dashboard")
def dashboard(reader: Reader) -> dict[str, Any]:
    """Land release over time, hazards by status, EO by condition, casualties aggregated."""
    return {
        "land_release_by_month": _release_by_month(reader),
        "hazards_by_status": reader.aggregate("hazard", ["status"], total="area_m2"),
        "eo_by_condition": reader.aggregate("eo_find", ["condition"], total="quantity"),
        "casualties": reader.aggregate("victim", ["victim_group", "outcome"]),
    }


@router.get("/reports/{name}.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "CSV, UTF-8 with header"}})
def report(name: Literal["land-release", "hazards", "eo-finds", "casualties", "eore"], reader: Reader) -> Response:
    """A report as CSV, aggregated from the records you may see."""
    entity_name, by, total = REPORTS[name]
    rows = reader.aggregate(entity_name, list(by), total=total)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*by, "count", *([total] if total else [])])
    writer.writeheader()
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
