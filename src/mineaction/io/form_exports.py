"""ODK Central and KoboToolbox exports as the servers hand them out, recognised by their shape.

No option says which tool or form an export came from; its shape does:

* **ODK Central submissions zip** (``<form>.csv.zip``): the main CSV
  ``<form>.csv`` (``KEY``, ``meta-instanceID``, ``SubmissionDate``,
  ``SubmitterName``, ``DeviceID``, ``ReviewState``, ``FormVersion``; groups
  joined with ``-``), one CSV per repeat ``<form>-<repeat>.csv`` whose
  ``PARENT_KEY`` is its submission's ``KEY``, and the photos in ``media/``.
  The main CSV alone is read the same way.
* **ODK Central OData JSON** (``value``): ``__id``, ``__system`` with
  ``submitterName``, ``submissionDate``, ``updatedAt``, ``deviceId``,
  ``reviewState``, ``formVersion``; groups as objects, repeats as expanded
  arrays, or as ``<repeat>@odata.navigationLink`` with the repeat's own
  ``Submissions.<repeat>`` JSON (rows naming ``__Submissions-id``) beside it.
* **KoboToolbox CSV and XLSX exports**: ``_uuid``, ``_submission_time``,
  ``_submitted_by``, ``_validation_status``, ``__version__``; groups joined
  with ``/`` (or ``-``); in the XLSX one sheet per repeat joined by
  ``_parent_index`` to the main sheet's ``_index``. "XML values and headers"
  or "Labels": labels (English or Ukrainian, from the form) are turned back
  into question names here and into codes by :func:`codes_from_labels`.
* **KoboToolbox API v2 JSON** (``results``), photos listed in ``_attachments``.

The form is the file's name when it is one of :data:`~mineaction.io.xlsform.FORMS`,
else Kobo's ``_xform_id_string`` or Central's OData context, else the form
whose question names or labels the columns match best.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mineaction.io.errors import SourceError
from mineaction.io.mapping import normalise
from mineaction.io.safety import check_xml, safe_unzip
from mineaction.io.xlsform import FORMS, FormSpec

__all__ = ["FormExport", "Submission", "form_export", "is_form_export"]

CENTRAL, KOBO = "ODK Central", "KoboToolbox"
#: Central's CSV columns of submission metadata -> the key kept with each field report
_CENTRAL_META = {"KEY": "instance_id", "SubmitterName": "submitter", "DeviceID": "device",
                 "SubmissionDate": "submitted_at", "UpdatedAt": "updated_at", "FormVersion": "form_version",
                 "ReviewState": "review_state"}
_CENTRAL_SYSTEM = {"submitterName": "submitter", "deviceId": "device", "submissionDate": "submitted_at",
                   "updatedAt": "updated_at", "formVersion": "form_version", "reviewState": "review_state"}
_KOBO_META = {"_uuid": "instance_id", "_submitted_by": "submitter", "deviceid": "device",
              "_submission_time": "submitted_at", "_last_edited": "updated_at", "__version__": "form_version",
              "_validation_status": "review_state"}
_CENTRAL_MARKS = {"KEY", "SubmissionDate", "meta-instanceID", "ReviewState"}
_KOBO_MARKS = {"_uuid", "_submission_time"}
_SPLIT_GEOPOINT = ("Latitude", "Longitude", "Altitude", "Accuracy")
_GEO = {"Point", "LineString", "Polygon"}


@dataclass
class Submission:
    """One submission flattened to question name -> answer, with its repeats and metadata."""

    key: str
    answers: dict[str, Any]
    repeats: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)  # file names the server listed
    meta: dict[str, str] = field(default_factory=dict)  # instance_id, submitter, device, ... as the server says


@dataclass
class FormExport:
    """What an export was recognised as, and its submissions."""

    tool: str  # ODK Central | KoboToolbox
    shape: str  # e.g. "submissions zip", "OData JSON", "XLSX export"
    form: FormSpec
    submissions: list[Submission]
    folder: Path  # where its attachments are (Central's media/, Kobo's attachments/)
    labels: str | None = None  # None: XML values; else the language of the labels ("English", "Ukrainian")
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One sentence saying what was recognised, for the person who gave the file."""
        repeats = sum(len(rows) for s in self.submissions for rows in s.repeats.values())
        listed = sum(1 for s in self.submissions for _ in s.attachments)
        parts = [f"recognised: {self.tool} {self.shape}, form {self.form.form_id}",
                 f"{len(self.submissions)} submission(s)"]
        if self.form.repeat:
            parts.append(f"{repeats} {self.form.repeat} row(s) in repeat {self.form.repeat!r}")
        if listed:
            parts.append(f"{listed} attachment(s) listed")
        parts.append(f"{self.labels} labels turned back into codes" if self.labels else "XML values")
        return ", ".join(parts) + "".join(f"; {n}" for n in self.notes)


