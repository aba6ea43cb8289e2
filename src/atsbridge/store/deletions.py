"""Deletions in the store: tombstones, revival's counterpart, and anonymisation.

- **Deletions.** ``deletion_candidates`` lists records a complete FULL listing did not stamp; after the sync engine
  has confirmed them gone, ``mark_deleted`` tombstones them, their join rows and what cannot outlive them
  (``OWNED_BY``). Tombstoning moves ``changed_at`` (the record's visible ``remote_deleted_at`` changed); a
  tombstoned record the writer upserts again is revived and counted as updated.
- **Join rows are tombstoned, not deleted** (``tombstone_joins``; the unified API stores them as rows with their own
  ``id``, ``changed_at`` and ``remote_deleted_at``): the same link coming back revives the same row (its id is
  derived from the two remote ids). The reader serves only live join rows.
- **Anonymisation.** ``anonymise_expired`` clears the personal columns (``tables.ANONYMISE_TO``) of records deleted
  more than 14 days ago, stamps ``anonymised_at`` and moves ``changed_at``; a revival restores the fields.

Like the writer's, every function takes a ``Connection`` inside the caller's transaction and an aware UTC ``now``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from atsbridge.store.key_lists import chunks
from atsbridge.store.nested_marks import NESTED_MARKS, mark_nested_changes, served_rows
from atsbridge.store.tables import ANONYMISE_TO, JOINS, MODEL_TABLES, JoinSpec
from atsbridge.unified.ids import ModelName
from atsbridge.unified.models import at_api_precision

ANONYMISE_AFTER = timedelta(days=14)


# Records that go when the record they belong to goes (RECRU deletes a jobseeker's or a project's applications with
# it): a FULL run may list an application and then find its candidate gone, and must not leave it live, orphaned.
OWNED_BY: dict[ModelName, tuple[tuple[ModelName, str], ...]] = {
    ModelName.CANDIDATES: ((ModelName.APPLICATIONS, "candidate_id"),),
    ModelName.JOBS: ((ModelName.APPLICATIONS, "job_id"),),
}


def has_live_records(conn: Connection, model: ModelName, integration_id: str) -> bool:
    """Whether the store holds any live ``model`` record of the integration."""
    table = MODEL_TABLES[model]
    query = select(table.c.id).where(table.c.integration_id == integration_id, table.c.remote_deleted_at.is_(None))
    return conn.execute(query.limit(1)).first() is not None


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
    for chunk in chunks(ids):
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
    mark_nested_changes(conn, model, served_rows(conn, model, integration_id, deleted), now)
    deleted_ids = [row["id"] for row in deleted]
    tombstoned = {model: len(deleted)}
    for join, spec in JOINS.items():
        for linked_model, column in ((spec.parent, spec.parent_column), (spec.child, spec.child_column)):
            if linked_model == model:
                tombstoned.setdefault(join, 0)
                for chunk in chunks(deleted_ids):
                    tombstoned[join] += tombstone_joins(conn, spec, spec.table.c[column].in_(chunk), now)
    for owned, column in OWNED_BY.get(model, ()):
        owned_table = MODEL_TABLES[owned]
        owned_ids = [
            owned_id
            for chunk in chunks(deleted_ids)
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


def anonymise_expired(
    conn: Connection, *, now: datetime, after: timedelta = ANONYMISE_AFTER
) -> dict[str, Counter[ModelName]]:
    """Clear the personal fields of every record deleted more than ``after`` ago; returns how many records of each
    model, per integration (their ``changed_at`` and ``updated_at`` moved: news for ``data-changed``)."""
    anonymised: dict[str, Counter[ModelName]] = defaultdict(Counter)
    now = at_api_precision(now)
    for model, table in MODEL_TABLES.items():
        cleared = {column.name: column.info[ANONYMISE_TO] for column in table.columns if ANONYMISE_TO in column.info}
        statement = (
            update(table)
            .where(table.c.remote_deleted_at <= now - after, table.c.anonymised_at.is_(None))
            .values({**cleared, "anonymised_at": now, "changed_at": now, "updated_at": now})
            .returning(table.c.integration_id)
        )
        for integration_id in conn.execute(statement).scalars():
            anonymised[integration_id][model] += 1
    return dict(anonymised)


def tombstone_joins(conn: Connection, spec: JoinSpec, condition: ColumnElement[bool], now: datetime) -> int:
    """Tombstone the live join rows matching ``condition`` and mark their parents; returns how many."""
    table = spec.table
    statement = (
        update(table)
        .where(condition, table.c.remote_deleted_at.is_(None))
        .values(remote_deleted_at=now, changed_at=now, updated_at=now)
        .returning(table.c[spec.parent_column], table.c[spec.child_column])
    )
    rows = conn.execute(statement).mappings().all()
    mark_nested_changes(conn, spec.name, rows, now)
    return len(rows)
