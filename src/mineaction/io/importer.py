"""Importing field data: map → validate → report → queue, in one transaction.

Nothing an import reads reaches the register directly. Each feature is
mapped (:mod:`mineaction.io.mapping`), checked with the register's own rules
(:mod:`mineaction.io.validation`) and, when the whole source is clean,
queued as a field report (:mod:`mineaction.storage.review`) for a reviewer to
approve. A feature whose content was imported before is skipped, so importing
the same file twice adds nothing; a feature that carries the ``id`` of a
register record becomes an update based on the version it names.

Batches stream from the file into the queue inside one transaction; if the
report has errors, the transaction is rolled back, so a failed or crashed
import leaves the register and the queue as they were.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mineaction.domain.entities import ENTITIES, REGISTER_WRITTEN, Entity, Field, Kind, clean_values
from mineaction.domain.ledger import ExistingPart, check_release
from mineaction.errors import CRSRequired, InvalidValue, MineActionError
from mineaction.io.coordinates import lonlat_points, mgrs_points, odk_geometry, wkt_geometries
from mineaction.io.mapping import ColumnPlan, Mapping, Translator, normalise
from mineaction.io.sources import DEFAULT_BATCH, Batch, LayerInfo, Source
from mineaction.io.validation import Problem, ValidationReport, check_geometries, problem_from
from mineaction.storage import Record, Register, live_id, stored_version
from mineaction.storage.review import ImportSource, QueueResult, Submission, submit

__all__ = ["ImportResult", "Job", "import_batches", "import_file"]

_KINDS = {"POLYGON": ("Polygon",), "MULTIPOLYGON": ("Polygon", "MultiPolygon"), "POINT": ("Point",)}
_RELEASE_FIELDS = ("activity_id", "release_type", "method", "released_on")
_WGS84_KINDS = ("mgrs", "odk")  # coordinates that are WGS 84 by definition
_OWNER = "organisation_id"  # the field naming the organisation a record, and its field report, belong to


@dataclass(frozen=True)
class Job:
    """One stream of rows and the mapping that reads it."""

    mapping: Mapping
    batches: Iterable[Batch]
    crs: str | None
    layer: str = ""
    has_geometry: bool = True


@dataclass
class ImportResult:
    report: ValidationReport
    queued: QueueResult | None  # None: dry run, or refused because the report has errors
    dry_run: bool = False
    recognised: str | None = None  # what a form export was recognised as (tool, shape, form, labels)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


_EXTRA_NONE = _json([None, [], None])  # no id, no photos, no form key: most rows


def _content_hashes(entity_name: str, action: str, values_json: Sequence[str], extras_json: Sequence[str],
                    wkbs: Sequence[bytes | None]) -> list[str]:
    """SHA-256 per row of what a feature says: ``[entity, action, values, extra]`` as sorted JSON, then the WKB.

    The JSON parts arrive already encoded (:func:`_json_objects`), so the text
    hashed is exactly ``_json([entity, action, values, extra])``.
    """
    head = f"[{_json(entity_name)}, {_json(action)}, "
    out = []
    for values, extra, wkb in zip(values_json, extras_json, wkbs):
        digest = hashlib.sha256(f"{head}{values}, {extra}]".encode())
        if wkb is not None:
            digest.update(wkb)
        out.append(digest.hexdigest())
    return out


def _factorise(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    """A code per row into the distinct values, so that work per value is done once.

    Values of different types stay apart (``1``, ``1.0`` and ``True`` are equal
    in Python, not as text); unhashable ones (lists, objects from JSON forms)
    are each their own.
    """
    try:
        keyed = len(set(map(type, values)) - {type(None)}) > 1
        keys = list(zip(map(type, values), values)) if keyed else values
        index = {key: code for code, key in enumerate(dict.fromkeys(keys))}
        codes = np.fromiter(map(index.__getitem__, keys), dtype=np.intp, count=len(keys))
    except TypeError:
        return np.arange(len(values)), list(values)
    return codes, [key[1] for key in index] if keyed else list(index)


@dataclass(frozen=True)
class _Column:
    """One field of a batch: a code per row into its distinct source values, and per distinct value
    what mapping and checking made of it."""

    name: str
    codes: np.ndarray
    values: list[Any]  # the cleaned, JSON-ready value (None where refused)
    ok: np.ndarray  # mapped and clean
    present: np.ndarray  # given: the field is part of the row's values (perhaps as null)

    @property
    def filled(self) -> np.ndarray:
        """Present and not empty: what a required field needs."""
        return self.present & np.array([v not in (None, []) for v in self.values], dtype=bool)

    def has(self, i: int) -> bool:
        return bool(self.present[self.codes[i]])

    def linked(self, i: int, resolved: list[tuple[str, str] | None] | None) -> Any:
        """Row ``i``'s value, its link resolved if given."""
        code = self.codes[i]
        return _resolved(self.values[code], resolved[code] if resolved is not None else None)

    def pieces(self, resolved: list[tuple[str, str] | None] | None = None) -> np.ndarray:
        """``, "name": value`` per distinct value ('' where not present), links resolved if given."""
        key = _json(self.name)
        out = np.full(len(self.values), "", dtype=object)
        for code, (value, present) in enumerate(zip(self.values, self.present)):
            if present:
                value = _resolved(value, resolved[code] if resolved is not None else None)
                out[code] = f", {key}: {_json(value)}"
        return out


