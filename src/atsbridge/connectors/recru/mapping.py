"""RECRU payloads → unified records: pure functions and the enum tables of ``spec/recru-mapping.md``.

Each ``map_*`` takes one RECRU read-shape payload and a ``MappingContext`` (integration id, the run's codebooks and a
warning collector) and returns a ``Mapped``: the record — a dict whose keys are exactly the columns of the model's
store table minus bookkeeping (``id``, ``remote_id``, unified fields, ``remote_data``) — and, for jobs and
candidates, the join rows the record owns, complete (the writer replaces the parent's join rows with them).

Ids are ours (``unified.ids``), also for references (``job_id`` ← ``projectId``…). ``remote_data`` is
``{"<list method>": payload}``: always the list method (``get`` returns the same shape), so a record re-read through
``get`` hashes the same. Timestamps become aware UTC datetimes.

Mapping never raises on data: a value the tables do not know is passed through upper-cased where the unified field
is an open enum (jobs' employment type, status, visibility, remote work status, salary period; e-mail and phone
types), or becomes ``null`` where it is closed (outcome, roles); a codebook id without entry or an unreadable
timestamp becomes ``null``. Each case adds a message (without record ids, so repeats aggregate) to
``MappingContext.warnings`` for the sync's log.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple

from atsbridge.unified.countries import COUNTRY_ALIASES, ISO_3166_ALPHA_2
from atsbridge.unified.ids import ModelName, join_id, model_id
from atsbridge.unified.inputs import EMAIL_ADDRESS, is_blank

Payload = Mapping[str, Any]
Record = dict[str, Any]

EMPLOYMENT_TYPES = {
    "full_time": "FULL_TIME",
    "part_time": "PART_TIME",
    "mini_job": "PART_TIME",
    "working_student": "PART_TIME",
    "internship": "INTERNSHIP",
    "apprenticeship": "INTERNSHIP",
    "temporary": "SEASONAL",
    "freelance": "CONTRACT",
}
JOB_STATUSES = {
    "draft": "DRAFT",
    "open": "OPEN",
    "on_hold": "CLOSED",
    "closed": "CLOSED",
    "archived": "ARCHIVED",
}
VISIBILITIES = {
    "public": "PUBLIC",
    "internal": "INTERNAL",
    "unlisted": "UNLISTED",
    "confidential": "CONFIDENTIAL",
}
SALARY_PERIODS = {"year": "YEAR", "month": "MONTH", "hour": "HOUR"}
REMOTE_WORK_STATUSES = {"on_site": "ON_SITE", "hybrid": "HYBRID", "remote": "REMOTE"}
OUTCOMES = {"active": "PENDING", "hired": "HIRED", "rejected": "DECLINED", "withdrawn": "DECLINED"}
SYSTEM_ROLES = {"admin": "ADMIN", "recruiter": "RECRUITER", "hiring_manager": "HIRING_MANAGER"}
HIRING_TEAM_ROLES = {"recruiter": "RECRUITER", "hiring_manager": "HIRING_MANAGER", "interviewer": "INTERVIEWER"}
EMAIL_TYPES = {"private": "PRIVATE", "work": "WORK"}
# the values of Kombo's closed enums (the SDK's models): a RECRU value the tables above do not know is taken when,
# upper-cased, it is one of them (RECRU adding `sourcer` is Kombo's SOURCER), else it is null
ROLE_TYPES = frozenset({"HIRING_MANAGER", "RECRUITER", "COORDINATOR", "SOURCER", "INTERVIEWER", "ADMIN"})
HIRING_TEAM_ROLE_TYPES = ROLE_TYPES - {"ADMIN"}
OUTCOME_TYPES = frozenset({"PENDING", "HIRED", "DECLINED"})


@dataclass(frozen=True)
class Codebooks:
    """The RECRU codebooks a mapping needs, each entry by id, as ``CodebookService.get`` returned them."""

    NAMES: ClassVar[tuple[str, ...]] = ("departments", "locations", "rejectionReasons")

    departments: Mapping[Any, Payload] = field(default_factory=dict)
    locations: Mapping[Any, Payload] = field(default_factory=dict)
    rejection_reasons: Mapping[Any, Payload] = field(default_factory=dict)

    @classmethod
    def from_items(cls, items_by_name: Mapping[str, Iterable[Payload]]) -> Codebooks:
        """Index the ``items`` of ``CodebookService.get``, keyed by codebook name (``NAMES``; missing = empty)."""

        def index(name: str) -> dict[Any, Payload]:
            return {entry["id"]: entry for entry in items_by_name.get(name, ())}

        return cls(index("departments"), index("locations"), index("rejectionReasons"))

    def digests(self) -> dict[str, str]:
        """A digest of each codebook's entries, by name (``NAMES``): equal digests, equal codebooks."""
        books = zip(self.NAMES, (self.departments, self.locations, self.rejection_reasons), strict=True)
        return {
            name: hashlib.sha256(
                json.dumps(sorted(book.values(), key=lambda entry: str(entry.get("id"))), sort_keys=True).encode()
            ).hexdigest()
            for name, book in books
        }


