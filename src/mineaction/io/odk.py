"""Form submissions from ODK Central and KoboToolbox into the review queue.

:mod:`mineaction.io.form_exports` recognises what the servers hand out (the
Central submissions zip, CSV and OData JSON; Kobo's XLSX, CSV and API JSON)
and flattens it to question names, which are the register's field names (see
:mod:`mineaction.io.xlsform`). Here labels become codes again, geo answers
geometries, photos their bytes, and everything goes to the same validation
and queue as any file import.

ODK text geometry is **"latitude longitude altitude accuracy"**
(:func:`mineaction.io.coordinates.odk_geometry`). Each field report keeps its
submission's metadata (instance id, submitter, device, submitted and updated
times, form version, review state) and its photos (file name, SHA-256, size
and the bytes, base64) in its ``attachments``; approval names the submissions
in its changeset's reason. The register has no attachment table yet: see
``docs/field-data.md`` for the GeoPackage Related Tables design that replaces
the base64.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mineaction.domain.entities import ENTITIES, Kind
from mineaction.errors import InvalidValue, RecordNotFound
from mineaction.io.coordinates import odk_geometry
from mineaction.io.form_exports import FormExport, Submission, form_export
from mineaction.io.importer import ImportResult, Job, import_batches
from mineaction.io.mapping import Mapping, normalise
from mineaction.io.sources import Batch, file_sha256
from mineaction.io.validation import Problem, ValidationReport
from mineaction.io.xlsform import FORMS, FormSpec, choices
from mineaction.storage import Register
from mineaction.storage.review import ImportSource

__all__ = ["MAX_ATTACHMENT_BYTES", "import_submissions"]

_GEO_TYPES = ("geopoint", "geotrace", "geoshape")
#: a photo larger than this is recorded by name and SHA-256 only (its bytes are not kept)
MAX_ATTACHMENT_BYTES = 16 * 1024**2


def _plain_name(name: str) -> bool:
    """A bare file name: no folder, no parent, no drive, no control characters."""
    return (bool(name) and name not in (".", "..") and Path(name).name == name and "\\" not in name
            and ":" not in name and name.isprintable())


def _codes_from_labels(register: Register, export: FormExport) -> None:
    """Answers given as choice labels (Kobo's label exports, English or Ukrainian) become the choices' codes.

    The choices are the form's, as :mod:`mineaction.io.xlsform` writes them
    from the register: vocabularies, operators and the gazetteer. A code
    stays as it is; a word found nowhere is left for the validation to report.
    """
    selects = {q.name: (q.type.split()[0], q.type.split()[1]) for q in export.form.questions
               if q.type.startswith(("select_one ", "select_multiple "))}
    tables: dict[str, dict[str, str]] = {}  # list -> code or normalised label -> code
    for list_name in {list_name for _, list_name in selects.values()}:
        listed = choices(register, list_name)
        tables[list_name] = {normalise(label): code for code, en, uk in listed for label in (uk, en)}
        tables[list_name].update({code: code for code, _, _ in listed})

    def one(table: dict[str, str], word: str) -> str | None:
        return table.get(word) or table.get(normalise(word))

    def code(kind: str, list_name: str, value: str) -> str:
        table = tables[list_name]
        if kind == "select_one" or one(table, value):
            return one(table, value) or value
        words, out = value.split(), []
        while words:  # select_multiple: labels joined by spaces, each perhaps of several words: longest first
            n = next((n for n in range(len(words), 0, -1) if one(table, " ".join(words[:n]))), 0)
            if n == 0:
                return value
            out.append(one(table, " ".join(words[:n])))
            words = words[n:]
        return " ".join(str(c) for c in out)

    for submission in export.submissions:
        for answers in [submission.answers, *(row for rows in submission.repeats.values() for row in rows)]:
            for name, (kind, list_name) in selects.items():
                if isinstance(answers.get(name), str) and answers[name]:
                    answers[name] = code(kind, list_name, answers[name].strip())


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

    def _attachments(self, s: Submission, label: str) -> tuple[dict[str, Any], ...]:
        """Photos named by image answers, found in the export; a name is a file name, never a path.

        The bytes are kept (base64) with the report, so nothing depends on
        where the export was unpacked; one above :data:`MAX_ATTACHMENT_BYTES`
        is recorded by name, size and SHA-256 only.
        """
        names = [str(s.answers[q.name]) for q in self.spec.questions if q.type == "image" and s.answers.get(q.name)]
        out: list[dict[str, Any]] = []
        for name in dict.fromkeys(names):
            if not _plain_name(name):
                self.report.add(Problem(self.report.source, label, "photo", "error",
                                        f"attachment name {name!r} is a path, not a file name",
                                        "export the submissions again; attachments stay in the media folder"))
                continue
            folders = [self.folder / "media", self.folder / "attachments"]
            if _plain_name(str(s.meta.get("instance_id", "")).removeprefix("uuid:")):  # Kobo: attachments/<uuid>/
                folders.append(self.folder / "attachments" / s.meta["instance_id"].removeprefix("uuid:"))
            found = next((f / name for f in [*folders, self.folder] if (f / name).is_file()), None)
            if found is None:
                self.report.add(Problem(self.report.source, label, "photo", "warning",
                                        f"attachment {name} is not in the export",
                                        "import the submissions zip with its media/ folder to keep the photo"))
                continue
            size = found.stat().st_size
            kept: dict[str, Any] = {"name": name, "sha256": file_sha256(found), "size": size,
                                    "content_type": mimetypes.guess_type(name)[0] or "application/octet-stream"}
            if size <= MAX_ATTACHMENT_BYTES:
                kept["data"] = base64.b64encode(found.read_bytes()).decode("ascii")
            else:
                self.report.add(Problem(self.report.source, label, "photo", "warning",
                                        f"attachment {name} has {size:,} bytes (limit {MAX_ATTACHMENT_BYTES:,}): "
                                        "its name and SHA-256 are kept, not its bytes",
                                        "send a smaller photo, or keep the original with the export"))
            out.append(kept)
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
    """Import an ODK Central or Kobo export of one of :data:`~mineaction.io.xlsform.FORMS` into the queue.

    The export's tool, shape, form and label language are recognised
    (:func:`~mineaction.io.form_exports.form_export`); ``form`` overrides the form.
    """
    path = Path(path)
    if form is not None and form not in FORMS:
        raise InvalidValue(f"{path.name}: no form {form!r}", hint=f"give --form, one of {', '.join(FORMS)}")
    with form_export(path, form) as export:
        spec = export.form
        _codes_from_labels(register, export)
        report = ValidationReport(path.name)
        rows = _Rows(register, spec, export.folder, report)
        main, children = [], []
        for s in export.submissions:
            label = f"submission {s.key}"
            meta = {"kind": "submission", "source": export.tool, **s.meta}
            attachments = (*rows._attachments(s, label), meta)
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
                children.append((f"{label} {spec.repeat} {k}", child, None, (meta,)))
        jobs = [Job(Mapping.load(entity_name=spec.entity), [rows.batch(spec.entity, main)] if main else [],
                    "EPSG:4326", spec.form_id)]
        if spec.repeat_entity and children:
            jobs.append(Job(Mapping.load(entity_name=spec.repeat_entity), [rows.batch(spec.repeat_entity, children)],
                            "EPSG:4326", f"{spec.form_id}/{spec.repeat}"))
        origin = ImportSource(path.name, file_sha256(path), f"{export.tool} {export.shape}", f"form {spec.form_id}")
        result = import_batches(register, jobs, origin, report, user=user, reason=reason, dry_run=dry_run,
                                skip_invalid=skip_invalid)
        result.recognised = export.describe()
        return result


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

