"""Batched writes into the unified store: upserts by content hash, join replacement, revival.

One generic path serves every model and join, driven by the table metadata in ``tables``:

- **Content hash.** ``content_hash`` holds two 64-bit BLAKE2b digests of the record as mapped: first of the canonical
  JSON (sorted keys, no spaces, non-ASCII as is, ISO timestamps, written by orjson) of its *own fields* (everything but
  ``remote_updated_at`` and ``remote_data``), then of that JSON followed by the compact JSON array ``[remote_updated_at,
  remote_data]`` (the payload's keys in RECRU's order: the same JSON is what the store keeps, so the payload is
  serialised once). Bookkeeping columns are outside both. Same whole digest: nothing is rewritten, so ``changed_at``
  never moves for identical data (a FULL run then only stamps ``last_seen_sync_id``, one bulk ``UPDATE`` per batch).
  Different own fields: the row is rewritten and ``changed_at`` and ``updated_at`` move. Same own fields but a different
  whole record (a refresh): RECRU moved its ``updatedAt``, because of nested data (a jobseeker's tags, a project's
  pipeline or hiring team) or of a field the unified model does not have (a date of birth, say), which must not move
  ``changed_at`` (unified-api §3): the row is rewritten with ``changed_at`` kept and ``updated_at`` moved, so
  ``updated_after`` still finds the record whose ``remote_updated_at`` and ``remote_data`` the API now serves
  differently.
- **Cost.** A batch costs one ``SELECT`` of the stored hashes per thousand records, one bulk
  ``INSERT … ON CONFLICT (id) DO UPDATE`` for the created and changed rows (``store.bulk``: values serialised once,
  by us; on SQLite hundreds of rows per statement), at most one ``UPDATE`` of the seen stamps and one ``UPDATE`` per
  nested-change mark — never a statement per row. The statements run for every batch are built once. Keep batches
  to about a thousand records.
- **Nested changes.** A write itself moves ``updated_at`` of the records that nest what it changed
  (``nested_marks``), so the sync engine and the API actions cannot forget it; ``nested_marks=False`` (an
  integration's first sync, which nothing reads yet) leaves the marks out.
- **Never older over newer.** Each record stores when it was asked of RECRU (``read_at``, the batch's
  ``fetched_at``). A batch does not overwrite a record stored from a later read: an action's write-through that
  re-read the record while a sync's page was on its way, say, or the other way round. The upsert itself decides
  (``ON CONFLICT … DO UPDATE … WHERE`` the stored read is not later), so a concurrent writer's commit between the
  batch's plan and its write cannot slip through; such records, and their join rows in ``write_batch``, are left
  as they are (counted unchanged). RECRU's own ``updatedAt`` cannot decide it: it counts whole seconds, and its clock
  may go back. A write without ``fetched_at`` (``NULL``) always applies.
- **Join rows.** ``write_joins`` makes a parent's live join rows exactly the ones given: a vanished link is
  tombstoned (``deletions.tombstone_joins``), and the same link coming back revives the same row.
- **Deletions** (tombstones, anonymisation) are ``deletions``'s; a tombstoned record that is upserted again is
  revived (personal fields restored) and counted as updated.

Every function takes a ``Connection`` inside the caller's transaction and an aware UTC ``now``, which it stores to the
millisecond (``at_api_precision``): the API serves timestamps to the millisecond, so a stored value is exactly the
served one and ``updated_after=<a served value>`` means strictly after it (a batch written in one instant is not served
again). Lookups by our ids (primary keys, link columns) carry no ``integration_id`` condition: the ids are derived from
the integration id, and with the stale planner statistics of a first sync PostgreSQL would otherwise scan the
integration's whole index.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Connection,
    Dialect,
    Select,
    Table,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.elements import BindParameter

from atsbridge.store.bulk import BulkStatement, compile_insert
from atsbridge.store.deletions import tombstone_joins
from atsbridge.store.integrations import remember_holders
from atsbridge.store.key_lists import chunks, in_keys, key_list
from atsbridge.store.nested_marks import mark_linking_parents, mark_nested_changes, nesting_left
from atsbridge.store.tables import (
    JOINS,
    MODEL_TABLES,
    applications,
    record_columns,
)
from atsbridge.unified.ids import ModelName
from atsbridge.unified.models import at_api_precision

Record = Mapping[str, Any]


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


NOT_OWN_FIELDS = frozenset({"remote_updated_at", "remote_data"})


def content_hash(record: Record) -> str:
    """The digests that decide whether a stored record changed: own fields, then the whole record (see the module
    docstring)."""
    return _fingerprint(record)[0]


def _fingerprint(record: Record) -> tuple[str, bytes | None]:
    """The content hash and the JSON of ``remote_data`` it was computed from (``None`` without one), which the
    write stores as it is rather than serialising the payload a second time."""
    if not NOT_OWN_FIELDS & record.keys():
        own_digest = hashlib.blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()
        return own_digest + own_digest, None
    own = dict(record)
    for key in NOT_OWN_FIELDS:
        own.pop(key, None)
    own_hash = hashlib.blake2b(orjson.dumps(own, option=orjson.OPT_SORT_KEYS), digest_size=8)
    remote_data = record.get("remote_data")
    remote_json = None if remote_data is None else orjson.dumps(remote_data)
    whole_hash = own_hash.copy()
    whole_hash.update(orjson.dumps([record.get("remote_updated_at"), orjson.Fragment(remote_json or b"null")]))
    return own_hash.hexdigest() + whole_hash.hexdigest(), remote_json


@dataclass(frozen=True)
class Prepared:
    """A batch of one table's records made ready without the database (``prepare_records``, ``prepare_joins``):
    each row by id, with its content hash and its values serialised as the bulk INSERT takes them, bookkeeping
    columns left to the write. A sync prepares a batch on its own thread while the store writes the one before."""

    table: Table
    rows: dict[str, dict[str, Any]]
    parents: tuple[str, ...] = ()  # join rows: every parent whose join rows these are (some may have none)


def prepare_records(model: ModelName, records: Iterable[Record], dialect: Dialect) -> Prepared:
    """Mapped ``model`` records made ready for ``write_records``."""
    return _prepare(MODEL_TABLES[model], records, dialect)


def prepare_joins(join: ModelName, rows_by_parent: Mapping[str, Sequence[Record]], dialect: Dialect) -> Prepared:
    """Each parent's complete join rows (``[]``: none left), made ready for ``write_joins``."""
    spec = JOINS[join]
    for parent_id, rows in rows_by_parent.items():
        if any(row[spec.parent_column] != parent_id for row in rows):
            raise ValueError(f"{join}: a row listed under {parent_id} belongs to another parent")
    every_row = (row for rows in rows_by_parent.values() for row in rows)
    return replace(_prepare(spec.table, every_row, dialect), parents=tuple(rows_by_parent))


