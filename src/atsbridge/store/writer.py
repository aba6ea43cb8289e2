"""Batched writes into the unified store: upserts by content hash, join replacement, tombstones, anonymisation.

One generic path serves every model and join, driven by the table metadata in ``tables``:

- **Content hash.** ``content_hash`` is a 128-bit BLAKE2b of the canonical JSON (sorted keys, no spaces, UTC ISO
  timestamps) of the record exactly as mapped: ``id``, ``remote_id``, the unified fields and ``remote_data``.
  Bookkeeping columns are outside it. An unchanged hash rewrites nothing, so ``changed_at`` never moves for
  identical data; a FULL run then only stamps ``last_seen_sync_id`` (one bulk ``UPDATE`` per batch).
- **Cost.** A batch costs one ``SELECT`` of the stored hashes, one executemany ``INSERT … ON CONFLICT (id) DO UPDATE``
  (SQLite and PostgreSQL dialects) for the created and changed rows, at most one ``UPDATE`` of the seen stamps and one
  ``UPDATE`` per nested-change mark — never a statement per row. Keep batches to a few hundred records.
- **Nested changes.** ``updated_at`` is ``changed_at`` or the latest nested change, whichever is later. The writer
  moves it itself (``NESTED_MARKS``), so the sync engine and the API actions cannot forget it: a join row that
  appears, changes or disappears moves its parent (jobs ← stages and hiring team, candidates ← tags); an application
  created, changed or deleted moves its candidate; a candidate that changes moves its applications; a stage that
  changes moves the applications currently in it. ``updated_at`` only ever moves forward.
- **Join rows are tombstoned, not deleted** (the unified API stores them as rows with their own ``id``,
  ``changed_at`` and ``remote_deleted_at``): a vanished link gets ``remote_deleted_at``, and the same link coming
  back revives the same row (its id is derived from the two remote ids). The reader serves only live join rows.
- **Deletions.** ``deletion_candidates`` lists records a complete FULL listing did not stamp; after the sync engine
  has confirmed them gone, ``mark_deleted`` tombstones them and their join rows. Tombstoning and reviving move
  ``changed_at`` (the record's visible ``remote_deleted_at`` changed). A tombstoned record that is upserted again is
  revived and counted as updated.
- **Anonymisation.** ``anonymise_expired`` clears the personal columns (``tables.ANONYMISE_TO``) of records deleted
  more than 14 days ago, stamps ``anonymised_at`` and moves ``changed_at``; a revival restores the fields.

Every function takes a ``Connection`` inside the caller's transaction and an aware UTC ``now``. Lookups by our ids
(primary keys, link columns) carry no ``integration_id`` condition: the ids are derived from the integration id, and
with the stale planner statistics of a first sync PostgreSQL would otherwise scan the integration's whole index.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from atsbridge.store.bulk import BulkStatement, compile_insert
from atsbridge.store.tables import ANONYMISE_TO, JOINS, MODEL_TABLES, JoinSpec, record_columns, table_of
from atsbridge.unified.ids import ModelName

Record = Mapping[str, Any]

ANONYMISE_AFTER = timedelta(days=14)
MAX_IN_VALUES = 1000


@dataclass(frozen=True)
class Counts:
    """How many records a write created, updated (changed or revived), left unchanged and tombstoned."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.created + other.created,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.deleted + other.deleted,
        )


@dataclass(frozen=True)
class NestedMark:
    """A change of a ``source`` row moves ``updated_at`` of the ``target`` rows whose ``target_column`` equals the
    source row's ``source_column``."""

    source: ModelName
    source_column: str
    target: ModelName
    target_column: str


NESTED_MARKS: tuple[NestedMark, ...] = (
    NestedMark(ModelName.APPLICATIONS, "candidate_id", ModelName.CANDIDATES, "id"),
    NestedMark(ModelName.CANDIDATES, "id", ModelName.APPLICATIONS, "candidate_id"),
    NestedMark(ModelName.APPLICATION_STAGES, "id", ModelName.APPLICATIONS, "current_stage_id"),
    *(NestedMark(join, spec.parent_column, spec.parent, "id") for join, spec in JOINS.items()),
)


