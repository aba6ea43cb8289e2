"""Test controls under ``/__emulator__/`` (spec §8): reset, records as a recruiter would change them, tokens,
rate limit, clock, faults and counters. They act like the RECRU UI: ``updatedAt`` moves and deletions cascade.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from recru_emulator import json_text
from recru_emulator import params as p
from recru_emulator.clock import TenantClock, format_ts, parse_ts
from recru_emulator.emulator import API_USER_ID, MAX_SIZE, Emulator, LoginTaken
from recru_emulator.faults import KINDS, Fault
from recru_emulator.jsonrpc import KNOWN_METHODS
from recru_emulator.reads import APPLICATION_STATUSES, FINISHED_PROJECT_STATUSES, PROJECT_STATUSES
from recru_emulator.state import EntityTable, Tenant
from recru_emulator.tenant_data import (
    EMPLOYMENT_TYPES,
    EXPERIENCE_LEVELS,
    JOBSEEKER_KEYS,
    REMOTE_MODES,
    VISIBILITIES,
    Record,
)
from recru_emulator.writes import ADDRESS_KEYS, SourceInput, read_consent, read_jobseeker, read_salary, resolve_source

# codebooks whose entries the controls make and change (countries are fixed): entity → (codebook, a new entry's name)
CODEBOOK_ENTITIES = {
    "sources": ("jobseekerSources", "Source"),
    "departments": ("departments", "Department"),
    "locations": ("locations", "Location"),
    "rejectionReasons": ("rejectionReasons", "Rejection reason"),
    "projectCloseReasons": ("projectCloseReasons", "Close reason"),
}
ENTITIES = ("users", "projects", "stages", "tags", "jobseekers", "applications", *CODEBOOK_ENTITIES)
READ_ONLY = ("id",)  # ids are the tenant's, never reused
TIMESTAMPED = ("users", "projects", "jobseekers", "applications")
NEVER_PATCHED = ("id", "createdAt", "updatedAt")
PAY_PERIODS = ("year", "month", "hour")
TEAM_ROLES = ("recruiter", "hiring_manager", "interviewer")
MAX_ADVANCE = 100 * 366 * 86_400  # seconds a clock control may move the clock forward at once: a century
MAX_DELAY = 3_600  # seconds a "slow" fault may hold a call
MAX_RETRY_AFTER = {"rate_limit": 60}  # a 429's Retry-After is 1..60 (§3); a maintenance's (503) up to a day
MAX_MAINTENANCE = 86_400

Check = Callable[[Any], bool]
Reader = Callable[[Record, p.Checker], Any]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_name(value: Any) -> bool:
    """A name RECRU's UI would take: a text that is not blank."""
    return isinstance(value, str) and bool(value.strip())


def _opt(check: Check) -> Check:
    return lambda value: value is None or check(value)


# An enum value RECRU may add later (recru-api §1: enum values are lowercase snake_case): a control takes it, so
# that a client's handling of values it does not know can be tried (recru-mapping: passed through, never a failure).
ADDED_ENUM_VALUE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")


def _is_added_enum_value(value: Any) -> bool:
    return isinstance(value, str) and ADDED_ENUM_VALUE.fullmatch(value) is not None


def _enum(*known: str) -> Check:
    """One of the ``known`` values of §4, or a value RECRU may add (``ADDED_ENUM_VALUE``)."""
    return lambda value: value in known or _is_added_enum_value(value)


def _is_ts(value: Any) -> bool:
    try:
        parse_ts(value)
    except (TypeError, ValueError):
        return False
    return True


def _list_of(check: Check) -> Check:
    return lambda value: isinstance(value, list) and all(check(v) for v in value)


def _is_member(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"userId", "role"}
        and _is_int(value["userId"])
        and _enum(*TEAM_ROLES)(value["role"])
    )


