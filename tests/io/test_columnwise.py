"""The column-wise import keeps what the per-row import promised: the same content hashes, types kept apart."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import shapely

from mineaction.domain.entities import ENTITIES
from mineaction.io.importer import _Column, _content_hashes, _factorise, _json_objects


def test_content_hash_is_the_per_row_formula() -> None:
    """Feature hashes of earlier imports stay valid: importing a file again still adds nothing."""
    rows = [
        {"category": "ap_mine", "quantity": 2, "found_on": "2025-03-01", "model": "ПМН-2"},
        {"category": "uxo", "quantity": 1, "found_on": "2025-03-02"},
        {"category": "ap_mine", "quantity": 2, "found_on": "2025-03-01", "model": None},
    ]
    fields = {}
    for name in ("category", "quantity", "found_on", "model"):  # one distinct value per row, to say which are given
        fields[name] = _Column(name, np.arange(len(rows)), [row.get(name) for row in rows],
                               np.ones(len(rows), dtype=bool), np.array([name in row for row in rows]))
    wkbs = [shapely.to_wkb(shapely.Point(30.5, 50.4 + k)) for k in range(len(rows))]
    extra = [None, [], None]
    hashes = _content_hashes("eo_find", "add", _json_objects(fields, len(rows)),
                             [json.dumps(extra)] * len(rows), wkbs)
    for row, wkb, found in zip(rows, wkbs, hashes):
        body = json.dumps(["eo_find", "add", row, extra], sort_keys=True, default=str, ensure_ascii=False)
        assert found == hashlib.sha256(body.encode() + wkb).hexdigest()


def test_factorise_keeps_types_apart_and_unhashables_whole() -> None:
    codes, distinct = _factorise([1, 1.0, True, "1", None, 1])
    assert [distinct[c] for c in codes] == [1, 1.0, True, "1", None, 1]
    assert [type(distinct[c]) for c in codes] == [int, float, bool, str, type(None), int]
    codes, distinct = _factorise([["a"], ["a"], {"type": "Point"}])
    assert [distinct[c] for c in codes] == [["a"], ["a"], {"type": "Point"}]
    codes, distinct = _factorise([dt.date(2025, 1, 1)] * 3)
    assert len(distinct) == 1 and list(codes) == [0, 0, 0]


def test_no_entity_links_to_its_own_kind() -> None:
    """Links are resolved once per distinct value for a whole batch, which holds one entity: a row could
    only make another row of its batch resolvable through a link to its own kind."""
    assert not [(e.name, f.name) for e in ENTITIES.values() for f in e.fields if f.link == e.name]
