"""List queries of the unified API: filters, keyset cursors, nested objects, and the unified shapes.

- **Keyset pagination** over ``id``: a page is ``id > last id ORDER BY id LIMIT n``, so a record that exists for
  the whole listing is neither skipped nor repeated however the data changes between pages. The cursor carries the
  last id and a digest of the integration, the model and the filters; a cursor of another query is refused.
- **Nested objects** are loaded for the whole page at once (one query per kind of nested object), never per row.
- **"Sync only created applications"**: when the integration has it on, applications are limited to the tracked
  ones and candidates to theirs.
- Rows become plain dicts in the exact shape of ``unified.models`` (datetimes as ISO 8601 strings with ``Z``), so
  the routes can send them without another validation pass.
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

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, false, func, select, text, true

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
        "job_ids": lambda v, r: t.c.id.in_(
            select(a.c.candidate_id).where(
                a.c.integration_id == r.integration.id, a.c.job_id.in_(v), a.c.remote_deleted_at.is_(None)
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


# --- the reader -------------------------------------------------------------------------------------------


class Reader:
    """Reads one integration's records in the unified shapes."""

    def __init__(self, conn: Connection, integration: Integration) -> None:
        self.conn = conn
        self.integration = integration

    def page(self, model: ModelName, query: ListQuery) -> tuple[list[Json], str | None]:
        """One page of ``model`` and the cursor of the next (``None`` at the end)."""
        table = tables.MODEL_TABLES[model]
        digest = query.digest(self.integration.id, model)
        statement = self._scoped(model, table).where(*self._conditions(model, table, query))
        if query.cursor:
            statement = statement.where(table.c.id > decode_cursor(query.cursor, digest))
        rows = list(self.conn.execute(statement.order_by(table.c.id).limit(query.page_size + 1)))
        more = len(rows) > query.page_size
        rows = rows[: query.page_size]
        results = SHAPES[model](self, rows)
        return results, encode_cursor(rows[-1].id, digest) if more else None

    def _scoped(self, model: ModelName, table: Table) -> Select[Any]:
        statement = select(table).where(table.c.integration_id == self.integration.id)
        tracked = self._tracked_condition(model)
        return statement if tracked is None else statement.where(tracked)

    def _tracked_condition(self, model: ModelName) -> ColumnElement[bool] | None:
        if not self.integration.sync_only_created_applications:
            return None
        tracked = select(tables.tracked_applications.c.remote_id).where(
            tables.tracked_applications.c.integration_id == self.integration.id
        )
        apps = tables.applications
        if model is ModelName.APPLICATIONS:
            return apps.c.remote_id.in_(tracked)
        if model is ModelName.CANDIDATES:
            return tables.candidates.c.id.in_(
                select(apps.c.candidate_id).where(
                    apps.c.integration_id == self.integration.id, apps.c.remote_id.in_(tracked)
                )
            )
        return None

    def _conditions(self, model: ModelName, table: Table, query: ListQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if not query.include_deleted:
            conditions.append(table.c.remote_deleted_at.is_(None))
        if query.updated_after is not None:
            conditions.append(table.c.updated_at > query.updated_after)
        if query.ids is not None:
            conditions.append(table.c.id.in_(query.ids))
        if query.remote_ids is not None:
            conditions.append(table.c.remote_id.in_(query.remote_ids))
        builders = FILTERS[model]
        for name, value in query.filters.items():
            if name in UNSUPPORTED.get(model, frozenset()):
                conditions.append(true() if query.ignore_unsupported_filters else false())
            else:
                conditions.append(builders[name](value, self))
        return conditions

    # --- nested objects, each loaded for a whole page ----------------------------------------------------

    def live_rows(self, table: Table, column: str, values: Iterable[str]) -> list[Row[Any]]:
        wanted = sorted(set(values))
        if not wanted:
            return []
        query = select(table).where(
            table.c.integration_id == self.integration.id,
            table.c[column].in_(wanted),
            table.c.remote_deleted_at.is_(None),
        )
        return list(self.conn.execute(query))

    def stage_indexes(self, pairs: Iterable[tuple[str | None, str | None]]) -> dict[tuple[str, str], int]:
        """(job id, stage id) → the stage's position in that job's pipeline."""
        wanted = {(job, stage) for job, stage in pairs if job and stage}
        rows = self.live_rows(tables.jobs_application_stages, "job_id", (job for job, _ in wanted))
        return {(r.job_id, r.stage_id): r._mapping["index"] for r in rows if (r.job_id, r.stage_id) in wanted}

    def tags_of(self, candidate_ids: Sequence[str]) -> dict[str, list[Json]]:
        links = self.live_rows(tables.candidates_tags, "candidate_id", candidate_ids)
        tags = {r.id: r for r in self.live_rows(tables.tags, "id", (link.tag_id for link in links))}
        result: dict[str, list[Json]] = {}
        for link in links:
            tag = tags.get(link.tag_id)
            if tag is not None:
                result.setdefault(link.candidate_id, []).append(
                    {"id": tag.id, "name": tag.name, "remote_id": tag.remote_id}
                )
        return result

    def remote_data(self, row: Row[Any]) -> Any:
        return row.remote_data if self.integration.remote_data_enabled else None


# --- shapes ------------------------------------------------------------------------------------------------


def _common(reader: Reader, row: Row[Any]) -> Json:
    return {
        "id": row.id,
        "remote_id": row.remote_id,
        "changed_at": ts(row.changed_at),
        "remote_deleted_at": ts(row.remote_deleted_at),
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
    pipeline_links = reader.live_rows(tables.jobs_application_stages, "job_id", job_ids)
    stages = {s.id: s for s in reader.live_rows(tables.application_stages, "id", (p.stage_id for p in pipeline_links))}
    pipelines: dict[str, list[Json]] = {}
    for link in sorted(pipeline_links, key=lambda p: p._mapping["index"]):
        stage = stages.get(link.stage_id)
        if stage is not None:
            pipelines.setdefault(link.job_id, []).append(
                {
                    "id": stage.id,
                    "remote_id": stage.remote_id,
                    "name": stage.name,
                    "index": link._mapping["index"],
                    "status": stage.status,
                    "custom_fields": stage.custom_fields,
                }
            )
    team_links = reader.live_rows(tables.jobs_users, "job_id", job_ids)
    users = {u.id: u for u in reader.live_rows(tables.users, "id", (t.user_id for t in team_links))}
    teams: dict[str, list[Json]] = {}
    for link in team_links:
        user = users.get(link.user_id)
        if user is not None:
            teams.setdefault(link.job_id, []).append(
                {
                    "id": user.id,
                    "remote_id": user.remote_id,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "email": user.email,
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
            "opened_at": ts(r.opened_at),
            "closed_at": ts(r.closed_at),
            "remote_created_at": ts(r.remote_created_at),
            "remote_updated_at": ts(r.remote_updated_at),
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
        "remote_created_at": ts(r.remote_created_at),
        "remote_updated_at": ts(r.remote_updated_at),
    }


def _application_rows(reader: Reader, column: str, values: Sequence[str]) -> list[Row[Any]]:
    rows = reader.live_rows(tables.applications, column, values)
    if reader.integration.sync_only_created_applications:
        tracked_query = select(tables.tracked_applications.c.remote_id).where(
            tables.tracked_applications.c.integration_id == reader.integration.id
        )
        tracked = set(reader.conn.execute(tracked_query).scalars())
        rows = [r for r in rows if r.remote_id in tracked]
    return rows


def candidates_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    candidate_ids = [r.id for r in rows]
    applications = _application_rows(reader, "candidate_id", candidate_ids)
    jobs = {j.id: j for j in reader.live_rows(tables.jobs, "id", (a.job_id for a in applications if a.job_id))}
    stage_ids = (a.current_stage_id for a in applications if a.current_stage_id)
    stages = {s.id: s for s in reader.live_rows(tables.application_stages, "id", stage_ids)}
    indexes = reader.stage_indexes((a.job_id, a.current_stage_id) for a in applications)
    nested: dict[str, list[Json]] = {}
    for a in sorted(applications, key=lambda a: a.id):
        stage, job = stages.get(a.current_stage_id), jobs.get(a.job_id)
        nested.setdefault(a.candidate_id, []).append(
            {
                "id": a.id,
                "remote_id": a.remote_id,
                "outcome": a.outcome,
                "rejection_reason_name": a.rejection_reason_name,
                "rejected_at": ts(a.rejected_at),
                "remote_url": None,
                "changed_at": ts(a.changed_at),
                "remote_created_at": ts(a.remote_created_at),
                "remote_updated_at": ts(a.remote_updated_at),
                "current_stage": None
                if stage is None
                else {
                    "id": stage.id,
                    "name": stage.name,
                    "remote_id": stage.remote_id,
                    "index": indexes.get((a.job_id, stage.id)),
                },
                "job": None if job is None else {"id": job.id, "name": job.name, "remote_id": job.remote_id},
            }
        )
    tags = reader.tags_of(candidate_ids)
    return [
        {**_candidate_fields(reader, r), "applications": nested.get(r.id, []), "tags": tags.get(r.id, [])} for r in rows
    ]


def applications_shape(reader: Reader, rows: list[Row[Any]]) -> list[Json]:
    candidates = {
        c.id: c for c in reader.live_rows(tables.candidates, "id", (r.candidate_id for r in rows if r.candidate_id))
    }
    tags = reader.tags_of(list(candidates))
    jobs = {j.id: j for j in reader.live_rows(tables.jobs, "id", (r.job_id for r in rows if r.job_id))}
    stage_ids = (r.current_stage_id for r in rows if r.current_stage_id)
    stages = {s.id: s for s in reader.live_rows(tables.application_stages, "id", stage_ids)}
    indexes = reader.stage_indexes((r.job_id, r.current_stage_id) for r in rows)
    results = []
    for r in rows:
        candidate, job, stage = candidates.get(r.candidate_id), jobs.get(r.job_id), stages.get(r.current_stage_id)
        results.append(
            {
                **_common(reader, r),
                "outcome": r.outcome,
                "rejection_reason_name": r.rejection_reason_name,
                "rejected_at": ts(r.rejected_at),
                "current_stage_id": r.current_stage_id,
                "job_id": r.job_id,
                "candidate_id": r.candidate_id,
                "screening_question_answers": [],
                "custom_fields": r.custom_fields,
                "integration_fields": [],
                "remote_url": None,
                "remote_created_at": ts(r.remote_created_at),
                "remote_updated_at": ts(r.remote_updated_at),
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
                if stage is None
                else {
                    "id": stage.id,
                    "remote_id": stage.remote_id,
                    "name": stage.name,
                    "status": stage.status,
                    "custom_fields": stage.custom_fields,
                    "index": indexes.get((r.job_id, stage.id)),
                },
                "job": None if job is None else {"id": job.id, "remote_id": job.remote_id, "name": job.name},
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
