"""List queries of the unified API: filters, keyset cursors, nested objects, and the unified shapes.

- **Keyset pagination** over ``id``: a page is ``id > last id ORDER BY id LIMIT n``, so a record that exists for
  the whole listing is neither skipped nor repeated however the data changes between pages. The cursor carries the
  last id and a digest of the integration, the model and the filters; a cursor of another query is refused.
- **Nested objects** are loaded for the whole page at once (one query per kind of nested object), never per row.
- **"Sync only created applications"**: when the integration has it on, applications are limited to the tracked
  ones and candidates to theirs.
- Rows become plain dicts in the exact shape of ``unified.models`` (datetimes as ISO 8601 strings with ``Z``), so
  the routes can send them without another validation pass.

Speed (a page of 250 candidates with their applications and tags is the benchmark, ``bench/api_read.py``):

- every query selects only the columns its shape needs (``remote_data`` only where the integration enables it);
- timestamps are formatted as API text by the database (``api_timestamp``) and JSON columns are parsed by orjson
  (``JsonText``), not through ``datetime`` and ``json`` objects in SQLAlchemy's result processing;
- nested lookups go by our ids alone, without ``integration_id`` in SQL: our ids are derived from the integration
  id, and without planner statistics SQLite would otherwise pick the ``(integration_id, …)`` index and scan the
  integration's whole table. The rows' ``integration_id`` is still checked in Python.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    cast,
    false,
    func,
    select,
    text,
    true,
    type_coerce,
)
from sqlalchemy.types import TypeDecorator

from atsbridge.store import tables
from atsbridge.store.integrations import Integration
from atsbridge.unified.ids import ModelName

Json = dict[str, Any]


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
    """ISO 8601 in UTC with ``Z``, to the millisecond (truncated, so `updated_after=<a value we sent>` never
    loses a record: it may only return it again)."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def api_timestamp(column: Column[Any], dialect: str) -> ColumnElement[str]:
    """SQL that reads a ``UtcDateTime`` column as the API writes it (``ts``: ISO 8601 UTC, milliseconds truncated,
    ``Z``), so that no ``datetime`` is made and formatted per value in Python."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"', type_=String)
    # SQLite holds SQLAlchemy's naive UTC text, "YYYY-MM-DD HH:MM:SS.ffffff"
    stored = type_coerce(column, String)
    return (
        func.substr(stored, 1, 10, type_=String)
        + "T"
        + func.substr(stored, 12, 8, type_=String)
        + "."
        + func.substr(stored + ".000", 21, 3, type_=String)
        + "Z"
    )


class JsonText(TypeDecorator[Any]):
    """Reads a JSON column's text and parses it with orjson; for results only."""

    impl = Text
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


def readable(column: Column[Any], dialect: str) -> ColumnElement[Any]:
    """``column`` as the reader selects it: timestamps as API text, JSON parsed by orjson, the rest as is."""
    if isinstance(column.type, tables.UtcDateTime):
        return api_timestamp(column, dialect).label(column.name)
    if isinstance(column.type, JSON):
        text_of = cast(column, Text) if dialect == "postgresql" else column  # PostgreSQL would parse JSONB itself
        return type_coerce(text_of, JsonText()).label(column.name)
    return column


# Columns of the store no shape shows.
UNSHOWN = frozenset(
    {"integration_id", "content_hash", "updated_at", "anonymised_at", "last_seen_sync_id", "created_in_store_at"}
)


