"""Lean executemany for the writer: rows pre-serialised exactly as the tables' column types store them.

In a sync, SQLAlchemy's per-parameter bind processing (JSON serialisation, ``UtcDateTime`` and the SQLite
``DateTime`` text format) costs more than the database's own work. A ``BulkStatement`` is compiled once per
statement and dialect and serialises each row's values itself:

- JSON columns: the compact JSON text as the engine's serialiser writes it (keys in the value's order, non-ASCII
  as is), by orjson; ``None`` is SQL ``NULL`` (the tables' JSON types have ``none_as_null``);
- ``UtcDateTime`` columns: aware datetimes only (naive ones are refused, as ``UtcDateTime`` refuses them), in UTC;
  SQLite gets SQLAlchemy's text format of the naive UTC time (``YYYY-MM-DD HH:MM:SS.ffffff``), PostgreSQL the
  aware datetime;
- every other column through its type's own bind processor where it has one (``Float`` on SQLite), else as it is.

Rows go through ``Connection.exec_driver_sql``: the same connection, transaction and events as any statement. Reads
keep the tables' declared types, which read these values back as they read SQLAlchemy's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Column, Connection, Dialect, Table
from sqlalchemy.sql.dml import Insert

from atsbridge.store.tables import UtcDateTime

Converter = Callable[[Any], Any]


@dataclass(frozen=True)
class BulkStatement:
    """A compiled statement and how to turn one row (a mapping by column name) into its parameters."""

    sql: str
    converters: Mapping[str, Converter]
    positional: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None

    def execute(self, conn: Connection, rows: Iterable[Mapping[str, Any]], shared: Mapping[str, Any]) -> None:
        """One executemany of ``rows`` (each with its own columns), every row completed by the ``shared`` values."""
        fixed = {name: self.converters.get(name, _as_is)(value) for name, value in shared.items()}
        per_row = [(name, converter) for name, converter in self.converters.items() if name not in fixed]
        params: list[Any] = []
        for row in rows:
            values = {**row, **fixed}
            for name, converter in per_row:
                values[name] = converter(values[name])
            params.append(values)
        if self.positional is not None:
            params = [self.positional(values) for values in params]
        conn.exec_driver_sql(self.sql, params)


def compile_insert(statement: Insert, table: Table, dialect: Dialect) -> BulkStatement:
    """``statement`` (an INSERT into ``table`` of every column, any ``ON CONFLICT``) compiled for ``dialect``."""
    compiled = statement.compile(dialect=dialect, column_keys=[column.name for column in table.columns])
    converters = {column.name: _converter(column, dialect) for column in table.columns}
    return BulkStatement(
        compiled.string,
        {name: converter for name, converter in converters.items() if converter is not _as_is},
        None if compiled.positiontup is None else itemgetter(*compiled.positiontup),
    )


def json_text(value: Any) -> str | None:
    """The JSON text a JSON column stores for ``value``."""
    return None if value is None else orjson.dumps(value).decode()


def _converter(column: Column[Any], dialect: Dialect) -> Converter:
    if isinstance(column.type, UtcDateTime):
        return _sqlite_timestamp if dialect.name == "sqlite" else _utc
    if isinstance(column.type, JSON):
        return json_text
    processor: Converter | None = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor or _as_is


def _as_is(value: Any) -> Any:
    return value


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store timestamps as aware UTC")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_timestamp(value: datetime | None) -> str | None:
    utc = _utc(value)
    return None if utc is None else utc.replace(tzinfo=None).isoformat(" ", "microseconds")
