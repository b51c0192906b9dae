"""Field data in and out: imports into the review queue, XLSForms, exports.

Imports read what field tools produce (GeoPackage, GeoJSON, zipped
Shapefile, KML/KMZ, GPX, CSV with lon/lat, WKT or MGRS, ODK Central and Kobo
submissions), map it onto the register with a YAML mapping, validate every
feature with the register's own rules, and queue field reports for review.
Exports write the register, or part of it, filtered by field sensitivity.
"""

from mineaction.io.errors import SourceError, UnsafeSource
from mineaction.io.export import PersonalDataRefused, export
from mineaction.io.importer import ImportResult, import_file
from mineaction.io.mapping import Mapping
from mineaction.io.odk import import_submissions
from mineaction.io.validation import Problem, ValidationReport
from mineaction.io.xlsform import write_forms

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