def _read_as_is(read: Reader) -> Check:
    """A check by one of the API's param readers (given ``{"value": value}``): the value passes it and is already
    what the reader returns, so that, stored as given, it has its read shape (no other keys, no missing ones)."""

    def check(value: Any) -> bool:
        ch = p.Checker()
        return bool(read({"value": value}, ch) == value and not ch.fields)

    return check


# RECRU holds e-mail addresses that are no valid address (the mapping spec: "email (null if invalid)"), so a
# recruiter's change may store any text: only the API's writes check the format.
_is_email_text = _read_as_is(lambda raw, ch: p.text(raw, "value", ch, "", required=True, max_length=254))
_is_salary_of_known_period = _read_as_is(lambda raw, ch: read_salary(raw, ch, "", "value", PAY_PERIODS))


def _is_salary(value: Any) -> bool:
    if isinstance(value, dict) and _is_added_enum_value(value.get("period")):
        return _is_salary_of_known_period({**value, "period": PAY_PERIODS[0]})
    return _is_salary_of_known_period(value)


CODEBOOK_ENTRY: dict[str, Check] = {"name": _is_name, "active": lambda v: isinstance(v, bool)}
SCHEMAS: dict[str, dict[str, Check]] = {
    "users": {
        "firstName": _is_str,
        "lastName": _is_str,
        "email": _is_email_text,
        "role": _enum("admin", "recruiter", "hiring_manager"),
        "active": lambda v: isinstance(v, bool),
        "apiAccess": lambda v: isinstance(v, bool),
        "password": _opt(_is_str),
        "createdAt": _is_ts,
        "updatedAt": _is_ts,
    },
    "projects": {
        "code": _opt(_is_str),
        "name": _is_name,
        "description": _opt(_is_str),
        "status": _enum(*PROJECT_STATUSES),
        "closeReasonId": _opt(_is_int),
        "visibility": _enum(*VISIBILITIES),
        "employmentType": _opt(_enum(*EMPLOYMENT_TYPES)),
        "experienceLevel": _opt(_enum(*EXPERIENCE_LEVELS)),
        "salary": _opt(_is_salary),
        "weeklyHours": _opt(lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
        "remote": _opt(_enum(*REMOTE_MODES)),
        "departmentId": _opt(_is_int),
        "locationIds": _list_of(_is_int),
        "hiringTeam": _list_of(_is_member),
        "stageIds": _list_of(_is_int),
        "openedAt": _opt(_is_ts),
        "closedAt": _opt(_is_ts),
        "createdAt": _is_ts,
        "updatedAt": _is_ts,
    },
    "stages": {
        "name": _is_name,
        "position": _is_int,
        "kind": _enum("regular", "hired", "rejected"),
        "active": lambda v: isinstance(v, bool),
    },
    "tags": {"name": _is_name, "color": _opt(_is_str)},
    "applications": {
        "jobseekerId": _is_int,
        "projectId": _is_int,
        "stageId": _is_int,
        "status": _enum(*APPLICATION_STATUSES),
        "rejectionReasonId": _opt(_is_int),
        "appliedAt": _is_ts,
        "createdAt": _is_ts,
        "updatedAt": _is_ts,
    },
    **dict.fromkeys(CODEBOOK_ENTITIES, CODEBOOK_ENTRY),
    "locations": {
        **CODEBOOK_ENTRY,
        "city": _opt(_is_str),
        "postalCode": _opt(_is_str),
        "countryCode": _opt(lambda v: isinstance(v, str) and len(v) == 2 and v.isascii() and v.isupper()),
    },
}
JOBSEEKER_FIELDS = tuple(k for k in JOBSEEKER_KEYS if k != "id")
JOBSEEKER_EXTRA: dict[str, Check] = {
    "tagIds": _list_of(_is_int),
    "createdAt": _is_ts,
    "updatedAt": _is_ts,
}


class BadBody(Exception):
    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


def _bad(message: str, fields: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "fields": fields or {}}, status_code=422)


