"""A register written by an earlier release upgrades in place, keeping every record, version and changeset.

``fixtures/`` holds, for each release, a small register that release wrote
on each backend (``make_release_fixture.py``; each release adds its own and
never regenerates an older one) and what that release read from it. Here the
current code upgrades each (``Register.create``, as ``mineaction init`` does)
and must read back the same versions with the same values, and end with the
same schema as a register created new: a schema change made by editing an old
revision instead of adding one fails here.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mineaction.domain.entities import ENTITIES
from mineaction.storage.register import Register
from tests.conftest import missing_service, postgis_database
from tests.storage.fixtures.make_release_fixture import contents

FIXTURES = Path(__file__).parent / "fixtures"
RELEASES = sorted(p.name.removeprefix("register-").removesuffix(".json") for p in FIXTURES.glob("register-*.json"))


def _expected(release: str, backend: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"register-{release}.json").read_text("utf-8"))[backend]


def _assert_kept(register: Register, expected: dict[str, Any]) -> None:
    """Every version the release wrote reads back alike (fields added since may hold anything)."""
    now = contents(register)
    assert now["changesets"] == expected["changesets"]
    for name in ENTITIES:
        before, after = expected["records"].get(name, []), now["records"][name]
        assert [(v["id"], v["version"]) for v in after] == [(v["id"], v["version"]) for v in before], name
        for old, new in zip(before, after):
            assert {k: new["values"].get(k) for k in old["values"]} == old["values"], (name, old["ref"], old["version"])
            assert {**new, "values": None} == {**old, "values": None}, (name, old["ref"], old["version"])
    assert sum(len(v) for v in now["records"].values()) >= 16  # the fixture is not empty: 11 entities, 5 edits


def _schema(url: str | Path) -> dict[str, Any]:
    """Tables with their columns and indexes, and triggers: what an upgrade must bring to the current schema."""
    text = str(url)
    engine = sa.create_engine(text.replace("postgresql://", "postgresql+psycopg://", 1) if "://" in text
                              else f"sqlite:///{text}")
    try:
        inspector = sa.inspect(engine)
        tables = {
            t: ({(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(t)},
                {(i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(t)})
            for t in inspector.get_table_names() if t != "spatial_ref_sys"
        }
        with engine.connect() as c:
            if engine.dialect.name == "sqlite":
                triggers = set(c.exec_driver_sql("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'"))
                contents_rows = set(c.exec_driver_sql("SELECT table_name, data_type FROM gpkg_contents"))
            else:
                triggers = set(c.exec_driver_sql(
                    "SELECT trigger_name, event_object_table FROM information_schema.triggers "
                    "WHERE trigger_schema = 'public'"))
                contents_rows = set()
    finally:
        engine.dispose()
    return {"tables": tables, "triggers": triggers, "gpkg_contents": contents_rows}


@pytest.mark.parametrize("release", RELEASES)
def test_a_geopackage_register_of_each_release_upgrades_keeping_everything(
        release: str, gpkg_template: Path, tmp_path: Path) -> None:
    path = tmp_path / f"register-{release}.gpkg"
    path.write_bytes(gzip.decompress((FIXTURES / f"register-{release}.gpkg.gz").read_bytes()))
    Register.create(path).close()
    with Register.open(path) as register:
        _assert_kept(register, _expected(release, "gpkg"))
        with register.write("tester", "the upgraded register takes edits") as w:
            hazard = next(r for r in register.records("hazard") if r.version == 3)
            w.update("hazard", hazard.id, base_version=3, values={"status": "closed"})
        assert [v.version for v in register.history("hazard", hazard.id)] == [1, 2, 3, 4]
    new = _schema(gpkg_template)
    assert _schema(path) == new


@pytest.mark.postgis
@pytest.mark.filterwarnings("ignore:Did not recognize type 'xml'")  # QGIS's style columns, compared all the same
@pytest.mark.parametrize("release", RELEASES)
def test_a_postgis_register_of_each_release_upgrades_keeping_everything(
        release: str, request: pytest.FixtureRequest, postgis_url: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        missing_service("psql is not installed (apt install postgresql-client)")
    dump = gzip.decompress((FIXTURES / f"register-{release}.postgis.sql.gz").read_bytes())
    with postgis_database(request, "mineaction_upgrade", migrated=False) as url:
        subprocess.run([psql, "--quiet", "--no-psqlrc", "--set", "ON_ERROR_STOP=1", "--single-transaction",
                        f"--dbname={url}"], input=dump, capture_output=True, check=True)
        Register.create(url).close()
        with Register.open(url) as register:
            _assert_kept(register, _expected(release, "postgis"))
            with register.write("tester", "the upgraded register takes edits") as w:
                hazard = next(r for r in register.records("hazard") if r.version == 3)
                w.update("hazard", hazard.id, base_version=3, values={"status": "closed"})
            assert [v.version for v in register.history("hazard", hazard.id)] == [1, 2, 3, 4]
        assert _schema(url) == _schema(postgis_url)