def _resolved(value: Any, found: tuple[str, str] | None) -> Any:
    """A link value as queued: the register id, or None for a parent in this file (``depends_on`` names it)."""
    if found is None:
        return value
    return found[1] if found[0] == "id" else None


def _owners(fields: dict[str, _Column], links: dict[str, list[tuple[str, str] | None]], n: int) -> list[str | None]:
    """Each row's organisation (``organisation_id``, its link resolved), which its field report belongs to.

    None for programme-wide records and where the organisation is new in
    this file: the queue then takes the owner of the report it depends on.
    """
    column = fields.get(_OWNER)
    if column is None:
        return [None] * n
    resolved = links.get(_OWNER)
    per_value = np.empty(len(column.values), dtype=object)
    per_value[:] = [_resolved(v, None if resolved is None else resolved[c]) if column.present[c] else None
                    for c, v in enumerate(column.values)]
    return per_value[column.codes].tolist()


def _json_objects(fields: dict[str, _Column], n: int,
                  links: dict[str, list[tuple[str, str] | None]] | None = None) -> list[str]:
    """Each row's values as ``_json(values)`` would write them, assembled a column at a time from the
    encoded distinct values (one ``json.dumps`` per distinct value instead of one per row)."""
    text = np.full(n, "", dtype=object)
    for name in sorted(fields):
        column = fields[name]
        text += column.pieces((links or {}).get(name))[column.codes]
    return [f"{{{t[2:]}}}" for t in text]


@dataclass
class _Links:
    """Resolves link values: a row of the same source first, then the register (id, ref; names for organisations)."""

    register: Register
    in_file: dict[str, tuple[str, str]] = field(default_factory=dict)  # "entity:key" -> ("hash"|"id", value)
    cache: dict[tuple[str, str], str | None] = field(default_factory=dict)
    organisations: dict[str, str] | None = None

    def _register_id(self, target: str, value: str) -> str | None:
        key = (target, value)
        if key not in self.cache:
            self.cache[key] = live_id(self.register, target, value)
            if self.cache[key] is None and target == "organisation":
                self.cache[key] = self._organisation_names().get(normalise(value))
        return self.cache[key]

    def _organisation_names(self) -> dict[str, str]:
        if self.organisations is None:
            self.organisations = {}
            for org in self.register.records("organisation"):
                for name in (org["name"], org["acronym"]):
                    if name:
                        self.organisations.setdefault(normalise(name), org.id)
        return self.organisations

    def resolve(self, f: Field, value: str) -> tuple[str, str] | None:
        """("hash", parent content hash) or ("id", register id), or None when nothing matches."""
        assert f.link is not None
        return self.in_file.get(f"{f.link}:{value}") or (
            ("id", rid) if (rid := self._register_id(f.link, value)) else None
        )


