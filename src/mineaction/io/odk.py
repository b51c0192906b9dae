"""Form submissions from ODK Central and KoboToolbox, as CSV or JSON exports.

Both servers export the same XLSForm answers in slightly different shapes:

* ODK Central CSV: one file per form (``<form_id>.csv``) and one per repeat
  (``<form_id>-<repeat>.csv``, linked by ``PARENT_KEY``); group paths joined
  with ``-``; a geopoint split into ``…-Latitude``/``-Longitude`` columns;
  attachments in ``media/``.
* ODK Central JSON (OData ``value``): groups as nested objects, repeats as
  arrays, geopoints as GeoJSON (lon/lat).
* Kobo JSON (``results``) and CSV: group paths joined with ``/``; geo
  answers as ODK text; ``_attachments`` lists the files.

ODK text geometry is **"latitude longitude altitude accuracy"**
(:func:`mineaction.io.coordinates.odk_geometry`). Everything is flattened to
the question names (which are the register's field names, see
:mod:`mineaction.io.xlsform`) and handed to the same validation and queue as
any file import; photos are hashed and kept with their field report.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mineaction.domain.entities import ENTITIES, Kind
from mineaction.errors import InvalidValue, RecordNotFound
from mineaction.io.coordinates import odk_geometry
from mineaction.io.errors import SourceError
from mineaction.io.importer import ImportResult, Job, import_batches
from mineaction.io.mapping import Mapping
from mineaction.io.sources import Batch, file_sha256
from mineaction.io.validation import Problem, ValidationReport
from mineaction.io.xlsform import FORMS, FormSpec
from mineaction.storage import Register
from mineaction.storage.review import ImportSource

__all__ = ["import_submissions", "read_submissions"]

_GEO_TYPES = ("geopoint", "geotrace", "geoshape")
_KEYS = ("meta/instanceID", "instanceID", "__id", "KEY", "_uuid")
_SPLIT_GEOPOINT = ("Latitude", "Longitude", "Altitude", "Accuracy")


@dataclass
class Submission:
    """One submission flattened to question name -> answer, with its repeats."""

    key: str
    answers: dict[str, Any]
    repeats: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)  # file names the server listed


def _plain_name(name: str) -> bool:
    """A bare file name: no folder, no parent, no drive, no control characters."""
    return (bool(name) and name not in (".", "..") and Path(name).name == name and "\\" not in name
            and ":" not in name and name.isprintable())


def _leaf(path: str) -> str:
    return path.replace("-", "/").split("/")[-1]


def _flatten(data: dict[str, Any], out: dict[str, Any], repeats: dict[str, list[dict[str, Any]]]) -> None:
    for key, value in data.items():
        name = _leaf(key)
        if isinstance(value, dict) and value.get("type") not in ("Point", "LineString", "Polygon"):
            _flatten(value, out, repeats)  # an ODK Central group
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and name != "_attachments":
            rows = []
            for item in value:
                row: dict[str, Any] = {}
                _flatten(item, row, repeats)
                rows.append(row)
            repeats[name] = rows
        else:
            out[name] = value


def _key(answers: dict[str, Any], raw: dict[str, Any]) -> str:
    for name in _KEYS:
        if raw.get(name) or answers.get(_leaf(name)):
            return str(raw.get(name) or answers.get(_leaf(name)))
    raise SourceError("a submission has no instance ID", hint="export with the meta/instanceID column")


def _from_json(path: Path) -> list[Submission]:
    try:
        data = json.loads(path.read_text("utf-8-sig"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nesting built to exhaust the parser
        raise SourceError(f"{path.name}: not readable JSON ({type(exc).__name__}: {exc})") from None
    records = data.get("value", data.get("results")) if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SourceError(f"{path.name}: expected an ODK Central 'value' or Kobo 'results' list of submissions")
    out = []
    for raw in records:
        answers: dict[str, Any] = {}
        repeats: dict[str, list[dict[str, Any]]] = {}
        try:
            _flatten(raw, answers, repeats)
        except RecursionError:
            raise SourceError(f"{path.name}: a submission is nested deeper than any form produces") from None
        listed = raw.get("_attachments") if isinstance(raw.get("_attachments"), list) else []
        names = [a.get("filename", "") for a in listed if isinstance(a, dict)]
        out.append(Submission(_key(answers, raw), answers, repeats, [str(n) for n in names]))
    return out


def _csv_rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        sample = f.read(4096)
        f.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.DictReader(f, dialect=dialect))
    out = []
    for row in rows:
        flat: dict[str, Any] = {}
        split: dict[str, dict[str, str]] = {}
        for column, value in row.items():
            if column is None:
                continue
            value = value if value != "" else None
            base, _, part = column.rpartition("-")
            if part in _SPLIT_GEOPOINT and base:  # ODK Central: location-Latitude, location-Longitude, ...
                split.setdefault(_leaf(base), {})[part] = value or ""
                continue
            flat[_leaf(column)] = value
        for name, parts in split.items():
            if parts.get("Latitude") and parts.get("Longitude"):
                flat[name] = " ".join(parts.get(p) or "0" for p in _SPLIT_GEOPOINT)
        flat["KEY"], flat["PARENT_KEY"] = row.get("KEY"), row.get("PARENT_KEY")
        out.append(flat)
    return out


def _from_csv(path: Path, spec: FormSpec) -> list[Submission]:
    submissions = []
    for row in _csv_rows(path):
        submissions.append(Submission(_key(row, row), row))
    if spec.repeat:
        repeat_file = path.with_name(f"{path.stem}-{spec.repeat}.csv")
        by_parent: dict[str, list[dict[str, Any]]] = {}
        if repeat_file.exists():
            for row in _csv_rows(repeat_file):
                by_parent.setdefault(str(row.get("PARENT_KEY")), []).append(row)
        for s in submissions:
            s.repeats[spec.repeat] = by_parent.get(str(s.answers.get("KEY") or s.key), [])
    return submissions


def read_submissions(path: str | Path, spec: FormSpec) -> list[Submission]:
    """Submissions of one form from an ODK Central or Kobo CSV/JSON export."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"no file at {path}")
    if path.suffix.lower() == ".json":
        return _from_json(path)
    if path.suffix.lower() == ".csv":
        try:
            return _from_csv(path, spec)
        except (UnicodeError, csv.Error) as exc:
            raise SourceError(f"{path.name}: not a readable CSV export ({exc})",
                              hint="export the submissions again as UTF-8 CSV from ODK Central or Kobo") from None
    raise SourceError(f"{path.name}: submissions come as .csv or .json exports")


