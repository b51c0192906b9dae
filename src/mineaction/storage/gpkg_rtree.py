"""Filling a GeoPackage R-tree index in bulk.

A GeoPackage keeps its spatial index in an SQLite R-tree, maintained row by
row by triggers (annex F.3). For a large load that costs more than the load:
the triggers call ``ST_MinX`` & co. (here Python functions) five times a
row, and the R-tree module inserts one entry at a time, 8–14 µs each and
rising with the tree's size. So bulk writes set the insert trigger aside
(:func:`insert_unindexed`) and index the new rows afterwards in one go
(:func:`index_rows`): entry by entry when the index already holds more than
the batch, otherwise by rebuilding the whole tree packed with
Sort-Tile-Recursive (Leutenegger et al., 1997), as GDAL does for its own
GeoPackages.

The rebuilt tree is written to the R-tree module's own tables in its
documented format (``ext/rtree/rtree.c`` in SQLite's sources): node 1 is the
root and begins with the tree's depth; a node is a 4-byte header (depth,
cell count) and cells of an 8-byte big-endian id and four big-endian 32-bit
floats (minx, maxx, miny, maxy), zero-padded to the tree's node size;
``_parent`` maps each other node to its parent and ``_rowid`` each entry to
its leaf. Coordinates are rounded outwards to 32 bits, as the module rounds
them, so every box still contains its geometry. ``rtreecheck()`` verifies the
result in the tests.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from mineaction.storage.gpkg import FLAGS_XY_LE, envelopes, rtree_ddl, rtree_name

__all__ = ["index_rows", "insert_unindexed"]

Execute = Callable[..., Any]

_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])  # 24 bytes, as the module stores a 2-D cell
_NODE_HEADER = struct.Struct(">HH")  # depth (root only), number of cells
_SLICE = 50_000  # rows read or written per statement


def insert_unindexed(
    execute: Execute, table: str, column: str, insert_sql: str, params: list[tuple], *, first_fid: int, fid: str = "fid"
) -> range:
    """Insert rows of a spatially indexed table with the index's insert trigger set aside; returns their fids.

    The caller holds the write lock, so SQLite numbers the new rows
    ``first_fid`` on, and must index them (:func:`index_rows`) before its
    transaction commits. Other connections never see the table without its
    trigger, and a failure or crash rolls the lot back.
    """
    execute(f'DROP TRIGGER "{rtree_name(table, column)}_insert"', ())
    try:
        execute(insert_sql, params)
    finally:
        execute(rtree_ddl(table, column, fid)[1], ())
    last = execute(f'SELECT max("{fid}") FROM "{table}"', ()).fetchone()[0]
    if last - first_fid + 1 != len(params):
        raise RuntimeError(f"{table}: expected fids {first_fid}..{first_fid + len(params) - 1}, the table ends at {last}")
    return range(first_fid, last + 1)


def index_rows(execute: Execute, table: str, column: str, fids: Sequence[range], *, fid: str = "fid",
               boxes: np.ndarray | None = None) -> None:
    """Put the rows ``fids`` into the table's R-tree, with their geometry as it is now.

    ``boxes`` (minx, maxx, miny, maxy; NaN for no geometry), one per row in
    ``fids`` order, are the boxes of the rows as inserted: the caller gives
    them when it knows no row has changed since. Otherwise they are read from
    the rows themselves, so a changed row (whose update trigger may already
    have indexed it) is indexed as it stands. The index is rebuilt whole when
    the rows outnumber the entries it holds, and filled entry by entry otherwise.
    """
    if boxes is None:
        ids, boxes = _row_boxes(execute, table, column, fids, fid)
    else:
        present = ~np.isnan(boxes).any(axis=1)
        ids, boxes = np.concatenate([np.arange(r.start, r.stop, dtype=np.int64) for r in fids])[present], boxes[present]
    rtree = rtree_name(table, column)
    held = execute(f'SELECT count(*) FROM "{rtree}_rowid"', ()).fetchone()[0]
    if held > len(ids):
        execute(f'INSERT OR REPLACE INTO "{rtree}" VALUES (?, ?, ?, ?, ?)',
                list(zip(ids.tolist(), *_outward_float32(boxes).astype(float).T.tolist())))
        return
    kept_ids, kept_boxes = _entries_outside(execute, rtree, fids)
    _rebuild(execute, rtree, np.concatenate([kept_ids, ids]), np.concatenate([kept_boxes, _outward_float32(boxes)]))


def _row_boxes(execute: Execute, table: str, column: str, fids: Sequence[range], fid: str) -> tuple[np.ndarray, np.ndarray]:
    """Ids and (minx, maxx, miny, maxy) boxes of the non-empty geometries among rows ``fids``."""
    # a blob with the usual little-endian XY envelope (flags 0x03) is read only as far as its envelope
    head = f'CASE WHEN substr("{column}", 4, 1) = x\'{FLAGS_XY_LE:02x}\' THEN substr("{column}", 1, 40) ELSE "{column}" END'
    query = f'SELECT "{fid}", {head} FROM "{table}" WHERE "{fid}" BETWEEN ? AND ?'
    id_parts, box_parts = [], []
    for r in fids:
        for start in range(r.start, r.stop, _SLICE):  # bounded memory for a million rows
            rows = execute(query, (start, min(start + _SLICE, r.stop) - 1)).fetchall()
            boxes = envelopes([row[1] for row in rows])
            present = ~np.isnan(boxes).any(axis=1)
            id_parts.append(np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))[present])
            box_parts.append(boxes[present])
    return np.concatenate(id_parts or [np.empty(0, np.int64)]), np.concatenate(box_parts or [np.empty((0, 4))])


def _entries_outside(execute: Execute, rtree: str, fids: Sequence[range]) -> tuple[np.ndarray, np.ndarray]:
    """The entries the index holds for rows other than ``fids``, as stored (32-bit)."""
    rows = execute(f'SELECT id, minx, maxx, miny, maxy FROM "{rtree}"', ()).fetchall()
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty((0, 4), dtype=np.float32)
    table = np.asarray(rows, dtype=np.float64)
    ids = table[:, 0].astype(np.int64)
    outside = np.ones(len(ids), dtype=bool)
    for r in fids:
        outside &= (ids < r.start) | (ids >= r.stop)
    return ids[outside], table[outside, 1:].astype(np.float32)


def _outward_float32(boxes: np.ndarray) -> np.ndarray:
    """Boxes in 32-bit floats, minima rounded down and maxima up, so each still contains its geometry."""
    out = boxes.astype(np.float32)
    for col, direction in ((0, -np.inf), (1, np.inf), (2, -np.inf), (3, np.inf)):
        moved = out[:, col] > boxes[:, col] if direction < 0 else out[:, col] < boxes[:, col]
        out[moved, col] = np.nextafter(out[moved, col], np.float32(direction))
    return out


def _rebuild(execute: Execute, rtree: str, ids: np.ndarray, boxes: np.ndarray) -> None:
    """Replace the R-tree's contents with ``ids`` and their 32-bit ``boxes``, packed level by level."""
    node_size = execute(f'SELECT length(data) FROM "{rtree}_node" WHERE nodeno = 1', ()).fetchone()[0]
    capacity = (node_size - _NODE_HEADER.size) // _CELL.itemsize
    levels = _pack(ids, boxes, capacity)
    first_node = _first_node_numbers([len(starts) for _cells, starts in levels])
    nodes: list[tuple[int, bytes]] = []
    parents: list[tuple[int, int]] = []
    depth = len(levels) - 1
    for level, (cells, starts) in enumerate(levels):
        ends = np.append(starts[1:], len(cells))
        if level > 0:  # cells here point at nodes of the level below
            cells["id"] += first_node[level - 1]
            parent_of = first_node[level] + np.repeat(np.arange(len(starts)), ends - starts)
            parents.extend(zip(cells["id"].tolist(), parent_of.tolist()))
        raw = cells.tobytes()
        for j, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
            header = _NODE_HEADER.pack(depth if level == depth else 0, end - start)
            body = raw[start * _CELL.itemsize : end * _CELL.itemsize]
            nodes.append((first_node[level] + j, (header + body).ljust(node_size, b"\0")))
    leaves, leaf_starts = levels[0]
    leaf_of = first_node[0] + np.repeat(np.arange(len(leaf_starts)), np.diff(np.append(leaf_starts, len(leaves))))
    for shadow in ("node", "parent", "rowid"):
        execute(f'DELETE FROM "{rtree}_{shadow}"', ())
    execute(f'INSERT INTO "{rtree}_node" VALUES (?, ?)', nodes)
    execute(f'INSERT INTO "{rtree}_parent" VALUES (?, ?)', parents)
    for start in range(0, len(leaves), _SLICE):
        part = slice(start, start + _SLICE)
        execute(f'INSERT INTO "{rtree}_rowid" VALUES (?, ?)', list(zip(leaves["id"][part].tolist(), leaf_of[part].tolist())))