@dataclass
class MappingContext:
    """What every mapping of one sync run shares; ``warnings`` counts each distinct message; ``referenced``: the
    RECRU ids of the users, jobs, stages, tags and candidates the mapped records refer to (one the store lacks at the
    run's end is read then: ``sync.engine``)."""

    integration_id: str
    codebooks: Codebooks = field(default_factory=Codebooks)
    warnings: Counter[str] = field(default_factory=Counter)
    referenced: defaultdict[ModelName, set[Any]] = field(default_factory=lambda: defaultdict(set))

    def warn(self, message: str) -> None:
        self.warnings[message] += 1

    def refer(self, model: ModelName, remote_id: Any) -> str:
        """Our id of the ``model`` record ``remote_id`` a mapped record refers to, noted in ``referenced``."""
        self.referenced[model].add(remote_id)
        return model_id(self.integration_id, model, remote_id)


class Mapped(NamedTuple):
    """One unified record and the join rows it owns (by join model; ``[]`` means none). A tuple: a sync makes one per
    record, and a frozen dataclass costs several times as much to build."""

    record: Record
    joins: Mapping[ModelName, list[Record]] = MappingProxyType({})


def joins_by_parent(mapped: Iterable[Mapped]) -> dict[ModelName, dict[str, list[Record]]]:
    """The join rows of ``mapped`` records, by join model and then by their parent record's id (the writer's
    ``replace_joins`` / ``prepare_joins`` input)."""
    joins: dict[ModelName, dict[str, list[Record]]] = {}
    for item in mapped:
        for join, rows in item.joins.items():
            joins.setdefault(join, {})[item.record["id"]] = rows
    return joins


def map_user(raw: Payload, ctx: MappingContext) -> Mapped:
    """``UserService.list`` item → ``ats_users``."""
    role = raw.get("role")
    system_roles = []
    if role is not None:
        unified = _closed_enum(SYSTEM_ROLES, ROLE_TYPES, role, ctx, "ats_users.system_roles")
        system_roles.append({"remote_id": role, "remote_label": role, "unified_type": unified, "scope": "SYSTEM"})
    return Mapped(
        {
            **_identity(ModelName.USERS, raw, ctx),
            "first_name": raw.get("firstName"),
            "last_name": raw.get("lastName"),
            "email": _valid_email(raw.get("email"), ctx, "ats_users.email"),
            "status": "ACTIVE" if raw.get("active") else "INACTIVE",
            "system_roles": system_roles,
            "remote_data": {"UserService.list": dict(raw)},
        }
    )


