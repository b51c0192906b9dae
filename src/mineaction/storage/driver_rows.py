"""Large reads straight from the database driver, a column at a time.

SQLAlchemy builds a Row object for each result row and runs each value
through its type's processor one by one. For the reads that return 10⁵–10⁶
rows (map windows, exports, approving an import) that costs more than the
database's own work, so these take the driver's tuples and convert a whole
column with one processor call per value, only for the types that need one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

__all__ = ["column_batches", "columns", "driver_cursor"]


def driver_cursor(connection: sa.Connection, query: sa.Select, params: Mapping[str, Any] | None = None) -> Any:
    """The DB-API cursor of ``query``, its rows not yet fetched (the driver's errors are its own).

    SQLAlchemy runs the statement, so parameters are converted as usual;
    only the rows bypass it.
    """
    return connection.execute(query, params).cursor


def column_batches(connection: sa.Connection, query: sa.Select, params: Mapping[str, Any] | None = None, *,
                   size: int) -> Iterator[list[list[Any]]]:
    """``query``'s result, ``size`` rows at a time, as one list per selected column (types processed).

    sqlite3 steps through a result as it is fetched; psycopg would take the
    whole result at once, so on PostgreSQL the rows stay on the server in
    SQLAlchemy's own streamed result (a named cursor) and come as Row objects.
    """
    if connection.dialect.name == "postgresql":
        for rows in connection.execute(query.execution_options(yield_per=size), params).partitions():
            yield [list(column) for column in zip(*rows)]
        return
    cursor = driver_cursor(connection, query, params)
    processors = _processors(query, connection.dialect, cursor.description)
    while rows := cursor.fetchmany(size):
        yield _transposed(rows, processors)


def columns(connection: sa.Connection, query: sa.Select, params: Mapping[str, Any] | None = None) -> list[list[Any]]:
    """``query``'s whole result as one list per selected column (types processed)."""
    cursor = driver_cursor(connection, query, params)
    processors = _processors(query, connection.dialect, cursor.description)
    rows = cursor.fetchall()
    return _transposed(rows, processors) if rows else [[] for _ in processors]


def _processors(query: sa.Select, dialect: sa.Dialect, description: Any) -> list[Any]:
    return [selected.type.dialect_impl(dialect).result_processor(dialect, description[k][1])
            for k, selected in enumerate(query.selected_columns)]


def _transposed(rows: list[tuple[Any, ...]], processors: list[Any]) -> list[list[Any]]:
    out = [list(column) for column in zip(*rows)]
    for k, process in enumerate(processors):
        if process is not None:
            out[k] = [None if v is None else process(v) for v in out[k]]
    return out
