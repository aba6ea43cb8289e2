"""Write methods (spec §6, §9): creating jobseekers and applications, assigning tags.

Each call first reads and checks all params (-32602), then checks the rules in the order of §9 (referenced
records exist, project open, stage in pipeline, conflicts), and only then changes anything, so a call that fails
creates nothing: no jobseeker, no application, no source entry, no attachment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recru_emulator import params as p
from recru_emulator.errors import PROJECT_NOT_OPEN, RpcError, conflict, invalid_params, not_found
from recru_emulator.state import Tenant
from recru_emulator.tenant_data import JOBSEEKER_KEYS, Record

SALUTATIONS = ("mr", "ms", "diverse")
EMAIL_TYPES = ("private", "work")
PHONE_TYPES = ("mobile", "private", "work")
SALARY_PERIODS = ("year", "month")
ATTACHMENT_TYPES = ("cv", "cover_letter", "certificate", "other")
CONTENT_TYPES = (
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/rtf",
    "text/plain",
    "image/jpeg",
    "image/png",
)
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CALL_BYTES = 25 * 1024 * 1024
MAX_FILES = 10

Params = dict[str, Any]


@dataclass
class SourceInput:
    source_id: int | None = None
    name: str | None = None


@dataclass
class AttachmentInput:
    type: str
    file_name: str
    content_type: str
    data: bytes


@dataclass
class ExtrasInput:
    """What both creates take beside the jobseeker: source, consent and attachments."""

    source: SourceInput | None = None
    consent: dict[str, Any] | None = None
    attachments: list[AttachmentInput] = field(default_factory=list)


# --- reading params -----------------------------------------------------------------------------------------


def _contacts(
    raw: dict[str, Any],
    key: str,
    types: tuple[str, ...],
    ch: p.Checker,
    prefix: str,
    *,
    required: bool,
    any_email: bool = False,
) -> list[Record]:
    entries = p.array(raw, key, ch, prefix, required=required) or []
    contacts: list[Record] = []
    for index, entry in enumerate(entries):
        path = f"{p.join(prefix, key)}[{index}]"
        if not isinstance(entry, dict):
            ch.fail(path, "invalid_type")
            continue
        if key == "emails" and not any_email:
            value = p.email(entry, "value", ch, path)
        else:
            value = p.text(entry, "value", ch, path, required=True, max_length=254 if key == "emails" else 50)
        kind = p.enum(entry, "type", types, ch, path) or types[0]
        primary = p.boolean(entry, "primary", ch, path)
        if value is not None:
            contacts.append({"value": value, "type": kind, "primary": bool(primary)})
    if key == "emails":
        contacts = _once_each(contacts)
    if contacts and sum(c["primary"] for c in contacts) > 1:
        ch.fail(p.join(prefix, key), "not_allowed")
    if contacts and not any(c["primary"] for c in contacts):
        contacts[0]["primary"] = True
    return contacts


def _once_each(emails: list[Record]) -> list[Record]:
    """Each address once, compared case-insensitively as the duplicate check compares them: its first occurrence,
    primary if any occurrence is."""
    kept: dict[str, Record] = {}
    for email in emails:
        first = kept.setdefault(email["value"].lower(), email)
        first["primary"] = first["primary"] or email["primary"]
    return list(kept.values())


ADDRESS_KEYS = ("street", "postalCode", "city", "region", "countryCode")


def _address(raw: dict[str, Any], ch: p.Checker, prefix: str) -> Record | None:
    address = p.mapping(raw, "address", ch, prefix)
    if address is None:
        return None
    path = p.join(prefix, "address")
    country = p.text(address, "countryCode", ch, path, max_length=2)
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        ch.fail(f"{path}.countryCode", "invalid_format")
    fields = {
        "street": p.text(address, "street", ch, path),
        "postalCode": p.text(address, "postalCode", ch, path, max_length=20),
        "city": p.text(address, "city", ch, path, max_length=100),
        "region": p.text(address, "region", ch, path, max_length=100),
        "countryCode": country.upper() if country else None,
    }
    # §1: an empty optional field is null, and an address with nothing in it is empty
    return fields if any(value is not None for value in fields.values()) else None


def read_salary(
    raw: dict[str, Any],
    ch: p.Checker,
    prefix: str,
    key: str = "salaryExpectation",
    periods: tuple[str, ...] = SALARY_PERIODS,
) -> Record | None:
    """A salary at ``key``: a jobseeker's expectation, or (with the hourly period) a project's salary."""
    salary = p.mapping(raw, key, ch, prefix)
    if salary is None:
        return None
    path = p.join(prefix, key)
    currency = p.text(salary, "currency", ch, path, max_length=3)
    if currency is not None and not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        ch.fail(f"{path}.currency", "invalid_format")
    return {
        "amount": p.number(salary, "amount", ch, path, required=True),
        "currency": currency.upper() if currency else None,
        "period": p.enum(salary, "period", periods, ch, path, required=True),
    }


def read_jobseeker(raw: dict[str, Any], ch: p.Checker, prefix: str = "jobseeker", *, any_email: bool = False) -> Record:
    """The jobseeker input of §6 as the fields of a new record (without ids, tags, source, consent, timestamps);
    ``any_email``: addresses of any text, as a recruiter's UI (the controls) may store them, not only valid ones."""
    return {
        "salutation": p.enum(raw, "salutation", SALUTATIONS, ch, prefix),
        "titleBefore": p.text(raw, "titleBefore", ch, prefix, max_length=50),
        "titleAfter": p.text(raw, "titleAfter", ch, prefix, max_length=50),
        "firstName": p.text(raw, "firstName", ch, prefix, required=True, max_length=100),
        "lastName": p.text(raw, "lastName", ch, prefix, required=True, max_length=100),
        "emails": _contacts(raw, "emails", EMAIL_TYPES, ch, prefix, required=True, any_email=any_email),
        "phones": _contacts(raw, "phones", PHONE_TYPES, ch, prefix, required=False),
        "address": _address(raw, ch, prefix),
        "currentCompany": p.text(raw, "currentCompany", ch, prefix),
        "currentPosition": p.text(raw, "currentPosition", ch, prefix),
        "dateOfBirth": p.day(raw, "dateOfBirth", ch, prefix),
        "availableFrom": p.day(raw, "availableFrom", ch, prefix),
        "salaryExpectation": read_salary(raw, ch, prefix),
        "ownerUserId": p.integer(raw, "ownerUserId", ch, prefix),
    }


