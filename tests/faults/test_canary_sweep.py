"""Canaries swept over the output paths that exist today: exports and the annual report.

One canary sits in every personal field of a victim, another in a
restricted field (a hazard's description). Every export format, written at
each level, must hold only what that level allows: the public export
neither, the restricted one the restricted canary (which shows the sweep
sees into the format) but not the personal one, the personal one (with
permission) the personal canary wherever the format carries attribute
tables. The annual report holds neither. The web API, OGC API, tiles and
their logs are to be swept the same way by the web tests
(:func:`tests.faults.canary.plant_victim`, :meth:`Canary.assert_absent`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mineaction.access import Principal
from mineaction.domain.entities import Sensitivity
from mineaction.io.export import EXPORT_FORMATS, export
from mineaction.reports.annual import annual_report
from mineaction.reports.writers import write_csv, write_pdf, write_xlsx
from mineaction.storage.register import Register
from tests.common import OPERATOR, PERSONAL_SCOPE, hazard_values, square_m
from tests.faults.canary import Canary, plant_victim

TABLE_FORMATS = {".gpkg", ".csv", ".xlsx", ".zip"}  # formats that carry attribute tables such as victims


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, gpkg_template: Path) -> Iterator[tuple[Register, Canary, Canary]]:
    path = tmp_path_factory.mktemp("sweep") / "register.gpkg"
    path.write_bytes(gpkg_template.read_bytes())
    register, personal, restricted = Register.open(path), Canary.new(), Canary.new()
    plant_victim(register, personal)
    org = register.records("organisation")[0].id
    with register.write("im.officer", "hazard with a restricted description") as w:
        w.add("hazard", hazard_values(org, description=f"{restricted.token}-description"), square_m(0, 0, 100))
    yield register, personal, restricted
    register.close()


@pytest.mark.parametrize("suffix", sorted(EXPORT_FORMATS))
def test_each_export_level_holds_only_what_it_allows(
    planted: tuple[Register, Canary, Canary], suffix: str, tmp_path: Path
) -> None:
    register, personal, restricted = planted

    def written(level: Sensitivity, scope: Principal = OPERATOR) -> Path:
        folder = tmp_path / level.value
        folder.mkdir()
        export(register, folder / f"register{suffix}", level=level, scope=scope)
        return folder

    public = written(Sensitivity.PUBLIC)
    personal.assert_absent(public)
    restricted.assert_absent(public)
    community = written(Sensitivity.RESTRICTED)
    personal.assert_absent(community)
    assert restricted.scan(community), f"the sweep cannot see into a {suffix} export"
    granted = written(Sensitivity.PERSONAL, PERSONAL_SCOPE)
    assert bool(personal.scan(granted)) == (suffix in TABLE_FORMATS)


def test_the_annual_report_holds_no_personal_or_restricted_text(
    planted: tuple[Register, Canary, Canary], tmp_path: Path
) -> None:
    register, personal, restricted = planted
    report = annual_report(register, 2025, scope=OPERATOR)
    write_csv(report, tmp_path / "csv")
    write_xlsx(report, tmp_path / "report.xlsx")
    write_pdf(report, tmp_path / "report.pdf")
    personal.assert_absent(tmp_path)
    restricted.assert_absent(tmp_path)