class _Rows:
    """Turns submissions into batches for one entity, in the question names the mapping expects."""

    def __init__(self, register: Register, spec: FormSpec, folder: Path, report: ValidationReport):
        self.register, self.spec, self.folder, self.report = register, spec, folder, report
        self._places: dict[str, Any] = {}

    def _geometry(self, answers: dict[str, Any], geo_name: str) -> tuple[Any, str | None]:
        types = {q.name: q.type.split()[0] for q in self.spec.questions}
        value = answers.get(geo_name)
        if value in (None, "") and answers.get("settlement"):
            ref = str(answers["settlement"])
            if ref not in self._places:
                try:
                    self._places[ref] = self.register.get("place", ref).geometry
                except RecordNotFound:
                    return None, f"no settlement {ref!r} in the gazetteer"
            return self._places[ref], None
        try:
            return odk_geometry(value, types.get(geo_name, "geopoint")), None
        except (ValueError, TypeError) as exc:
            return None, f"{types.get(geo_name)} {value!r} cannot be read ({exc}); ODK writes 'lat lon alt acc'"

    def _attachments(self, answers: dict[str, Any], listed: list[str], label: str) -> tuple[dict[str, str], ...]:
        """Photos named by image answers, found beside the export; a name is a file name, never a path."""
        names = [str(answers[q.name]) for q in self.spec.questions if q.type == "image" and answers.get(q.name)]
        out = []
        for name in dict.fromkeys(names + [n for n in listed if n in names]):
            if not _plain_name(name):
                self.report.add(Problem(self.report.source, label, "photo", "error",
                                        f"attachment name {name!r} is a path, not a file name",
                                        "export the submissions again; attachments stay in the media folder"))
                continue
            for candidate in (self.folder / "media" / name, self.folder / "attachments" / name, self.folder / name):
                if candidate.is_file():
                    out.append({"name": name, "path": str(candidate.resolve()), "sha256": file_sha256(candidate)})
                    break
            else:
                self.report.add(Problem(self.report.source, label, "photo", "warning",
                                        f"attachment {name} is not beside the export",
                                        "put the export's media/ folder next to it to keep the photo"))
        return tuple(out)

    def batch(self, entity_name: str, rows: Sequence[tuple[str, dict[str, Any], str | None, tuple[Any, ...]]]) -> Batch:
        """``rows``: (label, answers, key, attachments) -> a Batch with register-named columns."""
        spec = ENTITIES[entity_name]
        geo_name = next((q.name for q in self.spec.questions if q.type in _GEO_TYPES
                         and (q.name != "released_area" or entity_name == "released_part")), None)
        names = [f.name for f in spec.fields if not f.derived] + ["id"]
        columns: dict[str, list[Any]] = {n: [] for n in names}
        geometries = np.full(len(rows), None, dtype=object)
        errors: dict[int, str] = {}
        for i, (_label, answers, _key, _files) in enumerate(rows):
            for n in names:
                value = answers.get(n)
                if n in spec.field_map and spec.field_map[n].kind is Kind.CODES and isinstance(value, str):
                    value = value.split()  # select_multiple: codes separated by spaces
                columns[n].append(value)
            if spec.geometry and geo_name:
                geometries[i], message = self._geometry(answers, geo_name)
                if message:
                    errors[i] = message
        columns = {n: v for n, v in columns.items() if any(x not in (None, "") for x in v)}
        return Batch([r[0] for r in rows], columns, geometries, errors, keys=[r[2] for r in rows],
                     attachments=[r[3] for r in rows])


