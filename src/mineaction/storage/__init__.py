"""Storage: the register on a GeoPackage file or on PostgreSQL/PostGIS.

This is storage's one front. Layers above it open a :class:`Register`, write
through its :class:`Writer`, read :class:`Record` objects, run the named
queries below with plain arguments and get plain rows or dataclasses back.
They never see a table, an engine or a SQLAlchemy expression: storage
answers questions, it does not lend its tables out.
"""

from mineaction.storage.accounts import linked_admin_pcodes
from mineaction.storage.engine import is_postgres_url
from mineaction.storage.errors import database_message, translate_errors
from mineaction.storage.filters import SUPPORTED as CQL2_SUPPORTED
from mineaction.storage.filters import Filter
from mineaction.storage.logs import AUDIT_LOGS, append_personal_reads, log_entries
from mineaction.storage.reads import (
    Scope,
    admin_areas_at,
    admin_areas_stamp,
    latest_changeset,
    live_id,
    scoped_columns,
    scoped_counts,
    scoped_history,
    scoped_record,
    scoped_records,
    stored_version,
)
from mineaction.storage.records import Record
from mineaction.storage.register import FeatureSet, Register
from mineaction.storage.schema import GEOMETRY_COLUMN
from mineaction.storage.snapshots import Snapshot, snapshot
from mineaction.storage.statistics import (
    GROUPINGS,
    Balance,
    ContaminatedArea,
    admin_ancestors,
    ap_mine_conditions,
    casualty_counts,
    clearance_methods,
    closed_suspected_release,
    completed_clearance,
    contaminated_areas,
    eo_destroyed,
    eore_audience,
    hazard_balance,
    released_area,
    released_by_hazard,
    residual_events,
    victims_per_accident,
)
from mineaction.storage.tiles import postgis_tile, tile_rows
from mineaction.storage.transactions import one_writer, reading, writing
from mineaction.storage.unit_of_work import Writer, collector_paused, utcnow

__all__ = [
    "AUDIT_LOGS",
    "CQL2_SUPPORTED",
    "GEOMETRY_COLUMN",
    "GROUPINGS",
    "Balance",
    "ContaminatedArea",
    "FeatureSet",
    "Filter",
    "Record",
    "Register",
    "Scope",
    "Snapshot",
    "Writer",
    "admin_ancestors",
    "admin_areas_at",
    "admin_areas_stamp",
    "ap_mine_conditions",
    "append_personal_reads",
    "casualty_counts",
    "clearance_methods",
    "closed_suspected_release",
    "collector_paused",
    "completed_clearance",
    "contaminated_areas",
    "database_message",
    "eo_destroyed",
    "eore_audience",
    "hazard_balance",
    "is_postgres_url",
    "latest_changeset",
    "linked_admin_pcodes",
    "live_id",
    "log_entries",
    "one_writer",
    "postgis_tile",
    "reading",
    "released_area",
    "released_by_hazard",
    "residual_events",
    "scoped_columns",
    "scoped_counts",
    "scoped_history",
    "scoped_record",
    "scoped_records",
    "snapshot",
    "stored_version",
    "tile_rows",
    "translate_errors",
    "utcnow",
    "victims_per_accident",
    "writing",
]