def _table(tenant: Tenant, entity: str) -> EntityTable:
    if entity in CODEBOOK_ENTITIES:
        return tenant.codebooks[CODEBOOK_ENTITIES[entity][0]]
    table: EntityTable = getattr(tenant, entity)
    return table


def _normalise_timestamps(record: Record) -> None:
    for key in ("createdAt", "updatedAt", "openedAt", "closedAt", "appliedAt"):
        if isinstance(record.get(key), str):
            record[key] = format_ts(parse_ts(record[key]))


def _checked(tenant: Tenant, entity: str, record: Record, changes: Record) -> Record:
    """``record`` with ``changes`` applied, as stored: a bad body raises BadBody. A jobseeker's fields are stored
    as the API's writes store them (see ``_jobseeker_changes``); other entities' must already have their read shape."""
    if entity == "jobseekers":
        changes = _jobseeker_changes({**record, **changes}, changes)
    else:
        _check_schema(SCHEMAS[entity], changes)
    merged = {**record, **changes}
    _check_refs(tenant, entity, merged)
    if entity == "jobseekers" and changes.get("source") is not None:
        merged["source"] = resolve_source(tenant, SourceInput(source_id=changes["source"]["id"]))
    return merged


RESET_SCHEMA: dict[str, Check] = {"seed": _is_int, "size": _is_int}
RATE_LIMIT_SCHEMA: dict[str, Check] = {"perMinute": lambda v: v is None or (_is_int(v) and v >= 1)}


TIMESTAMP_KEYS = frozenset({"createdAt", "updatedAt", "openedAt", "closedAt", "appliedAt"})


def _reason(key: str, value: Any) -> str:
    """Why ``value`` fails its check: the API's reasons for a timestamp (spec §9), ``invalid`` for anything else."""
    if key in TIMESTAMP_KEYS:
        return "invalid_format" if isinstance(value, str) else "invalid_type"
    return "invalid"


def _check_schema(schema: dict[str, Check], changes: Record) -> None:
    fields = {key: "unknown_field" for key in changes if key not in schema and key != "id"}
    fields |= {key: _reason(key, value) for key, value in changes.items() if key in schema and not schema[key](value)}
    if fields:
        raise BadBody("invalid fields", fields)


def _jobseeker_changes(record: Record, changes: Record) -> Record:
    """The changes of a jobseeker (``record``: with them applied) as stored: each field the API's readers cover
    as ``JobseekerService.create`` stores it (texts trimmed, e-mail and phone types and the primary flag defaulted,
    an address with its five keys), the consent as its three fields, the source as ``{id, name}``, the tag ids as
    a sorted set."""
    ch = p.Checker()
    for key in changes:
        if key not in JOBSEEKER_FIELDS:
            ch.fail(key, "unknown_field")
    read = _read_stored_jobseeker(record, ch)
    for key, value in changes.items():
        # an address with nothing in it reads as null: its keys are known all the same
        shape = dict.fromkeys(ADDRESS_KEYS) if key == "address" else read.get(key)
        _unknown_keys(value, shape, key, ch)
    for key, check in JOBSEEKER_EXTRA.items():
        if key in changes and not check(changes[key]):
            ch.fail(key, _reason(key, changes[key]) if key in TIMESTAMP_KEYS else "invalid_type")
    if ch.fields:
        raise BadBody("invalid fields", ch.fields)
    stored = {key: read.get(key, value) for key, value in changes.items()}
    tag_ids = stored.get("tagIds")
    if isinstance(tag_ids, list):
        stored["tagIds"] = sorted(set(tag_ids))  # tag links are a set, kept in order as addTag keeps them
    return stored


def _read_stored_jobseeker(record: Record, ch: p.Checker) -> Record:
    fields = read_jobseeker(record, ch, prefix="", any_email=True)
    consent = p.mapping(record, "gdprConsent", ch, required=True)
    fields["gdprConsent"] = None if consent is None else read_consent(consent, ch)
    fields["source"] = _read_source_ref(record, ch)
    return fields


