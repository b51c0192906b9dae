"""Mappings: which source column is which register field, which value which code.

A mapping is a small YAML file per source (defaults ship in
``mineaction/data/mappings/<entity>.yaml``)::

    entity: eo_find
    crs: EPSG:4326            # for tables whose coordinates carry no CRS
    geometry:                 # for tables: the first kind whose columns are all present wins
      lon: [lon, longitude]
      lat: [lat, latitude]
      wkt: [wkt]
      mgrs: [mgrs]
      odk: [location]         # ODK geopoint/geoshape text, "lat lon alt acc"
    fields:                   # register field: candidate source columns (its own name is one)
      category: [type, категорія]
      hazard_id: null         # not read from this source
    values:                   # this source's own words, per field: code: [synonyms]
      category: {uxo: [shell, projectile]}
    defaults:                 # a constant for a field the source lacks
      organisation_id: ORG-000003

Column names and values are compared after :func:`normalise` (case, accents
as typed, ``_``/``-``/``.`` and repeated spaces do not matter). Values are
looked up among the code, its English and Ukrainian labels from the register,
the shipped synonyms (``synonyms.yaml``) and the mapping's own ``values``.
A value found nowhere is reported, never guessed.

>>> normalise("  Anti_Personnel-MINE ")
'anti personnel mine'
>>> normalise("Протипіхотна  міна")
'протипіхотна міна'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from mineaction.domain.entities import Entity, Field, Kind, entity
from mineaction.errors import InvalidValue

__all__ = ["ColumnPlan", "Mapping", "Translator", "normalise"]

GEOMETRY_KINDS = ("lonlat", "wkt", "mgrs", "odk")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'"})
_SEPARATORS = re.compile(r"[\s_\-./]+")


def normalise(text: Any) -> str:
    """The form names and values are compared in."""
    folded = unicodedata.normalize("NFKC", str(text)).translate(_APOSTROPHES).casefold()
    return _SEPARATORS.sub(" ", folded).strip()


def _packaged(name: str) -> Any:
    return yaml.safe_load(resources.files("mineaction.data").joinpath("mappings", name).read_text("utf-8"))


def _as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


@dataclass(frozen=True)
class ColumnPlan:
    """How one layer's columns feed a mapping: found fields, geometry columns, identity, leftovers."""

    fields: dict[str, str]  # register field -> source column
    geometry_kind: str | None  # lonlat | wkt | mgrs | odk, or None (the layer's own geometry)
    geometry_columns: tuple[str, ...]
    identity: dict[str, str]  # id / ref / version -> source column
    unused: tuple[str, ...]


