"""CQL2 filters (OGC API – Features Part 3) as parameterised SQL conditions.

The web layer parses the text with ``pygeofilter``; :class:`Filter` checks
the syntax tree against the attributes the caller may query (personal fields
only under a full grant), coerces values to each field's kind, and builds a
condition with bound parameters only, so no filter text ever becomes SQL.
The supported operators are listed in :data:`SUPPORTED`.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Collection
from typing import Any

import numpy as np
import shapely
import shapely.geometry
import sqlalchemy as sa
from pygeofilter import ast, values
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from mineaction.domain.entities import Entity, Kind
from mineaction.errors import InvalidValue
from mineaction.storage.register import Register
from mineaction.storage.spatial import intersects

__all__ = ["GEOMETRY_NAMES", "SUPPORTED", "BBox", "Filter"]

GEOMETRY_NAMES = {"geom", "geometry"}
SUPPORTED = "=, <>, <, <=, >, >=, LIKE, IN, BETWEEN, IS NULL, AND, OR, NOT, S_INTERSECTS"

BBox = tuple[float, float, float, float]

_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Equal: operator.eq,
    ast.NotEqual: operator.ne,
    ast.LessThan: operator.lt,
    ast.LessEqual: operator.le,
    ast.GreaterThan: operator.gt,
    ast.GreaterEqual: operator.ge,
}
_SYSTEM_KINDS = {"ref": Kind.TEXT, "version": Kind.INTEGER, "recorded_by": Kind.TEXT}
_INT64 = (-(2**63), 2**63 - 1)


def _like_pattern(cql: str) -> str:
    """A CQL2 LIKE pattern (``%``, ``_``, escape ``\\``) as a SQL one escaped with ``/`` on both backends.

    PostgreSQL escapes with a backslash by default and SQLite not at all, so
    the escape is always explicit; a trailing lone escape is refused.
    """
    out, chars = [], iter(cql)
    for c in chars:
        if c == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise InvalidValue("a LIKE pattern ends with the escape character \\", hint="write \\\\ for a backslash")
            out.append(f"/{escaped}" if escaped in "%_" else escaped.replace("/", "//"))
        else:
            out.append(c.replace("/", "//"))
    return "".join(out)


class Filter:
    """A parsed CQL2 filter of one entity, checked; storage's reads turn it into SQL.

    ``queryables``: the fields the caller may filter on; ``crs``: the CRS of
    the geometries in it; ``widen``: for a caller who sees locations
    generalised, the bounding box a spatial test compares with instead of the
    geometry (the grid cells or admin areas around it), never the geometry itself.
    An unknown attribute, operator or value raises :class:`InvalidValue` here,
    before any SQL is built.
    """

    def __init__(
        self, tree: Any, spec: Entity, queryables: Collection[str], *, crs: str = "OGC:CRS84",
        widen: Callable[[BBox], BBox] | None = None,
    ) -> None:
        self.tree = tree
        self.spec = spec
        self.kinds = {**_SYSTEM_KINDS, **{f.name: f.kind for f in spec.fields if f.name in queryables}}
        self.widen = widen
        self.to_lonlat = None if crs == "OGC:CRS84" else Transformer.from_crs(crs, "OGC:CRS84")
        try:
            self._build(tree, None, None)
        except InvalidValue as exc:  # name the parameter: the message may reach a web client
            raise InvalidValue(f"filter: {Exception.__str__(exc)}", hint=exc.hint) from None

    def condition(self, register: Register, source: sa.FromClause) -> sa.ColumnElement[bool]:
        """The filter as a condition on ``source`` (the entity's table or an as-of subquery of it)."""
        return self._build(self.tree, register, source)

    def _build(self, node: Any, register: Register | None, source: sa.FromClause | None) -> Any:
        if isinstance(node, ast.And):
            return sa.and_(self._build(node.lhs, register, source), self._build(node.rhs, register, source))
        if isinstance(node, ast.Or):
            return sa.or_(self._build(node.lhs, register, source), self._build(node.rhs, register, source))
        if isinstance(node, ast.Not):
            return sa.not_(self._build(node.sub_node, register, source))
        if type(node) in _COMPARISONS:
            name, value, flipped = self._attribute_and_value(node.lhs, node.rhs)
            op = _COMPARISONS[type(node)]
            if flipped and op not in (operator.eq, operator.ne):
                op = {operator.lt: operator.gt, operator.le: operator.ge,
                      operator.gt: operator.lt, operator.ge: operator.le}[op]
            return self._compare(source, name, op, value)
        if isinstance(node, ast.Like):
            name = self._attribute(node.lhs)
            column = self._column(source, name)
            pattern = _like_pattern(str(node.pattern))
            if column is None:
                return None
            if node.nocase:
                column, pattern = sa.func.lower(column), pattern.lower()
            clause = column.like(pattern, escape="/")
            return sa.not_(clause) if node.not_ else clause
        if isinstance(node, ast.In):
            name = self._attribute(node.lhs)
            items = [self._coerce(name, v) for v in node.sub_nodes]
            column = self._column(source, name)
            if column is None:
                return None
            return column.not_in(items) if node.not_ else column.in_(items)
        if isinstance(node, ast.Between):
            name = self._attribute(node.lhs)
            low, high = self._coerce(name, node.low), self._coerce(name, node.high)
            column = self._column(source, name)
            if column is None:
                return None
            clause = column.between(low, high)
            return sa.not_(clause) if node.not_ else clause
        if isinstance(node, ast.IsNull):
            name = self._attribute(node.lhs)
            column = self._column(source, name)
            if column is None:
                return None
            return column.is_not(None) if node.not_ else column.is_(None)
        if isinstance(node, ast.GeometryIntersects):
            geometry = self._geometry(node)
            if register is None or source is None:
                return None
            if self.widen is not None:
                geometry = shapely.box(*self.widen(geometry.bounds))
            return intersects(register, self.spec.name, source, geometry)
        if isinstance(node, ast.Include):
            return sa.true() if not node.not_ else sa.false()
        raise InvalidValue(f"filter operator {type(node).__name__} is not supported", hint=f"supported: {SUPPORTED}")

    # -- pieces ---------------------------------------------------------------

    def _attribute(self, node: Any) -> str:
        if not isinstance(node, ast.Attribute):
            raise InvalidValue("a filter condition must compare a property with a value")
        if node.name not in self.kinds:
            raise InvalidValue(
                f"{node.name!r} is not a queryable of {self.spec.name}",
                hint=f"queryables: {', '.join(sorted(self.kinds))}",
            )
        return node.name

    def _attribute_and_value(self, lhs: Any, rhs: Any) -> tuple[str, Any, bool]:
        if isinstance(lhs, ast.Attribute):
            return self._attribute(lhs), self._coerce(lhs.name, rhs), False
        if isinstance(rhs, ast.Attribute):
            return self._attribute(rhs), self._coerce(rhs.name, lhs), True
        raise InvalidValue("a filter condition must compare a property with a value")

    def _coerce(self, name: str, value: Any) -> Any:
        kind = self.kinds[name]
        if isinstance(value, (ast.Node, values.Geometry, values.Envelope, list)):
            raise InvalidValue(f"{name}: compare with a plain value")
        try:
            if kind in (Kind.INTEGER, Kind.REAL):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    value = float(str(value))
                if not np.isfinite(float(value)) or (isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]):
                    raise ValueError("beyond the numbers a database holds")
                return int(value) if kind is Kind.INTEGER and float(value).is_integer() else float(value)
            if kind is Kind.DATE:
                return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            if kind is Kind.BOOLEAN:
                return bool(value)
            return str(value)
        except (TypeError, ValueError, OverflowError):
            shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}..."
            raise InvalidValue(f"{name}: {shown} is not a valid {kind.value}") from None

    def _column(self, source: sa.FromClause | None, name: str) -> Any:
        return None if source is None else source.c[name]

    def _compare(self, source: sa.FromClause | None, name: str, op: Callable[[Any, Any], Any], value: Any) -> Any:
        column = self._column(source, name)
        if column is None:
            return None
        if self.kinds[name] is Kind.CODES:
            if op not in (operator.eq, operator.ne):
                raise InvalidValue(f"{name} holds a list of codes: use = or <> to test one code")
            contains = sa.type_coerce(column, sa.Text).contains(f'"{value}"', autoescape=True)
            return contains if op is operator.eq else sa.not_(contains)
        return op(column, value)

    def _geometry(self, node: ast.GeometryIntersects) -> BaseGeometry:
        """The lon/lat geometry an S_INTERSECTS compares the records' geometry with."""
        if not self.spec.geometry:
            raise InvalidValue(f"{self.spec.name} records have no geometry")
        lhs, rhs = node.lhs, node.rhs
        if isinstance(rhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        if not isinstance(lhs, ast.Attribute) or lhs.name not in GEOMETRY_NAMES:
            names = " or ".join(sorted(GEOMETRY_NAMES))
            raise InvalidValue(f"S_INTERSECTS compares the geometry property ({names}) with a geometry")
        if isinstance(rhs, ast.Function) and rhs.name.lower() == "bbox" and len(rhs.arguments) == 4:
            try:
                minx, miny, maxx, maxy = (float(a) for a in rhs.arguments)
                geometry: BaseGeometry = shapely.box(minx, miny, maxx, maxy)
            except (TypeError, ValueError):
                raise InvalidValue("BBOX takes four numbers: minx, miny, maxx, maxy") from None
        elif isinstance(rhs, values.Geometry):
            try:
                geometry = shapely.geometry.shape(rhs.geometry)
            except (ValueError, TypeError, AttributeError, KeyError, IndexError, shapely.errors.ShapelyError) as exc:
                raise InvalidValue(f"S_INTERSECTS geometry is not valid: {exc}") from None
        else:
            raise InvalidValue("S_INTERSECTS needs a geometry literal (WKT) or BBOX(minx, miny, maxx, maxy)")
        if self.to_lonlat is not None:
            transform = self.to_lonlat.transform
            geometry = shapely.transform(geometry, lambda xy: np.column_stack(transform(xy[:, 0], xy[:, 1])))
        if not np.isfinite(shapely.get_coordinates(geometry)).all():
            raise InvalidValue("S_INTERSECTS coordinates must be finite numbers")
        return geometry
