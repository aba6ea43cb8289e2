"""The unified shapes of the list endpoints (unified-api §4), built from the reader's rows.

A ``Shape`` names the columns of its model's table that it reads, in the order its builder unpacks them; every
shape starts with ``COMMON``. Builders unpack rows as tuples and write each record as one dict display, keys in the
order of ``unified.models`` (the order of the JSON answer); the nested objects of a page come from one query per
kind (``Reader.applications_with_refs``, ``Reader.linked``, ``Reader.live_rows``), whose rows start with the
``integration_id`` the reader has already checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from atsbridge.store import tables
from atsbridge.unified.ids import ModelName

if TYPE_CHECKING:
    from atsbridge.store.reader import AnyRow, Reader

Json = dict[str, Any]
Rows = Sequence["AnyRow"]

COMMON = ("id", "remote_id", "changed_at", "remote_deleted_at", "remote_data")
# The columns of records nested in others.
JOB_REF = ("id", "remote_id", "name")
STAGE = ("id", "remote_id", "name", "status", "custom_fields")
STAGE_REF = ("id", "remote_id", "name")
TAG_REF = ("id", "name", "remote_id")
USER_REF = ("id", "remote_id", "first_name", "last_name", "email")
CANDIDATE_REF = ("id", "remote_id", "first_name", "last_name", "source", "email_addresses", "phone_numbers")


@dataclass(frozen=True)
class Shape:
    """The columns a model's shape reads (in its row order) and what builds the page's dicts of those rows."""

    columns: tuple[str, ...]
    build: Callable[[Reader, Rows], list[Json]]


def _common(id_: str, remote_id: str, changed_at: str, remote_deleted_at: str | None, remote_data: Any) -> Json:
    return {
        "id": id_,
        "remote_id": remote_id,
        "changed_at": changed_at,
        "remote_deleted_at": remote_deleted_at,
        "remote_data": remote_data,
    }


def _job_ref(id_: str | None, remote_id: str | None, name: str | None) -> Json | None:
    return None if id_ is None else {"id": id_, "remote_id": remote_id, "name": name}


USER = (*COMMON, "first_name", "last_name", "email", "status", "system_roles")


def _users(reader: Reader, rows: Rows) -> list[Json]:
    return [
        {
            **_common(id_, remote_id, changed_at, deleted_at, remote_data),
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "status": status,
            "system_roles": system_roles,
        }
        for (
            id_,
            remote_id,
            changed_at,
            deleted_at,
            remote_data,
            first_name,
            last_name,
            email,
            status,
            system_roles,
        ) in rows
    ]


APPLICATION_STAGE = (*COMMON, "name", "status", "custom_fields")


def _stages(reader: Reader, rows: Rows) -> list[Json]:
    return [
        {
            **_common(id_, remote_id, changed_at, deleted_at, remote_data),
            "name": name,
            "status": status,
            "custom_fields": custom_fields,
        }
        for id_, remote_id, changed_at, deleted_at, remote_data, name, status, custom_fields in rows
    ]


TAG = (*COMMON, "name")


def _tags(reader: Reader, rows: Rows) -> list[Json]:
    return [
        {**_common(id_, remote_id, changed_at, deleted_at, remote_data), "name": name}
        for id_, remote_id, changed_at, deleted_at, remote_data, name in rows
    ]


def _pipelines(reader: Reader, job_ids: list[str]) -> dict[str, list[Json]]:
    pipelines: dict[str, list[Json]] = {}
    links = reader.linked(ModelName.JOBS_APPLICATION_STAGES, job_ids, ("job_id", "index"), STAGE)
    for _, job_id, index, id_, remote_id, name, status, custom_fields in sorted(links, key=itemgetter(2)):
        pipelines.setdefault(job_id, []).append(
            {
                "id": id_,
                "remote_id": remote_id,
                "name": name,
                "index": index,
                "status": status,
                "custom_fields": custom_fields,
            }
        )
    return pipelines


def _hiring_teams(reader: Reader, job_ids: list[str]) -> dict[str, list[Json]]:
    """The hiring team of each job, in user id order (the store keeps no order of RECRU's ``hiringTeam``)."""
    teams: dict[str, list[Json]] = {}
    links = reader.linked(ModelName.JOBS_USERS, job_ids, ("job_id", "hiring_team_roles", "job_roles"), USER_REF)
    for _, job_id, hiring_team_roles, job_roles, id_, remote_id, first_name, last_name, email in sorted(
        links, key=itemgetter(4)
    ):
        teams.setdefault(job_id, []).append(
            {
                "id": id_,
                "remote_id": remote_id,
                "first_name": first_name,
                "last_name": last_name,
                "email": email,
                "hiring_team_roles": hiring_team_roles,
                "job_roles": job_roles,
            }
        )
    return teams


JOB = (
    *COMMON, "name", "job_code", "description", "weekly_hours", "employment_type", "status", "visibility", "department",
    "experience_level", "salary_amount", "salary_currency", "salary_period", "remote_work_status", "location",
    "custom_fields", "opened_at", "closed_at", "remote_created_at", "remote_updated_at",
)  # fmt: skip


def _jobs(reader: Reader, rows: Rows) -> list[Json]:
    job_ids = [row[0] for row in rows]
    pipelines, teams = _pipelines(reader, job_ids), _hiring_teams(reader, job_ids)
    return [
        {
            **_common(id_, remote_id, changed_at, deleted_at, remote_data),
            "name": name,
            "job_code": job_code,
            "description": description,
            "confidential": None,
            "weekly_hours": weekly_hours,
            "employment_type": employment_type,
            "status": status,
            "visibility": visibility,
            "category": None,
            "department": department,
            "post_url": None,
            "experience_level": experience_level,
            "salary_amount": salary_amount,
            "salary_amount_from": None,
            "salary_amount_to": None,
            "salary_currency": salary_currency,
            "salary_period": salary_period,
            "remote_work_status": remote_work_status,
            "location": location,
            "custom_fields": custom_fields,
            "integration_fields": [],
            "remote_url": None,
            "opened_at": opened_at,
            "closed_at": closed_at,
            "remote_created_at": remote_created_at,
            "remote_updated_at": remote_updated_at,
            "contact_id": None,
            "stages": pipelines.get(id_, []),
            "screening_questions": [],
            "job_postings": [],
            "hiring_team": teams.get(id_, []),
        }
        for (
            id_,
            remote_id,
            changed_at,
            deleted_at,
            remote_data,
            name,
            job_code,
            description,
            weekly_hours,
            employment_type,
            status,
            visibility,
            department,
            experience_level,
            salary_amount,
            salary_currency,
            salary_period,
            remote_work_status,
            location,
            custom_fields,
            opened_at,
            closed_at,
            remote_created_at,
            remote_updated_at,
        ) in rows
    ]


def _tags_of(reader: Reader, candidate_ids: list[str]) -> dict[str, list[Json]]:
    """The tags of each candidate, in tag id order (the store keeps no order of RECRU's ``tagIds``)."""
    tags: dict[str, list[Json]] = {}
    links = reader.linked(ModelName.CANDIDATES_TAGS, candidate_ids, ("candidate_id",), TAG_REF)
    for _, candidate_id, id_, name, remote_id in sorted(links, key=itemgetter(2)):
        tags.setdefault(candidate_id, []).append({"id": id_, "name": name, "remote_id": remote_id})
    return tags


NESTED_APPLICATION = (
    "candidate_id", "id", "remote_id", "outcome", "rejection_reason_name", "rejected_at", "changed_at",
    "remote_created_at", "remote_updated_at",
)  # fmt: skip


def _applications_of(reader: Reader, candidate_ids: list[str]) -> dict[str, list[Json]]:
    """The live applications of the candidates, in id order, in the shape nested in a candidate."""
    nested: dict[str, list[Json]] = {}
    rows = reader.applications_with_refs("candidate_id", candidate_ids, NESTED_APPLICATION, STAGE_REF)
    for (
        _,
        candidate_id,
        id_,
        remote_id,
        outcome,
        rejection_reason_name,
        rejected_at,
        changed_at,
        remote_created_at,
        remote_updated_at,
        job_id,
        job_remote_id,
        job_name,
        stage_id,
        stage_remote_id,
        stage_name,
        stage_index,
    ) in sorted(rows, key=itemgetter(2)):
        nested.setdefault(candidate_id, []).append(
            {
                "id": id_,
                "remote_id": remote_id,
                "outcome": outcome,
                "rejection_reason_name": rejection_reason_name,
                "rejected_at": rejected_at,
                "remote_url": None,
                "changed_at": changed_at,
                "remote_created_at": remote_created_at,
                "remote_updated_at": remote_updated_at,
                "current_stage": None
                if stage_id is None
                else {"id": stage_id, "name": stage_name, "remote_id": stage_remote_id, "index": stage_index},
                "job": _job_ref(job_id, job_remote_id, job_name),
            }
        )
    return nested


CANDIDATE = (
    *COMMON, "first_name", "last_name", "company", "title", "source", "phone_numbers", "email_addresses", "location",
    "custom_fields", "remote_created_at", "remote_updated_at",
)  # fmt: skip


def _candidates(reader: Reader, rows: Rows) -> list[Json]:
    candidate_ids = [row[0] for row in rows]
    applications, tags = _applications_of(reader, candidate_ids), _tags_of(reader, candidate_ids)
    return [
        {
            **_common(id_, remote_id, changed_at, deleted_at, remote_data),
            "first_name": first_name,
            "last_name": last_name,
            "company": company,
            "title": title,
            "confidential": None,
            "source": source,
            "phone_numbers": phone_numbers,
            "email_addresses": email_addresses,
            "social_media": [],
            "location": location,
            "custom_fields": custom_fields,
            "integration_fields": [],
            "remote_url": None,
            "remote_created_at": remote_created_at,
            "remote_updated_at": remote_updated_at,
            "applications": applications.get(id_, []),
            "tags": tags.get(id_, []),
        }
        for (
            id_,
            remote_id,
            changed_at,
            deleted_at,
            remote_data,
            first_name,
            last_name,
            company,
            title,
            source,
            phone_numbers,
            email_addresses,
            location,
            custom_fields,
            remote_created_at,
            remote_updated_at,
        ) in rows
    ]


def _nested_candidates(reader: Reader, candidate_ids: Sequence[str | None]) -> dict[str, Json]:
    """The live candidates among ``candidate_ids``, in the shape nested in an application."""
    rows = reader.live_rows(tables.candidates, "id", candidate_ids, CANDIDATE_REF)
    tags = _tags_of(reader, [row[1] for row in rows])
    return {
        id_: {
            "id": id_,
            "remote_id": remote_id,
            "first_name": first_name,
            "last_name": last_name,
            "source": source,
            "remote_url": None,
            "email_addresses": email_addresses,
            "phone_numbers": phone_numbers,
            "social_media": [],
            "tags": tags.get(id_, []),
        }
        for _, id_, remote_id, first_name, last_name, source, email_addresses, phone_numbers in rows
    }


def _refs(reader: Reader, application_ids: list[str]) -> dict[str, tuple[Json | None, Json | None]]:
    """(current stage, job) of each application, deleted ones too."""
    refs: dict[str, tuple[Json | None, Json | None]] = {}
    rows = reader.applications_with_refs("id", application_ids, ("id",), STAGE, deleted_too=True)
    for _, id_, job_id, job_remote_id, job_name, stage_id, remote_id, name, status, custom_fields, index in rows:
        stage = (
            None
            if stage_id is None
            else {
                "id": stage_id,
                "remote_id": remote_id,
                "name": name,
                "status": status,
                "custom_fields": custom_fields,
                "index": index,
            }
        )
        refs[id_] = (stage, _job_ref(job_id, job_remote_id, job_name))
    return refs


NO_REFS: tuple[None, None] = (None, None)


APPLICATION = (
    *COMMON, "outcome", "rejection_reason_name", "rejected_at", "current_stage_id", "job_id", "candidate_id",
    "custom_fields", "remote_created_at", "remote_updated_at",
)  # fmt: skip


def _applications(reader: Reader, rows: Rows) -> list[Json]:
    refs = _refs(reader, [row[0] for row in rows])
    candidates = _nested_candidates(reader, [row[10] for row in rows])
    results = []
    for (
        id_,
        remote_id,
        changed_at,
        deleted_at,
        remote_data,
        outcome,
        rejection_reason_name,
        rejected_at,
        current_stage_id,
        job_id,
        candidate_id,
        custom_fields,
        remote_created_at,
        remote_updated_at,
    ) in rows:
        stage, job = refs.get(id_, NO_REFS)
        results.append(
            {
                **_common(id_, remote_id, changed_at, deleted_at, remote_data),
                "outcome": outcome,
                "rejection_reason_name": rejection_reason_name,
                "rejected_at": rejected_at,
                "current_stage_id": current_stage_id,
                "job_id": job_id,
                "candidate_id": candidate_id,
                "screening_question_answers": [],
                "custom_fields": custom_fields,
                "integration_fields": [],
                "remote_url": None,
                "remote_created_at": remote_created_at,
                "remote_updated_at": remote_updated_at,
                "candidate": candidates.get(candidate_id),
                "current_stage": stage,
                "job": job,
                "interviews": [],
                "offers": [],
            }
        )
    return results


SHAPES: dict[ModelName, Shape] = {
    ModelName.USERS: Shape(USER, _users),
    ModelName.JOBS: Shape(JOB, _jobs),
    ModelName.APPLICATION_STAGES: Shape(APPLICATION_STAGE, _stages),
    ModelName.TAGS: Shape(TAG, _tags),
    ModelName.CANDIDATES: Shape(CANDIDATE, _candidates),
    ModelName.APPLICATIONS: Shape(APPLICATION, _applications),
}