class _Validator:
    """Checks rows one batch at a time and turns the clean ones into submissions."""

    def __init__(self, register: Register, report: ValidationReport):
        self.register = register
        self.report = report
        self.file = report.source
        self.vocab = register.vocabularies()
        self.links = _Links(register)
        self.parts: dict[str, list[ExistingPart]] = {}  # hazard id -> released parts (register + this import)
        # new activities of this import on register hazards, by content hash: hazard id, ref, outline, type, label
        self.activities: dict[str, tuple[str, str, BaseGeometry, str, str]] = {}
        self.activity_owners: dict[str, str | None] = {}  # register activity id -> its organisation
        self._translators: dict[str, Translator] = {}

    @staticmethod
    @functools.cache
    def link_fields(spec: Entity) -> tuple[Field, ...]:
        return tuple(f for f in spec.fields if f.link)

    def translator(self, mapping: Mapping) -> Translator:
        if mapping.name not in self._translators:
            labels = {}
            for vocabulary in self.vocab:
                en, uk = self.register.labels(vocabulary, "en"), self.register.labels(vocabulary, "uk")
                labels[vocabulary] = {code: (label, uk.get(code, "")) for code, label in en.items()}
            self._translators[mapping.name] = Translator(labels, mapping)
        return self._translators[mapping.name]

    def problem(self, feature: str, field_name: str, problem: str, action: str, severity: str = "error") -> None:
        self.report.add(Problem(self.file, feature, field_name, severity, problem, action))

    # -- per layer ------------------------------------------------------------

    def run(self, job: Job) -> Iterator[list[Submission]]:
        spec = job.mapping.spec
        plan: ColumnPlan | None = None
        usable = True
        for batch in job.batches:
            self.report.features += len(batch)
            if plan is None:
                plan = job.mapping.plan(list(batch.columns), has_geometry=job.has_geometry)
                usable = self._check_plan(job, plan)
            if not usable:  # reported once for the layer; its features are counted, not checked
                continue
            geometries, geometry_errors = self._geometries(job, plan, batch) if spec.geometry else ({}, {})
            yield self._rows(job, plan, batch, geometries, geometry_errors)

    def _check_plan(self, job: Job, plan: ColumnPlan) -> bool:
        spec, where = job.mapping.spec, f"layer {job.layer}" if job.layer else "(file)"
        ok = True
        if spec.geometry and not job.has_geometry and plan.geometry_kind is None:
            looked = "; ".join(f"{k}: {', '.join(v)}" for k, v in job.mapping.geometry.items()) or "nothing"
            self.problem(where, "geometry", f"no geometry and no coordinate columns (looked for {looked})",
                         "name the coordinate columns under 'geometry:' in the mapping")
            ok = False
        needed = (_RELEASE_FIELDS if job.mapping.action == "release" else
                  [] if "id" in plan.identity else [f.name for f in spec.fields if f.required])  # updates: any subset
        for name in needed:
            if name not in plan.fields and name not in job.mapping.defaults:
                self.problem(where, name, f"no column for required field {name} (looked for "
                             f"{', '.join(job.mapping.fields.get(name, (name,)))})",
                             f"add the column, map it under 'fields: {name}:' or set 'defaults: {name}:'")
                ok = False
        if plan.unused:
            self.problem(where, "", f"columns not imported: {', '.join(plan.unused)}",
                         "map them in the mapping if they hold register fields", "warning")
        return ok

    def _geometries(self, job: Job, plan: ColumnPlan, batch: Batch) -> tuple[np.ndarray, dict[int, MineActionError]]:
        spec, crs = job.mapping.spec, job.crs
        parse_errors = dict(batch.geometry_errors)
        raw = batch.geometries
        if plan.geometry_kind is not None:
            columns = [batch.columns[c] for c in plan.geometry_columns]
            if plan.geometry_kind == "lonlat":
                raw, parse_errors = lonlat_points(*columns)
                crs = crs or "EPSG:4326"
            elif plan.geometry_kind == "wkt":
                raw, parse_errors = wkt_geometries(columns[0])
            elif plan.geometry_kind == "mgrs":
                raw, parse_errors = mgrs_points(columns[0])
            else:
                raw, parse_errors = _odk_column(columns[0], spec)
            if plan.geometry_kind in _WGS84_KINDS:
                crs = "EPSG:4326"
        if crs is None:
            raise CRSRequired(f"{self.file}: the coordinates come without a coordinate reference system",
                              hint="give the CRS, e.g. --crs EPSG:32636, or 'crs:' in the mapping")
        raw = np.asarray(raw, dtype=object).copy()
        for i in parse_errors:
            raw[i] = None
        prepared, errors = check_geometries(raw, batch.labels, crs=crs, extent=self.register.programme.extent,
                                            kinds=_KINDS[spec.geometry or "POINT"])
        merged: dict[int, MineActionError] = dict(errors)
        for i, message in parse_errors.items():
            merged[i] = InvalidValue(f"{batch.labels[i]}: {message}",
                                     hint="correct the coordinates in the source; nothing is guessed")
        return prepared, merged

    # -- per batch, a field at a time -----------------------------------------

    def _fields(self, job: Job, plan: ColumnPlan, batch: Batch) -> dict[str, _Column]:
        """Every mapped field of the batch, mapped and checked once per distinct source value.

        Field data repeats itself (a few categories, conditions and dates in a
        million rows), so translating and cleaning each distinct value once, with
        the register's own :func:`clean_values`, does per field what a row
        would, at a fraction of the cost. Rows then just pick their value's result.
        """
        mapping = job.mapping
        translator = self.translator(mapping)
        sources = {name: batch.columns[column] for name, column in plan.fields.items()}
        sources.update({name: [None] * len(batch) for name in mapping.defaults if name not in sources})
        fields = {}
        for name, raw in sources.items():
            codes, distinct = _factorise(raw)
            checked = [self._distinct(mapping, translator, name, value) for value in distinct]
            values, ok, present = zip(*checked) if checked else ((), (), ())
            fields[name] = _Column(name, codes, list(values), np.array(ok, dtype=bool), np.array(present, dtype=bool))
        return fields

    def _distinct(self, mapping: Mapping, translator: Translator, name: str, value: Any) -> tuple[Any, bool, bool]:
        """One distinct source value of a field: (cleaned JSON-ready value, accepted, given)."""
        spec = mapping.spec
        f = spec.field_map.get(name)
        if name in mapping.defaults and value in (None, ""):
            value = mapping.defaults[name]
        try:
            if f is not None and f.kind is Kind.DATE and isinstance(value, str):
                value = _iso_date(value)
            elif f is not None and f.vocabulary and value not in (None, ""):
                value = translator.translate(f, value)
            cleaned = None if value is None else clean_values(spec, {name: value}, self.vocab, partial=True)[name]
        except InvalidValue:  # the row check explains it, naming the row
            return None, False, False
        return _jsonable(cleaned), True, value is not None

    def _rows(self, job: Job, plan: ColumnPlan, batch: Batch, geometries: Any,
              geometry_errors: dict[int, MineActionError]) -> list[Submission]:
        mapping = job.mapping
        spec, release = mapping.spec, mapping.action == "release"
        n = len(batch)
        fields = self._fields(job, plan, batch)
        ok = np.ones(n, dtype=bool)
        ok[list(geometry_errors)] = False
        for column in fields.values():
            ok &= column.ok[column.codes]
        needed = _RELEASE_FIELDS if release else tuple(f.name for f in spec.fields if f.required)
        complete = np.ones(n, dtype=bool)
        for name in needed:
            complete &= fields[name].filled[fields[name].codes] if name in fields else False
        ids = batch.columns[plan.identity["id"]] if "id" in plan.identity else [None] * n
        wkbs = shapely.to_wkb(geometries, output_dimension=2) if spec.geometry else [None] * n
        links = self._links(spec, fields)
        stored = _json_objects(fields, n, links)
        owners = _owners(fields, links, n)
        hashes = _content_hashes(spec.name, "release" if release else "add", _json_objects(fields, n),
                                 self._extras(plan, batch), wkbs)
        plain = self._plain(job, spec, plan, batch, fields, links) & ok & complete
        out: list[Submission] = []
        for i, label in enumerate(batch.labels):
            if plain[i]:  # the usual case: a new record as it stands, nothing to decide
                out.append(Submission(spec.name, "add", stored[i], wkbs[i], hashes[i], label,
                                      attachments=batch.attachments[i] if batch.attachments else (),
                                      organisation_id=owners[i]))
                continue
            current = self._current(spec, ids[i])
            if not (ok[i] and (complete[i] or (current is not None and not release))):
                self._explain(job, plan, batch, i, geometry_errors, current)
                continue
            submission = self._submission(job, spec, plan, batch, i, fields, links, hashes[i], stored[i],
                                          geometries[i] if spec.geometry else None, wkbs[i], current, owners[i])
            if submission is not None:
                out.append(submission)
        self.report.valid += len(out)
        return out

    @staticmethod
    def _plain(job: Job, spec: Entity, plan: ColumnPlan, batch: Batch, fields: dict[str, _Column],
               links: dict[str, list[tuple[str, str] | None]]) -> np.ndarray:
        """Rows that, when valid, are new records as they stand: :meth:`_submission` would only wrap them.

        That is every row of a layer adding records of an entity other than
        activities (which the ledger follows), without ids, form keys or
        links to rows of the same file; per row, each link found in the register.
        """
        n = len(batch)
        if job.mapping.action == "release" or spec.name == "activity" or plan.identity or batch.keys:
            return np.zeros(n, dtype=bool)
        plain = np.ones(n, dtype=bool)
        for name, resolved in links.items():
            column = fields[name]
            by_id = np.array([v is None or (found is not None and found[0] == "id")
                              for v, found in zip(column.values, resolved)], dtype=bool)
            plain &= by_id[column.codes]
        return plain

    def _links(self, spec: Entity, fields: dict[str, _Column]) -> dict[str, list[tuple[str, str] | None]]:
        """Each distinct link value resolved once: ("hash", parent's content hash), ("id", register id) or None.

        A batch holds one entity and no entity links to its own kind, so the
        rows of a batch never make each other's links resolvable.
        """
        return {f.name: [self.links.resolve(f, v) if ok and v is not None else None
                         for v, ok in zip(fields[f.name].values, fields[f.name].ok)]
                for f in self.link_fields(spec) if f.name in fields}

    @staticmethod
    def _extras(plan: ColumnPlan, batch: Batch) -> list[str]:
        """The JSON of what besides values and geometry makes a row's content: its id, photos and form key."""
        if "id" not in plan.identity and not batch.attachments and not batch.keys:
            return [_EXTRA_NONE] * len(batch)
        ids = batch.columns[plan.identity["id"]] if "id" in plan.identity else [None] * len(batch)
        # a submission's metadata (no sha256) is not content: the same answers downloaded again are the same report
        files = batch.attachments or [()] * len(batch)
        return [_json([ids[i], [a["sha256"] for a in files[i] if "sha256" in a], batch.keys[i] if batch.keys else None])
                for i in range(len(batch))]

    def _explain(self, job: Job, plan: ColumnPlan, batch: Batch, i: int,
                 geometry_errors: dict[int, MineActionError], current: Record | None) -> None:
        """Report why row ``i`` is refused, the way the register words it (the slow path, for refused rows only)."""
        label, spec, release = batch.labels[i], job.mapping.spec, job.mapping.action == "release"
        values, problems = self._values(job, plan, batch, i)
        if i in geometry_errors:
            problems.append(problem_from(geometry_errors[i], self.file, label, "geometry"))
        if all(p.field == "geometry" for p in problems):  # else the value problems are reported already
            try:
                cleaned = clean_values(spec, {k: v for k, v in values.items() if v is not None},
                                       self.vocab, partial=release or current is not None, where=label)
                missing = [n for n in _RELEASE_FIELDS if cleaned.get(n) is None] if release else []
                if missing:
                    raise InvalidValue(f"{label}: missing required field(s) {', '.join(missing)}")
            except InvalidValue as exc:
                problems.append(problem_from(exc, self.file, label, _field_in(str(exc), label)))
        if not problems:
            raise AssertionError(f"{label}: refused by the column-wise checks, but no row check explains why")
        for p in problems:
            self.report.add(p)

    def _values(self, job: Job, plan: ColumnPlan, batch: Batch, i: int) -> tuple[dict[str, Any], list[Problem]]:
        mapping, label = job.mapping, batch.labels[i]
        spec, translator = mapping.spec, self.translator(mapping)
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        for name, column in plan.fields.items():
            value = batch.columns[column][i]
            values[name] = value
        for name, value in mapping.defaults.items():
            if values.get(name) in (None, ""):
                values[name] = value
        for name, value in values.items():
            f = spec.field_map[name]
            if f.kind is Kind.DATE and isinstance(value, str):
                values[name] = _iso_date(value)
            elif f.vocabulary and value not in (None, ""):
                try:
                    values[name] = translator.translate(f, value)
                except InvalidValue as exc:
                    problems.append(problem_from(exc, self.file, label, name))
        return values, problems

    def skipped(self, submission: Submission, earlier: str) -> None:
        """A feature whose content is already queued (earlier in this file, or by an earlier import)."""
        self.problem(submission.source_feature, "", f"same content as {earlier}: skipped",
                     "nothing to do: it is imported once", "warning")
        self.report.valid -= 1
        self.report.skipped += 1

    def _submission(self, job: Job, spec: Entity, plan: ColumnPlan, batch: Batch, i: int, fields: dict[str, _Column],
                    links: dict[str, list[tuple[str, str] | None]], content_hash: str, stored: str,
                    geometry: BaseGeometry | None, wkb: bytes | None, current: Record | None,
                    owner: str | None) -> Submission | None:
        label = batch.labels[i]
        action = "release" if job.mapping.action == "release" else "add"
        depends_on: dict[str, str] = {}
        for name, resolved in links.items():
            column = fields[name]
            found, value = resolved[column.codes[i]], column.values[column.codes[i]]
            if value is None:
                continue
            if found is None:
                self.problem(label, name, f"no {spec.field_map[name].link} {value!r} in the register or in this file",
                             f"import the {spec.field_map[name].link} first, or correct the reference")
                return None
            if found[0] == "hash":
                depends_on[name] = found[1]
        values = ({name: column.linked(i, links.get(name)) for name, column in fields.items() if column.has(i)}
                  if current is not None or action == "release" or spec.name == "activity" else {})
        identity = {k: batch.columns[c][i] for k, c in plan.identity.items()} if plan.identity else {}
        target = self._existing(current, identity, values, geometry, label) if current is not None else None
        if target == "identical":
            self.report.skipped += 1
            return None
        if action == "release" and geometry is not None and not self._check_release(label, values, depends_on, geometry):
            return None
        if identity or batch.keys:  # a row other rows may link to
            for key in (identity.get("id"), identity.get("ref"), batch.keys[i] if batch.keys else None):
                if key:
                    self.links.in_file[f"{spec.name}:{key}"] = (("id", target[0]) if isinstance(target, tuple)
                                                                else ("hash", content_hash))
        if spec.name == "activity" and target is None and not depends_on.get("hazard_id"):  # new, on a known hazard
            hazard = self.register.get("hazard", values["hazard_id"])
            self.activities[content_hash] = (hazard.id, hazard.ref, hazard.outline, values["activity_type"], label)
        attachments = batch.attachments[i] if batch.attachments else ()
        if isinstance(target, tuple):  # an update belongs to the organisation that owns its record now
            return Submission(spec.name, "update", stored, wkb, content_hash, label, target_id=target[0],
                              base_version=target[1], attachments=attachments,
                              organisation_id=current.values.get(_OWNER) if current is not None else owner)
        if action == "release" and "activity_id" not in depends_on:  # the releasing activity's organisation
            owner = self._activity_owner(values["activity_id"])
        return Submission(spec.name, action, stored, wkb, content_hash, label, depends_on=depends_on,
                          attachments=attachments, organisation_id=owner)

    def _activity_owner(self, activity_id: str) -> str | None:
        if activity_id not in self.activity_owners:
            self.activity_owners[activity_id] = self.register.get("activity", activity_id)[_OWNER]
        return self.activity_owners[activity_id]

    def _current(self, spec: Entity, record_id: Any) -> Record | None:
        """The register record a row names by its ``id`` column, if any."""
        if record_id in (None, ""):
            return None
        return stored_version(self.register, spec.name, str(record_id))

    def _existing(self, current: Record | None, identity: dict[str, Any], values: dict[str, Any],
                  geometry: BaseGeometry | None, label: str) -> str | tuple[str, int] | None:
        """For a row naming a register record: "identical", (id, base version) for an update, or None (new)."""
        if current is None:
            return None
        same_values = all(_jsonable(current.values.get(k)) == v for k, v in values.items())
        same_geometry = geometry is None or (current.geometry is not None
                                             and shapely.equals_exact(current.geometry, geometry, 1e-9))
        if same_values and same_geometry:
            self.problem(label, "", f"identical to {current.ref} version {current.version} in the register",
                         "nothing to do", "warning")
            return "identical"
        version = identity.get("version")
        return current.id, int(version) if version not in (None, "") else current.version

    def _check_release(self, label: str, values: dict[str, Any], depends_on: dict[str, str],
                       part: BaseGeometry) -> bool:
        """The ledger's rules against the register's parts and those earlier in this import."""
        if "activity_id" in depends_on:
            found = self.activities.get(depends_on["activity_id"])
            if found is None:
                return True  # activity and hazard both new in this file: the Writer checks at approval
            hazard_id, hazard_ref, hazard_geometry, activity_type, activity_ref = found
        else:
            activity = self.register.get("activity", values["activity_id"])
            hazard = self.register.get("hazard", activity["hazard_id"])
            hazard_ref, hazard_geometry, hazard_id = hazard.ref, hazard.outline, hazard.id
            activity_type, activity_ref = activity["activity_type"], activity.ref
        if hazard_id not in self.parts:
            self.parts[hazard_id] = [ExistingPart(r.ref, r.outline)
                                     for r in self.register.records("released_part", where={"hazard_id": hazard_id})]
        try:
            fitted, _ = check_release(
                hazard_ref=hazard_ref, hazard=hazard_geometry, activity_ref=activity_ref,
                activity_type=activity_type, release_type=values["release_type"], part=part,
                existing=self.parts[hazard_id], tolerance_m2=self.register.programme.overlap_tolerance_m2,
            )
        except MineActionError as exc:
            self.report.add(problem_from(exc, self.file, label, "geometry"))
            return False
        self.parts[hazard_id].append(ExistingPart(label, fitted))
        return True