def _read_source(params: Params, ch: p.Checker) -> SourceInput | None:
    raw = p.mapping(params, "source", ch)
    if raw is None:
        return None
    if raw.get("id") is not None and raw.get("name") is not None:
        ch.fail("source", "not_allowed")
        return None
    if raw.get("id") is not None:
        return SourceInput(source_id=p.integer(raw, "id", ch, "source"))
    name = p.text(raw, "name", ch, "source", required=True, max_length=100)
    return SourceInput(name=name) if name else None


def read_consent(raw: dict[str, Any], ch: p.Checker, prefix: str = "gdprConsent") -> Record:
    """A consent's three fields, each of its type and format (``givenAt`` in the ``Z`` form); the rules of §6
    (future expiry, no expiry without consent) are the caller's."""
    return {
        "given": p.boolean(raw, "given", ch, prefix, required=True),
        "givenAt": p.timestamp(raw, "givenAt", ch, prefix),
        "expiresAt": p.day(raw, "expiresAt", ch, prefix),
    }


def _read_consent(tenant: Tenant, params: Params, ch: p.Checker) -> Record | None:
    raw = p.mapping(params, "gdprConsent", ch)
    if raw is None:
        return None
    consent = read_consent(raw, ch)
    given, given_at, expires_at = consent["given"], consent["givenAt"], consent["expiresAt"]
    if given and raw.get("expiresAt") is None:  # §6: given needs an expiry after today, "else must_be_future_date"
        ch.fail("gdprConsent.expiresAt", "must_be_future_date")
    if given is False and raw.get("expiresAt") is not None:
        ch.fail("gdprConsent.expiresAt", "not_allowed")
    if given and expires_at is not None and expires_at <= tenant.clock.now().date().isoformat():
        ch.fail("gdprConsent.expiresAt", "must_be_future_date")
    if given is None:
        return None
    if not given:
        return {"given": False, "givenAt": None, "expiresAt": None}
    return {"given": True, "givenAt": given_at or tenant.now_ts(), "expiresAt": expires_at}


