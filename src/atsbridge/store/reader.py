"""List queries of the unified API: filters, keyset cursors and the nested objects of a page.

- **Keyset pagination** over ``id``: a page is ``id > last id ORDER BY id LIMIT n``, so a record that exists for
  the whole listing is neither skipped nor repeated however the data changes between pages. The cursor carries the
  last id and a digest of the integration, the model and the filters; a cursor of another query is refused.
- **Nested objects** are loaded for the whole page at once (one query per kind of nested object), never per row.
- **"Sync only created applications"**: when the integration has it on, applications are limited to the tracked
  ones and candidates to theirs.
- Rows become plain dicts in the exact shape of ``unified.models`` (``store.shapes``; datetimes as ISO 8601
  strings with ``Z``), so the routes can send them without another validation pass.

Speed (a page of 250 candidates with their applications and tags is the benchmark, ``bench/api_read.py``):

- every query selects only the columns its shape reads, in the order the shape unpacks them (``remote_data`` as
  ``NULL`` unless the integration enables it); rows are fetched at once and unpacked as tuples, since reading a
  ``Row``'s attribute by name costs more than the database's work for the value;
- the statements of nested objects are built once per backend and kind, with the page's ids and the integration
  as bound parameters, so a page builds no statement for them and SQLAlchemy finds them compiled;
- timestamps are formatted as API text by the database (``api_timestamp``) and JSON columns go into the answer as
  stored text or are parsed by orjson (``JsonText``), not through ``datetime`` and ``json`` objects in
  SQLAlchemy's result processing;
- nested lookups go by our ids alone, without ``integration_id`` in SQL: our ids are derived from the integration
  id, and without planner statistics SQLite would otherwise pick the ``(integration_id, …)`` index and scan the
  integration's whole table. The rows' ``integration_id`` (always their first column) is still checked in Python.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import orjson
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Connection,
    Dialect,
    Row,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    false,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    type_coerce,
)
from sqlalchemy.types import TypeDecorator

from atsbridge.store import tables
from atsbridge.store.integrations import INTEGRATION_ID, Integration, tracked_conditions
from atsbridge.store.shapes import JOB_REF, SHAPES
from atsbridge.store.text_match import text_position, unicode_lower
from atsbridge.unified.ids import ModelName, is_model_id
from atsbridge.unified.models import format_datetime

AnyRow: TypeAlias = "Row[*tuple[Any, ...]]"
"""A row of the reader's statements, whose columns vary: unpacked and indexed, never read by name."""
AnySelect: TypeAlias = "Select[*tuple[Any, ...]]"


class BadQuery(ValueError):
    """A filter value or cursor the query cannot use (answered as PLATFORM.INPUT_INVALID)."""


@dataclass(frozen=True)
class ListQuery:
    """The common parameters of every list, plus the model's own filters (``filters``: name → parsed value)."""

    page_size: int = 100
    cursor: str | None = None
    updated_after: datetime | None = None
    include_deleted: bool = False
    ignore_unsupported_filters: bool = False
    ids: tuple[str, ...] | None = None
    remote_ids: tuple[str, ...] | None = None
    filters: dict[str, Any] = field(default_factory=dict)

    def digest(self, integration_id: str, model: ModelName) -> str:
        shape = [
            integration_id,
            model.value,
            self.updated_after.isoformat() if self.updated_after else None,
            self.include_deleted,
            self.ignore_unsupported_filters,
            self.ids,
            self.remote_ids,
            sorted((k, repr(v)) for k, v in self.filters.items()),
        ]
        return hashlib.sha256(json.dumps(shape, default=str).encode()).hexdigest()[:16]


def ts(value: datetime | None) -> str | None:
    """``format_datetime`` of ``value`` (``None`` stays): the writer stores record timestamps to the millisecond, so
    the value sent is the value stored and ``updated_after=<a value we sent>`` is exact."""
    return None if value is None else format_datetime(value)


def api_timestamp(column: Column[Any], dialect: str) -> ColumnElement[str]:
    """SQL that reads a ``UtcDateTime`` column as the API writes it (``ts``: ISO 8601 UTC, milliseconds truncated,
    ``Z``), so that no ``datetime`` is made and formatted per value in Python."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"', type_=String)
    # SQLite holds SQLAlchemy's naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff"; the constants are inline SQL, as
    # bound parameters they cost SQLite more than the rest of the expression
    stored = type_coerce(column, String).concat(literal_column("'.000'"))
    to_millis = func.substr(stored, literal_column("1"), literal_column("23"), type_=String)
    return func.replace(to_millis, literal_column("' '"), literal_column("'T'"), type_=String).concat(
        literal_column("'Z'")
    )


class JsonText(TypeDecorator[Any]):
    """Reads a JSON column's text as the answer's JSON; for results only.

    On SQLite the stored text is what orjson wrote (``store.bulk``: compact, keys in order), so it goes into the
    answer as it is, an ``orjson.Fragment``, never parsed into objects only to be written back. PostgreSQL's JSONB
    text has its own spacing, so there it is parsed by orjson and written again with the rest."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return orjson.Fragment(value) if dialect.name == "sqlite" else orjson.loads(value)