def upsert(
    conn: Connection,
    model: ModelName,
    integration_id: str,
    records: Iterable[Record],
    *,
    now: datetime,
    sync_id: str | None = None,
    nested_marks: bool = True,
) -> Counts:
    """Write a batch of mapped ``model`` records (``write_records`` of ``prepare_records``)."""
    prepared = prepare_records(model, records, conn.dialect)
    return write_records(conn, prepared, integration_id, now=now, sync_id=sync_id, nested_marks=nested_marks)


def replace_joins(
    conn: Connection,
    join: ModelName,
    integration_id: str,
    rows_by_parent: Mapping[str, Sequence[Record]],
    *,
    now: datetime,
    nested_marks: bool = True,
) -> Counts:
    """Make each parent's live join rows exactly ``rows_by_parent[parent id]`` (``write_joins`` of
    ``prepare_joins``)."""
    prepared = prepare_joins(join, rows_by_parent, conn.dialect)
    return write_joins(conn, prepared, integration_id, now=now, nested_marks=nested_marks)


def write_records(
    conn: Connection,
    prepared: Prepared,
    integration_id: str,
    *,
    now: datetime,
    sync_id: str | None = None,
    nested_marks: bool = True,
    fetched_at: datetime | None = None,
) -> Counts:
    """Write a prepared batch of records; ``sync_id`` (FULL runs only) stamps every record as seen.
    ``nested_marks=False`` (an integration's first sync only, see the module docstring) leaves the marks out.
    ``fetched_at``: when the batch was asked of RECRU (see "Never older over newer"; ``None``: always written)."""
    return _write_records(conn, prepared, integration_id, now, sync_id, nested_marks, fetched_at)[0]