def _read_attachments(params: Params, ch: p.Checker) -> list[AttachmentInput]:
    entries = p.array(params, "attachments", ch) or []
    if len(entries) > MAX_FILES:
        ch.fail("attachments", "too_many")
    result: list[AttachmentInput] = []
    total_bytes = 0
    for index, entry in enumerate(entries):
        path = f"attachments[{index}]"
        if not isinstance(entry, dict):
            ch.fail(path, "invalid_type")
            continue
        kind = p.enum(entry, "type", ATTACHMENT_TYPES, ch, path, required=True)
        file_name = p.text(entry, "fileName", ch, path, required=True, max_length=255)
        content_type = p.text(entry, "contentType", ch, path, required=True)
        if content_type is not None and content_type.lower() not in CONTENT_TYPES:
            ch.fail(f"{path}.contentType", "unsupported_content_type")
            content_type = None
        data = p.base64_bytes(entry, "data", ch, path)
        total_bytes += len(data or b"")
        if data is not None and len(data) > MAX_FILE_BYTES:
            ch.fail(f"{path}.data", "file_too_large")
            data = None
        if kind and file_name and content_type and data is not None:
            result.append(AttachmentInput(kind, file_name, content_type.lower(), data))
    if total_bytes > MAX_CALL_BYTES:
        ch.fail("attachments", "file_too_large")
    return result


def _read_extras(tenant: Tenant, params: Params, ch: p.Checker) -> ExtrasInput:
    return ExtrasInput(
        source=_read_source(params, ch),
        consent=_read_consent(tenant, params, ch),
        attachments=_read_attachments(params, ch),
    )


# --- rules ------------------------------------------------------------------------------------------------


def _check_references(tenant: Tenant, owner_user_id: int | None, source: SourceInput | None) -> None:
    if owner_user_id is not None and owner_user_id not in tenant.users.records:
        raise not_found("user", owner_user_id)
    sources = tenant.codebooks["jobseekerSources"].records
    if source is not None and source.source_id is not None and source.source_id not in sources:
        raise not_found("source", source.source_id)


def _duplicate_owner(tenant: Tenant, jobseeker: Record) -> int | None:
    owners: set[int] = set()
    for email in jobseeker["emails"]:
        owners |= tenant.jobseekers_with_email(email["value"])
    return min(owners) if owners else None


# --- changes ----------------------------------------------------------------------------------------------


def resolve_source(tenant: Tenant, source: SourceInput) -> Record:
    """The codebook entry for the source input, creating one for an unknown name."""
    sources = tenant.codebooks["jobseekerSources"]
    if source.source_id is not None:
        entry = sources.records[source.source_id]
    else:
        assert source.name is not None
        wanted = source.name.casefold()
        found = next((e for e in sources.records.values() if e["name"].strip().casefold() == wanted), None)
        entry = found or {"id": sources.next_id(), "name": source.name, "active": True}
        if found is None:
            sources.insert(entry)
    return {"id": entry["id"], "name": entry["name"]}


def _apply_extras(tenant: Tenant, jobseeker: Record, extras: ExtrasInput, application_id: int | None) -> bool:
    """Write source (only if none yet), consent and attachments on a jobseeker; True if it changed."""
    changed = False
    if extras.source is not None and jobseeker["source"] is None:
        jobseeker["source"] = resolve_source(tenant, extras.source)
        changed = True
    if extras.consent is not None and extras.consent != jobseeker["gdprConsent"]:
        jobseeker["gdprConsent"] = extras.consent
        changed = True
    now = tenant.now_ts()
    for attachment in extras.attachments:
        record = {
            "id": tenant.attachments.next_id(),
            "jobseekerId": jobseeker["id"],
            "applicationId": application_id,
            "type": attachment.type,
            "fileName": attachment.file_name,
            "contentType": attachment.content_type,
            "size": len(attachment.data),
            "createdAt": now,
        }
        tenant.add_attachment(record, attachment.data)
        changed = True
    return changed


def _new_jobseeker(tenant: Tenant, fields: Record) -> Record:
    now = tenant.now_ts()
    record: Record = {"id": tenant.jobseekers.next_id(), **fields}
    record.update(
        source=None,
        tagIds=[],
        gdprConsent={"given": False, "givenAt": None, "expiresAt": None},
        createdAt=now,
        updatedAt=now,
    )
    return {key: record[key] for key in JOBSEEKER_KEYS}


# --- methods ----------------------------------------------------------------------------------------------