def import_submissions(
    register: Register,
    path: str | Path,
    *,
    user: str,
    reason: str,
    form: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportResult:
    """Import an ODK Central or Kobo export of one of :data:`~mineaction.io.xlsform.FORMS` into the queue."""
    path = Path(path)
    form_id = form or path.stem
    if form_id not in FORMS:
        raise InvalidValue(f"{path.name}: which form are these submissions of?",
                           hint=f"give --form, one of {', '.join(FORMS)}")
    spec = FORMS[form_id]
    submissions = read_submissions(path, spec)
    report = ValidationReport(path.name)
    rows = _Rows(register, spec, path.parent, report)
    main, children = [], []
    for s in submissions:
        label = f"submission {s.key}"
        attachments = rows._attachments(s.answers, s.attachments, label)
        answers = dict(s.answers)
        if spec.action == "update":
            identified = _activity_identity(register, answers, label, report)
            if identified is None:
                continue
            answers = identified
        main.append((label, answers, s.key, attachments))
        for k, child in enumerate(s.repeats.get(spec.repeat or "", []), start=1):
            link = "activity_id" if spec.repeat_entity == "released_part" else f"{spec.entity}_id"
            child = {**child, link: answers["id"] if spec.action == "update" else s.key,
                     "organisation_id": answers.get("organisation_id")}
            children.append((f"{label} {spec.repeat} {k}", child, None, ()))
    jobs = [Job(Mapping.load(entity_name=spec.entity), [rows.batch(spec.entity, main)] if main else [],
                "EPSG:4326", form_id)]
    if spec.repeat_entity and children:
        jobs.append(Job(Mapping.load(entity_name=spec.repeat_entity), [rows.batch(spec.repeat_entity, children)],
                        "EPSG:4326", f"{form_id}/{spec.repeat}"))
    origin = ImportSource(path.name, file_sha256(path), f"ODK/Kobo {path.suffix[1:].upper()}", f"form {form_id}")
    return import_batches(register, jobs, origin, report, user=user, reason=reason, dry_run=dry_run,
                          skip_invalid=skip_invalid)


def _activity_identity(register: Register, answers: dict[str, Any], label: str,
                       report: ValidationReport) -> dict[str, Any] | None:
    """The completion report names an activity by ref; the update is based on its current version."""
    ref = str(answers.get("id") or "")
    try:
        activity = register.get("activity", ref)
    except RecordNotFound:
        report.add(Problem(report.source, label, "id", "error", f"no activity {ref!r} in the register",
                           "correct the activity reference (ACT-…) in the submission"))
        return None
    return {**answers, "id": activity.id}