def _pack(ids: np.ndarray, boxes: np.ndarray, capacity: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Sort-Tile-Recursive packing: per level, the cells in node order and where each node's cells start.

    Level 0 holds the entries; each level above holds one cell per node of
    the level below, its id the child's index there (made a node number by
    :func:`_rebuild`); the top level is the root, a single node.
    """
    levels = []
    while True:
        order = _str_order(boxes, capacity)
        cells = np.empty(len(ids), dtype=_CELL)
        cells["id"], cells["box"] = ids[order], boxes[order]
        starts = np.arange(0, max(len(ids), 1), capacity)
        levels.append((cells, starts))
        if len(starts) == 1:
            return levels
        box = cells["box"].astype(np.float32)
        ids = np.arange(len(starts), dtype=np.int64)
        boxes = np.column_stack([
            np.minimum.reduceat(box[:, 0], starts), np.maximum.reduceat(box[:, 1], starts),
            np.minimum.reduceat(box[:, 2], starts), np.maximum.reduceat(box[:, 3], starts),
        ])


def _str_order(boxes: np.ndarray, capacity: int) -> np.ndarray:
    """Boxes ordered in vertical slices by centre x, each slice by centre y, so runs of ``capacity`` are compact."""
    n = len(boxes)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    slices = max(1, math.ceil(math.sqrt(math.ceil(n / capacity))))
    per_slice = math.ceil(math.ceil(n / capacity) / slices) * capacity
    centre_x = boxes[:, 0].astype(np.float64) + boxes[:, 1]
    centre_y = boxes[:, 2].astype(np.float64) + boxes[:, 3]
    slice_of = np.empty(n, dtype=np.int64)
    slice_of[np.argsort(centre_x, kind="stable")] = np.arange(n) // per_slice
    return np.lexsort((centre_y, slice_of))


def _first_node_numbers(counts: list[int]) -> list[int]:
    """Node numbers from the root (1) down: the first number of each level, listed leaves first."""
    first, number = [0] * len(counts), 1
    for level in reversed(range(len(counts))):
        first[level] = number
        number += counts[level]
    return first