def _read_source_ref(record: Record, ch: p.Checker) -> Record | None:
    """``{id}`` or ``{id, name}``: a reference to a jobseekerSources entry, whose own name is the one stored."""
    source = p.mapping(record, "source", ch)
    if source is None:
        return None
    return {
        "id": p.integer(source, "id", ch, "source", required=True),
        "name": p.text(source, "name", ch, "source", max_length=100),
    }


def _unknown_keys(given: Any, read: Any, path: str, ch: p.Checker) -> None:
    """Reports the keys of a nested object (or of array entries) that its reader does not return: storing what
    the reader returns would silently drop them."""
    if isinstance(given, list) and isinstance(read, list) and read:
        for index, entry in enumerate(given):
            _unknown_keys(entry, read[0], f"{path}[{index}]", ch)
    elif isinstance(given, dict) and isinstance(read, dict):
        for key in given.keys() - read.keys():
            ch.fail(f"{path}.{key}", "unknown_field")


def _dangling(reference: Any, table: EntityTable) -> bool:
    """An optional reference (``None``: none) to no record of ``table``."""
    return reference is not None and reference not in table.records


def _not_found(dangling: dict[str, bool]) -> dict[str, str]:
    return {key: "not_found" for key, bad in dangling.items() if bad}


def _application_refs(tenant: Tenant, record: Record) -> dict[str, str]:
    jobseeker_id, project_id, stage_id = record["jobseekerId"], record["projectId"], record["stageId"]
    problems = _not_found(
        {
            "jobseekerId": _dangling(jobseeker_id, tenant.jobseekers),
            "projectId": _dangling(project_id, tenant.projects),
            "stageId": _dangling(stage_id, tenant.stages),
            "rejectionReasonId": _dangling(record["rejectionReasonId"], tenant.codebooks["rejectionReasons"]),
        }
    )
    problems |= {key: "required" for key in ("jobseekerId", "projectId") if record[key] is None}
    if stage_id is None and project_id in tenant.projects.records:
        problems["stageId"] = "required"  # no default: the project's pipeline has no first stage
    existing = tenant.applications_of.get(jobseeker_id, {}).get(project_id)
    if existing is not None and existing != record["id"]:
        problems["projectId"] = "already_applied"
    return problems


def _project_refs(tenant: Tenant, record: Record) -> dict[str, str]:
    codebooks = tenant.codebooks
    return _not_found(
        {
            "stageIds": any(s not in tenant.stages.records for s in record["stageIds"]),
            "hiringTeam": any(m["userId"] not in tenant.users.records for m in record["hiringTeam"]),
            "locationIds": any(i not in codebooks["locations"].records for i in record["locationIds"]),
            "departmentId": _dangling(record["departmentId"], codebooks["departments"]),
            "closeReasonId": _dangling(record["closeReasonId"], codebooks["projectCloseReasons"]),
        }
    )


def _user_refs(tenant: Tenant, record: Record) -> dict[str, str]:
    login = record["email"].strip().lower()
    taken = any(u["email"].lower() == login and u["id"] != record["id"] for u in tenant.users.records.values())
    return {"email": "already_used"} if taken else {}


def _jobseeker_refs(tenant: Tenant, record: Record) -> dict[str, str]:
    source = record["source"]
    return _not_found(
        {
            "tagIds": any(t not in tenant.tags.records for t in record["tagIds"]),
            "ownerUserId": _dangling(record["ownerUserId"], tenant.users),
            "source.id": source is not None and source["id"] not in tenant.codebooks["jobseekerSources"].records,
        }
    )


REFERENCES: dict[str, Callable[[Tenant, Record], dict[str, str]]] = {
    "applications": _application_refs,
    "projects": _project_refs,
    "users": _user_refs,
    "jobseekers": _jobseeker_refs,
}


