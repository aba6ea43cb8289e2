"""Lower-casing in SQL that works for every letter, and finding one text in another, for the API's case-insensitive
filters.

SQLite's built-in ``lower()`` only lower-cases ASCII: ``lower('Říha')`` is ``'Říha'``, so a filter comparing it with
Python's ``'říha'`` would miss names with a capital accented letter (RECRU's names carry diacritics). On SQLite
``unicode_lower`` is therefore a function of our own, ``atsbridge_lower`` (Python's ``str.lower``), which
``register_sqlite_functions`` adds to every connection; on PostgreSQL it is ``lower()``, which lower-cases by the
database's character type (a UTF-8 one, as ``initdb`` creates by default, lower-cases every letter).

``text_position`` is SQLite's ``instr`` and PostgreSQL's ``strpos``: a plain search, where ``LIKE '%…%'`` would need
its wildcards escaped and, on SQLite, refuses a pattern longer than 50,000 bytes ("LIKE or GLOB pattern too complex").
"""

from __future__ import annotations

import sqlite3
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import Integer, String

SQLITE_LOWER = "atsbridge_lower"


class unicode_lower(GenericFunction[str]):
    """``lower(text)`` for every letter (see the module docstring); lower-case, as SQLAlchemy's SQL functions are."""

    type = String()
    inherit_cache = True


@compiles(unicode_lower, "sqlite")
def _sqlite_lower(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower)
def _lower(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


def register_sqlite_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Add ``atsbridge_lower`` to a new SQLite connection."""
    dbapi_connection.create_function(SQLITE_LOWER, 1, _python_lower, deterministic=True)


def _python_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class text_position(GenericFunction[int]):
    """Where ``needle`` first starts in ``haystack``, counted from 1; 0 if nowhere (1 for an empty ``needle``)."""

    type = Integer()
    inherit_cache = True


@compiles(text_position, "sqlite")
def _sqlite_position(element: text_position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(text_position)
def _position(element: text_position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"