@dataclass(frozen=True)
class Mapping:
    """A source's column and value mapping onto one register entity."""

    name: str
    entity: str
    action: str = "add"
    crs: str | None = None
    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)
    geometry: dict[str, tuple[str, ...]] = field(default_factory=dict)
    values: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> Entity:
        return entity(self.entity)

    @classmethod
    def from_dict(cls, data: dict[str, Any], name: str) -> Mapping:
        if not isinstance(data, dict) or "entity" not in data:
            raise InvalidValue(f"mapping {name}: not a mapping (it needs at least 'entity:')")
        spec = entity(str(data["entity"]))
        fields: dict[str, tuple[str, ...]] = {f.name: (f.name,) for f in spec.fields if not f.derived}
        for key, columns in (data.get("fields") or {}).items():
            if key not in spec.field_map or spec.field_map[key].derived:
                raise InvalidValue(f"mapping {name}: {spec.name} has no field {key!r} to map onto",
                                   hint=f"fields are {', '.join(f.name for f in spec.fields if not f.derived)}")
            if columns in (None, []):  # not read from this source (a default may fill it)
                del fields[key]
            else:
                fields[key] = (key, *_as_tuple(columns))
        unknown = set(data.get("geometry") or {}) - {"lon", "lat", "wkt", "mgrs", "odk"}
        if unknown:
            raise InvalidValue(f"mapping {name}: unknown geometry key(s) {', '.join(sorted(unknown))}",
                               hint="use lon and lat, wkt, mgrs or odk")
        action = str(data.get("action", "add"))
        if action not in ("add", "release"):
            raise InvalidValue(f"mapping {name}: action must be add or release, not {action!r}")
        return cls(
            name=name,
            entity=spec.name,
            action=action,
            crs=data.get("crs"),
            fields=fields,
            geometry={k: _as_tuple(v) for k, v in (data.get("geometry") or {}).items()},
            values={f: {code: _as_tuple(syn) for code, syn in codes.items()} for f, codes in (data.get("values") or {}).items()},
            defaults=dict(data.get("defaults") or {}),
        )

    @classmethod
    def load(cls, source: str | Path | None = None, *, entity_name: str | None = None) -> Mapping:
        """A mapping from a YAML file, or the shipped default for ``entity_name``."""
        if source is not None:
            path = Path(source)
            try:
                data = yaml.safe_load(path.read_text("utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise InvalidValue(f"mapping {path}: cannot be read ({exc})") from None
            return cls.from_dict(data, path.name)
        if entity_name is None:
            raise InvalidValue("no mapping given", hint="give --mapping FILE or --entity NAME")
        name = entity(entity_name).name
        return cls.from_dict(_packaged(f"{name}.yaml"), f"default {name} mapping")

    def plan(self, columns: Sequence[str], *, has_geometry: bool) -> ColumnPlan:
        """Match this mapping against a layer's column names."""
        by_norm: dict[str, str] = {}
        for column in columns:
            by_norm.setdefault(normalise(column), column)

        def find(candidates: Sequence[str]) -> str | None:
            return next((by_norm[normalise(c)] for c in candidates if normalise(c) in by_norm), None)

        found = {name: col for name, cands in self.fields.items() if (col := find(cands)) is not None}
        identity = {k: col for k in ("id", "ref", "version") if (col := find((k,))) is not None and k not in found}
        kind: str | None = None
        geometry_columns: tuple[str, ...] = ()
        if not has_geometry:
            lon, lat = find(self.geometry.get("lon", ())), find(self.geometry.get("lat", ()))
            if lon and lat:
                kind, geometry_columns = "lonlat", (lon, lat)
            else:
                for key in ("wkt", "mgrs", "odk"):
                    if (col := find(self.geometry.get(key, ()))) is not None:
                        kind, geometry_columns = key, (col,)
                        break
        used = set(found.values()) | set(identity.values()) | set(geometry_columns)
        derived = {f.name for f in self.spec.fields if f.derived} | {"recorded_at"}  # the register's own output
        unused = tuple(c for c in columns if c not in used and c not in derived)
        return ColumnPlan(found, kind, geometry_columns, identity, unused)


class Translator:
    """Source values to vocabulary codes: code, en/uk labels, shipped synonyms, the mapping's own words."""

    def __init__(self, labels: dict[str, dict[str, tuple[str, str]]], mapping: Mapping):
        """``labels``: vocabulary -> code -> (English label, Ukrainian label), as the register holds them."""
        synonyms = _packaged("synonyms.yaml") or {}
        self._tables: dict[str, dict[str, str]] = {}
        for vocabulary, codes in labels.items():
            table: dict[str, str] = {}
            for code, (en, uk) in codes.items():
                words = (code, en, uk, *_as_tuple(synonyms.get(vocabulary, {}).get(code, [])))
                for word in words:
                    table.setdefault(normalise(word), code)
            self._tables[vocabulary] = table
        self._own = {
            f: {normalise(w): code for code, words in codes.items() for w in (code, *words)}
            for f, codes in mapping.values.items()
        }
        self._cache: dict[tuple[str, Any], Any] = {}

    def allowed(self, f: Field) -> list[str]:
        return sorted(set(self._tables.get(f.vocabulary or "", {}).values()))

    def _one(self, f: Field, word: str) -> str:
        key = normalise(word)
        code = self._own.get(f.name, {}).get(key) or self._tables.get(f.vocabulary or "", {}).get(key)
        if code is None:
            raise InvalidValue(
                f"{word!r} is not a known {f.vocabulary} value",
                hint=f"correct the source, or add it under 'values: {f.name}:' in the mapping; "
                     f"codes are {', '.join(self.allowed(f))}",
            )
        return code

    def translate(self, f: Field, raw: Any) -> Any:
        """The code(s) for a raw source value; raises InvalidValue naming an unknown one."""
        if raw is None or raw == "" or not f.vocabulary:
            return raw
        key = (f.name, raw if not isinstance(raw, list) else tuple(raw))
        if key not in self._cache:
            if f.kind is Kind.CODES:
                words = raw if isinstance(raw, list) else re.split(r"[;,|]", str(raw).strip("[]"))
                words = [w for w in (str(w).strip().strip('"') for w in words) if w]
                self._cache[key] = sorted({self._one(f, w) for w in words})
            else:
                self._cache[key] = self._one(f, str(raw))
        return self._cache[key]
