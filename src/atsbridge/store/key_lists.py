"""Keys in SQL: lists cut into chunks of at most ``MAX_IN_VALUES``, and a chunk bound as one parameter.

Statements run for every batch are built once, with the batch's keys as a single parameter (``in_keys``), so
SQLAlchemy neither builds nor renders them again on each execution, and the database keeps them prepared.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, String, any_, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

MAX_IN_VALUES = 1000


def chunks(values: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == MAX_IN_VALUES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def in_keys(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the keys bound to ``name`` as one value (``key_list``): a JSON array read by
    ``json_each`` on SQLite, an array on PostgreSQL."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(String)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name))))


def key_list(conn: Connection, keys: Sequence[str]) -> Any:
    """``keys`` as the single parameter ``in_keys`` binds."""
    return list(keys) if conn.dialect.name == "postgresql" else orjson.dumps(keys).decode()