def map_job(raw: Payload, ctx: MappingContext) -> Mapped:
    """``ProjectService.list`` item → ``ats_jobs`` + its pipeline and hiring-team join rows."""
    salary = raw.get("salary") or {}
    job = {
        **_identity(ModelName.JOBS, raw, ctx),
        "name": raw.get("name"),
        "job_code": raw.get("code"),
        "description": raw.get("description"),
        "employment_type": _open_enum(EMPLOYMENT_TYPES, raw.get("employmentType"), ctx, "ats_jobs.employment_type"),
        "status": _open_enum(JOB_STATUSES, raw.get("status"), ctx, "ats_jobs.status"),
        "visibility": _open_enum(VISIBILITIES, raw.get("visibility"), ctx, "ats_jobs.visibility"),
        "department": _codebook_name(ctx.codebooks.departments, raw.get("departmentId"), ctx, "departments"),
        "experience_level": raw.get("experienceLevel"),
        "salary_amount": _float(salary.get("amount"), ctx, "ats_jobs.salary_amount"),
        "salary_currency": salary.get("currency"),
        "salary_period": _open_enum(SALARY_PERIODS, salary.get("period"), ctx, "ats_jobs.salary_period"),
        "weekly_hours": _float(raw.get("weeklyHours"), ctx, "ats_jobs.weekly_hours"),
        "remote_work_status": _open_enum(REMOTE_WORK_STATUSES, raw.get("remote"), ctx, "ats_jobs.remote_work_status"),
        "location": _job_location(raw.get("locationIds") or [], ctx),
        "custom_fields": None,
        "opened_at": _timestamp(raw.get("openedAt"), ctx, "ats_jobs.opened_at"),
        "closed_at": _timestamp(raw.get("closedAt"), ctx, "ats_jobs.closed_at"),
        "remote_created_at": _timestamp(raw.get("createdAt"), ctx, "ats_jobs.remote_created_at"),
        "remote_updated_at": _timestamp(raw.get("updatedAt"), ctx, "ats_jobs.remote_updated_at"),
        "remote_data": {"ProjectService.list": dict(raw)},
    }
    return Mapped(
        job,
        {
            ModelName.JOBS_APPLICATION_STAGES: _job_stages(raw, job["id"], ctx),
            ModelName.JOBS_USERS: _hiring_team(raw, job["id"], ctx),
        },
    )


def map_application_stage(raw: Payload, ctx: MappingContext) -> Mapped:
    """``StageService.list`` item → ``ats_application_stages``."""
    return Mapped(
        {
            **_identity(ModelName.APPLICATION_STAGES, raw, ctx),
            "name": raw.get("name"),
            "status": "ACTIVE" if raw.get("active") else "INACTIVE",
            "custom_fields": None,
            "remote_data": {"StageService.list": dict(raw)},
        }
    )


def map_tag(raw: Payload, ctx: MappingContext) -> Mapped:
    """``TagService.list`` item → ``ats_tags``."""
    return Mapped(
        {
            **_identity(ModelName.TAGS, raw, ctx),
            "name": raw.get("name"),
            "remote_data": {"TagService.list": dict(raw)},
        }
    )


def map_candidate(raw: Payload, ctx: MappingContext) -> Mapped:
    """``JobseekerService.list`` item → ``ats_candidates`` + its tag join rows."""
    source = raw.get("source") or {}
    candidate = {
        **_identity(ModelName.CANDIDATES, raw, ctx),
        "first_name": raw.get("firstName"),
        "last_name": raw.get("lastName"),
        "company": raw.get("currentCompany"),
        "title": raw.get("currentPosition"),
        "source": source.get("name"),
        "email_addresses": [
            {
                "email_address": email["value"],
                "type": _open_enum(EMAIL_TYPES, email.get("type"), ctx, "ats_candidates.email_addresses.type"),
            }
            for email in _primary_first(raw.get("emails") or [])
            if _valid_email(email.get("value"), ctx, "ats_candidates.email_addresses")
        ],
        "phone_numbers": [
            {"phone_number": phone["value"], "type": _upper(phone.get("type"))}
            for phone in _primary_first(raw.get("phones") or [])
            if not is_blank(phone.get("value") or "")
        ],
        "location": _address(raw.get("address"), ctx),
        "custom_fields": None,
        "remote_created_at": _timestamp(raw.get("createdAt"), ctx, "ats_candidates.remote_created_at"),
        "remote_updated_at": _timestamp(raw.get("updatedAt"), ctx, "ats_candidates.remote_updated_at"),
        "remote_data": {"JobseekerService.list": dict(raw)},
    }
    tags = [
        {
            "id": join_id(ctx.integration_id, ModelName.CANDIDATES_TAGS, raw["id"], tag_id),
            "candidate_id": candidate["id"],
            "tag_id": ctx.refer(ModelName.TAGS, tag_id),
        }
        for tag_id in dict.fromkeys(raw.get("tagIds") or [])
    ]
    return Mapped(candidate, {ModelName.CANDIDATES_TAGS: tags})