def readable(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    """``column`` as the reader selects it: timestamps as API text, JSON parsed by orjson, the rest as is."""
    if isinstance(column.type, tables.UtcDateTime):
        return api_timestamp(column, dialect).label(column.name)
    if isinstance(column.type, JSON):
        text_of = cast(column, Text) if dialect == "postgresql" else column  # PostgreSQL would parse JSONB itself
        return type_coerce(text_of, JsonText()).label(column.name)
    return column


@functools.cache
def selected(
    table: Table, names: tuple[str, ...], dialect: str, remote_data: bool = False
) -> tuple[ColumnElement[Any], ...]:
    """The columns ``names`` of ``table`` as the reader selects them (``remote_data`` as ``NULL`` unless asked)."""
    return tuple(
        null().label(name) if name == "remote_data" and not remote_data else readable(table.c[name], dialect)
        for name in names
    )


def encode_cursor(last_id: str, digest: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([last_id, digest]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, digest: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_id, cursor_digest = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error, RecursionError) as error:  # RecursionError: nested too deeply
        raise BadQuery("The cursor is malformed; pass `next` from the previous page unchanged.") from error
    # a cursor is exactly what ``encode_cursor`` wrote: base64 decoding alone would overlook characters added to it
    if not isinstance(last_id, str) or not is_model_id(last_id) or cursor != encode_cursor(last_id, cursor_digest):
        raise BadQuery("The cursor is malformed; pass `next` from the previous page unchanged.")
    if cursor_digest != digest:
        raise BadQuery("The cursor belongs to another query; keep the filters of the first page.")
    return last_id


# --- filters ------------------------------------------------------------------------------------------------


def _lower_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    return unicode_lower(column).in_([_lowered(v) for v in values])


def _lowered(value: str) -> ColumnElement[str]:
    """``value`` lower-cased by the database, as the column it is compared with: the stores lower a few letters
    differently (a final sigma, a dotted capital I), each store must agree with itself."""
    return unicode_lower(literal(value, String))


def _contains_lowered(column: Any, value: str) -> ColumnElement[bool]:
    """``value`` is part of ``column``, both lowered by the database (``_lowered``)."""
    return text_position(unicode_lower(column), _lowered(value)) > 0


def _email_matches(email: str) -> ColumnElement[bool]:
    """Candidates with ``email`` among their addresses, case-insensitively (by ``tables.candidate_emails``)."""
    lookup = tables.candidate_emails
    # lower-cased by the function the triggers that fill the table use (``store.email_index_sql``)
    matching = select(lookup.c.candidate_id).where(lookup.c.email == _lowered(email.strip()))
    return tables.candidates.c.id.in_(matching)


WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""What ``str.strip()`` removes (every character ``str.isspace``), for SQL's ``trim`` (which removes spaces alone)."""

FilterBuilder = Callable[[Any, "Reader"], ColumnElement[bool]]


def _jobs_filters() -> dict[str, FilterBuilder]:
    t = tables.jobs
    return {
        # RECRU keeps a code as typed; the values given come trimmed (``str.split`` of the list, then ``str.strip``)
        "job_codes": lambda v, r: func.trim(t.c.job_code, WHITESPACE).in_(v),
        "statuses": lambda v, r: t.c.status.in_(v),
        "employment_types": lambda v, r: t.c.employment_type.in_(v),
        "visibilities": lambda v, r: t.c.visibility.in_(v),
        "remote_created_after": lambda v, r: t.c.remote_created_at >= v,
        "name_contains": lambda v, r: _contains_lowered(t.c.name, v),
    }


def _applications_filters() -> dict[str, FilterBuilder]:
    t = tables.applications
    return {
        "outcomes": lambda v, r: t.c.outcome.in_(v),
        "job_ids": lambda v, r: t.c.job_id.in_(v),
        "job_remote_ids": lambda v, r: t.c.job_id.in_(
            select(tables.jobs.c.id).where(
                tables.jobs.c.integration_id == bindparam(INTEGRATION_ID), tables.jobs.c.remote_id.in_(v)
            )
        ),
        "current_stage_ids": lambda v, r: t.c.current_stage_id.in_(v),
        "remote_created_after": lambda v, r: t.c.remote_created_at >= v,
    }


def _candidates_filters() -> dict[str, FilterBuilder]:
    t = tables.candidates
    a = tables.applications
    return {
        "email": lambda v, r: _email_matches(v),
        "job_ids": lambda v, r: t.c.id.in_(  # by job_id alone (see the module docstring); the list is scoped
            select(a.c.candidate_id).where(
                a.c.job_id.in_(v),
                a.c.remote_deleted_at.is_(None),
                *r.tracked_conditions(ModelName.APPLICATIONS),
            )
        ),
        "first_name": lambda v, r: unicode_lower(t.c.first_name) == _lowered(v.strip()),  # RECRU stores names trimmed
        "last_name": lambda v, r: unicode_lower(t.c.last_name) == _lowered(v.strip()),
    }


FILTERS: dict[ModelName, dict[str, FilterBuilder]] = {
    ModelName.JOBS: _jobs_filters(),
    ModelName.APPLICATIONS: _applications_filters(),
    ModelName.CANDIDATES: _candidates_filters(),
    ModelName.USERS: {"emails": lambda v, r: _lower_in(tables.users.c.email, v)},
    ModelName.APPLICATION_STAGES: {},
    ModelName.TAGS: {},
}
# Filters of the unified API on fields RECRU does not have: no record can match them.
UNSUPPORTED: dict[ModelName, frozenset[str]] = {ModelName.JOBS: frozenset({"post_url"})}


NUL = "\x00"


def _without_nul(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(value for value in values if NUL not in value)


# --- the statements of nested objects, built once -------------------------------------------------------------


def _by_ids(query: AnySelect, column: Column[Any], deleted_too: bool) -> AnySelect:
    """``query`` limited to the rows whose ``column`` is among the bound list ``ids`` (and live, unless
    ``deleted_too``)."""
    query = query.where(column.in_(bindparam("ids", expanding=True)))
    return query if deleted_too else query.where(column.table.c.remote_deleted_at.is_(None))


@functools.cache
def _live_statement(table: Table, column: str, names: tuple[str, ...], dialect: str) -> AnySelect:
    return _by_ids(select(table.c.integration_id, *selected(table, names, dialect)), table.c[column], False)


@functools.cache
def _linked_statement(
    join: ModelName, link_names: tuple[str, ...], child_names: tuple[str, ...], dialect: str
) -> AnySelect:
    spec = tables.JOINS[join]
    link, child = spec.table, tables.MODEL_TABLES[spec.child]
    query = select(link.c.integration_id, *selected(link, link_names, dialect), *selected(child, child_names, dialect))
    query = query.join(child, and_(child.c.id == link.c[spec.child_column], child.c.remote_deleted_at.is_(None)))
    return _by_ids(query, link.c[spec.parent_column], False)


@functools.cache
def _applications_statement(
    column: str, names: tuple[str, ...], stage_names: tuple[str, ...], dialect: str, tracked: bool, deleted_too: bool
) -> AnySelect:
    a, job, stage, pipeline = (
        tables.applications,
        tables.jobs,
        tables.application_stages,
        tables.jobs_application_stages,
    )
    query = (
        select(
            a.c.integration_id,
            *selected(a, names, dialect),
            *selected(job, JOB_REF, dialect),
            *selected(stage, stage_names, dialect),
            pipeline.c.index,
        )
        .outerjoin(job, and_(job.c.id == a.c.job_id, job.c.remote_deleted_at.is_(None)))
        .outerjoin(stage, and_(stage.c.id == a.c.current_stage_id, stage.c.remote_deleted_at.is_(None)))
        .outerjoin(
            pipeline,
            and_(
                pipeline.c.job_id == a.c.job_id,
                pipeline.c.stage_id == a.c.current_stage_id,
                pipeline.c.remote_deleted_at.is_(None),
            ),
        )
    )
    if tracked:
        query = query.where(*tracked_conditions(ModelName.APPLICATIONS))
    return _by_ids(query, a.c[column], deleted_too)


# --- the reader -------------------------------------------------------------------------------------------


class Reader:
    """Reads one integration's records in the unified shapes."""

    def __init__(self, conn: Connection, integration: Integration) -> None:
        self.conn = conn
        self.integration = integration
        self.dialect = conn.dialect.name

    def page(self, model: ModelName, query: ListQuery) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``model`` and the cursor of the next (``None`` at the end).

        The page's ids are chosen first and only their rows read (a deferred join): a filter that the database
        answers from another index than the id order (``updated_after``, say) then sorts ids, not whole rows."""
        table = tables.MODEL_TABLES[model]
        shape = SHAPES[model]
        digest = query.digest(self.integration.id, model)
        chosen = select(table.c.id).where(
            table.c.integration_id == bindparam(INTEGRATION_ID),
            *self.tracked_conditions(model),
            *self._conditions(model, table, query),
        )
        if query.cursor:
            chosen = chosen.where(self._id_column(table, query) > decode_cursor(query.cursor, digest))
        chosen = chosen.order_by(table.c.id).limit(query.page_size + 1)
        columns = selected(table, shape.columns, self.dialect, self.integration.remote_data_enabled)
        rows = self.execute(select(*columns).where(table.c.id.in_(chosen.scalar_subquery())).order_by(table.c.id))
        more = len(rows) > query.page_size
        rows = rows[: query.page_size]
        return shape.build(self, rows), encode_cursor(rows[-1][0], digest) if more else None

    def execute(self, statement: AnySelect, ids: Sequence[str] | None = None) -> Sequence[AnyRow]:
        """Every row of ``statement``, with this integration as its ``INTEGRATION_ID`` (and ``ids`` as ``ids``)."""
        return self.conn.execute(statement, {INTEGRATION_ID: self.integration.id, "ids": ids}).all()

    def _id_column(self, table: Table, query: ListQuery) -> ColumnElement[str]:
        """``id`` for the cursor's condition. With ``updated_after`` on SQLite it is ``id || ''``: the same value,
        but no index, so that SQLite, which has no statistics to weigh the two, reads the few recently updated
        records through the ``updated_at`` index instead of walking every later id through the ``id`` index. (On
        PostgreSQL the planner weighs them itself.)"""
        if query.updated_after is not None and self.dialect == "sqlite":
            return table.c.id.concat("")
        return table.c.id

    def tracked_conditions(self, model: ModelName) -> list[ColumnElement[bool]]:
        """``tracked_conditions(model)`` when the integration syncs only created applications, else nothing."""
        return tracked_conditions(model) if self.integration.sync_only_created_applications else []

    def _conditions(self, model: ModelName, table: Table, query: ListQuery) -> list[ColumnElement[bool]]:
        """The query's filters. A value with a NUL character matches nothing (no stored value has one, and
        PostgreSQL refuses them in text), so it is left out of a list and makes any other filter false."""
        conditions: list[ColumnElement[bool]] = []
        if not query.include_deleted:
            conditions.append(table.c.remote_deleted_at.is_(None))
        if query.updated_after is not None:
            conditions.append(table.c.updated_at > query.updated_after)
        if query.ids is not None:
            conditions.append(table.c.id.in_(_without_nul(query.ids)))
        if query.remote_ids is not None:
            conditions.append(table.c.remote_id.in_(_without_nul(query.remote_ids)))
        builders = FILTERS[model]
        for name, value in query.filters.items():
            if name in UNSUPPORTED.get(model, frozenset()):
                conditions.append(true() if query.ignore_unsupported_filters else false())
            elif isinstance(value, str) and NUL in value:
                conditions.append(false())
            else:
                conditions.append(builders[name](_without_nul(value) if isinstance(value, tuple) else value, self))
        return conditions

    # --- nested objects, each loaded for a whole page ----------------------------------------------------

    def live_rows(
        self, table: Table, column: str, values: Iterable[str | None], names: tuple[str, ...]
    ) -> list[AnyRow]:
        """The live rows of ``table`` whose ``column`` is one of ``values`` (our ids): ``integration_id`` and the
        columns ``names``."""
        return self._nested(_live_statement(table, column, names, self.dialect), values)

    def linked(
        self, join: ModelName, parent_ids: Iterable[str], link_names: tuple[str, ...], child_names: tuple[str, ...]
    ) -> list[AnyRow]:
        """The live links of ``join`` from ``parent_ids``: ``integration_id``, the link's columns ``link_names`` and
        its live child's columns ``child_names``."""
        return self._nested(_linked_statement(join, link_names, child_names, self.dialect), parent_ids)

    def applications_with_refs(
        self,
        column: str,
        values: Iterable[str | None],
        names: tuple[str, ...],
        stage_names: tuple[str, ...],
        *,
        deleted_too: bool = False,
    ) -> list[AnyRow]:
        """The applications (tracked ones only, where that applies; live ones unless ``deleted_too``) whose ``column``
        is one of ``values``: ``integration_id``, the columns ``names``, their live job's ``JOB_REF`` columns, their
        current stage's columns ``stage_names`` and the stage's index in the job's pipeline."""
        tracked = self.integration.sync_only_created_applications
        statement = _applications_statement(column, names, stage_names, self.dialect, tracked, deleted_too)
        return self._nested(statement, values)

    def _nested(self, statement: AnySelect, values: Iterable[str | None]) -> list[AnyRow]:
        wanted = sorted({value for value in values if value is not None})
        if not wanted:
            return []
        return [row for row in self.execute(statement, wanted) if row[0] == self.integration.id]
