"""Tables of the review queue: imports and the field reports they bring.

Field data never goes straight into the register. Each imported feature or
form submission becomes a *field report* (submitted → approved, rejected or
conflict), as in IMSMA; a reviewer's approval applies it through the Writer
as a new version. The queue lives in the register's own database so that an
import is one transaction with everything else (they are no GIS layers:
revision 0001 lists only the entities' tables in ``gpkg_contents``).

``content_hash`` is unique: importing the same feature twice adds nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from mineaction.storage.column_types import TIMESTAMP, JSONText

__all__ = ["REPORT_STATUSES", "add_review_tables"]

#: submitted → approved | rejected | conflict (based on an outdated version)
REPORT_STATUSES = ("submitted", "approved", "rejected", "conflict")


class JSONObjectText(JSONText):
    """A JSON object kept as TEXT; text given for it is taken as already encoded.

    Imports encode a million reports' values a column at a time, one
    ``json.dumps`` per distinct value (:mod:`mineaction.io.importer`), and the
    queue stores that text as it is. A dict is encoded here as by JSONText;
    reads always return the dict.
    """

    cache_ok = True
    text_is_encoded = True

    def process_bind_param(self, value, dialect):
        return value if isinstance(value, str) else super().process_bind_param(value, dialect)


def add_review_tables(metadata: sa.MetaData, dialect: str) -> None:
    """Add ``field_import`` and ``field_report`` to the register's metadata.

    Both backends get the same columns; ``dialect`` is accepted so that a
    backend-specific type can be chosen here later without touching callers.
    """
    del dialect  # same definition on GeoPackage and PostGIS today
    sa.Table(
        "field_import",
        metadata,
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("source_name", sa.Text, nullable=False),
        sa.Column("source_sha256", sa.Text, nullable=False),
        sa.Column("source_format", sa.Text, nullable=False),
        sa.Column("mapping", sa.Text, nullable=False),
        sa.Column("imported_at", TIMESTAMP, nullable=False),
        sa.Column("imported_by", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("features", sa.Integer, nullable=False),
        sa.Column("submitted", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        comment="One import of a source file or form export into the review queue.",
    )
    report = sa.Table(
        "field_report",
        metadata,
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.Text, nullable=False, unique=True),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("import_id", sa.Text, nullable=False),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),  # add | update | delete | release
        # the organisation the report is for (its submitter's), which scopes who lists and reviews it;
        # NULL: a programme-wide record (organisation, place ...), or an owner only its approval will know
        sa.Column("organisation_id", sa.Text),
        sa.Column("target_id", sa.Text),  # record an update applies to
        sa.Column("base_version", sa.Integer),  # version the field team saw
        sa.Column("field_values", JSONObjectText, nullable=False),
        sa.Column("geometry_wkb", sa.LargeBinary),  # lon/lat WGS 84, checked at import
        sa.Column("depends_on", JSONText),  # {link field: id of the field report that creates it}
        sa.Column("content_hash", sa.Text, nullable=False, unique=True),
        sa.Column("source_feature", sa.Text, nullable=False),
        sa.Column("attachments", JSONText),  # [{"name", "path", "sha256"}]
        # not indexed: four values, and approving a million reports would move a million index entries
        # (0.8 s in W4); approval finds its reports by import, entity and fid, the index below
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
        sa.Column("submitted_by", sa.Text, nullable=False),
        sa.Column("reviewed_at", TIMESTAMP),
        sa.Column("reviewed_by", sa.Text),
        sa.Column("review_note", sa.Text),
        sa.Column("record_id", sa.Text),
        sa.Column("record_version", sa.Integer),
        comment="Field reports awaiting review (submitted) or reviewed; approval writes the register.",
    )
    # approval pages through an import entity by entity, in fid order
    sa.Index("ix_field_report_import_entity_fid", report.c.import_id, report.c.entity, report.c.fid)
    # a reviewer's screen pages through their organisations' reports in fid order: with 200,000 reports a
    # page of an organisation with none takes 8 ms instead of 142 ms; queueing them costs ~0.3-0.6 s more
    sa.Index("ix_field_report_organisation_fid", report.c.organisation_id, report.c.fid)
