"""Operations (issue 18): tasks, progress reports, handovers and their signatories,
non-conformities, residual-contamination events and victim assistance (needs,
referrals, follow-ups), each with its current and history table; new fields on
activity, released_part and qm_activity.

Explicit operations on both backends, listed here as they were at this
revision (never read from ``domain/entities.py``, which moves on): tables with
the register's system columns and their indexes, the triggers that keep every
replaced version in history (re-created on the three tables that gain
columns, so history keeps the new ones too), GeoPackage ``gpkg_contents`` /
``gpkg_geometry_columns`` and R-tree indexes on SQLite, GiST indexes on PostGIS.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

from mineaction.storage import gpkg
from mineaction.storage.column_types import TIMESTAMP, GeoPackageGeometry, JSONText, PostGISGeometry

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_APPEND_ONLY = "history is append-only: versions are never changed or deleted"
_SOFT_DELETE = "records are never deleted: write a new version with deleted=true and a reason"
_NEXT_VERSION = "a record changes only by its next version, with the same id"
_GEOMETRY = "geom"

#: entity: (geometry type, description, [(field, kind)]) as declared at this revision
_NEW_ENTITIES: dict[str, tuple[str | None, str, list[tuple[str, str]]]] = {
    "task": (
        "MULTIPOLYGON", "Task order: an activity over hazards or an area, issued to an operator.",
        [
            ("reference", "text"), ("activity", "text"), ("state", "text"), ("state_party", "text"),
            ("planned_start", "date"), ("deadline", "date"), ("started_on", "date"), ("suspended_by", "text"),
            ("teams", "real"), ("hazard_ids", "codes"), ("planned_area_m2", "real"),
            ("expected_m2_per_team_day", "real"), ("priority_rank", "integer"), ("priority_score", "real"),
            ("priority_explanation", "text"), ("priority_source", "text"), ("access_notes", "text"),
            ("contact_name", "text"), ("contact_phone", "text"), ("admin_pcode", "text"),
            ("organisation_id", "link"),
        ],
    ),
    "progress_report": (
        None, "Daily or weekly progress against a task.",
        [
            ("task_id", "link"), ("reported_on", "date"), ("period_days", "integer"), ("method", "text"),
            ("searched_m2", "real"), ("cleared_m2", "real"), ("reduced_m2", "real"), ("cancelled_m2", "real"),
            ("items_found", "integer"), ("team_days", "real"), ("stoppage_days", "real"),
            ("stoppage_reason", "text"), ("notes", "text"), ("organisation_id", "link"),
        ],
    ),
    "handover": (
        "MULTIPOLYGON", "Released land handed over to its users (IMAS 08.30).",
        [
            ("reference", "text"), ("task_id", "link"), ("handed_over_on", "date"), ("receiving_party_type", "text"),
            ("receiving_party_name", "text"), ("land_use_after", "codes"), ("girls", "integer"), ("boys", "integer"),
            ("women", "integer"), ("men", "integer"), ("beneficiaries_other", "integer"),
            ("beneficiary_definition", "text"), ("residual_risk_en", "text"), ("residual_risk_uk", "text"),
            ("liability_note_en", "text"), ("liability_note_uk", "text"), ("markers_recorded", "boolean"),
            ("community_informed", "boolean"), ("admin_pcode", "text"), ("organisation_id", "link"),
        ],
    ),
    "handover_signatory": (
        None, "Who signed a handover certificate, on either side.",
        [
            ("handover_id", "link"), ("side", "text"), ("name", "text"), ("organisation", "text"), ("role", "text"),
            ("organisation_id", "link"),
        ],
    ),
    "non_conformity": (
        None, "A finding of a QA visit or QC inspection, with its corrective action and closure.",
        [
            ("qm_activity_id", "link"), ("task_id", "link"), ("category", "text"), ("severity", "text"),
            ("requirement", "text"), ("evidence", "text"), ("found_on", "date"), ("due_on", "date"),
            ("state", "text"), ("corrective_action", "text"), ("preventive_action", "text"),
            ("action_taken_on", "date"), ("closed_on", "date"), ("task_suspended", "boolean"),
            ("organisation_id", "link"),
        ],
    ),
    "residual_event": (
        None, "A find in land already released or handed over, and its review.",
        [
            ("eo_find_id", "link"), ("released_part_id", "link"), ("handover_id", "link"), ("task_id", "link"),
            ("distance_m", "real"), ("inside", "boolean"), ("tolerance_m", "real"), ("flagged_on", "date"),
            ("state", "text"), ("cause", "text"), ("new_hazard_id", "link"), ("notes", "text"),
            ("admin_pcode", "text"), ("organisation_id", "link"),
        ],
    ),
    "va_need": (
        None, "A victim's assessed need (IMAS 13.10); personal data.",
        [
            ("victim_id", "link"), ("need", "text"), ("assessed_on", "date"), ("assessed_by_org", "link"),
            ("detail", "text"), ("state", "text"), ("organisation_id", "link"),
        ],
    ),
    "va_referral": (
        None, "A referral of a victim's need to a service; personal data.",
        [
            ("need_id", "link"), ("referred_on", "date"), ("service", "text"), ("provider", "text"),
            ("referred_by_org", "link"), ("consent_on", "date"), ("notes", "text"), ("organisation_id", "link"),
        ],
    ),
    "va_follow_up": (
        None, "A follow-up of a referral and its outcome; personal data.",
        [
            ("referral_id", "link"), ("followed_up_on", "date"), ("outcome", "text"), ("notes", "text"),
            ("organisation_id", "link"),
        ],
    ),
}
_ADDED_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "activity": [
        ("task_id", "link"),
    ],
    "released_part": [
        ("task_id", "link"), ("qc_activity_id", "link"), ("qc_passed", "boolean"), ("qc_confidence", "real"),
        ("qc_ruled_out_rate_95", "real"), ("qc_tolerable_defect_rate", "real"), ("survey_coverage", "real"),
        ("survey_detection", "real"), ("survey_found", "integer"), ("survey_expected_remaining", "real"),
        ("survey_p_any_remaining", "real"), ("handover_id", "link"),
    ],
    "qm_activity": [
        ("task_id", "link"), ("inspecting_org_id", "link"), ("inspected_org_id", "link"),
        ("activity_inspected", "text"), ("planned_start", "date"), ("planned_end", "date"),
        ("mac_representative", "text"), ("lot_m2", "real"), ("unit_m2", "real"), ("sample_size", "integer"),
        ("acceptance_number", "integer"), ("defects_found", "integer"), ("tolerable_defect_rate", "real"),
        ("qc_confidence", "real"), ("inspected_m2", "real"), ("cost", "real"), ("finds", "integer"),
    ],
}


def _string(length: int) -> sa.types.TypeEngine:
    return sa.String(length).with_variant(sa.Text(), "sqlite")


def _type(kind: str) -> sa.types.TypeEngine:
    types: dict[str, sa.types.TypeEngine] = {
        "text": sa.Text(), "integer": sa.Integer(), "real": sa.Double(), "date": sa.Date(),
        "boolean": sa.Boolean(), "codes": JSONText(), "link": _string(36),
    }
    return types[kind]


def _columns(dialect: str, fields: list[tuple[str, str]], geometry: str | None) -> list[sa.Column]:
    columns = [
        sa.Column("fid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", _string(36), nullable=False),
        sa.Column("ref", _string(40), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("changeset_id", sa.Integer, sa.ForeignKey("changeset.id"), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("recorded_by", sa.Text, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False, default=False),
        *(sa.Column(name, _type(kind)) for name, kind in fields),
    ]
    if geometry:
        kind = (PostGISGeometry(geometry, srid=4326, spatial_index=True) if dialect == "postgresql"
                else GeoPackageGeometry(geometry))
        columns.append(sa.Column(_GEOMETRY, kind))
    return columns


def _link_index(table: sa.Table, name: str) -> sa.Index:
    """A partial index on a link: many links are optional and their NULLs need no entries."""
    linked = table.c[name].is_not(None)
    return sa.Index(f"ix_{table.name}_{name}", table.c[name], sqlite_where=linked, postgresql_where=linked)


def _new_tables(dialect: str) -> sa.MetaData:
    metadata = sa.MetaData()
    sa.Table("changeset", metadata, sa.Column("id", sa.Integer, primary_key=True))  # the foreign keys' target
    for name, (geometry, description, fields) in _NEW_ENTITIES.items():
        current = sa.Table(name, metadata, *_columns(dialect, fields, geometry), comment=description)
        sa.Index(f"ix_{name}_id", current.c.id, unique=True)
        sa.Index(f"ix_{name}_ref", current.c.ref)
        history = sa.Table(f"{name}_history", metadata, *_columns(dialect, fields, geometry))
        sa.Index(f"ix_{history.name}_id_version", history.c.id, history.c.version, unique=True)
        sa.Index(f"ix_{history.name}_recorded_at", history.c.recorded_at)
        for field, kind in fields:
            if kind == "link":
                _link_index(current, field)
    return metadata


def _add_columns(dialect: str) -> None:
    for name, fields in _ADDED_COLUMNS.items():
        for table in (name, f"{name}_history"):
            for field, kind in fields:
                op.add_column(table, sa.Column(field, _type(kind)))
        current = sa.Table(name, sa.MetaData(), *(sa.Column(f, _type(k)) for f, k in fields))
        for field, kind in fields:
            if kind == "link":
                index = _link_index(current, field)
                op.create_index(index.name, name, [field], sqlite_where=sa.text(f'"{field}" IS NOT NULL'),
                                postgresql_where=sa.text(f'"{field}" IS NOT NULL'))


def _written(bind, table: str) -> list[str]:
    """The columns a version is written with (all but ``fid``), as the table has them now."""
    return [c["name"] for c in sa.inspect(bind).get_columns(table) if c["name"] != "fid"]


def _keep_replaced(history: str, columns: list[str]) -> str:
    """SQL that copies the row being replaced (OLD) into ``history``."""
    names = ", ".join(f'"{c}"' for c in columns)
    values = ", ".join(f'OLD."{c}"' for c in columns)
    return f'INSERT INTO "{history}" ({names}) VALUES ({values});'


def _sqlite_versioned(bind, name: str) -> None:
    bind.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}_versioned"')
    bind.exec_driver_sql(
        f'CREATE TRIGGER "{name}_versioned" BEFORE UPDATE ON "{name}" BEGIN '
        f"SELECT RAISE(ABORT, '{_NEXT_VERSION}') WHERE NEW.version IS NOT OLD.version + 1 OR NEW.id IS NOT OLD.id; "
        f"{_keep_replaced(f'{name}_history', _written(bind, name))} END"
    )


def _sqlite_upgrade(bind) -> None:
    def execute(sql: str, params: tuple = ()) -> None:
        bind.exec_driver_sql(sql, params)

    metadata = _new_tables("sqlite")
    metadata.create_all(bind, tables=[t for t in metadata.sorted_tables if t.name != "changeset"])
    for name, (geometry, description, _fields) in _NEW_ENTITIES.items():
        history = f"{name}_history"
        for table, indexed in ((name, True), (history, False)):
            if geometry:
                gpkg.register_features(execute, table, column=_GEOMETRY, geometry_type=geometry,
                                       description=description, spatial_index=indexed)
            else:
                gpkg.register_attributes(execute, table, description)
        for action in ("UPDATE", "DELETE"):
            execute(
                f'CREATE TRIGGER "{history}_no_{action.lower()}" BEFORE {action} ON "{history}" '
                f"WHEN NOT mineaction_redacting() BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
            )
        execute(
            f'CREATE TRIGGER "{name}_no_delete" BEFORE DELETE ON "{name}" '
            f"BEGIN SELECT RAISE(ABORT, '{_SOFT_DELETE}'); END"
        )
        _sqlite_versioned(bind, name)
    _add_columns("sqlite")
    for name in _ADDED_COLUMNS:
        _sqlite_versioned(bind, name)


def _postgres_versioned(bind, name: str) -> None:
    bind.exec_driver_sql(
        f"""CREATE OR REPLACE FUNCTION "{name}_versioned"() RETURNS trigger AS $$
        BEGIN
          IF NEW.version IS DISTINCT FROM OLD.version + 1 OR NEW.id IS DISTINCT FROM OLD.id THEN
            RAISE EXCEPTION '{_NEXT_VERSION}';
          END IF;
          {_keep_replaced(f'{name}_history', _written(bind, name))}
          RETURN NEW;
        END $$ LANGUAGE plpgsql"""
    )


def _postgres_upgrade(bind) -> None:
    metadata = _new_tables("postgresql")
    metadata.create_all(bind, tables=[t for t in metadata.sorted_tables if t.name != "changeset"])
    for name in _NEW_ENTITIES:
        history = f"{name}_history"
        _postgres_versioned(bind, name)
        bind.exec_driver_sql(
            f'CREATE TRIGGER "{name}_versioned" BEFORE UPDATE ON "{name}" '
            f'FOR EACH ROW EXECUTE FUNCTION "{name}_versioned"()'
        )
        bind.exec_driver_sql(
            f'CREATE TRIGGER "{history}_append_only" BEFORE UPDATE OR DELETE ON "{history}" '
            f"FOR EACH ROW EXECUTE FUNCTION mineaction_refuse('history', '{_APPEND_ONLY}')"
        )
        bind.exec_driver_sql(
            f'CREATE TRIGGER "{name}_no_delete" BEFORE DELETE ON "{name}" '
            f"FOR EACH ROW EXECUTE FUNCTION mineaction_refuse('current', '{_SOFT_DELETE}')"
        )
    _add_columns("postgresql")
    for name in _ADDED_COLUMNS:
        _postgres_versioned(bind, name)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        _postgres_upgrade(bind)
    else:
        _sqlite_upgrade(bind)


def downgrade() -> None:
    raise NotImplementedError("a register is not downgraded; restore a backup instead")
