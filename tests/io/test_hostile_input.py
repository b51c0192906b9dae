"""Bad and hostile input: each gets a clear error and leaves the register and the queue unchanged."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from mineaction.errors import CRSRequired, MineActionError
from mineaction.io import SourceError, UnsafeSource, import_file
from mineaction.io.export import export
from mineaction.io.sources import Source
from mineaction.storage import review
from mineaction.storage.register import Register
from tests.common import E0, N0, OPERATOR, UTM, square_m
from tests.io.helpers import populate

HAZARD = {"hazard_type": "SHA", "status": "active", "contamination": "AP mine", "evidence": "indirect",
          "reported_on": "2025-03-01", "organisation_id": "Test Operator"}


@pytest.fixture
def register(gpkg_register: Register) -> Register:
    """Parsing is storage-independent: these run on the GeoPackage backend, with one operator."""
    with gpkg_register.write("im", "operator") as w:
        w.add("organisation", {"name": "Test Operator", "organisation_type": "ngo"})
    return gpkg_register


def _unchanged(register: Register) -> None:
    assert review.reports(register) == []
    assert register.count("hazard") == 0 and register.count("eo_find") == 0


def _geojson(path: Path, geometries: list[dict], **properties: object) -> Path:
    features = [{"type": "Feature", "properties": {**HAZARD, **properties}, "geometry": g} for g in geometries]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _ring(geometry: shapely.Geometry) -> list[list[float]]:
    return [list(c) for c in geometry.exterior.coords]


def _import_errors(register: Register, path: Path, **kw: object) -> list[str]:
    result = import_file(register, path, user="im", reason="field data", **kw)
    assert result.queued is None and not result.report.ok
    _unchanged(register)
    return [f"{p.field}: {p.problem} -> {p.action}" for p in result.report.problems if p.severity == "error"]


def test_self_intersecting_polygon_is_reported_with_its_location(register: Register, tmp_path: Path) -> None:
    a, b = square_m(0, 0, 100).bounds[:2], square_m(0, 0, 100).bounds[2:]
    bowtie = {"type": "Polygon", "coordinates": [[[a[0], a[1]], [b[0], b[1]], [b[0], a[1]], [a[0], b[1]], [a[0], a[1]]]]}
    good = {"type": "Polygon", "coordinates": [_ring(square_m(300, 0, 100))]}
    errors = _import_errors(register, _geojson(tmp_path / "h.geojson", [good, bowtie]), entity="hazard")
    assert len(errors) == 1 and "Self-intersection" in errors[0] and errors[0].startswith("geometry")


def test_unclosed_polygon_is_reported_not_closed_silently(register: Register, tmp_path: Path) -> None:
    open_ring = _ring(square_m(0, 0, 100))[:-1]
    errors = _import_errors(register, _geojson(tmp_path / "h.geojson", [{"type": "Polygon", "coordinates": [open_ring]}]),
                            entity="hazard")
    assert "closed linestring" in errors[0] and "nothing is guessed" in errors[0]


def test_empty_and_mixed_geometries_are_refused(register: Register, tmp_path: Path) -> None:
    polygon = {"type": "Polygon", "coordinates": [_ring(square_m(0, 0, 100))]}
    mixed = {"type": "GeometryCollection", "geometries": [polygon, {"type": "Point", "coordinates": [-33.7, -30.0]}]}
    empty = {"type": "Polygon", "coordinates": []}
    errors = _import_errors(register, _geojson(tmp_path / "h.geojson", [mixed, empty]), entity="hazard")
    assert any("GeometryCollection" in e and "split mixed collections" in e for e in errors)
    assert any("empty" in e for e in errors)


def _points(path: Path, coordinates: np.ndarray, geometry_type: str) -> Path:
    geometries = shapely.points(coordinates)
    fields = [np.array(["ap_mine"] * len(coordinates), dtype=object), np.array(["functional"] * len(coordinates), dtype=object),
              np.array([1] * len(coordinates)), np.array(["2025-04-01"] * len(coordinates), dtype=object),
              np.array(["Test Operator"] * len(coordinates), dtype=object)]
    pyogrio.raw.write(path, shapely.to_wkb(geometries), fields, ["category", "condition", "quantity", "found_on", "organisation"],
                      geometry_type=geometry_type, crs="EPSG:4326", driver="GPKG")
    return path


def test_3d_coordinates_are_refused_unless_dropped_on_request(register: Register, tmp_path: Path) -> None:
    path = _points(tmp_path / "z.gpkg", np.array([[-33.7, -30.0, 112.0]]), "Point Z")
    assert "Z (3-D)" in _import_errors(register, path, entity="eo_find")[0]
    result = import_file(register, path, entity="eo_find", user="im", reason="2-D please", drop_z=True)
    assert result.report.ok and result.queued.submitted == 1


def test_measure_coordinates_are_refused(register: Register, tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text("wkt;category;condition;quantity;found_on;organisation\n"
                   "POINT M (-33.7 -30.0 4);ap_mine;functional;1;2025-04-01;Test Operator\n", encoding="utf-8")
    assert "M (measure)" in _import_errors(register, csv, entity="eo_find")[0]


def test_nan_coordinates_are_refused(register: Register, tmp_path: Path) -> None:
    csv = tmp_path / "nan.csv"
    csv.write_text("lon,lat,category,condition,quantity,found_on,organisation\n"
                   "NaN,-30.0,ap_mine,functional,1,2025-04-01,Test Operator\n", encoding="utf-8")
    assert "NaN" in _import_errors(register, csv, entity="eo_find")[0]


def _shapefile(folder: Path, *, name: str = "Міна біля ставка", cpg: bool, prj: bool = True) -> Path:
    folder.mkdir()
    shp = folder / "finds.shp"
    point = shapely.Point(E0 + 10, N0 + 10)
    fields = [np.array([name], dtype=object), np.array(["ППМ"], dtype=object), np.array(["невідомо"], dtype=object),
              np.array([1]), np.array(["2025-04-01"], dtype=object), np.array(["Test Operator"], dtype=object)]
    pyogrio.raw.write(shp, shapely.to_wkb(np.array([point])), fields,
                      ["model", "category", "condition", "quantity", "found_on", "org"],
                      geometry_type="Point", crs=UTM, encoding="cp1251")
    if not cpg:
        (folder / "finds.cpg").unlink()
        dbf = folder / "finds.dbf"
        data = bytearray(dbf.read_bytes())
        data[29] = 0  # no language driver id either: nothing says the text is cp1251
        dbf.write_bytes(bytes(data))
    if not prj:
        (folder / "finds.prj").unlink()
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as zf:
        for file in folder.iterdir():
            zf.write(file, file.name)
    return archive


def test_cp1251_shapefile_with_cpg_reads_cyrillic(register: Register, tmp_path: Path) -> None:
    archive = _shapefile(tmp_path / "with", cpg=True)
    result = import_file(register, archive, entity="eo_find", user="im", reason="operator shapefile")
    assert result.report.ok, result.report.problems
    [report] = review.reports(register)
    assert report.values["model"] == "Міна біля ставка" and report.values["category"] == "ap_mine"


def test_cp1251_shapefile_without_cpg_asks_for_the_encoding(register: Register, tmp_path: Path) -> None:
    archive = _shapefile(tmp_path / "without", cpg=False)
    with pytest.raises(SourceError, match=r"no .cpg") as caught:
        import_file(register, archive, entity="eo_find", user="im", reason="operator shapefile")
    assert "--encoding cp1251" in str(caught.value)
    _unchanged(register)
    result = import_file(register, archive, entity="eo_find", user="im", reason="cp1251", encoding="cp1251")
    assert result.report.ok and review.reports(register)[0].values["model"] == "Міна біля ставка"


def test_shapefile_without_prj_asks_for_the_crs(register: Register, tmp_path: Path) -> None:
    archive = _shapefile(tmp_path / "noprj", cpg=True, prj=False)
    with pytest.raises(CRSRequired, match=r"no .prj") as caught:
        import_file(register, archive, entity="eo_find", user="im", reason="shapefile")
    assert "--crs" in str(caught.value)
    _unchanged(register)
    result = import_file(register, archive, entity="eo_find", user="im", reason="UTM 25S", crs=UTM)
    assert result.report.ok and review.reports(register)[0].geometry.distance(square_m(10, 10, 1).exterior) < 1e-5


def test_truncated_geopackage_is_refused(register: Register, tmp_path: Path, gpkg_template: Path) -> None:
    with Register.create(tmp_path / "full.gpkg") as other:
        populate(other)
        path = export(other, tmp_path / "x.gpkg", scope=OPERATOR).paths[0]
    data = path.read_bytes()
    truncated = tmp_path / "truncated.gpkg"
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(SourceError, match=r"damaged|truncated"):
        import_file(register, truncated, user="im", reason="broken upload")
    _unchanged(register)


@pytest.mark.parametrize("text", [
    "\ufefflon;lat;category;condition;quantity;found_on;organisation\n-33,70;-30,00;AP mine;intact;2;01.05.2025;Test Operator\n",
    ("longitude\tlatitude\tcategory\tcondition\tquantity\tfound_on\torganisation\n"
     "-33.70\t-30.00\tAP mine\tintact\t2\t2025-05-01\tTest Operator\n"),
])
def test_csv_with_bom_or_other_delimiter_is_read(register: Register, tmp_path: Path, text: str) -> None:
    csv = tmp_path / "finds.csv"
    csv.write_text(text, encoding="utf-8")
    result = import_file(register, csv, entity="eo_find", user="im", reason="spreadsheet")
    assert result.report.ok, result.report.problems
    [report] = review.reports(register)
    assert report.values["found_on"] == "2025-05-01" and report.geometry.equals(shapely.Point(-33.7, -30.0))


def test_csv_without_coordinate_columns_says_what_it_looked_for(register: Register, tmp_path: Path) -> None:
    csv = tmp_path / "finds.csv"
    csv.write_text("east|north|category\n1|2|uxo\n", encoding="utf-8")
    errors = _import_errors(register, csv, entity="eo_find", delimiter="PIPE")
    assert any("no geometry and no coordinate columns" in e and "lon: lon, longitude" in e for e in errors)


_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&c;</name></Document></kml>"""
_EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&secret;</name></Document></kml>"""


@pytest.mark.parametrize("text", [_LAUGHS, _EXTERNAL], ids=["entity-expansion", "external-entity"])
def test_kml_with_entities_is_refused_before_parsing(register: Register, tmp_path: Path, text: str) -> None:
    kml = tmp_path / "attack.kml"
    kml.write_text(text, encoding="utf-8")
    with pytest.raises(UnsafeSource, match="DTD or entities"):
        import_file(register, kml, entity="hazard", user="im", reason="kml")
    kmz = tmp_path / "attack.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", text)
    with pytest.raises(UnsafeSource):
        import_file(register, kmz, entity="hazard", user="im", reason="kmz")
    _unchanged(register)


def test_archive_path_traversal_is_refused(register: Register, tmp_path: Path) -> None:
    kmz = tmp_path / "escape.kmz"
    with zipfile.ZipFile(kmz, "w") as zf:
        zf.writestr("doc.kml", "<kml xmlns='http://www.opengis.net/kml/2.2'/>")
        zf.writestr("../../escaped.kml", "<kml/>")
    with pytest.raises(UnsafeSource, match="outside the folder"):
        import_file(register, kmz, entity="hazard", user="im", reason="kmz")
    assert not (tmp_path.parent / "escaped.kml").exists()
    _unchanged(register)


def test_decompression_bomb_is_refused_before_unpacking(register: Register, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("finds.dbf", b"\0" * (64 * 1024**2))
    assert bomb.stat().st_size < 200_000
    with pytest.raises(UnsafeSource, match="decompression bomb"):
        import_file(register, bomb, entity="eo_find", user="im", reason="zip")
    _unchanged(register)


def test_large_files_stream_in_bounded_batches(register: Register, tmp_path: Path) -> None:
    """A 2 GB file is read the same way: one Arrow batch at a time, never whole."""
    rows = 12_000
    csv = tmp_path / "many.csv"
    lon = -33.7 + np.arange(rows) * 1e-6
    with csv.open("w", encoding="utf-8") as f:
        f.write("lon,lat,category,condition,quantity,found_on,organisation\n")
        f.writelines(f"{x:.7f},-30.0,uxo,functional,1,2025-04-01,Test Operator\n" for x in lon)
    with Source(csv) as source:
        sizes = [len(batch) for batch in source.batches(source.layer(), batch_size=2_500)]
    assert sizes == [2_500] * 4 + [2_000]
    result = import_file(register, csv, entity="eo_find", user="im", reason="bulk", batch_size=2_500)
    assert result.report.ok and result.queued.submitted == rows


def test_unknown_format_and_missing_file_say_so(register: Register, tmp_path: Path) -> None:
    odd = tmp_path / "finds.ods"
    odd.write_bytes(b"PK")
    with pytest.raises(SourceError, match="unknown format"):
        import_file(register, odd, entity="eo_find", user="im", reason="x")
    with pytest.raises(MineActionError, match="no file"):
        import_file(register, tmp_path / "nowhere.csv", entity="eo_find", user="im", reason="x")
    _unchanged(register)


def test_hostile_xlsx_is_refused_before_gdal_reads_it(register: Register, tmp_path: Path) -> None:
    truncated = tmp_path / "finds.xlsx"
    truncated.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(SourceError):
        import_file(register, truncated, entity="eo_find", user="im", reason="x")
    laughs = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(laughs, "w") as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
                                           '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><Types>&b;</Types>')
    with pytest.raises(UnsafeSource, match="DTD or entities"):
        import_file(register, laughs, entity="eo_find", user="im", reason="x")
    _unchanged(register)


def test_duplicate_rows_are_reported_and_imported_once(register: Register, tmp_path: Path) -> None:
    row = "-33.70,-30.00,uxo,functional,1,2025-04-01,Test Operator\n"
    csv = tmp_path / "twice.csv"
    csv.write_text("lon,lat,category,condition,quantity,found_on,organisation\n" + row + row, encoding="utf-8")
    dry = import_file(register, csv, entity="eo_find", user="im", reason="check", dry_run=True)
    assert dry.dry_run and dry.queued is None and review.reports(register) == []
    assert [p.problem for p in dry.report.problems] == ["same content as line 2: skipped"]
    result = import_file(register, csv, entity="eo_find", user="im", reason="import")
    assert result.queued.submitted == 1 and result.report.skipped == 1
    again = import_file(register, csv, entity="eo_find", user="im", reason="again")
    assert again.queued.submitted == 0
    assert again.report.problems[0].problem == "same content as FR-0000001 (line 2): skipped"


def test_gpx_waypoints_with_a_mapping(register: Register, tmp_path: Path) -> None:
    point = square_m(40, 40, 1).centroid
    gpx = tmp_path / "handheld.gpx"
    gpx.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="handheld" xmlns="http://www.topografix.com/GPX/1/1">'
        f'<wpt lat="{point.y:.8f}" lon="{point.x:.8f}"><ele>80</ele><time>2025-04-02T09:30:00Z</time>'
        "<name>find 7</name><desc>ППМ</desc><sym>невідомо</sym></wpt></gpx>", encoding="utf-8")
    mapping = tmp_path / "gpx.yaml"
    mapping.write_text("entity: eo_find\nfields:\n  category: [desc]\n  condition: [sym]\n  found_on: [time]\n"
                       "  model: null\ndefaults:\n  quantity: 1\n  organisation_id: Test Operator\n", encoding="utf-8")
    result = import_file(register, gpx, mapping=mapping, layer="waypoints", user="im", reason="GPS download")
    assert result.report.ok, result.report.problems
    [report] = review.reports(register)
    assert (report.values["category"], report.values["condition"], report.values["found_on"]) == (
        "ap_mine", "unknown", "2025-04-02")
    assert report.geometry.equals_exact(point, 1e-8)


def test_mgrs_column_and_the_report_names_each_problem(register: Register, tmp_path: Path) -> None:
    import mgrs

    point = square_m(10, 10, 1).centroid
    inside = mgrs.MGRS().toMGRS(point.y, point.x, MGRSPrecision=5)
    elsewhere = mgrs.MGRS().toMGRS(48.5, 32.0, MGRSPrecision=5)  # far outside the test region
    csv = tmp_path / "grid.csv"
    csv.write_text("mgrs,category,condition,quantity,found_on,organisation\n"
                   f"{inside[:3]} {inside[3:5]} {inside[5:10]} {inside[10:]},uxo,functional,1,2025-04-01,Test Operator\n"
                   f"{elsewhere},uxo,functional,1,2025-04-01,Test Operator\n"
                   "not a grid ref,uxo,functional,1,2025-04-01,Test Operator\n"
                   f"{inside},gizmo,functional,1,2025-04-01,Test Operator\n"
                   f"{inside},uxo,,1,2025-04-01,Test Operator\n", encoding="utf-8")
    result = import_file(register, csv, entity="eo_find", user="im", reason="MGRS", skip_invalid=True)
    problems = {(p.feature, p.field): p for p in result.report.problems if p.severity == "error"}
    assert "outside the programme extent" in problems[("line 3", "geometry")].problem
    assert "not an MGRS reference" in problems[("line 4", "geometry")].problem
    assert "'gizmo' is not a known eo_category value" in problems[("line 5", "category")].problem
    assert "add it under 'values: category:'" in problems[("line 5", "category")].action
    assert "missing required field(s) condition" in problems[("line 6", "condition")].problem
    assert result.queued.submitted == 1
    assert review.reports(register)[0].geometry.distance(point) < 1e-5  # 1 m MGRS precision


def _encrypted_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("doc.kml", "<kml/>")
    data = bytearray(path.read_bytes())
    data[6] |= 1  # general-purpose flag bit 0: "encrypted" (local header)
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 1  # and in the central directory
    path.write_bytes(bytes(data))
    return path


_VRT = b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/hostname</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>'


@pytest.mark.parametrize(("name", "content", "error"), [
    ("remote-crs.geojson", json.dumps({"type": "FeatureCollection", "crs": {"type": "link", "properties": {
        "href": "http://127.0.0.1:9/crs.wkt", "type": "ogcwkt"}}, "features": []}).encode(), UnsafeSource),
    ("unknown-encoding.kml", b'<?xml version="1.0" encoding="x-no-such"?><kml/>', SourceError),
    ("not-kml.kml", b"<OGRVRTDataSource/>", SourceError),
    ("vrt.gpkg", _VRT, SourceError),
    ("vrt.csv", _VRT, SourceError),
    ("invalid-utf8.csv", b"lon,lat,category\n-33.7,-30.0,\xff\xfe\xfa\n", SourceError),
    ("duplicate-headers.csv", b"lon,lat,lon\n-33.7,-30.0,1\n", SourceError),
], ids=lambda v: v if isinstance(v, str) else "")
def test_files_that_are_not_what_they_claim_are_refused(register: Register, tmp_path: Path, name: str,
                                                          content: bytes, error: type) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error):
        import_file(register, path, entity="eo_find", user="im", reason="x")
    _unchanged(register)


def test_zips_with_repeated_or_encrypted_members_are_refused(register: Register, tmp_path: Path) -> None:
    twice = tmp_path / "twice.kmz"
    with zipfile.ZipFile(twice, "w") as zf:
        zf.writestr("doc.kml", "<kml/>")
        with pytest.warns(UserWarning):
            zf.writestr("doc.kml", "<kml><Document/></kml>")
    with pytest.raises(UnsafeSource, match="same name"):
        import_file(register, twice, entity="hazard", user="im", reason="x")
    with pytest.raises(SourceError, match="without a password"):
        import_file(register, _encrypted_zip(tmp_path / "locked.kmz"), entity="hazard", user="im", reason="x")
    _unchanged(register)