def _write_records(
    conn: Connection,
    prepared: Prepared,
    integration_id: str,
    now: datetime,
    sync_id: str | None,
    nested_marks: bool,
    fetched_at: datetime | None,
) -> tuple[Counts, set[str]]:
    """``write_records``, and the ids left as stored: the store holds a newer read of them, or this run stored
    them as they are already (a listing read again; they are not counted twice, nor are their join rows)."""
    table = prepared.table
    if not prepared.rows:
        return Counts(), set()
    now = at_api_precision(now)
    plan = _plan(prepared, _stored_state(conn, table, "id", prepared.rows))
    left = nesting_left(conn, ModelName(table.name), plan.updated) if nested_marks else []
    _write(conn, table, integration_id, plan, now=now, sync_id=sync_id, fetched_at=fetched_at)
    kept: set[str] = set()
    rewritten = [row["id"] for row in (*plan.updated, *plan.refreshed)]
    # On PostgreSQL another writer (an action's write-through) may have committed a later read of a record planned
    # unchanged since the plan read it; its join rows must not be replaced by this batch's. Looked at again too,
    # under a row lock that holds such writers off until this transaction ends (SQLite's write lock already does).
    looked_at = [*rewritten, *plan.unchanged] if conn.dialect.name == "postgresql" else rewritten
    if fetched_at is not None and "read_at" in table.c and looked_at:
        # Rows planned as new are not looked at (a first sync writes only such): one another writer inserted in
        # between keeps its record (the upsert refused it) but gets this batch's join rows, until the next read.
        kept = _read_later(conn, table, looked_at, fetched_at)
        plan.keep_stored(kept)
    unchanged = len(plan.unchanged)
    if sync_id is not None:
        stamped: set[str] = set()
        for chunk in chunks(plan.unchanged):
            stamp = {"ids": key_list(conn, chunk), "sync_id": sync_id}
            stamped.update(conn.execute(_seen_stamp(table, conn.dialect.name), stamp).scalars())
        # a record this run had seen already (a listing read again) is not counted twice
        unchanged = len(stamped)
        kept |= set(plan.unchanged) - stamped
    if table is applications:
        remember_holders(conn, integration_id, [*plan.created, *plan.updated])
    if nested_marks:
        changed = [*plan.created, *plan.updated, *(row for row in left if row["id"] not in kept)]
        mark_nested_changes(conn, ModelName(table.name), changed, now, plan.refreshed)
        mark_linking_parents(conn, ModelName(table.name), plan.appeared(), now)
    updated = len(plan.updated) + len(plan.refreshed)
    return Counts(created=len(plan.created), updated=updated, unchanged=unchanged), kept


def write_batch(
    conn: Connection,
    records: Prepared,
    joins: Iterable[Prepared],
    integration_id: str,
    *,
    now: datetime,
    sync_id: str | None = None,
    nested_marks: bool = True,
    fetched_at: datetime | None = None,
) -> dict[ModelName, Counts]:
    """Write prepared records with their join rows (``write_records``, then ``write_joins`` of each join); the join
    rows of a record the store holds a newer read of are left as they are too. Returns the counts per model/join."""
    counts, newer_stored = _write_records(conn, records, integration_id, now, sync_id, nested_marks, fetched_at)
    written = {ModelName(records.table.name): counts}
    for prepared in joins:
        written[ModelName(prepared.table.name)] = write_joins(
            conn, prepared, integration_id, now=now, nested_marks=nested_marks, keep_parents=newer_stored
        )
    return written


def write_joins(
    conn: Connection,
    prepared: Prepared,
    integration_id: str,
    *,
    now: datetime,
    nested_marks: bool = True,
    keep_parents: Collection[str] = (),
) -> Counts:
    """Make the live join rows of each of ``prepared.parents`` exactly the prepared ones, except those of
    ``keep_parents`` (left as they are); ``nested_marks`` as for ``write_records``."""
    join = ModelName(prepared.table.name)
    spec = JOINS[join]
    table = spec.table
    now = at_api_precision(now)
    if keep_parents:
        kept = set(keep_parents)
        rows = {id_: row for id_, row in prepared.rows.items() if row[spec.parent_column] not in kept}
        prepared = replace(prepared, rows=rows, parents=tuple(p for p in prepared.parents if p not in kept))
    stored = _stored_state(conn, table, spec.parent_column, prepared.parents)
    plan = _plan(prepared, stored)
    _write(conn, table, integration_id, plan, now=now, sync_id=None)
    if nested_marks:
        mark_nested_changes(conn, join, [*plan.created, *plan.updated], now)
    vanished = [id_ for id_, state in stored.items() if id_ not in prepared.rows and not state.deleted]
    deleted = sum(tombstone_joins(conn, spec, table.c.id.in_(chunk), now) for chunk in chunks(vanished))
    return Counts(created=len(plan.created), updated=len(plan.updated), unchanged=len(plan.unchanged), deleted=deleted)


