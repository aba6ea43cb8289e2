"""Lean bulk INSERTs for the writer: rows pre-serialised exactly as the tables' column types store them.

In a sync, SQLAlchemy's per-parameter bind processing (JSON serialisation, ``UtcDateTime`` and the SQLite
``DateTime`` text format) costs more than the database's own work. A ``BulkStatement`` is compiled once per
statement and dialect and serialises each row's values itself (``serialise``: a sync does it for a batch on its
own thread, before the batch goes to the store's); ``None`` is always SQL ``NULL`` (the tables' JSON
types have ``none_as_null``), other values are serialised by column type:

- JSON columns: the compact JSON text as the engine's serialiser writes it (keys in the value's order, non-ASCII
  as is), by orjson; an ``orjson.Fragment`` is JSON serialised already and goes in as it is;
- ``UtcDateTime`` columns: aware datetimes only (naive ones are refused, as ``UtcDateTime`` refuses them), in UTC;
  SQLite gets SQLAlchemy's text format of the naive UTC time (``YYYY-MM-DD HH:MM:SS.ffffff``), PostgreSQL the
  aware datetime;
- every other column through its type's own bind processor where it has one (``Float`` on SQLite), else as it is.

Rows go through ``Connection.exec_driver_sql``: the same connection, transaction and events as any statement. Reads
keep the tables' declared types, which read these values back as they read SQLAlchemy's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Column, Connection, Dialect, Table
from sqlalchemy.sql.dml import Insert

from atsbridge.store.tables import UtcDateTime

Converter = Callable[[Any], Any]  # one value, never None, as the database takes it

ROWS_PER_STATEMENT = 500


@dataclass(frozen=True)
class BulkStatement:
    """A compiled INSERT, how to serialise a row (a mapping by column name) for it, and how to send the rows.

    On SQLite the rows go ``ROWS_PER_STATEMENT`` to a statement (``multi_row``): an executemany of single rows would
    release the GIL around each row's ``sqlite3_step`` and then wait to win it back from the sync's busy main thread,
    while a statement of many rows does them all in C, in parallel. Elsewhere (psycopg pipelines its executemany)
    the rows go as an executemany of ``sql``.
    """

    sql: str
    converters: Mapping[str, Converter]
    multi_row: _MultiRowInsert | None

    def serialise(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """``row``'s values as the statement takes them (``execute`` takes rows serialised so, in advance)."""
        return self.convert(dict(row))

    def convert(self, values: dict[str, Any]) -> dict[str, Any]:
        """``serialise`` in place: ``values`` itself, its values replaced."""
        for name, converter in self.converters.items():
            value = values.get(name)
            if value is not None:
                values[name] = converter(value)
        return values

    def execute(self, conn: Connection, rows: Iterable[Mapping[str, Any]], shared: Mapping[str, Any]) -> None:
        """Insert ``rows`` (each with its own columns, ``serialise``d), every row completed by the ``shared`` values
        (as they are: they are serialised here)."""
        fixed = self.serialise(shared)
        params = [{**row, **fixed} for row in rows]
        if self.multi_row is None:
            conn.exec_driver_sql(self.sql, params)
        else:
            self.multi_row.execute(conn, params)


@dataclass(frozen=True)
class _MultiRowInsert:
    """A positional INSERT as ``head``, one ``(?, …)`` ``group`` per row, ``tail``; ``order`` of a row's values.

    Statements of ``rows`` rows go in one executemany, the rest in statements of a power of two rows each. So there
    are few distinct statements: pysqlite keeps each one it prepared (up to 128), and one of a thousand rows weighs
    megabytes.
    """

    head: str
    group: str
    tail: str
    order: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    rows: int

    def execute(self, conn: Connection, params: list[dict[str, Any]]) -> None:
        start = len(params) - len(params) % self.rows
        full = [self._values(params[offset : offset + self.rows]) for offset in range(0, start, self.rows)]
        if full:
            conn.exec_driver_sql(self._sql(self.rows), full)
        for bit in reversed(range(self.rows.bit_length())):
            if (len(params) - start) >> bit:
                conn.exec_driver_sql(self._sql(1 << bit), self._values(params[start : start + (1 << bit)]))
                start += 1 << bit

    def _sql(self, rows: int) -> str:
        return self.head + ", ".join([self.group] * rows) + self.tail

    def _values(self, rows: list[dict[str, Any]]) -> tuple[Any, ...]:
        values: list[Any] = []
        for row in rows:
            values.extend(self.order(row))
        return tuple(values)


def compile_insert(statement: Insert, table: Table, dialect: Dialect) -> BulkStatement:
    """``statement`` (an INSERT into ``table`` of every column, any ``ON CONFLICT``) compiled for ``dialect``."""
    names = [column.name for column in table.columns]
    compiled = statement.compile(dialect=dialect, column_keys=names)
    converters = {column.name: converter for column in table.columns if (converter := _converter(column, dialect))}
    return BulkStatement(
        compiled.string,
        converters,
        _multi_row(compiled.string, compiled.positiontup, dialect) if dialect.name == "sqlite" else None,
    )


def _multi_row(sql: str, positions: Sequence[str] | None, dialect: Dialect) -> _MultiRowInsert:
    group = "(" + ", ".join("?" for _ in positions or ()) + ")"
    head, values, tail = sql.partition(f" VALUES {group}")
    if dialect.paramstyle != "qmark" or positions is None or not values or "?" in head + tail:
        raise ValueError(f"not a plain positional INSERT: {sql}")
    rows = min(ROWS_PER_STATEMENT, max(1, dialect.insertmanyvalues_max_parameters // len(positions)))
    return _MultiRowInsert(f"{head} VALUES ", group, tail, itemgetter(*positions), rows)


def _converter(column: Column[Any], dialect: Dialect) -> Converter | None:
    """How ``column`` takes a value (``None``: as it is)."""
    if isinstance(column.type, UtcDateTime):
        return _sqlite_timestamp if dialect.name == "sqlite" else _utc
    if isinstance(column.type, JSON):
        return _json_text
    processor: Converter | None = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store timestamps as aware UTC")
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_timestamp(value: datetime) -> str:
    # orjson writes "YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00" (quoted) in a fifth of the time isoformat() takes
    utc = _utc(value)
    text = orjson.dumps(utc).decode()
    return f"{text[1:11]} {text[12:20]}.{utc.microsecond:06d}"