def map_application(raw: Payload, ctx: MappingContext) -> Mapped:
    """``ApplicationService.list`` item → ``ats_applications``."""
    status = raw.get("status")
    return Mapped(
        {
            **_identity(ModelName.APPLICATIONS, raw, ctx),
            "job_id": _reference(ModelName.JOBS, raw.get("projectId"), ctx),
            "candidate_id": _reference(ModelName.CANDIDATES, raw.get("jobseekerId"), ctx),
            "current_stage_id": _reference(ModelName.APPLICATION_STAGES, raw.get("stageId"), ctx),
            "outcome": None
            if status is None
            else _closed_enum(OUTCOMES, OUTCOME_TYPES, status, ctx, "ats_applications.outcome"),
            "rejection_reason_name": _codebook_name(
                ctx.codebooks.rejection_reasons, raw.get("rejectionReasonId"), ctx, "rejectionReasons"
            ),
            # RECRU records no rejection time (updatedAt moves for any change), so none is invented.
            "rejected_at": None,
            "custom_fields": None,
            "remote_created_at": _timestamp(
                raw.get("createdAt") or raw.get("appliedAt"), ctx, "ats_applications.remote_created_at"
            ),
            "remote_updated_at": _timestamp(raw.get("updatedAt"), ctx, "ats_applications.remote_updated_at"),
            "remote_data": {"ApplicationService.list": dict(raw)},
        }
    )


# --- parts --------------------------------------------------------------------------------------------------------


def _identity(model: ModelName, raw: Payload, ctx: MappingContext) -> Record:
    return {"id": model_id(ctx.integration_id, model, raw["id"]), "remote_id": str(raw["id"])}


def _reference(model: ModelName, remote_id: Any, ctx: MappingContext) -> str | None:
    """``ctx.refer``, for a reference that may be missing."""
    return None if remote_id is None else ctx.refer(model, remote_id)


def _upper(value: str | None) -> str | None:
    return None if value is None else value.upper()


def _open_enum(table: Mapping[str, str], value: str | None, ctx: MappingContext, where: str) -> str | None:
    if value is None:
        return None
    if value in table:
        return table[value]
    ctx.warn(f"{where}: unknown RECRU value {value!r} passed through as {value.upper()!r}")
    return value.upper()


def _closed_enum(
    table: Mapping[str, str], unified: frozenset[str], value: str, ctx: MappingContext, where: str
) -> str | None:
    if value in table:
        return table[value]
    upper = value.upper() if isinstance(value, str) else None
    if upper in unified:
        ctx.warn(f"{where}: unknown RECRU value {value!r} taken as {upper!r}, a value of the unified enum")
        return upper
    ctx.warn(f"{where}: unknown RECRU value {value!r} mapped to null")
    return None


def _codebook_name(entries: Mapping[Any, Payload], entry_id: Any, ctx: MappingContext, codebook: str) -> str | None:
    if entry_id is None:
        return None
    entry = entries.get(entry_id)
    if entry is None:
        ctx.warn(f"codebook {codebook}: no entry {entry_id!r}, name mapped to null")
        return None
    name: str | None = entry.get("name")
    return name