_YMD = re.compile(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})(?:[T ].*)?$")
_DMY_DOTS = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")  # 01.03.2025, the Ukrainian convention


def _iso_date(text: str) -> str:
    """ISO form of unambiguous dates (2025/03/01, 01.03.2025); anything else is left for the check to report.

    A slashed day-month order (01/03/2025) is ambiguous and is not guessed.
    """
    text = text.strip()
    if match := _YMD.match(text):
        year, month, day = match.groups()
    elif match := _DMY_DOTS.match(text):
        day, month, year = match.groups()
    else:
        return text
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _field_in(message: str, label: str) -> str:
    if message.startswith(f"{label}."):
        return message[len(label) + 1:].split(":", 1)[0].split(" ", 1)[0]
    if "missing required field(s) " in message:
        return message.split("missing required field(s) ", 1)[1]
    return ""


def _odk_column(values: list[Any], spec: Entity) -> tuple[np.ndarray, dict[int, str]]:
    kind = "geopoint" if spec.geometry == "POINT" else "geoshape"
    out = np.full(len(values), None, dtype=object)
    errors: dict[int, str] = {}
    for i, value in enumerate(values):
        try:
            out[i] = odk_geometry(value, kind)
        except (ValueError, TypeError) as exc:
            errors[i] = f"ODK {kind} {value!r} cannot be read ({exc})"
    return out, errors