def _leaf(path: str) -> str:
    return re.split(r"[/-]", path)[-1]


def _text(value: Any) -> Any:
    return None if value == "" else value


# -- reading the raw shapes --------------------------------------------------


def _csv_table(path: Path) -> list[dict[str, Any]]:
    """A CSV's rows as column -> text ("" as None); Kobo writes ';' by default, Central ','."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            header = f.readline()
            f.seek(0)
            delimiter = max(",;\t", key=header.count)  # the header's separator (labels may hold commas)
            return [{k: _text(v) for k, v in row.items() if k is not None}
                    for row in csv.DictReader(f, delimiter=delimiter)]
    except (UnicodeError, csv.Error) as exc:
        raise SourceError(f"{path.name}: not a readable CSV export ({exc})",
                          hint="export the submissions again as UTF-8 CSV from ODK Central or Kobo") from None


def _xlsx_sheets(path: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """A Kobo XLSX export's sheets (main first) as rows of column -> value, its XML checked first."""
    from openpyxl import load_workbook  # only XLSX exports pay for it
    from openpyxl.utils.exceptions import InvalidFileException

    with tempfile.TemporaryDirectory(prefix="mineaction-xlsx-") as tmp:
        for member in safe_unzip(path, Path(tmp)):
            if member.suffix.lower() in (".xml", ".rels"):
                check_xml(member, "")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise SourceError(f"{path.name}: not a readable XLSX export ({exc})") from None
    sheets = []
    try:
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = [str(h) if h is not None else "" for h in next(rows, ())]
            table = [{h: _text(v) for h, v in zip(header, row) if h} for row in rows if any(v not in (None, "") for v in row)]
            sheets.append((sheet.title, table))
    finally:
        book.close()
    return sheets


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8-sig"))
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nesting built to exhaust the parser
        raise SourceError(f"{path.name}: not readable JSON ({type(exc).__name__}: {exc})") from None


# -- recognising the form and the label language ------------------------------


class _Names:
    """Column headers -> question names of one form, by name or by English or Ukrainian label."""

    def __init__(self, spec: FormSpec):
        self.spec = spec
        self.names = {q.name for q in spec.questions}
        self.by_label = {"English": {normalise(q.en): q.name for q in spec.questions if q.en},
                         "Ukrainian": {normalise(q.uk): q.name for q in spec.questions if q.uk}}

    def name(self, header: str) -> tuple[str, str | None]:
        """(question name, the language of the label it was found by, or None)."""
        leaf = _leaf(header)
        if leaf in self.names or header in self.names:
            return (leaf if leaf in self.names else header), None
        pieces = header.split("/")
        for start in range(len(pieces)):  # "Group label/Question label": the longest tail that is a label
            tail = normalise("/".join(pieces[start:]))
            for language, table in self.by_label.items():
                if tail in table:
                    return table[tail], language
        return leaf, None

    def score(self, headers: list[str]) -> int:
        return sum(1 for h in headers if self.name(h)[0] in self.names)


def _which_form(path: Path, headers: list[str], given: str | None, declared: str | None = None) -> FormSpec:
    for candidate in (given, declared, path.name.split(".")[0], path.stem):
        if candidate in FORMS:
            return FORMS[candidate]
    scores = sorted(((_Names(spec).score(headers), spec.form_id) for spec in FORMS.values()), reverse=True)
    if scores[0][0] >= 3 and (len(scores) == 1 or scores[0][0] > scores[1][0]):
        return FORMS[scores[0][1]]
    raise SourceError(f"{path.name}: which form are these submissions of? Neither the file's name nor its "
                      "columns name one of mineaction's forms", hint=f"give --form, one of {', '.join(FORMS)}")