def live_applications_of(conn: Connection, integration_id: str, candidate_ids: Collection[str]) -> dict[int, str]:
    """The live stored applications of these candidates (our ids): RECRU id → our id."""
    table = MODEL_TABLES[ModelName.APPLICATIONS]
    found: dict[int, str] = {}
    for chunk in chunks(candidate_ids):
        query = select(table.c.remote_id, table.c.id).where(
            table.c.integration_id == integration_id,
            table.c.candidate_id.in_(chunk),
            table.c.remote_deleted_at.is_(None),
        )
        found.update((int(remote_id), id_) for remote_id, id_ in conn.execute(query).all())
    return found


def unstored_remote_ids(
    conn: Connection, integration_id: str, remote_ids: Mapping[ModelName, Collection[int]]
) -> dict[ModelName, set[int]]:
    """Of ``remote_ids`` per model, those the store holds no live record of (RECRU made them since they were
    listed); models with none are left out."""
    unstored: dict[ModelName, set[int]] = {}
    for model, wanted in remote_ids.items():
        table = MODEL_TABLES[model]
        stored: set[str] = set()
        for chunk in chunks(str(remote_id) for remote_id in wanted):
            query = select(table.c.remote_id).where(
                table.c.integration_id == integration_id,
                table.c.remote_id.in_(chunk),
                table.c.remote_deleted_at.is_(None),
            )
            stored.update(conn.execute(query).scalars())
        missing = {remote_id for remote_id in wanted if str(remote_id) not in stored}
        if missing:
            unstored[model] = missing
    return unstored


# --- internals ----------------------------------------------------------------------------------------------------


class _StoredState(NamedTuple):
    content_hash: str
    deleted: bool