def _timestamp(value: str | None, ctx: MappingContext, where: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        ctx.warn(f"{where}: unreadable timestamp {value!r} mapped to null")
        return None
    if parsed.tzinfo is UTC:
        return parsed
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _float(value: float | int | str | None, ctx: MappingContext, where: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (OverflowError, ValueError):  # an integer beyond a float's range, or text that is no number
        ctx.warn(f"{where}: a number no float can hold was mapped to null")
        return None


def _valid_email(value: str | None, ctx: MappingContext, where: str) -> str | None:
    """``value`` if it is an e-mail address by RECRU's own rule; an invalid one is left out, as Kombo does, with a
    warning (the address itself is not logged: it is personal data)."""
    if value is None:
        return None
    if EMAIL_ADDRESS.fullmatch(value):
        return value
    ctx.warn(f"{where}: an invalid e-mail address was left out")
    return None


def _primary_first(entries: list[Payload]) -> list[Payload]:
    return sorted(entries, key=lambda entry: not entry.get("primary"))


def _country(value: Any, ctx: MappingContext, where: str) -> str | None:
    """The ISO 3166-1 alpha-2 code the unified ``country`` must be: RECRU's code upper-cased, a code ISO reserves for
    a country that has another one taken as that one (``UK`` → ``GB``, ``EL`` → ``GR``); any other is mapped to null
    with a warning."""
    if value is None:
        return None
    code = value.upper() if isinstance(value, str) else value
    code = COUNTRY_ALIASES.get(code, code)
    if code in ISO_3166_ALPHA_2:
        return str(code)
    ctx.warn(f"{where}: {value!r} is no ISO 3166-1 alpha-2 country code, mapped to null")
    return None


def _location(
    *,
    city: str | None = None,
    country: str | None = None,
    raw: str | None = None,
    state: str | None = None,
    street_1: str | None = None,
    zip_code: str | None = None,
) -> Record:
    return {
        "city": city,
        "country": country,
        "raw": raw,
        "state": state,
        "street_1": street_1,
        "street_2": None,
        "zip_code": zip_code,
    }


def _address(address: Payload | None, ctx: MappingContext) -> Record | None:
    if address is None:
        return None
    return _location(
        street_1=address.get("street"),
        zip_code=address.get("postalCode"),
        city=address.get("city"),
        state=address.get("region"),
        country=_country(address.get("countryCode"), ctx, "ats_candidates.location.country"),
    )


def _job_location(location_ids: list[Any], ctx: MappingContext) -> Record | None:
    if not location_ids:
        return None
    entry = ctx.codebooks.locations.get(location_ids[0])
    if entry is None:
        ctx.warn(f"codebook locations: no entry {location_ids[0]!r}, job location mapped to null")
        return None
    return _location(
        raw=entry.get("name"),
        city=entry.get("city"),
        zip_code=entry.get("postalCode"),
        country=_country(entry.get("countryCode"), ctx, "ats_jobs.location.country"),
    )


def _job_stages(raw: Payload, job_id: str, ctx: MappingContext) -> list[Record]:
    return [
        {
            "id": join_id(ctx.integration_id, ModelName.JOBS_APPLICATION_STAGES, raw["id"], stage_id),
            "job_id": job_id,
            "stage_id": ctx.refer(ModelName.APPLICATION_STAGES, stage_id),
            "index": index,
        }
        for stage_id, index in _first_positions(raw.get("stageIds") or []).items()
    ]


def _first_positions(items: list[Any]) -> dict[Any, int]:
    """Each item's first position in ``items`` (a repeated item is listed once, where it first appears; the items
    after it keep their own positions)."""
    positions: dict[Any, int] = {}
    for position, item in enumerate(items):
        positions.setdefault(item, position)
    return positions


def _hiring_team(raw: Payload, job_id: str, ctx: MappingContext) -> list[Record]:
    """One row per user (RECRU may list a user once per role), roles in the order RECRU gives them."""
    roles_by_user: dict[Any, dict[str, None]] = {}
    for member in raw.get("hiringTeam") or []:
        if member.get("userId") is not None:
            roles = roles_by_user.setdefault(member["userId"], {})
            if member.get("role") is not None:
                roles[member["role"]] = None
    rows = []
    for user_id, roles in roles_by_user.items():
        job_roles = [
            {
                "remote_id": role,
                "remote_label": role,
                "unified_type": _closed_enum(HIRING_TEAM_ROLES, ROLE_TYPES, role, ctx, "ats_join_jobs_users.roles"),
                "scope": "JOB",
            }
            for role in roles
        ]
        rows.append(
            {
                "id": join_id(ctx.integration_id, ModelName.JOBS_USERS, raw["id"], user_id),
                "job_id": job_id,
                "user_id": ctx.refer(ModelName.USERS, user_id),
                "hiring_team_roles": [
                    role["unified_type"] for role in job_roles if role["unified_type"] in HIRING_TEAM_ROLE_TYPES
                ],
                "job_roles": job_roles,
            }
        )
    return rows