def _flatten(data: dict[str, Any], names: _Names, out: dict[str, Any], repeats: dict[str, list[dict[str, Any]]],
             languages: set[str]) -> None:
    """Groups (objects, or paths joined with / or -) flattened to question names; repeats (arrays) kept apart."""
    for key, value in data.items():
        if key.startswith("__") or key.endswith("@odata.navigationLink"):
            continue
        if isinstance(value, dict) and value.get("type") not in _GEO:
            _flatten(value, names, out, repeats, languages)  # an ODK Central group
            continue
        name, language = names.name(key)
        if language:
            languages.add(language)
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value) and name != "_attachments":
            rows = []
            for item in value:
                row: dict[str, Any] = {}
                _flatten(item, names, row, repeats, languages)
                rows.append(row)
            repeats[name] = rows
        else:
            out[name] = value


def _split_geopoints(row: dict[str, Any]) -> dict[str, Any]:
    """Central's ``location-Latitude``, ``-Longitude`` ... columns joined back into ODK's geopoint text."""
    out: dict[str, Any] = {}
    split: dict[str, dict[str, Any]] = {}
    for column, value in row.items():
        base, _, part = column.rpartition("-")
        if part in _SPLIT_GEOPOINT and base:
            split.setdefault(base, {})[part] = value
        else:
            out[column] = value
    for base, parts in split.items():
        if parts.get("Latitude") not in (None, "") and parts.get("Longitude") not in (None, ""):
            out[base] = " ".join(str(parts.get(p) or 0) for p in _SPLIT_GEOPOINT)
    return out


def _meta(raw: dict[str, Any], table: dict[str, str]) -> dict[str, str]:
    out = {}
    for column, key in table.items():
        value = raw.get(column)
        if isinstance(value, dict):  # Kobo's _validation_status: {"uid": "validation_status_approved", ...}
            value = value.get("uid") or value.get("label")
        if value not in (None, ""):
            out[key] = str(value).removeprefix("validation_status_")
    return out


def _submission(raw: dict[str, Any], names: _Names, meta: dict[str, str], languages: set[str],
                listed: list[str] | None = None) -> Submission:
    answers: dict[str, Any] = {}
    repeats: dict[str, list[dict[str, Any]]] = {}
    try:
        _flatten(raw, names, answers, repeats, languages)
    except RecursionError:
        raise SourceError("a submission is nested deeper than any form produces") from None
    key = (raw.get("meta-instanceID") or raw.get("meta/instanceID") or answers.get("instanceID")
           or raw.get("__id") or raw.get("KEY") or raw.get("_uuid"))
    if not key:
        raise SourceError("a submission has no instance ID", hint="export with the meta/instanceID column")
    meta = {"instance_id": str(key), **{k: v for k, v in meta.items() if k != "instance_id"}}
    return Submission(str(key), answers, repeats, listed or [], meta)


# -- the shapes ---------------------------------------------------------------


def _central_csv(path: Path, folder: Path, shape: str, given: str | None) -> FormExport:
    rows = [_split_geopoints(r) for r in _csv_table(path)]
    spec = _which_form(path, list(rows[0]) if rows else [], given)
    names, languages = _Names(spec), set[str]()
    by_parent: dict[str, list[dict[str, Any]]] = {}
    repeat_file = path.with_name(f"{path.stem}-{spec.repeat}.csv") if spec.repeat else None
    if repeat_file is not None and repeat_file.is_file():
        for row in _csv_table(repeat_file):
            clean: dict[str, Any] = {}
            _flatten({k: v for k, v in _split_geopoints(row).items() if k not in ("KEY", "PARENT_KEY")},
                     names, clean, {}, languages)
            by_parent.setdefault(str(row.get("PARENT_KEY")), []).append(clean)
    submissions = []
    for row in rows:
        data = {k: v for k, v in row.items() if k not in _CENTRAL_META and k not in _CENTRAL_MARKS}
        s = _submission({**data, "meta-instanceID": row.get("meta-instanceID") or row.get("KEY")}, names,
                        _meta(row, _CENTRAL_META), languages)
        if spec.repeat:
            s.repeats[spec.repeat] = by_parent.get(str(row.get("KEY") or s.key), [])
        submissions.append(s)
    notes = [f"repeat file {repeat_file.name}" if repeat_file is not None and repeat_file.is_file() else ""]
    return FormExport(CENTRAL, shape, spec, submissions, folder, notes=[n for n in notes if n])