REFERENCE_PROBLEMS = {"required": "references are missing", "not_found": "referenced records do not exist"}
CONFLICT = "the record conflicts with an existing one"


def _check_refs(tenant: Tenant, entity: str, record: Record) -> None:
    references = REFERENCES.get(entity)
    missing = references(tenant, record) if references is not None else {}
    if missing:
        raise BadBody(
            "; ".join(sorted({REFERENCE_PROBLEMS.get(reason, CONFLICT) for reason in missing.values()})), missing
        )


def _defaults(tenant: Tenant, entity: str, new_id: int, body: Record) -> Record:
    now = tenant.now_ts()
    if entity == "users":
        return {
            "id": new_id, "firstName": "Test", "lastName": f"User {new_id}", "email": f"user{new_id}@tenant.example",
            "role": "recruiter", "active": True, "apiAccess": False, "createdAt": now, "updatedAt": now,
        }  # fmt: skip
    if entity == "projects":
        status = body.get("status", "open")
        stages = sorted(tenant.stages.records.values(), key=lambda s: s["position"])
        return {
            "id": new_id, "code": f"P-{new_id}", "name": f"Project {new_id}", "description": None,
            "status": status, "closeReasonId": None, "visibility": "public", "employmentType": None,
            "experienceLevel": None, "salary": None, "weeklyHours": None, "remote": None, "departmentId": None,
            "locationIds": [], "hiringTeam": [], "stageIds": [s["id"] for s in stages if s["active"]],
            "openedAt": now if status != "draft" else None,
            "closedAt": now if status in FINISHED_PROJECT_STATUSES else None, "createdAt": now, "updatedAt": now,
        }  # fmt: skip
    if entity == "stages":
        position = max((s["position"] for s in tenant.stages.records.values()), default=0) + 1
        return {
            "id": new_id,
            "name": f"Stage {new_id}",
            "position": position,
            "kind": "regular",
            "active": True,
        }
    if entity == "tags":
        return {"id": new_id, "name": f"Tag {new_id}", "color": "#888888"}
    if entity in CODEBOOK_ENTITIES:
        entry = {"id": new_id, "name": f"{CODEBOOK_ENTITIES[entity][1]} {new_id}", "active": True}
        return entry | ({"city": None, "postalCode": None, "countryCode": None} if entity == "locations" else {})
    if entity == "applications":
        project_id = body.get("projectId")
        project = tenant.projects.get(project_id) if isinstance(project_id, int) else None
        stage = project["stageIds"][0] if project and project["stageIds"] else None
        created = body.get("createdAt") if isinstance(body.get("createdAt"), str) else now
        return {
            "id": new_id, "jobseekerId": None, "projectId": None, "stageId": stage, "status": "active",
            "rejectionReasonId": None, "appliedAt": created, "createdAt": now, "updatedAt": now,
        }  # fmt: skip
    return {
        "id": new_id, "salutation": None, "titleBefore": None, "titleAfter": None, "firstName": "Test",
        "lastName": f"Jobseeker {new_id}",
        "emails": [{"value": f"jobseeker{new_id}@example.test", "type": "private", "primary": True}],
        "phones": [], "address": None, "currentCompany": None, "currentPosition": None, "dateOfBirth": None,
        "availableFrom": None, "salaryExpectation": None, "source": None, "tagIds": [], "ownerUserId": None,
        "gdprConsent": {"given": False, "givenAt": None, "expiresAt": None}, "createdAt": now, "updatedAt": now,
    }  # fmt: skip


def _password(body: Record) -> str | None:
    """A user's ``password`` taken out of a control body (it is kept apart from the record, never shown)."""
    password = body.pop("password", None)
    if password is None or isinstance(password, str):
        return password
    raise BadBody("invalid fields", {"password": "invalid"})


def _insert(tenant: Tenant, entity: str, record: Record, password: str | None) -> None:
    if entity == "jobseekers":
        tenant.add_jobseeker(record)
    elif entity == "applications":
        tenant.add_application(record)
    else:
        _table(tenant, entity).insert(record)
    if entity == "users":
        tenant.passwords[record["id"]] = password


