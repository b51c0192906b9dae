"""Field data in and out: imports into the review queue, XLSForms, exports.

Imports read what field tools produce (GeoPackage, GeoJSON, zipped
Shapefile, KML/KMZ, GPX, CSV with lon/lat, WKT or MGRS, ODK Central and Kobo
submissions), map it onto the register with a YAML mapping, validate every
feature with the register's own rules, and queue field reports for review.
Exports write the register, or part of it, filtered by field sensitivity.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mineaction.io.errors import SourceError, UnsafeSource
    from mineaction.io.export import PersonalDataRefused, export
    from mineaction.io.importer import ImportResult, import_file
    from mineaction.io.mapping import Mapping
    from mineaction.io.odk import import_submissions
    from mineaction.io.validation import Problem, ValidationReport
    from mineaction.io.xlsform import write_forms

#: public name -> the module that defines it; imported on first use (PEP 562), so an
#: export does not pay for the XLSForm writer's openpyxl, nor an import for Arrow writers
_HOME = {
    "SourceError": "errors", "UnsafeSource": "errors", "PersonalDataRefused": "export", "export": "export",
    "ImportResult": "importer", "import_file": "importer", "Mapping": "mapping",
    "import_submissions": "odk", "Problem": "validation", "ValidationReport": "validation",
    "write_forms": "xlsform",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


__all__ = [
    "ImportResult",
    "Mapping",
    "PersonalDataRefused",
    "Problem",
    "SourceError",
    "UnsafeSource",
    "ValidationReport",
    "export",
    "import_file",
    "import_submissions",
    "write_forms",
]
