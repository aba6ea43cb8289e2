"""Batched writes into the unified store: upserts by content hash, join replacement, tombstones, anonymisation.

One generic path serves every model and join, driven by the table metadata in ``tables``:

- **Content hash.** ``content_hash`` holds two 64-bit BLAKE2b digests of the record as mapped: first of the
  canonical JSON (sorted keys, no spaces, non-ASCII as is, ISO timestamps, written by orjson) of its *own fields*
  (everything but ``remote_updated_at`` and ``remote_data``), then of that JSON followed by the compact JSON array
  ``[remote_updated_at, remote_data]`` (the payload's keys in RECRU's order: the same JSON is what the store keeps,
  so the payload is serialised once). Bookkeeping columns are
  outside both. Same whole digest: nothing is rewritten, so ``changed_at`` never moves for identical data (a FULL
  run then only stamps ``last_seen_sync_id``, one bulk ``UPDATE`` per batch). Different own fields: the row is
  rewritten and ``changed_at`` and ``updated_at`` move. Same own fields but a different whole record (a refresh):
  RECRU moved its ``updatedAt``, because of nested data (a jobseeker's tags, a project's pipeline or hiring team)
  or of a field the unified model does not have (a date of birth, say), which must not move ``changed_at``
  (unified-api §3): the row is rewritten with ``changed_at`` kept and ``updated_at`` moved, so ``updated_after``
  still finds the record whose ``remote_updated_at`` and ``remote_data`` the API now serves differently.
- **Cost.** A batch costs one ``SELECT`` of the stored hashes per thousand records, one bulk
  ``INSERT … ON CONFLICT (id) DO UPDATE`` for the created and changed rows (``store.bulk``: values serialised once,
  by us; on SQLite hundreds of rows per statement), at most one ``UPDATE`` of the seen stamps and one ``UPDATE`` per
  nested-change mark — never a statement per row. The statements run for every batch are built once. Keep batches
  to about a thousand records.
- **Nested changes.** ``updated_at`` is ``changed_at`` or the latest nested change, whichever is later. The writer
  moves it itself (``NESTED_MARKS``), so the sync engine and the API actions cannot forget it: a join row that
  appears, changes or disappears moves its parent (jobs ← stages and hiring team, candidates ← tags); an application
  created, changed, refreshed or deleted moves its candidate (which nests its ``remote_updated_at``); a candidate
  whose own fields change moves its applications; a stage whose own fields change moves the applications currently
  in it (what the application nests of them), a stage added to, moved in or removed from a job's pipeline moves
  the job's applications in that stage (the ``index`` they nest); a tag, stage or user that appears (new, or back
  from deleted) moves the records already linking to it (stored before it: they now nest it). ``updated_at`` only
  ever moves forward, and only on live records: a tombstoned one's stays where its deletion put it (what it nests
  may still change: its job deleted later, say) until it is revived. The one exception is ``nested_marks=False``,
  for an integration's first sync: nothing of it is readable yet, so the marks would have no reader and only cost
  (every application rewritten when its candidate arrives).
- **Never older over newer.** Each record stores when it was asked of RECRU (``read_at``, the batch's
  ``fetched_at``). A batch does not overwrite a record stored from a later read: an action's write-through that
  re-read the record while a sync's page was on its way, say, or the other way round. The upsert itself decides
  (``ON CONFLICT … DO UPDATE … WHERE`` the stored read is not later), so a concurrent writer's commit between the
  batch's plan and its write cannot slip through; such records, and their join rows in ``write_batch``, are left
  as they are (counted unchanged). RECRU's own ``updatedAt`` cannot decide it: it counts whole seconds, and its clock
  may go back. A write without ``fetched_at`` (``NULL``) always applies.
- **Join rows are tombstoned, not deleted** (the unified API stores them as rows with their own ``id``,
  ``changed_at`` and ``remote_deleted_at``): a vanished link gets ``remote_deleted_at``, and the same link coming
  back revives the same row (its id is derived from the two remote ids). The reader serves only live join rows.
- **Deletions.** ``deletion_candidates`` lists records a complete FULL listing did not stamp; after the sync engine
  has confirmed them gone, ``mark_deleted`` tombstones them and their join rows. Tombstoning and reviving move
  ``changed_at`` (the record's visible ``remote_deleted_at`` changed). A tombstoned record that is upserted again is
  revived and counted as updated.
- **Anonymisation.** ``anonymise_expired`` clears the personal columns (``tables.ANONYMISE_TO``) of records deleted
  more than 14 days ago, stamps ``anonymised_at`` and moves ``changed_at``; a revival restores the fields.

Every function takes a ``Connection`` inside the caller's transaction and an aware UTC ``now``, which it stores to
the millisecond (``at_api_precision``): the API serves timestamps to the millisecond, so a stored value is exactly
the served one and ``updated_after=<a served value>`` means strictly after it (a batch written in one instant is
not served again). Lookups by our ids
(primary keys, link columns) carry no ``integration_id`` condition: the ids are derived from the integration id, and
with the stale planner statistics of a first sync PostgreSQL would otherwise scan the integration's whole index.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import orjson
from sqlalchemy import (
    Connection,
    Dialect,
    Select,
    String,
    Table,
    Update,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from atsbridge.store.bulk import BulkStatement, compile_insert
from atsbridge.store.integrations import INTEGRATION_ID, tracked_conditions
from atsbridge.store.tables import (
    ANONYMISE_TO,
    JOINS,
    MODEL_TABLES,
    JoinSpec,
    integrations,
    record_columns,
    table_of,
)
from atsbridge.unified.ids import ModelName
from atsbridge.unified.models import at_api_precision

Record = Mapping[str, Any]

ANONYMISE_AFTER = timedelta(days=14)
MAX_IN_VALUES = 1000
# Records that go when the record they belong to goes (RECRU deletes a jobseeker's or a project's applications with
# it): a FULL run may list an application and then find its candidate gone, and must not leave it live, orphaned.
OWNED_BY: dict[ModelName, tuple[tuple[ModelName, str], ...]] = {
    ModelName.CANDIDATES: ((ModelName.APPLICATIONS, "candidate_id"),),
    ModelName.JOBS: ((ModelName.APPLICATIONS, "job_id"),),
}


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
    source row's ``source_column``. A refresh of the source (only its ``remote_updated_at`` or ``remote_data``
    moved) moves them too only where the target nests the source's ``remote_updated_at`` (``refreshes``): a
    candidate nests its applications with theirs; an application nests its candidate and stage without."""

    source: ModelName
    source_column: str
    target: ModelName
    target_column: str
    refreshes: bool = False