def _project_dates(before: Record, after: Record, given: Record, now: str) -> None:
    """Opening a project stamps ``openedAt`` (if it has none); closing or archiving it stamps ``closedAt`` (if it
    was open or a draft); opening it again or making it a draft clears ``closedAt``: unless the change (``given``)
    sets them, ``null`` included."""
    if before["status"] == after["status"]:
        return
    if after["status"] == "open" and after["openedAt"] is None and "openedAt" not in given:
        after["openedAt"] = now
    if "closedAt" not in given:
        if after["status"] in FINISHED_PROJECT_STATUSES and before["status"] not in FINISHED_PROJECT_STATUSES:
            after["closedAt"] = now
        elif after["status"] not in FINISHED_PROJECT_STATUSES:
            after["closedAt"] = None


class Controls:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    @property
    def tenant(self) -> Tenant:
        return self.emulator.tenant

    async def _body(self, request: Request) -> Any:
        try:
            return json_text.loads(await request.body() or b"{}")
        except ValueError as error:
            raise BadBody("body is not JSON") from error

    def routes(self) -> list[Route]:
        return [
            Route("/__emulator__/reset", self._guard(self.reset), methods=["POST"]),
            Route("/__emulator__/records/{entity}", self._guard(self.create), methods=["POST"]),
            Route("/__emulator__/records/{entity}/{record_id:int}", self._guard(self.update), methods=["PATCH"]),
            Route("/__emulator__/records/{entity}/{record_id:int}", self._guard(self.delete), methods=["DELETE"]),
            Route("/__emulator__/records/{entity}/{record_id:int}", self._guard(self.read), methods=["GET"]),
            Route("/__emulator__/tokens/expire", self._guard(self.expire_tokens), methods=["POST"]),
            Route("/__emulator__/rate-limit", self._guard(self.rate_limit), methods=["PUT"]),
            Route("/__emulator__/clock", self._guard(self.clock), methods=["POST"]),
            Route("/__emulator__/faults", self._guard(self.add_fault), methods=["POST"]),
            Route("/__emulator__/faults", self._guard(self.clear_faults), methods=["DELETE"]),
            Route("/__emulator__/counters", self._guard(self.counters), methods=["GET"]),
        ]

    @staticmethod
    def _guard(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def guarded(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except BadBody as error:
                return _bad(str(error), error.fields)
            return response

        return guarded

    async def reset(self, request: Request) -> Response:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise BadBody("body must be an object")
        _check_schema(RESET_SCHEMA, body)  # a typo must not pass as a default
        if not 0 <= body.get("size", 0) <= MAX_SIZE:
            raise BadBody(f"size must be from 0 to {MAX_SIZE}", {"size": "out_of_range"})
        try:
            self.emulator.reset(body.get("seed"), body.get("size"))
        except LoginTaken as taken:
            return JSONResponse({"error": str(taken)}, status_code=409)
        return Response(status_code=204)

    def _entity(self, request: Request) -> str:
        entity: str = request.path_params["entity"]
        return entity

    async def create(self, request: Request) -> Response:
        entity = self._entity(request)
        if entity not in ENTITIES:
            return JSONResponse({"error": f"unknown entity {entity}"}, status_code=404)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise BadBody("body must be an object")
        if any(key in body for key in READ_ONLY):
            raise BadBody("ids are set by the tenant", {k: "not_allowed" for k in READ_ONLY if k in body})
        tenant = self.tenant
        table = _table(tenant, entity)
        password = _password(body) if entity == "users" else None
        record = _checked(tenant, entity, _defaults(tenant, entity, table.last_id + 1, body), body)
        _normalise_timestamps(record)
        if entity in TIMESTAMPED and "createdAt" in body and "updatedAt" not in body:
            record["updatedAt"] = max(record["updatedAt"], record["createdAt"])  # written now, as the UI would
        if entity in TIMESTAMPED and "updatedAt" in body and "createdAt" not in body:
            record["createdAt"] = min(record["createdAt"], record["updatedAt"])
        if entity in TIMESTAMPED and record["updatedAt"] < record["createdAt"]:
            raise BadBody("updatedAt is before createdAt", {"updatedAt": "before_created_at"})
        table.next_id()
        _insert(tenant, entity, record, password)
        return JSONResponse(record, status_code=201)

    def _existing(self, request: Request) -> tuple[str, EntityTable, Record] | Response:
        entity = self._entity(request)
        if entity not in ENTITIES:
            return JSONResponse({"error": f"unknown entity {entity}"}, status_code=404)
        table = _table(self.tenant, entity)
        record = table.get(request.path_params["record_id"])
        if record is None:
            return JSONResponse({"error": "record not found"}, status_code=404)
        return entity, table, record

    async def read(self, request: Request) -> Response:
        found = self._existing(request)
        return found if isinstance(found, Response) else JSONResponse(found[2])

    async def update(self, request: Request) -> Response:
        found = self._existing(request)
        if isinstance(found, Response):
            return found
        entity, table, record = found
        body = await self._body(request)
        if not isinstance(body, dict):
            raise BadBody("body must be an object")
        if any(key in body for key in NEVER_PATCHED):
            raise BadBody(
                "id, createdAt and updatedAt cannot be changed",
                {k: "not_allowed" for k in NEVER_PATCHED if k in body},
            )
        tenant = self.tenant
        password = _password(body) if entity == "users" else None
        changed = _checked(tenant, entity, record, body)
        _normalise_timestamps(changed)
        if entity == "projects":
            _project_dates(record, changed, body, tenant.now_ts())
        if entity == "users" and password is not None:
            tenant.passwords[record["id"]] = password
        if changed == record:
            return JSONResponse(record)
        self._replace(entity, table, record, changed)
        return JSONResponse(record)

    def _replace(self, entity: str, table: EntityTable, record: Record, changed: Record) -> None:
        tenant = self.tenant
        if entity == "jobseekers":
            tenant.unindex_emails(record)
        if entity == "applications":
            tenant.applications_of.get(record["jobseekerId"], {}).pop(record["projectId"], None)
        changed.pop("updatedAt", None)
        record.update(changed)
        if entity == "users" and not record["active"]:
            tenant.revoke_tokens(record["id"])
        if entity == "jobseekers":
            tenant.index_emails(record)
        if entity == "applications":
            tenant.applications_of.setdefault(record["jobseekerId"], {})[record["projectId"]] = record["id"]
        if entity == "sources":
            tenant.rename_source(record["id"], record["name"])
        tenant.touch(table, record)

    async def delete(self, request: Request) -> Response:
        found = self._existing(request)
        if isinstance(found, Response):
            return found
        entity, _, record = found
        tenant = self.tenant
        record_id = record["id"]
        if entity == "stages" and tenant.stage_in_use(record_id):
            return JSONResponse({"error": "the stage is in a pipeline or used by an application"}, status_code=409)
        if entity in CODEBOOK_ENTITIES:  # RECRU deactivates codebook entries, never deletes them
            record["active"] = False
        else:
            if entity == "users" and record_id == API_USER_ID:
                self.emulator.keep_api_credentials()
            deleters: dict[str, Callable[[int], Any]] = {
                "users": tenant.delete_user,
                "projects": tenant.delete_project,
                "stages": tenant.stages.remove,
                "tags": tenant.delete_tag,
                "jobseekers": tenant.delete_jobseeker,
                "applications": tenant.delete_application,
            }
            deleters[entity](record_id)
        return Response(status_code=204)

    async def expire_tokens(self, request: Request) -> Response:
        self.tenant.expire_tokens()
        return Response(status_code=204)

    async def rate_limit(self, request: Request) -> Response:
        body = await self._body(request)
        if not isinstance(body, dict) or "perMinute" not in body:
            raise BadBody("expected {perMinute: int | null}")
        _check_schema(RATE_LIMIT_SCHEMA, body)
        per_minute = body["perMinute"]
        self.emulator.limiter.per_minute = per_minute
        return JSONResponse({"perMinute": per_minute})

    async def clock(self, request: Request) -> Response:
        body = await self._body(request)
        clock = self.tenant.clock
        if not isinstance(body, dict) or len(body) != 1:
            raise BadBody("expected one of {freeze: ts} | {advanceSeconds: n} | {release: true}")
        if "freeze" in body:
            _freeze(clock, body["freeze"])
        elif "advanceSeconds" in body:
            _advance(clock, body["advanceSeconds"])
        elif body.get("release") is True:
            clock.release()
        else:
            raise BadBody("expected one of {freeze: ts} | {advanceSeconds: n} | {release: true}")
        return JSONResponse({"serverTime": clock.now_ts(), "frozen": clock.frozen})

    async def add_fault(self, request: Request) -> Response:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise BadBody("body must be an object")
        fault = _read_fault(body)
        self.emulator.faults.add(fault)
        return JSONResponse({"faults": len(self.emulator.faults.faults)})

    async def clear_faults(self, request: Request) -> Response:
        self.emulator.faults.clear()
        return Response(status_code=204)

    async def counters(self, request: Request) -> Response:
        return JSONResponse(self.emulator.counters.as_json())


def _freeze(clock: TenantClock, value: Any) -> None:
    try:
        moment: datetime = parse_ts(value)
    except (TypeError, ValueError) as error:
        raise BadBody(
            f"freeze needs a timestamp with an offset, within years 1..9999 in UTC ({error})",
            {"freeze": "invalid_format"},
        ) from error
    if moment - clock.now() > timedelta(seconds=MAX_ADVANCE):  # a sum could overflow near year 9999
        raise BadBody(f"freeze moves the clock more than a century ({MAX_ADVANCE} s) ahead", {"freeze": "invalid"})
    clock.freeze(moment)


def _advance(clock: TenantClock, seconds: Any) -> None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= MAX_ADVANCE:
        raise BadBody(f"advanceSeconds must be a number from 0 to {MAX_ADVANCE}", {"advanceSeconds": "invalid"})
    try:
        clock.advance(seconds)
    except OverflowError as error:
        raise BadBody("advanceSeconds moves the clock past year 9999", {"advanceSeconds": "invalid"}) from error


def _read_fault(body: Record) -> Fault:
    problems: dict[str, str] = {}
    allowed = {"kind", "method", "count", "share", "retryAfter", "delaySeconds"}
    problems |= {key: "unknown_field" for key in body if key not in allowed}
    kind = body.get("kind")
    if kind not in KINDS:
        problems["kind"] = "invalid_enum"
    method = body.get("method")
    if method is not None and not isinstance(method, str):
        problems["method"] = "invalid_type"
    elif method is not None and method not in KNOWN_METHODS:  # a misspelt name would never strike
        problems["method"] = "invalid_enum"
    count = body.get("count")
    if count is not None and (not _is_int(count) or count < 1):
        problems["count"] = "invalid"
    share = body.get("share")
    if share is not None and (isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1):
        problems["share"] = "invalid"
    retry_after = body.get("retryAfter", 1)
    if not _is_int(retry_after) or not 1 <= retry_after <= MAX_RETRY_AFTER.get(str(kind), MAX_MAINTENANCE):
        problems["retryAfter"] = "invalid"
    delay = body.get("delaySeconds", 2)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= MAX_DELAY:
        problems["delaySeconds"] = "invalid"
    if problems:
        raise BadBody("invalid fault", problems)
    return Fault(str(kind), method, count, None if share is None else float(share), retry_after, float(delay))