def _odata_repeat(path: Path, context: str, repeat: str) -> dict[str, list[dict[str, Any]]]:
    """Rows of ``Submissions.<repeat>`` saved beside the main OData JSON, by their submission's ``__id``."""
    for sibling in sorted(path.parent.glob("*.json")):
        if sibling == path:
            continue
        with sibling.open("rb") as f:
            if b"@odata.context" not in f.read(4096):
                continue
        data = _json(sibling)
        if isinstance(data, dict) and str(data.get("@odata.context", "")).endswith(f"#{context}.{repeat}"):
            out: dict[str, list[dict[str, Any]]] = {}
            for row in data.get("value") or []:
                if isinstance(row, dict):
                    out.setdefault(str(row.get("__Submissions-id")), []).append(row)
            return out
    return {}


def _central_odata(path: Path, data: dict[str, Any], given: str | None) -> FormExport:
    context = str(data.get("@odata.context", ""))
    declared = m.group(1) if (m := re.search(r"/forms/([^/]+?)\.svc", context)) else None
    records = data["value"]
    headers = sorted({k for r in records[:50] for k in r})
    spec = _which_form(path, headers, given, declared)
    names, languages = _Names(spec), set[str]()
    linked = spec.repeat is not None and any(f"{spec.repeat}@odata.navigationLink" in str(list(r)) for r in records)
    beside = _odata_repeat(path, "Submissions", spec.repeat) if linked and spec.repeat else {}
    notes = []
    submissions = []
    for raw in records:
        system = raw.get("__system") if isinstance(raw.get("__system"), dict) else {}
        s = _submission(raw, names, _meta(system, _CENTRAL_SYSTEM), languages)
        if spec.repeat and spec.repeat not in s.repeats and str(raw.get("__id")) in beside:
            rows = []
            for item in beside[str(raw.get("__id"))]:
                row: dict[str, Any] = {}
                _flatten(item, names, row, {}, languages)
                rows.append(row)
            s.repeats[spec.repeat] = rows
        submissions.append(s)
    if linked:
        notes.append(f"repeat {spec.repeat!r} from Submissions.{spec.repeat} beside it" if beside else
                     f"repeat {spec.repeat!r} given only as navigation links: export with $expand=* or save "
                     f"Submissions.{spec.repeat} beside it to import its rows")
    return FormExport(CENTRAL, "OData JSON", spec, submissions, path.parent, notes=notes)


def _kobo_records(path: Path, shape: str, records: list[dict[str, Any]], given: str | None,
                  repeat_rows: dict[str, list[dict[str, Any]]] | None = None) -> FormExport:
    headers = sorted({k for r in records[:50] for k in r})
    declared = next((str(r["_xform_id_string"]) for r in records if r.get("_xform_id_string")), None)
    spec = _which_form(path, headers, given, declared)
    names, languages = _Names(spec), set[str]()
    submissions = []
    for raw in records:
        listed = raw.get("_attachments")
        files = [Path(str(a.get("filename", ""))).name for a in listed if isinstance(a, dict)] if isinstance(
            listed, list) else []
        data = {k: v for k, v in raw.items() if not k.startswith("_") or k == "_attachments"}
        s = _submission(data | {"meta/instanceID": raw.get("meta/instanceID") or raw.get("_uuid")}, names,
                        _meta(raw, _KOBO_META), languages, files)
        s.answers.pop("_attachments", None)
        if repeat_rows is not None and spec.repeat:
            s.repeats[spec.repeat] = []
            for item in repeat_rows.get(str(raw.get("_index")), []):
                row: dict[str, Any] = {}
                _flatten({k: v for k, v in item.items() if not k.startswith("_")}, names, row, {}, languages)
                s.repeats[spec.repeat].append(row)
        submissions.append(s)
    label = "Ukrainian" if "Ukrainian" in languages else "English" if languages else None
    return FormExport(KOBO, shape, spec, submissions, path.parent, labels=label)


def _kobo_xlsx(path: Path, given: str | None) -> FormExport:
    sheets = _xlsx_sheets(path)
    if not sheets:
        raise SourceError(f"{path.name}: the workbook has no sheet")
    (_, main), others = sheets[0], sheets[1:]
    repeat_rows: dict[str, list[dict[str, Any]]] = {}
    for _, rows in others:  # Kobo: one sheet per repeat group, _parent_index -> the main sheet's _index
        for row in rows:
            repeat_rows.setdefault(str(row.get("_parent_index")), []).append(row)
    return _kobo_records(path, "XLSX export", main, given, repeat_rows if others else None)