NESTED_MARKS: tuple[NestedMark, ...] = (
    NestedMark(ModelName.APPLICATIONS, "candidate_id", ModelName.CANDIDATES, "id", refreshes=True),
    NestedMark(ModelName.CANDIDATES, "id", ModelName.APPLICATIONS, "candidate_id"),
    NestedMark(ModelName.APPLICATION_STAGES, "id", ModelName.APPLICATIONS, "current_stage_id"),
    *(NestedMark(join, spec.parent_column, spec.parent, "id") for join, spec in JOINS.items()),
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
    left = _nesting_left(conn, ModelName(table.name), plan.updated) if nested_marks else []
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
        for chunk in _chunks(plan.unchanged):
            stamp = {"ids": _key_list(conn, chunk), "sync_id": sync_id}
            stamped.update(conn.execute(_seen_stamp(table, conn.dialect.name), stamp).scalars())
        # a record this run had seen already (a listing read again) is not counted twice
        unchanged = len(stamped)
        kept |= set(plan.unchanged) - stamped
    if nested_marks:
        changed = [*plan.created, *plan.updated, *(row for row in left if row["id"] not in kept)]
        _mark_nested_changes(conn, ModelName(table.name), changed, now, plan.refreshed)
        _mark_linking_parents(conn, ModelName(table.name), plan.appeared(), now)
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
        _mark_nested_changes(conn, join, [*plan.created, *plan.updated], now)
    vanished = [id_ for id_, state in stored.items() if id_ not in prepared.rows and not state.deleted]
    deleted = sum(_tombstone_joins(conn, spec, table.c.id.in_(chunk), now) for chunk in _chunks(vanished))
    return Counts(created=len(plan.created), updated=len(plan.updated), unchanged=len(plan.unchanged), deleted=deleted)


def models_changed_since(conn: Connection, integration_id: str, since: datetime) -> list[ModelName]:
    """The models and joins of the integration with a row whose ``updated_at`` moved at or after ``since``: what a
    ``data-changed`` event names (a record ``updated_after`` now returns, nested changes and cascades included). A
    join's rows are looked at only when its parent model changed: a join row that changes moves its parent. Where
    the integration serves only the tracked applications and their candidates, only those are looked at (the
    store may hold others, from a time it served everything)."""
    since = at_api_precision(since)
    tracked_only = _serves_only_tracked(conn, integration_id)
    changed: list[ModelName] = []
    for model in ModelName:
        if model in JOINS and JOINS[model].parent not in changed:
            continue
        table = table_of(model)
        served = _served(model, table) if tracked_only else []
        moved = select(table.c.id).where(table.c.integration_id == integration_id, table.c.updated_at >= since, *served)
        if conn.execute(moved.limit(1), {INTEGRATION_ID: integration_id}).first() is not None:
            changed.append(model)
    return changed


def _served(model: ModelName, table: Table) -> list[ColumnElement[bool]]:
    """What limits ``model``'s rows to those served with only the tracked applications and their candidates: a
    join's rows, to those of served parents."""
    if model not in JOINS:
        return tracked_conditions(model)
    spec = JOINS[model]
    parents = tracked_conditions(spec.parent)
    if not parents:
        return []
    parent = table_of(spec.parent)
    return [table.c[spec.parent_column].in_(select(parent.c.id).where(*parents))]


def _served_rows(
    conn: Connection, model: ModelName, integration_id: str, rows: Sequence[Mapping[Any, Any]]
) -> Sequence[Mapping[Any, Any]]:
    """The ``rows`` of ``model`` the integration serves: all of them, unless it serves only the tracked applications
    and their candidates; then an application kept from a time it served everything is nested by no record (its
    tombstone moves none)."""
    if model is not ModelName.APPLICATIONS or not rows or not _serves_only_tracked(conn, integration_id):
        return rows
    table = MODEL_TABLES[model]
    served: set[str] = set()
    for chunk in _chunks([row["id"] for row in rows]):
        query = select(table.c.id).where(table.c.id.in_(chunk), *tracked_conditions(model))
        served.update(conn.execute(query, {INTEGRATION_ID: integration_id}).scalars())
    return [row for row in rows if row["id"] in served]


def _serves_only_tracked(conn: Connection, integration_id: str) -> bool:
    """Whether the integration syncs and serves only the applications created through the API."""
    query = select(integrations.c.sync_only_created_applications).where(integrations.c.id == integration_id)
    return bool(conn.execute(query).scalar())


def has_live_records(conn: Connection, model: ModelName, integration_id: str) -> bool:
    """Whether the store holds any live ``model`` record of the integration."""
    table = MODEL_TABLES[model]
    query = select(table.c.id).where(table.c.integration_id == integration_id, table.c.remote_deleted_at.is_(None))
    return conn.execute(query.limit(1)).first() is not None


def unstored_remote_ids(
    conn: Connection, integration_id: str, remote_ids: Mapping[ModelName, Collection[int]]
) -> dict[ModelName, set[int]]:
    """Of ``remote_ids`` per model, those the store holds no live record of (RECRU made them since they were
    listed); models with none are left out."""
    unstored: dict[ModelName, set[int]] = {}
    for model, wanted in remote_ids.items():
        table = MODEL_TABLES[model]
        stored: set[str] = set()
        for chunk in _chunks(str(remote_id) for remote_id in wanted):
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


def mark_deleted(
    conn: Connection, model: ModelName, integration_id: str, ids: Iterable[str], *, now: datetime
) -> dict[ModelName, int]:
    """Tombstone the live records ``ids`` of ``model``, every join row linking them and the live records that
    cannot outlive them (``OWNED_BY``: a candidate's or a job's applications); returns how many rows of each model
    and join were tombstoned."""
    table = MODEL_TABLES[model]
    now = at_api_precision(now)
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
    _mark_nested_changes(conn, model, _served_rows(conn, model, integration_id, deleted), now)
    deleted_ids = [row["id"] for row in deleted]
    tombstoned = {model: len(deleted)}
    for join, spec in JOINS.items():
        for linked_model, column in ((spec.parent, spec.parent_column), (spec.child, spec.child_column)):
            if linked_model == model:
                tombstoned.setdefault(join, 0)
                for chunk in _chunks(deleted_ids):
                    tombstoned[join] += _tombstone_joins(conn, spec, spec.table.c[column].in_(chunk), now)
    for owned, column in OWNED_BY.get(model, ()):
        owned_table = MODEL_TABLES[owned]
        owned_ids = [
            owned_id
            for chunk in _chunks(deleted_ids)
            for owned_id in conn.execute(
                select(owned_table.c.id).where(
                    owned_table.c.integration_id == integration_id,
                    owned_table.c[column].in_(chunk),
                    owned_table.c.remote_deleted_at.is_(None),
                )
            ).scalars()
        ]
        for cascaded, count in mark_deleted(conn, owned, integration_id, owned_ids, now=now).items():
            tombstoned[cascaded] = tombstoned.get(cascaded, 0) + count
    return tombstoned


def anonymise_expired(conn: Connection, *, now: datetime, after: timedelta = ANONYMISE_AFTER) -> int:
    """Clear the personal fields of every record deleted more than ``after`` ago; returns how many records."""
    anonymised = 0
    now = at_api_precision(now)
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


def _stored_state(conn: Connection, table: Table, column: str, keys: Iterable[str]) -> dict[str, _StoredState]:
    """The stored hash and tombstone of the rows whose ``column`` is one of ``keys``, by id."""
    query = _stored_state_query(table, column, conn.dialect.name)
    return {
        id_: _StoredState(digest, bool(deleted))
        for chunk in _chunks(keys)
        for id_, digest, deleted in conn.execute(query, {"keys": _key_list(conn, chunk)}).all()
    }


def _nesting_left(conn: Connection, model: ModelName, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Of ``rows`` (stored records about to be rewritten), the stored values of the columns naming the records that
    nest them (``NESTED_MARKS``: an application's candidate), where the new values name others: the record leaves
    the one nesting it so far (an application given to another candidate), which changes too."""
    columns = sorted({mark.source_column for mark in NESTED_MARKS if mark.source == model} - {"id"})
    if not columns or not rows:
        return []
    table = table_of(model)
    new = {row["id"]: row for row in rows}
    query = _nesting_query(table, tuple(columns), conn.dialect.name)
    left: list[dict[str, Any]] = []
    for chunk in _chunks(list(new)):
        for stored in conn.execute(query, {"keys": _key_list(conn, chunk)}).mappings():
            if any(stored[column] != new[stored["id"]][column] for column in columns):
                left.append(dict(stored))
    return left


def _read_later(conn: Connection, table: Table, ids: Sequence[str], fetched_at: datetime) -> set[str]:
    """Of ``ids``, the rows stored from a read later than ``fetched_at`` (in the write's transaction: after it)."""
    query = _read_later_query(table, conn.dialect.name)
    return {
        id_
        for chunk in _chunks(ids)
        for id_, read_at in conn.execute(query, {"keys": _key_list(conn, chunk)}).all()
        if read_at is not None and read_at > fetched_at
    }


# Statements run for every batch are built once, with the batch's keys as a single parameter (``_in_keys``), so
# SQLAlchemy neither builds nor renders them again on each execution, and the database keeps them prepared.


def _in_keys(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the keys bound to ``name`` as one value (``_key_list``): a JSON array read by
    ``json_each`` on SQLite, an array on PostgreSQL."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(String)))
    return column.in_(select(literal_column("value")).select_from(func.json_each(bindparam(name))))


def _key_list(conn: Connection, keys: Sequence[str]) -> Any:
    """``keys`` as the single parameter ``_in_keys`` binds."""
    return list(keys) if conn.dialect.name == "postgresql" else orjson.dumps(keys).decode()


@functools.cache
def _stored_state_query(table: Table, column: str, dialect: str) -> Select[str, str, bool]:
    return select(table.c.id, table.c.content_hash, table.c.remote_deleted_at.is_not(None)).where(
        _in_keys(table.c[column], "keys", dialect)
    )


@functools.cache
def _nesting_query(table: Table, columns: tuple[str, ...], dialect: str) -> Select[Any]:
    return select(table.c.id, *(table.c[column] for column in columns)).where(_in_keys(table.c.id, "keys", dialect))


@functools.cache
def _read_later_query(table: Table, dialect: str) -> Select[str, datetime | None]:
    """Each row's ``read_at``, the rows locked (PostgreSQL: so it is their latest, and stays so)."""
    return select(table.c.id, table.c.read_at).where(_in_keys(table.c.id, "keys", dialect)).with_for_update(of=table)


@functools.cache
def _seen_stamp(table: Table, dialect: str) -> ReturningUpdate[str]:
    """Stamp the rows as seen by the run; returns the ids it had not seen yet."""
    sync_id: BindParameter[str] = bindparam("sync_id")
    return (
        update(table)
        .where(_in_keys(table.c.id, "ids", dialect), table.c.last_seen_sync_id.is_distinct_from(sync_id))
        .values(last_seen_sync_id=sync_id)
        .returning(table.c.id)
    )


def _mark_linking_parents(conn: Connection, model: ModelName, appeared: Sequence[str], now: datetime) -> None:
    """Records of ``model`` that ``appeared`` (see ``_Plan.appeared``) change what records already linking to them
    nest (a tag RECRU created and gave a jobseeker while a sync listed the jobseekers after the tags is stored, and
    so served on the candidate, only by the next run; a stage or user on a job's pipeline or hiring team alike):
    move ``updated_at`` of the parents with a live link to them."""
    for spec in JOINS.values():
        if spec.child != model:
            continue
        for chunk in _chunks(appeared):
            conn.execute(_linking_parents_mark(spec, conn.dialect.name), {"keys": _key_list(conn, chunk), "now": now})


@functools.cache
def _linking_parents_mark(spec: JoinSpec, dialect: str) -> Update:
    parent, join = table_of(spec.parent), spec.table
    linking = select(join.c[spec.parent_column]).where(
        _in_keys(join.c[spec.child_column], "keys", dialect), join.c.remote_deleted_at.is_(None)
    )
    return (
        update(parent)
        .where(parent.c.id.in_(linking), parent.c.updated_at < bindparam("now"), parent.c.remote_deleted_at.is_(None))
        .values(updated_at=bindparam("now"))
    )


@functools.cache
def _nested_mark(mark: NestedMark, dialect: str) -> Update:
    target = table_of(mark.target)
    return (
        update(target)
        .where(
            _in_keys(target.c[mark.target_column], "keys", dialect),
            target.c.updated_at < bindparam("now"),
            target.c.remote_deleted_at.is_(None),
        )
        .values(updated_at=bindparam("now"))
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


def _tombstone_joins(conn: Connection, spec: JoinSpec, condition: ColumnElement[bool], now: datetime) -> int:
    """Tombstone the live join rows matching ``condition`` and mark their parents; returns how many."""
    table = spec.table
    statement = (
        update(table)
        .where(condition, table.c.remote_deleted_at.is_(None))
        .values(remote_deleted_at=now, changed_at=now, updated_at=now)
        .returning(table.c[spec.parent_column], table.c[spec.child_column])
    )
    rows = conn.execute(statement).mappings().all()
    _mark_nested_changes(conn, spec.name, rows, now)
    return len(rows)


def _mark_moved_stages(conn: Connection, join: ModelName, rows: Sequence[Mapping[Any, Any]], now: datetime) -> None:
    """Pipeline rows created, changed (moved) or removed change the stage ``index`` that the job's applications in
    that stage nest: move their ``updated_at`` (only theirs: a stage appended moves no application in another)."""
    if join is not ModelName.JOBS_APPLICATION_STAGES or not rows:
        return
    apps = table_of(ModelName.APPLICATIONS)
    pairs = sorted({(row["job_id"], row["stage_id"]) for row in rows})
    for start in range(0, len(pairs), MAX_IN_VALUES):
        in_stage = tuple_(apps.c.job_id, apps.c.current_stage_id).in_(pairs[start : start + MAX_IN_VALUES])
        live = apps.c.remote_deleted_at.is_(None)
        conn.execute(update(apps).where(in_stage, apps.c.updated_at < now, live).values(updated_at=now))


def _mark_nested_changes(
    conn: Connection,
    source: ModelName,
    changed: Sequence[Mapping[Any, Any]],
    now: datetime,
    refreshed: Sequence[Mapping[Any, Any]] = (),
) -> None:
    """Move ``updated_at`` of the records that nest the ``changed`` rows of ``source``, and where they nest its
    ``remote_updated_at`` of the ``refreshed`` ones too (see ``NESTED_MARKS``; pipeline rows also by job and stage:
    ``_mark_moved_stages``)."""
    for mark in NESTED_MARKS:
        if mark.source != source:
            continue
        rows = [*changed, *refreshed] if mark.refreshes else changed
        values = {row[mark.source_column] for row in rows} - {None}
        for chunk in _chunks(sorted(values)):
            conn.execute(_nested_mark(mark, conn.dialect.name), {"keys": _key_list(conn, chunk), "now": now})
    _mark_moved_stages(conn, source, changed, now)