def encode_cursor(last_id: str, digest: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([last_id, digest]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, digest: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        last_id, cursor_digest = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError, binascii.Error) as error:
        raise BadQuery("The cursor is malformed; pass `next` from the previous page unchanged.") from error
    if cursor_digest != digest or not isinstance(last_id, str):
        raise BadQuery("The cursor belongs to another query; keep the filters of the first page.")
    return last_id


# --- filters ------------------------------------------------------------------------------------------------


def _lower_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    return func.lower(column).in_([v.lower() for v in values])


def _email_matches(conn: Connection, email: str) -> ColumnElement[bool]:
    """Candidates with ``email`` among their addresses, case-insensitively."""
    if conn.dialect.name == "postgresql":
        clause = "EXISTS (SELECT 1 FROM jsonb_array_elements(ats_candidates.email_addresses) AS e "
        clause += "WHERE lower(e->>'email_address') = :email)"
    else:
        clause = "EXISTS (SELECT 1 FROM json_each(ats_candidates.email_addresses) AS e "
        clause += "WHERE lower(json_extract(e.value, '$.email_address')) = :email)"
    return text(clause).bindparams(email=email.strip().lower())  # type: ignore[return-value]


FilterBuilder = Callable[[Any, "Reader"], ColumnElement[bool]]


def _jobs_filters() -> dict[str, FilterBuilder]:
    t = tables.jobs
    return {
        "job_codes": lambda v, r: t.c.job_code.in_(v),
        "statuses": lambda v, r: t.c.status.in_(v),
        "employment_types": lambda v, r: t.c.employment_type.in_(v),
        "visibilities": lambda v, r: t.c.visibility.in_(v),
        "remote_created_after": lambda v, r: t.c.remote_created_at >= v,
        "name_contains": lambda v, r: func.lower(t.c.name).contains(v.lower(), autoescape=True),
    }


def _applications_filters() -> dict[str, FilterBuilder]:
    t = tables.applications
    return {
        "outcomes": lambda v, r: t.c.outcome.in_(v),
        "job_ids": lambda v, r: t.c.job_id.in_(v),
        "job_remote_ids": lambda v, r: t.c.job_id.in_(
            select(tables.jobs.c.id).where(
                tables.jobs.c.integration_id == r.integration.id, tables.jobs.c.remote_id.in_(v)
            )
        ),
        "current_stage_ids": lambda v, r: t.c.current_stage_id.in_(v),
        "remote_created_after": lambda v, r: t.c.remote_created_at >= v,
    }


def _candidates_filters() -> dict[str, FilterBuilder]:
    t = tables.candidates
    a = tables.applications
    return {
        "email": lambda v, r: _email_matches(r.conn, v),
        "job_ids": lambda v, r: t.c.id.in_(  # by job_id alone (see the module docstring); the list is scoped
            select(a.c.candidate_id).where(
                a.c.job_id.in_(v),
                a.c.remote_deleted_at.is_(None),
                *r.tracked_conditions(ModelName.APPLICATIONS),
            )
        ),
        "first_name": lambda v, r: func.lower(t.c.first_name) == v.lower(),
        "last_name": lambda v, r: func.lower(t.c.last_name) == v.lower(),
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


# --- the reader -------------------------------------------------------------------------------------------


class Reader:
    """Reads one integration's records in the unified shapes."""

    def __init__(self, conn: Connection, integration: Integration) -> None:
        self.conn = conn
        self.integration = integration

    def page(self, model: ModelName, query: ListQuery) -> tuple[list[Json], str | None]:
        """One page of ``model`` and the cursor of the next (``None`` at the end).

        The page's ids are chosen first and only their rows read (a deferred join): a filter that the database
        answers from another index than the id order (``updated_after``, say) then sorts ids, not whole rows."""
        table = tables.MODEL_TABLES[model]
        digest = query.digest(self.integration.id, model)
        chosen = select(table.c.id).where(
            table.c.integration_id == self.integration.id,
            *self.tracked_conditions(model),
            *self._conditions(model, table, query),
        )
        if query.cursor:
            chosen = chosen.where(self._id_column(table, query) > decode_cursor(query.cursor, digest))
        chosen = chosen.order_by(table.c.id).limit(query.page_size + 1)
        statement = select(*self.columns(table)).where(table.c.id.in_(chosen.scalar_subquery())).order_by(table.c.id)
        rows = list(self.conn.execute(statement))
        more = len(rows) > query.page_size
        rows = rows[: query.page_size]
        results = SHAPES[model](self, rows)
        return results, encode_cursor(rows[-1].id, digest) if more else None

    def _id_column(self, table: Table, query: ListQuery) -> ColumnElement[str]:
        """``id`` for the cursor's condition. With ``updated_after`` on SQLite it is ``id || ''``: the same value,
        but no index, so that SQLite, which has no statistics to weigh the two, reads the few recently updated
        records through the ``updated_at`` index instead of walking every later id through the ``id`` index. (On
        PostgreSQL the planner weighs them itself.)"""
        if query.updated_after is not None and self.conn.dialect.name == "sqlite":
            return table.c.id.concat("")
        return table.c.id

    def columns(self, table: Table, names: Sequence[str] | None = None) -> list[ColumnElement[Any]]:
        """The columns to select of ``table``: ``names``, or every column a shape shows."""
        if names is None:
            hidden = UNSHOWN if self.integration.remote_data_enabled else UNSHOWN | {"remote_data"}
            names = [column.name for column in table.columns if column.name not in hidden]
        return [readable(table.c[name], self.conn.dialect.name) for name in names]

    def tracked_conditions(self, model: ModelName) -> list[ColumnElement[bool]]:
        """What limits ``model`` to the tracked applications and their candidates ("sync only created
        applications"); nothing for other models or when the integration syncs everything."""
        if not self.integration.sync_only_created_applications:
            return []
        apps = tables.applications
        tracked = select(tables.tracked_applications.c.remote_id).where(
            tables.tracked_applications.c.integration_id == self.integration.id
        )
        if model is ModelName.APPLICATIONS:
            return [apps.c.remote_id.in_(tracked)]
        if model is ModelName.CANDIDATES:
            of_tracked = select(apps.c.candidate_id).where(
                apps.c.integration_id == self.integration.id, apps.c.remote_id.in_(tracked)
            )
            return [tables.candidates.c.id.in_(of_tracked)]
        return []

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
        self,
        table: Table,
        column: str,
        values: Iterable[str | None],
        *conditions: ColumnElement[bool],
        names: Sequence[str] | None = None,
    ) -> list[Row[Any]]:
        """The live rows of ``table`` whose ``column`` is one of ``values`` (our ids), with the columns ``names``."""
        return self._live(
            select(table.c.integration_id, *self.columns(table, names)), table, column, values, conditions
        )

    def linked(
        self, join: ModelName, parent_ids: Iterable[str], link_names: Sequence[str], child_names: Sequence[str]
    ) -> list[Row[Any]]:
        """The live links of ``join`` from ``parent_ids``, each with the columns ``child_names`` of its live child
        (the names of link and child must differ)."""
        spec = tables.JOINS[join]
        link, child = spec.table, tables.MODEL_TABLES[spec.child]
        query = select(link.c.integration_id, *self.columns(link, link_names), *self.columns(child, child_names)).join(
            child, and_(child.c.id == link.c[spec.child_column], child.c.remote_deleted_at.is_(None))
        )
        return self._live(query, link, spec.parent_column, parent_ids, ())

    def applications_with_refs(
        self, column: str, values: Iterable[str | None], names: Sequence[str], *, deleted_too: bool = False
    ) -> list[Row[Any]]:
        """The applications (tracked ones only, where that applies; live ones unless ``deleted_too``) whose ``column``
        is one of ``values``, with the columns ``names``, their live job's (``job_ref_*``) and current stage's
        (``stage_ref_*``) and the stage's index in the job's pipeline (``stage_index``)."""
        a, job, stage, pipeline = (
            tables.applications,
            tables.jobs,
            tables.application_stages,
            tables.jobs_application_stages,
        )
        query = (
            select(
                a.c.integration_id,
                *self.columns(a, names),
                *(c.label(f"job_ref_{c.name}") for c in self.columns(job, JOB_REF)),
                *(c.label(f"stage_ref_{c.name}") for c in self.columns(stage, STAGE)),
                pipeline.c.index.label("stage_index"),
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
        tracked = self.tracked_conditions(ModelName.APPLICATIONS)
        return self._live(query, a, column, values, tracked, deleted_too=deleted_too)

    def _live(
        self,
        query: Select[Any],
        table: Table,
        column: str,
        values: Iterable[str | None],
        conditions: Sequence[ColumnElement[bool]],
        *,
        deleted_too: bool = False,
    ) -> list[Row[Any]]:
        wanted = sorted({value for value in values if value is not None})
        if not wanted:
            return []
        query = query.where(table.c[column].in_(wanted), *conditions)
        if not deleted_too:
            query = query.where(table.c.remote_deleted_at.is_(None))
        return [row for row in self.conn.execute(query) if row.integration_id == self.integration.id]

    def tags_of(self, candidate_ids: Sequence[str]) -> dict[str, list[Json]]:
        result: dict[str, list[Json]] = {}
        for row in self.linked(ModelName.CANDIDATES_TAGS, candidate_ids, ("candidate_id",), TAG_REF):
            result.setdefault(row.candidate_id, []).append({"id": row.id, "name": row.name, "remote_id": row.remote_id})
        return result

    def remote_data(self, row: Row[Any]) -> Any:
        return row.remote_data if self.integration.remote_data_enabled else None


# --- shapes ------------------------------------------------------------------------------------------------

# The columns of records nested in others.
STAGE = ("id", "remote_id", "name", "status", "custom_fields")
JOB_REF = ("id", "remote_id", "name")
TAG_REF = ("id", "name", "remote_id")
USER_REF = ("id", "remote_id", "first_name", "last_name", "email")
CANDIDATE_REF = ("id", "remote_id", "first_name", "last_name", "source", "email_addresses", "phone_numbers")
NESTED_APPLICATION = (
    "id", "remote_id", "candidate_id", "outcome", "rejection_reason_name", "rejected_at", "changed_at",
    "remote_created_at", "remote_updated_at",
)  # fmt: skip


def _common(reader: Reader, row: Row[Any]) -> Json:
    return {
        "id": row.id,
        "remote_id": row.remote_id,
        "changed_at": row.changed_at,
        "remote_deleted_at": row.remote_deleted_at,
        "remote_data": reader.remote_data(row),
    }


def users_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    return [
        {
            **_common(reader, r),
            "first_name": r.first_name,
            "last_name": r.last_name,
            "email": r.email,
            "status": r.status,
            "system_roles": r.system_roles,
        }
        for r in rows
    ]


def stages_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    return [{**_common(reader, r), "name": r.name, "status": r.status, "custom_fields": r.custom_fields} for r in rows]


def tags_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    return [{**_common(reader, r), "name": r.name} for r in rows]


def jobs_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    job_ids = [r.id for r in rows]
    pipelines: dict[str, list[Json]] = {}
    stage_links = reader.linked(ModelName.JOBS_APPLICATION_STAGES, job_ids, ("job_id", "index"), STAGE)
    for link in sorted(stage_links, key=lambda link: link._mapping["index"]):
        pipelines.setdefault(link.job_id, []).append(
            {
                "id": link.id,
                "remote_id": link.remote_id,
                "name": link.name,
                "index": link._mapping["index"],
                "status": link.status,
                "custom_fields": link.custom_fields,
            }
        )
    teams: dict[str, list[Json]] = {}
    for link in reader.linked(ModelName.JOBS_USERS, job_ids, ("job_id", "hiring_team_roles", "job_roles"), USER_REF):
        teams.setdefault(link.job_id, []).append(
            {
                "id": link.id,
                "remote_id": link.remote_id,
                "first_name": link.first_name,
                "last_name": link.last_name,
                "email": link.email,
                "hiring_team_roles": link.hiring_team_roles,
                "job_roles": link.job_roles,
            }
        )
    return [
        {
            **_common(reader, r),
            "name": r.name,
            "job_code": r.job_code,
            "description": r.description,
            "confidential": None,
            "weekly_hours": r.weekly_hours,
            "employment_type": r.employment_type,
            "status": r.status,
            "visibility": r.visibility,
            "category": None,
            "department": r.department,
            "post_url": None,
            "experience_level": r.experience_level,
            "salary_amount": r.salary_amount,
            "salary_amount_from": None,
            "salary_amount_to": None,
            "salary_currency": r.salary_currency,
            "salary_period": r.salary_period,
            "remote_work_status": r.remote_work_status,
            "location": r.location,
            "custom_fields": r.custom_fields,
            "integration_fields": [],
            "remote_url": None,
            "opened_at": r.opened_at,
            "closed_at": r.closed_at,
            "remote_created_at": r.remote_created_at,
            "remote_updated_at": r.remote_updated_at,
            "contact_id": None,
            "stages": pipelines.get(r.id, []),
            "screening_questions": [],
            "job_postings": [],
            "hiring_team": teams.get(r.id, []),
        }
        for r in rows
    ]


def _candidate_fields(reader: Reader, r: Row[Any]) -> Json:
    return {
        **_common(reader, r),
        "first_name": r.first_name,
        "last_name": r.last_name,
        "company": r.company,
        "title": r.title,
        "confidential": None,
        "source": r.source,
        "phone_numbers": r.phone_numbers,
        "email_addresses": r.email_addresses,
        "social_media": [],
        "location": r.location,
        "custom_fields": r.custom_fields,
        "integration_fields": [],
        "remote_url": None,
        "remote_created_at": r.remote_created_at,
        "remote_updated_at": r.remote_updated_at,
    }


def _job_ref(a: Row[Any]) -> Json | None:
    if a.job_ref_id is None:
        return None
    return {"id": a.job_ref_id, "remote_id": a.job_ref_remote_id, "name": a.job_ref_name}


def candidates_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    candidate_ids = [r.id for r in rows]
    nested: dict[str, list[Json]] = {}
    applications = reader.applications_with_refs("candidate_id", candidate_ids, NESTED_APPLICATION)
    for a in sorted(applications, key=lambda a: a.id):
        nested.setdefault(a.candidate_id, []).append(
            {
                "id": a.id,
                "remote_id": a.remote_id,
                "outcome": a.outcome,
                "rejection_reason_name": a.rejection_reason_name,
                "rejected_at": a.rejected_at,
                "remote_url": None,
                "changed_at": a.changed_at,
                "remote_created_at": a.remote_created_at,
                "remote_updated_at": a.remote_updated_at,
                "current_stage": None
                if a.stage_ref_id is None
                else {
                    "id": a.stage_ref_id,
                    "name": a.stage_ref_name,
                    "remote_id": a.stage_ref_remote_id,
                    "index": a.stage_index,
                },
                "job": _job_ref(a),
            }
        )
    tags = reader.tags_of(candidate_ids)
    return [
        {**_candidate_fields(reader, r), "applications": nested.get(r.id, []), "tags": tags.get(r.id, [])} for r in rows
    ]


def applications_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    refs = {a.id: a for a in reader.applications_with_refs("id", (r.id for r in rows), ("id",), deleted_too=True)}
    candidate_rows = reader.live_rows(tables.candidates, "id", (r.candidate_id for r in rows), names=CANDIDATE_REF)
    candidates = {c.id: c for c in candidate_rows}
    tags = reader.tags_of(list(candidates))
    results = []
    for r in rows:
        candidate, ref = candidates.get(r.candidate_id), refs.get(r.id)
        results.append(
            {
                **_common(reader, r),
                "outcome": r.outcome,
                "rejection_reason_name": r.rejection_reason_name,
                "rejected_at": r.rejected_at,
                "current_stage_id": r.current_stage_id,
                "job_id": r.job_id,
                "candidate_id": r.candidate_id,
                "screening_question_answers": [],
                "custom_fields": r.custom_fields,
                "integration_fields": [],
                "remote_url": None,
                "remote_created_at": r.remote_created_at,
                "remote_updated_at": r.remote_updated_at,
                "candidate": None
                if candidate is None
                else {
                    "id": candidate.id,
                    "remote_id": candidate.remote_id,
                    "first_name": candidate.first_name,
                    "last_name": candidate.last_name,
                    "source": candidate.source,
                    "remote_url": None,
                    "email_addresses": candidate.email_addresses,
                    "phone_numbers": candidate.phone_numbers,
                    "social_media": [],
                    "tags": tags.get(candidate.id, []),
                },
                "current_stage": None
                if ref is None or ref.stage_ref_id is None
                else {
                    "id": ref.stage_ref_id,
                    "remote_id": ref.stage_ref_remote_id,
                    "name": ref.stage_ref_name,
                    "status": ref.stage_ref_status,
                    "custom_fields": ref.stage_ref_custom_fields,
                    "index": ref.stage_index,
                },
                "job": None if ref is None else _job_ref(ref),
                "interviews": [],
                "offers": [],
            }
        )
    return results


SHAPES: dict[ModelName, Callable[[Reader, list[Row[Any]]], list[Json]]] = {
    ModelName.USERS: users_shape,
    ModelName.JOBS: jobs_shape,
    ModelName.APPLICATION_STAGES: stages_shape,
    ModelName.TAGS: tags_shape,
    ModelName.CANDIDATES: candidates_shape,
    ModelName.APPLICATIONS: applications_shape,
}