def import_batches(
    register: Register,
    jobs: Iterable[Job],
    source: ImportSource,
    report: ValidationReport,
    *,
    user: str,
    reason: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> ImportResult:
    """Validate every job's rows and queue them in one transaction (the engine behind every import)."""
    validator = _Validator(register, report)
    ordered = sorted(jobs, key=lambda j: list(ENTITIES).index(j.mapping.entity))
    submissions = (batch for job in ordered for batch in validator.run(job))
    # a dry run goes through the same transaction (so duplicates are found the same way) and rolls it back
    queued = submit(register, source, submissions, user=user, reason=reason, on_skip=validator.skipped,
                    commit_if=lambda: not dry_run and (report.ok or skip_invalid))
    return ImportResult(report, None if dry_run else queued, dry_run=dry_run)


def _jobs(source: Source, mapping: Mapping | None, entity_name: str | None, layer: str | None,
          batch_size: int) -> list[Job]:
    def job(info: LayerInfo, m: Mapping) -> Job:
        crs = source.crs_of(info) or m.crs
        return Job(m, source.batches(info, batch_size), crs, info.name, info.geometry_type is not None)

    if mapping is not None or entity_name is not None or layer is not None or len(source.layers) == 1:
        m = mapping or Mapping.load(entity_name=entity_name or _entity_for(source.layer(layer)))
        return [job(source.layer(layer), m)]
    jobs = [job(info, Mapping.load(source.sidecar_mapping(info), entity_name=info.name))
            for info in source.layers if info.name in ENTITIES and info.name not in REGISTER_WRITTEN]
    if not jobs:
        raise InvalidValue(f"{source.path.name}: say what the layers hold",
                           hint="give --entity NAME or --mapping FILE (and --layer for one layer)")
    return jobs


def _entity_for(info: LayerInfo) -> str:
    if info.name in ENTITIES:
        return info.name
    raise InvalidValue(f"layer {info.name!r}: say which register entity it holds",
                       hint=f"give --entity (one of {', '.join(ENTITIES)}) or --mapping FILE")


def import_file(
    register: Register,
    path: str | Path,
    *,
    user: str,
    reason: str,
    mapping: Mapping | str | Path | None = None,
    entity: str | None = None,
    layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    drop_z: bool = False,
    dry_run: bool = False,
    skip_invalid: bool = False,
    batch_size: int = DEFAULT_BATCH,
) -> ImportResult:
    """Import a GeoPackage, GeoJSON, zipped Shapefile, KML/KMZ, GPX or CSV file into the review queue.

    Without ``skip_invalid`` a source with any error queues nothing; with it,
    the valid features are queued and the report lists the others.
    """
    if mapping is not None and not isinstance(mapping, Mapping):
        mapping = Mapping.load(mapping)
    with Source(path, crs=crs, encoding=encoding, drop_z=drop_z, delimiter=delimiter) as source:
        jobs = _jobs(source, mapping, entity, layer, batch_size)
        origin = ImportSource(source.path.name, source.sha256(), source.format,
                              ", ".join(sorted({j.mapping.name for j in jobs})))
        return import_batches(register, jobs, origin, ValidationReport(source.path.name), user=user,
                              reason=reason, dry_run=dry_run, skip_invalid=skip_invalid)