@contextmanager
def _central_zip(path: Path, given: str | None) -> Iterator[FormExport]:
    with tempfile.TemporaryDirectory(prefix="mineaction-odk-") as tmp:
        files = safe_unzip(path, Path(tmp))
        tables = [p for p in files if p.suffix.lower() == ".csv"]
        repeats = {p for p in tables for q in tables if p != q and p.stem.startswith(f"{q.stem}-")}
        main = [p for p in tables if p not in repeats]
        if len(main) != 1:
            raise SourceError(f"{path.name}: an ODK Central submissions zip holds one main CSV and its repeat "
                              f"CSVs; found {len(main)} main CSV(s)")
        export = _central_csv(main[0], main[0].parent, "submissions zip", given)
        photos = sum(1 for p in files if p.parent.name == "media")
        if photos:
            export.notes.append(f"{photos} file(s) in media/")
        yield export


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(65536)


def _csv_header(path: Path) -> set[str]:
    line = _head(path).decode("utf-8-sig", errors="replace").split("\n", 1)[0]
    return {c.strip().strip('"') for c in re.split(r"[,;\t]", line)}


def is_form_export(path: Path) -> bool:
    """Whether a file is shaped like a form export (cheap: names, headers, the first bytes)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        return False
    if suffix == ".csv":
        return bool(_csv_header(path) & (_CENTRAL_MARKS | _KOBO_MARKS))
    if suffix == ".json":
        head = _head(path)
        return (bool(re.search(rb'"(value|results)"\s*:\s*\[|"@odata\.context"\s*:', head))
                and not re.search(rb'"type"\s*:\s*"Feature', head))
    if suffix == ".zip":
        import zipfile

        try:
            with zipfile.ZipFile(path) as zf:
                names = [n.lower() for n in zf.namelist()]
        except (zipfile.BadZipFile, OSError):
            return False
        return any(n.endswith(".csv") for n in names) and not any(n.endswith(".shp") for n in names)
    if suffix == ".xlsx":
        import zipfile

        try:  # the header's text is shared strings, or inline in the first sheet
            with zipfile.ZipFile(path) as zf:
                text = b"".join(zf.open(n).read(1024**2) for n in ("xl/sharedStrings.xml", "xl/worksheets/sheet1.xml")
                                if n in zf.namelist())
        except (zipfile.BadZipFile, OSError, KeyError, RuntimeError, NotImplementedError):
            return False
        return b">_uuid<" in text and b">_submission_time<" in text
    return False


@contextmanager
def form_export(path: str | Path, form: str | None = None) -> Iterator[FormExport]:
    """The export at ``path``, recognised (``form``: of this form); its attachments stay readable in the block."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"no file at {path}", hint="check the path")
    suffix = path.suffix.lower()
    if suffix == ".zip":
        with _central_zip(path, form) as export:
            yield export
        return
    if suffix == ".xlsx":
        yield _kobo_xlsx(path, form)
        return
    if suffix == ".csv":
        header = _csv_header(path)
        if header & _CENTRAL_MARKS or not header & _KOBO_MARKS:
            yield _central_csv(path, path.parent, "CSV export", form)
        else:
            yield _kobo_records(path, "CSV export", _csv_table(path), form)
        return
    if suffix == ".json":
        data = _json(path)
        if isinstance(data, dict) and isinstance(data.get("value"), list):
            _check_records(path, data["value"])
            yield _central_odata(path, data, form)
        elif isinstance(data, dict) and isinstance(data.get("results"), list):
            _check_records(path, data["results"])
            yield _kobo_records(path, "API v2 JSON", data["results"], form)
        elif isinstance(data, list):
            _check_records(path, data)
            yield _kobo_records(path, "JSON export", data, form)
        else:
            raise SourceError(f"{path.name}: expected an ODK Central 'value' or Kobo 'results' list of submissions")
        return
    raise SourceError(f"{path.name}: submissions come as ODK Central's .csv.zip, .csv or OData .json, or "
                      "KoboToolbox's .xlsx, .csv or .json exports")


def _check_records(path: Path, records: list[Any]) -> None:
    if not all(isinstance(r, dict) for r in records):
        raise SourceError(f"{path.name}: expected an ODK Central 'value' or Kobo 'results' list of submissions")