@dataclass
class _Plan:
    """A prepared batch split by what the store already holds (rows as prepared; unchanged: ids only)."""

    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)
    refreshed: list[dict[str, Any]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    revived: list[str] = field(default_factory=list)  # ids among ``updated`` stored as deleted until now

    def keep_stored(self, ids: set[str]) -> None:
        """The rows ``ids`` were left as stored (a later read of them is stored): they count unchanged."""
        for rows in (self.created, self.updated, self.refreshed):
            self.unchanged.extend(row["id"] for row in rows if row["id"] in ids)
            rows[:] = [row for row in rows if row["id"] not in ids]
        self.revived[:] = [id_ for id_ in self.revived if id_ not in ids]

    def appeared(self) -> list[str]:
        """Ids of the records the store now serves and did not before: new, or back from deleted."""
        return [*(row["id"] for row in self.created), *self.revived]


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


def _stored_state(conn: Connection, table: Table, column: str, keys: Iterable[str]) -> dict[str, _StoredState]:
    """The stored hash and tombstone of the rows whose ``column`` is one of ``keys``, by id."""
    query = _stored_state_query(table, column, conn.dialect.name)
    return {
        id_: _StoredState(digest, bool(deleted))
        for chunk in chunks(keys)
        for id_, digest, deleted in conn.execute(query, {"keys": key_list(conn, chunk)}).all()
    }


def _read_later(conn: Connection, table: Table, ids: Sequence[str], fetched_at: datetime) -> set[str]:
    """Of ``ids``, the rows stored from a read later than ``fetched_at`` (in the write's transaction: after it)."""
    query = _read_later_query(table, conn.dialect.name)
    return {
        id_
        for chunk in chunks(ids)
        for id_, read_at in conn.execute(query, {"keys": key_list(conn, chunk)}).all()
        if read_at is not None and read_at > fetched_at
    }


@functools.cache
def _stored_state_query(table: Table, column: str, dialect: str) -> Select[str, str, bool]:
    return select(table.c.id, table.c.content_hash, table.c.remote_deleted_at.is_not(None)).where(
        in_keys(table.c[column], "keys", dialect)
    )


@functools.cache
def _read_later_query(table: Table, dialect: str) -> Select[str, datetime | None]:
    """Each row's ``read_at``, the rows locked (PostgreSQL: so it is their latest, and stays so)."""
    return select(table.c.id, table.c.read_at).where(in_keys(table.c.id, "keys", dialect)).with_for_update(of=table)


@functools.cache
def _seen_stamp(table: Table, dialect: str) -> ReturningUpdate[str]:
    """Stamp the rows as seen by the run; returns the ids it had not seen yet."""
    sync_id: BindParameter[str] = bindparam("sync_id")
    return (
        update(table)
        .where(in_keys(table.c.id, "ids", dialect), table.c.last_seen_sync_id.is_distinct_from(sync_id))
        .values(last_seen_sync_id=sync_id)
        .returning(table.c.id)
    )


def _prepare(table: Table, records: Iterable[Record], dialect: Dialect) -> Prepared:
    convert = _upsert_statement(table, dialect).convert
    rows = {}
    for id_, record in _by_id(table, records).items():
        digest, remote_json = _fingerprint(record)
        row = dict(record)
        row["content_hash"] = digest
        if remote_json is not None:
            row["remote_data"] = orjson.Fragment(remote_json)
        rows[id_] = convert(row)
    return Prepared(table, rows)


def _plan(prepared: Prepared, stored: Mapping[str, _StoredState]) -> _Plan:
    plan = _Plan()
    for id_, row in prepared.rows.items():
        digest = row["content_hash"]
        state = stored.get(id_)
        if state is None:
            plan.created.append(row)
        elif state.deleted or state.content_hash[:16] != digest[:16]:
            plan.updated.append(row)
            if state.deleted:
                plan.revived.append(id_)
        elif state.content_hash != digest:
            plan.refreshed.append(row)
        else:
            plan.unchanged.append(id_)
    return plan


def _write(
    conn: Connection,
    table: Table,
    integration_id: str,
    plan: _Plan,
    *,
    now: datetime,
    sync_id: str | None,
    fetched_at: datetime | None = None,
) -> None:
    """Bulk upserts of the created and updated records of ``plan`` (timestamps moved), then of its refreshed records
    (``changed_at`` kept); a record stored from a later read than ``fetched_at`` is left as it is."""
    shared: dict[str, Any] = {
        "integration_id": integration_id,
        "changed_at": now,
        "updated_at": now,
        "remote_deleted_at": None,
        "created_in_store_at": now,
    }
    if "last_seen_sync_id" in table.c:
        shared |= {"anonymised_at": None, "last_seen_sync_id": sync_id, "read_at": fetched_at}
    for rows, keep_changed_at in (([*plan.created, *plan.updated], False), (plan.refreshed, True)):
        if rows:
            _upsert_statement(table, conn.dialect, keep_changed_at).execute(conn, rows, shared)


@functools.lru_cache(maxsize=64)
def _upsert_statement(table: Table, dialect: Dialect, keep_changed_at: bool = False) -> BulkStatement:
    """``INSERT … ON CONFLICT (id) DO UPDATE`` of every column but the ones a first insert settles (and, with
    ``keep_changed_at``, ``changed_at``)."""
    insert = postgresql.insert(table) if dialect.name == "postgresql" else sqlite.insert(table)
    kept_on_conflict = {"id", "integration_id", "created_in_store_at"}
    if keep_changed_at:
        kept_on_conflict.add("changed_at")
    assignments: dict[str, Any] = {
        column.name: insert.excluded[column.name] for column in table.columns if column.name not in kept_on_conflict
    }
    if "last_seen_sync_id" in assignments:
        assignments["last_seen_sync_id"] = func.coalesce(insert.excluded.last_seen_sync_id, table.c.last_seen_sync_id)
    unless_read_later = None
    if "read_at" in table.c:  # see "Never older over newer"
        incoming, stored = insert.excluded.read_at, table.c.read_at
        unless_read_later = or_(incoming.is_(None), stored.is_(None), stored <= incoming)
    upsert = insert.on_conflict_do_update(index_elements=[table.c.id], set_=assignments, where=unless_read_later)
    return compile_insert(upsert, table, dialect)
