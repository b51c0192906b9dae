"""CQL2 text filters (OGC API – Features Part 3): the request's text, parsed.

``pygeofilter`` parses the text; storage's :class:`~mineaction.storage.Filter`
checks the syntax tree against the caller's queryables and turns it into a
condition with bound parameters only, so no filter text ever becomes SQL.
"""

from __future__ import annotations

from collections.abc import Collection

from lark.exceptions import LarkError
from pygeofilter.parsers.cql2_text import parse

from mineaction.access.publication import coarse_bbox
from mineaction.domain.entities import Entity
from mineaction.errors import InvalidValue
from mineaction.storage import CQL2_SUPPORTED, Filter, Register

__all__ = ["MAX_FILTER_LENGTH", "SUPPORTED", "compile_filter"]

MAX_FILTER_LENGTH = 20_000
SUPPORTED = CQL2_SUPPORTED


def compile_filter(
    text: str, spec: Entity, register: Register, queryables: Collection[str], *, crs: str = "OGC:CRS84",
    coarse: bool = False,
) -> Filter:
    """The filter ``text`` of ``spec``'s records; geometries in it are read in ``crs``.

    ``coarse``: the caller sees locations generalised, so a spatial test
    compares with the grid cells or admin areas around the geometry's bounds
    (:func:`~mineaction.access.publication.coarse_bbox`), never the geometry itself.
    """
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidValue(f"filter longer than {MAX_FILTER_LENGTH} characters")
    try:
        tree = parse(text)
    except (LarkError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidValue(f"filter is not valid CQL2 text: {first}", hint=f"supported: {SUPPORTED}") from None
    except RecursionError:
        raise InvalidValue("filter is nested too deeply") from None
    widen = (lambda bounds: coarse_bbox(register, bounds)) if coarse else None
    try:
        return Filter(tree, spec, queryables, crs=crs, widen=widen)
    except RecursionError:
        raise InvalidValue("filter is nested too deeply") from None
