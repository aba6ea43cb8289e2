"""Nested changes: ``updated_at`` is ``changed_at`` or the latest change of what a record nests, whichever is later.

The store's writes move it themselves (``writer``, ``deletions``), so the sync engine and the API actions cannot
forget it: a join row that appears, changes or disappears moves its parent (jobs ← stages and hiring team,
candidates ← tags); an application created, changed, refreshed or deleted moves its candidate (which nests its
``remote_updated_at``); a candidate whose own fields change moves its applications; a stage whose own fields change
moves the applications currently in it (what the application nests of them), a stage added to, moved in or removed
from a job's pipeline moves the job's applications in that stage (the ``index`` they nest); a tag, stage or user
that appears (new, or back from deleted) moves the records already linking to it (stored before it: they now nest
it). ``updated_at`` only ever moves forward, and only on live records: a tombstoned one's stays where its deletion
put it (what it nests may still change: its job deleted later, say) until it is revived. The one exception is a
write with ``nested_marks=False``, for an integration's first sync: nothing of it is readable yet, so the marks
would have no reader and only cost (every application rewritten when its candidate arrives).

``models_changed_since`` reads the marks back: the models a ``data-changed`` event names.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, Table, Update, bindparam, select, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from atsbridge.store.integrations import INTEGRATION_ID, tracked_conditions
from atsbridge.store.key_lists import MAX_IN_VALUES, chunks, in_keys, key_list
from atsbridge.store.tables import JOINS, MODEL_TABLES, JoinSpec, integrations, table_of
from atsbridge.unified.ids import ModelName
from atsbridge.unified.models import at_api_precision


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


def served_rows(
    conn: Connection, model: ModelName, integration_id: str, rows: Sequence[Mapping[Any, Any]]
) -> Sequence[Mapping[Any, Any]]:
    """The ``rows`` of ``model`` the integration serves: all of them, unless it serves only the tracked applications
    and their candidates; then an application kept from a time it served everything is nested by no record (its
    tombstone moves none)."""
    if model is not ModelName.APPLICATIONS or not rows or not _serves_only_tracked(conn, integration_id):
        return rows
    table = MODEL_TABLES[model]
    served: set[str] = set()
    for chunk in chunks([row["id"] for row in rows]):
        query = select(table.c.id).where(table.c.id.in_(chunk), *tracked_conditions(model))
        served.update(conn.execute(query, {INTEGRATION_ID: integration_id}).scalars())
    return [row for row in rows if row["id"] in served]


def _serves_only_tracked(conn: Connection, integration_id: str) -> bool:
    """Whether the integration syncs and serves only the applications created through the API."""
    query = select(integrations.c.sync_only_created_applications).where(integrations.c.id == integration_id)
    return bool(conn.execute(query).scalar())


def nesting_left(conn: Connection, model: ModelName, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
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
    for chunk in chunks(list(new)):
        for stored in conn.execute(query, {"keys": key_list(conn, chunk)}).mappings():
            if any(stored[column] != new[stored["id"]][column] for column in columns):
                left.append(dict(stored))
    return left


@functools.cache
def _nesting_query(table: Table, columns: tuple[str, ...], dialect: str) -> Select[Any]:
    return select(table.c.id, *(table.c[column] for column in columns)).where(in_keys(table.c.id, "keys", dialect))


def mark_nested_changes(
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
        for chunk in chunks(sorted(values)):
            conn.execute(_nested_mark(mark, conn.dialect.name), {"keys": key_list(conn, chunk), "now": now})
    _mark_moved_stages(conn, source, changed, now)


@functools.cache
def _nested_mark(mark: NestedMark, dialect: str) -> Update:
    target = table_of(mark.target)
    return (
        update(target)
        .where(
            in_keys(target.c[mark.target_column], "keys", dialect),
            target.c.updated_at < bindparam("now"),
            target.c.remote_deleted_at.is_(None),
        )
        .values(updated_at=bindparam("now"))
    )


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


def mark_linking_parents(conn: Connection, model: ModelName, appeared: Sequence[str], now: datetime) -> None:
    """Records of ``model`` that ``appeared`` (new, or back from deleted) change what records already linking to them
    nest (a tag RECRU created and gave a jobseeker while a sync listed the jobseekers after the tags is stored, and
    so served on the candidate, only by the next run; a stage or user on a job's pipeline or hiring team alike):
    move ``updated_at`` of the parents with a live link to them."""
    for spec in JOINS.values():
        if spec.child != model:
            continue
        for chunk in chunks(appeared):
            conn.execute(_linking_parents_mark(spec, conn.dialect.name), {"keys": key_list(conn, chunk), "now": now})


@functools.cache
def _linking_parents_mark(spec: JoinSpec, dialect: str) -> Update:
    parent, join = table_of(spec.parent), spec.table
    linking = select(join.c[spec.parent_column]).where(
        in_keys(join.c[spec.child_column], "keys", dialect), join.c.remote_deleted_at.is_(None)
    )
    return (
        update(parent)
        .where(parent.c.id.in_(linking), parent.c.updated_at < bindparam("now"), parent.c.remote_deleted_at.is_(None))
        .values(updated_at=bindparam("now"))
    )