def create_jobseeker(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    raw = p.mapping(params, "jobseeker", ch, required=True)
    fields = read_jobseeker(raw, ch) if raw is not None else None
    extras = _read_extras(tenant, params, ch)
    ch.done()
    assert fields is not None
    _check_references(tenant, fields["ownerUserId"], extras.source)
    existing = _duplicate_owner(tenant, fields)
    if existing is not None:
        raise conflict(existing, "A jobseeker with this e-mail already exists")
    jobseeker = _new_jobseeker(tenant, fields)
    _apply_extras(tenant, jobseeker, extras, None)
    tenant.add_jobseeker(jobseeker)
    return {"id": jobseeker["id"], "createdAt": jobseeker["createdAt"]}


def create_application(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    project_id = p.integer(params, "projectId", ch, required=True)
    jobseeker_id = p.integer(params, "jobseekerId", ch)
    raw = p.mapping(params, "jobseeker", ch)
    if params.get("jobseekerId") is not None and params.get("jobseeker") is not None:
        ch.fail("jobseeker", "not_allowed")
    elif params.get("jobseekerId") is None and params.get("jobseeker") is None:
        ch.fail("jobseeker", "required")
    fields = read_jobseeker(raw, ch) if raw is not None else None
    stage_id = p.integer(params, "stageId", ch)
    applied_at = p.timestamp(params, "appliedAt", ch)
    extras = _read_extras(tenant, params, ch)
    ch.done()
    assert project_id is not None

    project = tenant.projects.get(project_id)
    if project is None:
        raise not_found("project", project_id)
    existing_jobseeker = tenant.jobseekers.get(jobseeker_id) if jobseeker_id is not None else None
    if jobseeker_id is not None and existing_jobseeker is None:
        raise not_found("jobseeker", jobseeker_id)
    _check_references(tenant, fields["ownerUserId"] if fields else None, extras.source)
    if project["status"] != "open":
        raise RpcError(PROJECT_NOT_OPEN, {"projectId": project_id, "status": project["status"]})
    stage_id = _stage_in_pipeline(project, stage_id)
    if fields is not None:
        duplicate = _duplicate_owner(tenant, fields)
        if duplicate is not None:
            raise conflict(duplicate, "A jobseeker with this e-mail already exists")
    elif jobseeker_id is not None:
        existing_application = tenant.applications_of.get(jobseeker_id, {}).get(project_id)
        if existing_application is not None:
            raise conflict(existing_application, "The jobseeker has already applied to this project")

    if existing_jobseeker is None:
        assert fields is not None
        jobseeker = _new_jobseeker(tenant, fields)
        tenant.add_jobseeker(jobseeker)
    else:
        jobseeker = existing_jobseeker
    now = tenant.now_ts()
    application = {
        "id": tenant.applications.next_id(),
        "jobseekerId": jobseeker["id"],
        "projectId": project_id,
        "stageId": stage_id,
        "status": "active",
        "rejectionReasonId": None,
        "appliedAt": applied_at or now,
        "createdAt": now,
        "updatedAt": now,
    }
    tenant.add_application(application)
    if _apply_extras(tenant, jobseeker, extras, application["id"]) and existing_jobseeker is not None:
        tenant.touch(tenant.jobseekers, jobseeker)
    return {"id": application["id"], "jobseekerId": jobseeker["id"], "createdAt": now}


def _stage_in_pipeline(project: Record, stage_id: int | None) -> int:
    """The stage given, or by default the pipeline's first; one outside the pipeline → -32602 ``not_allowed``,
    and so is the default of an empty pipeline, which has no stage to put an application on (§9)."""
    pipeline: list[int] = project["stageIds"]
    chosen = stage_id if stage_id is not None else next(iter(pipeline), None)
    if chosen is None or chosen not in pipeline:
        raise invalid_params({"stageId": "not_allowed"})
    return chosen


def _tag_params(tenant: Tenant, params: Params) -> tuple[Record, int]:
    ch = p.Checker()
    jobseeker_id = p.integer(params, "jobseekerId", ch, required=True)
    tag_id = p.integer(params, "tagId", ch, required=True)
    ch.done()
    assert jobseeker_id is not None
    assert tag_id is not None
    jobseeker = tenant.jobseekers.get(jobseeker_id)
    if jobseeker is None:
        raise not_found("jobseeker", jobseeker_id)
    if tag_id not in tenant.tags.records:
        raise not_found("tag", tag_id)
    return jobseeker, tag_id


def add_tag(tenant: Tenant, params: Params) -> dict[str, Any]:
    jobseeker, tag_id = _tag_params(tenant, params)
    if tag_id not in jobseeker["tagIds"]:
        jobseeker["tagIds"] = sorted([*jobseeker["tagIds"], tag_id])
        tenant.touch(tenant.jobseekers, jobseeker)
    return {"jobseekerId": jobseeker["id"], "tagIds": jobseeker["tagIds"]}


def remove_tag(tenant: Tenant, params: Params) -> dict[str, Any]:
    jobseeker, tag_id = _tag_params(tenant, params)
    if tag_id in jobseeker["tagIds"]:
        jobseeker["tagIds"] = [t for t in jobseeker["tagIds"] if t != tag_id]
        tenant.touch(tenant.jobseekers, jobseeker)
    return {"jobseekerId": jobseeker["id"], "tagIds": jobseeker["tagIds"]}