def content_hash(record: Record) -> str:
    """The digest that decides whether a stored record changed (see the module docstring for its scope)."""
    canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def upsert(
    conn: Connection,
    model: ModelName,
    integration_id: str,
    records: Iterable[Record],
    *,
    now: datetime,
    sync_id: str | None = None,
) -> Counts:
    """Write a batch of mapped ``model`` records; ``sync_id`` (FULL runs only) stamps every record as seen."""
    table = MODEL_TABLES[model]
    batch = _by_id(table, records)
    if not batch:
        return Counts()
    plan = _plan(batch, _stored_state(conn, table, table.c.id.in_(batch)))
    _write(conn, table, integration_id, plan, now=now, sync_id=sync_id)
    if sync_id is not None:
        for chunk in _chunks(plan.unchanged):
            conn.execute(update(table).where(table.c.id.in_(chunk)).values(last_seen_sync_id=sync_id))
    _mark_nested_changes(conn, model, [*plan.created, *plan.updated], now)
    return Counts(created=len(plan.created), updated=len(plan.updated), unchanged=len(plan.unchanged))


def replace_joins(
    conn: Connection,
    join: ModelName,
    integration_id: str,
    rows_by_parent: Mapping[str, Sequence[Record]],
    *,
    now: datetime,
) -> Counts:
    """Make each parent's live join rows exactly ``rows_by_parent[parent id]`` (``[]``: none left)."""
    spec = JOINS[join]
    table = spec.table
    for parent_id, rows in rows_by_parent.items():
        if any(row[spec.parent_column] != parent_id for row in rows):
            raise ValueError(f"{join}: a row listed under {parent_id} belongs to another parent")
    batch = _by_id(table, (row for rows in rows_by_parent.values() for row in rows))
    stored: dict[str, _StoredState] = {}
    for chunk in _chunks(rows_by_parent):
        stored |= _stored_state(conn, table, table.c[spec.parent_column].in_(chunk))
    plan = _plan(batch, stored)
    _write(conn, table, integration_id, plan, now=now, sync_id=None)
    _mark_nested_changes(conn, join, [*plan.created, *plan.updated], now)
    vanished = [id_ for id_, state in stored.items() if id_ not in batch and not state.deleted]
    deleted = sum(_tombstone_joins(conn, spec, table.c.id.in_(chunk), now) for chunk in _chunks(vanished))
    return Counts(created=len(plan.created), updated=len(plan.updated), unchanged=len(plan.unchanged), deleted=deleted)


