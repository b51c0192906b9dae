"""Storage's one front: what ``mineaction.storage`` exports, complete and nothing more."""

from __future__ import annotations

import mineaction.storage as storage

EXPORTED = {
    # the register, its unit of work and its records
    "Register", "Writer", "Record", "FeatureSet", "GEOMETRY_COLUMN", "collector_paused", "utcnow",
    "is_postgres_url",
    # transactions and error translation
    "one_writer", "reading", "writing", "translate_errors", "database_message", "snapshot", "Snapshot",
    # named reads
    "Scope", "Filter", "CQL2_SUPPORTED", "scoped_records", "scoped_record", "scoped_history", "scoped_counts", "scoped_columns",
    "latest_changeset", "live_id", "stored_version", "admin_areas_at", "admin_areas_stamp",
    "tile_rows", "postgis_tile",
    # statistics
    "GROUPINGS", "Balance", "ContaminatedArea", "admin_ancestors", "ap_mine_conditions", "casualty_counts",
    "clearance_methods", "closed_suspected_release", "completed_clearance", "contaminated_areas",
    "eo_destroyed", "eore_audience", "hazard_balance", "released_area", "released_by_hazard", "residual_events",
    "victims_per_accident",
    # accounts and the audit logs
    "linked_admin_pcodes",
    "AUDIT_LOGS", "log_entries", "append_personal_reads",
}


def test_the_front_exports_the_public_api() -> None:
    """Exactly these names, once each (ruff's RUF022 keeps ``__all__`` in its sorted order)."""
    assert set(storage.__all__) == EXPORTED
    assert len(storage.__all__) == len(set(storage.__all__))
    assert all(hasattr(storage, name) for name in storage.__all__)


def test_the_front_lends_no_table_or_engine() -> None:
    """Nothing exported is a SQLAlchemy object: upper layers get plain values, records and dataclasses."""
    exported = [getattr(storage, name) for name in storage.__all__]
    assert not [value for value in exported if type(value).__module__.startswith("sqlalchemy")]