def deletion_candidates(
    conn: Connection,
    model: ModelName,
    integration_id: str,
    sync_id: str,
    limit: int,
    after_id: str | None = None,
) -> list[tuple[str, str]]:
    """``(id, remote_id)`` of live records the FULL run ``sync_id`` did not see, by id, after ``after_id``."""
    table = MODEL_TABLES[model]
    query = (
        select(table.c.id, table.c.remote_id)
        .where(
            table.c.integration_id == integration_id,
            table.c.remote_deleted_at.is_(None),
            or_(table.c.last_seen_sync_id.is_(None), table.c.last_seen_sync_id != sync_id),
        )
        .order_by(table.c.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(table.c.id > after_id)
    return [(row.id, row.remote_id) for row in conn.execute(query)]


def mark_deleted(conn: Connection, model: ModelName, integration_id: str, ids: Iterable[str], *, now: datetime) -> int:
    """Tombstone the live records ``ids`` of ``model`` and every join row linking them; returns how many records."""
    table = MODEL_TABLES[model]
    returned = {"id", *(mark.source_column for mark in NESTED_MARKS if mark.source == model)}
    deleted: list[Mapping[Any, Any]] = []
    for chunk in _chunks(ids):
        statement = (
            update(table)
            .where(
                table.c.integration_id == integration_id,
                table.c.id.in_(chunk),
                table.c.remote_deleted_at.is_(None),
            )
            .values(remote_deleted_at=now, changed_at=now, updated_at=now)
            .returning(*(table.c[name] for name in sorted(returned)))
        )
        deleted.extend(conn.execute(statement).mappings())
    _mark_nested_changes(conn, model, deleted, now)
    deleted_ids = [row["id"] for row in deleted]
    for spec in JOINS.values():
        for linked_model, column in ((spec.parent, spec.parent_column), (spec.child, spec.child_column)):
            if linked_model == model:
                for chunk in _chunks(deleted_ids):
                    _tombstone_joins(conn, spec, spec.table.c[column].in_(chunk), now)
    return len(deleted)


def anonymise_expired(conn: Connection, *, now: datetime, after: timedelta = ANONYMISE_AFTER) -> int:
    """Clear the personal fields of every record deleted more than ``after`` ago; returns how many records."""
    anonymised = 0
    for table in MODEL_TABLES.values():
        cleared = {column.name: column.info[ANONYMISE_TO] for column in table.columns if ANONYMISE_TO in column.info}
        statement = (
            update(table)
            .where(table.c.remote_deleted_at <= now - after, table.c.anonymised_at.is_(None))
            .values({**cleared, "anonymised_at": now, "changed_at": now, "updated_at": now})
        )
        anonymised += conn.execute(statement).rowcount
    return anonymised


# --- internals ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StoredState:
    content_hash: str
    deleted: bool


@dataclass
class _Plan:
    """A batch split by what the store already holds; created/updated keep the record with its new hash."""

    hashes: dict[str, str] = field(default_factory=dict)
    created: list[Record] = field(default_factory=list)
    updated: list[Record] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == MAX_IN_VALUES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _by_id(table: Table, records: Iterable[Record]) -> dict[str, Record]:
    """The batch keyed by id (a record listed twice counts once, the later wins), checked against the table."""
    expected = set(record_columns(table))
    batch: dict[str, Record] = {}
    for record in records:
        if record.keys() != expected:
            raise ValueError(
                f"{table.name} record {record.get('id')!r}: missing {sorted(expected - record.keys())}, "
                f"unexpected {sorted(record.keys() - expected)}"
            )
        batch[record["id"]] = record
    return batch


def _stored_state(conn: Connection, table: Table, condition: ColumnElement[bool]) -> dict[str, _StoredState]:
    deleted = table.c.remote_deleted_at.is_not(None).label("deleted")
    query = select(table.c.id, table.c.content_hash, deleted).where(condition)
    return {row.id: _StoredState(row.content_hash, bool(row.deleted)) for row in conn.execute(query)}


def _plan(batch: Mapping[str, Record], stored: Mapping[str, _StoredState]) -> _Plan:
    plan = _Plan()
    for id_, record in batch.items():
        digest = content_hash(record)
        state = stored.get(id_)
        if state is None:
            plan.created.append(record)
        elif state.content_hash != digest or state.deleted:
            plan.updated.append(record)
        else:
            plan.unchanged.append(id_)
            continue
        plan.hashes[id_] = digest
    return plan


def _write(
    conn: Connection, table: Table, integration_id: str, plan: _Plan, *, now: datetime, sync_id: str | None
) -> None:
    """One executemany upsert of the created and updated records of ``plan``."""
    records = [*plan.created, *plan.updated]
    if not records:
        return
    shared: dict[str, Any] = {
        "integration_id": integration_id,
        "changed_at": now,
        "updated_at": now,
        "remote_deleted_at": None,
        "created_in_store_at": now,
    }
    if "last_seen_sync_id" in table.c:
        shared |= {"anonymised_at": None, "last_seen_sync_id": sync_id}
    rows = ({**record, "content_hash": plan.hashes[record["id"]]} for record in records)
    _upsert_statement(table, conn.dialect).execute(conn, rows, shared)


@functools.lru_cache(maxsize=64)
def _upsert_statement(table: Table, dialect: Dialect) -> BulkStatement:
    """``INSERT … ON CONFLICT (id) DO UPDATE`` of every column but the ones a first insert settles."""
    insert = postgresql.insert(table) if dialect.name == "postgresql" else sqlite.insert(table)
    kept_on_conflict = {"id", "integration_id", "created_in_store_at"}
    assignments: dict[str, Any] = {
        column.name: insert.excluded[column.name] for column in table.columns if column.name not in kept_on_conflict
    }
    if "last_seen_sync_id" in assignments:
        assignments["last_seen_sync_id"] = func.coalesce(insert.excluded.last_seen_sync_id, table.c.last_seen_sync_id)
    return compile_insert(insert.on_conflict_do_update(index_elements=[table.c.id], set_=assignments), table, dialect)


def _tombstone_joins(conn: Connection, spec: JoinSpec, condition: ColumnElement[bool], now: datetime) -> int:
    """Tombstone the live join rows matching ``condition`` and mark their parents; returns how many."""
    table = spec.table
    statement = (
        update(table)
        .where(condition, table.c.remote_deleted_at.is_(None))
        .values(remote_deleted_at=now, changed_at=now, updated_at=now)
        .returning(table.c[spec.parent_column])
    )
    rows = conn.execute(statement).mappings().all()
    _mark_nested_changes(conn, spec.name, rows, now)
    return len(rows)


def _mark_nested_changes(
    conn: Connection, source: ModelName, changed: Sequence[Mapping[Any, Any]], now: datetime
) -> None:
    """Move ``updated_at`` of the records that nest the ``changed`` rows of ``source`` (see ``NESTED_MARKS``)."""
    for mark in NESTED_MARKS:
        if mark.source != source:
            continue
        values = {row[mark.source_column] for row in changed} - {None}
        target = table_of(mark.target)
        for chunk in _chunks(sorted(values)):
            conn.execute(
                update(target)
                .where(target.c[mark.target_column].in_(chunk), target.c.updated_at < now)
                .values(updated_at=now)
            )
