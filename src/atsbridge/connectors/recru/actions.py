"""Write actions against RECRU: create an application (and its candidate), add and remove a tag.

- **Existing candidates.** The candidate is looked up by e-mail first (``JobseekerService.list {email}``); if RECRU
  knows the address, the application is attached to that jobseeker and none of its fields is written (a warning
  names the fields given with a value it holds otherwise): not its source either (unified-api §5: never
  overwritten; a warning says so if the request gave one). Only a consent
  the request gives replaces the jobseeker's (RECRU keeps an existing consent only when none is given), and the
  attachments are added to it. A jobseeker that appears between the look-up and the create
  (RECRU answers -32009 with ``existingId``) is handled the same way.
- **Never a duplicate.** A create whose outcome is unknown (timeout, dropped connection, 500) is not repeated
  blindly: RECRU is asked what it stored (the jobseeker by e-mail, then its application for the project) and the
  create is repeated only if nothing is there — at most ``CREATE_ATTEMPTS`` times, then RECRU counts as unavailable.
- **RECRU's refusals name our fields.** Its -32602 paths (``jobseeker.emails[1].value``) are translated back to the
  request's (``candidate.additional_email_addresses[0].email_address``).
- **What RECRU cannot store** (gender, social links, sourced_by, screening answers, other tools' remote_fields)
  is dropped with a warning naming the field.
- **Tags.** RECRU cannot create tags: a name is matched (trimmed, case-insensitive) against ``TagService.list``.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeGuard

from atsbridge.connectors.base import ActionRefused, PreparedFile, UploadLimits
from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import (
    RecruConflict,
    RecruError,
    RecruInvalidParams,
    RecruNotFound,
    RecruOutcomeUnknown,
    RecruProjectNotOpen,
)
from atsbridge.unified.inputs import ActionExtras, CandidateInput, SourceInput

MiB = 1024 * 1024
UPLOAD_LIMITS = UploadLimits(
    max_file_bytes=10 * MiB,
    max_total_bytes=25 * MiB,
    max_files=10,
    content_types=frozenset(
        {
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.oasis.opendocument.text",
            "application/rtf",
            "text/plain",
            "image/jpeg",
            "image/png",
        }
    ),
)
ATTACHMENT_TYPES = {"CV": "cv", "COVER_LETTER": "cover_letter", "OTHER": "other"}
EMAIL_TYPES = {"PERSONAL": "private", "WORK": "work", "OTHER": "private"}
PHONE_TYPES = {"PERSONAL": "private", "WORK": "work", "OTHER": "mobile"}
UNSTORABLE = ("gender", "social_links")
UNSTORABLE_EXTRAS = ("sourced_by", "screening_question_answers", "remote_fields")
CREATE_ATTEMPTS = 3
APPLIED_ALREADY = "This candidate has already applied to this job."
SOURCE_NAME_MAX = 100
"""RECRU's limit of a source name (its `too_long`)."""


@dataclass
class NewApplication:
    """An application to create in RECRU, from the unified input, with RECRU ids resolved."""

    project_id: int
    candidate: CandidateInput
    extras: ActionExtras
    files: list[PreparedFile]
    source: dict[str, Any]
    stage_id: int | None = None


@dataclass
class CreatedApplication:
    application_id: int
    jobseeker_id: int
    existing_candidate: bool
    warnings: list[str] = field(default_factory=list)


def unstorable_warnings(candidate: CandidateInput, extras: ActionExtras, *, existing: bool) -> list[str]:
    """A warning for each given field that is not written: RECRU has no place for it, or another field given
    with it wins (a source's ``id`` over its name; a consent not given has no expiry), or the candidate existed
    (``existing``: its source is never written)."""
    dropped = [f"candidate.{name}" for name in UNSTORABLE if getattr(candidate, name)]
    dropped += [name for name in UNSTORABLE_EXTRAS if getattr(extras, name)]
    warnings = [f"{name} was not written: RECRU cannot store it." for name in dropped]
    source, consent = extras.source, extras.gdpr_consent
    if source is not None and existing:
        warnings.append(
            "source was not written: the candidate already existed in RECRU, and an existing candidate's source is "
            "never written."
        )
    elif source is not None and _given(source.id):
        warnings += [f"source.{name} was not written: source.id was given and wins." for name in ("name", "unified_key")
                     if getattr(source, name)]  # fmt: skip
    elif source is not None and not _source_name(source):
        blank = [f"source.{name}" for name in ("id", "name", "unified_key") if getattr(source, name) is not None]
        if blank:
            were = "was" if len(blank) == 1 else "were"
            warnings.append(f"{' and '.join(blank)} {were} blank: the integration's source label was written instead.")
    if consent is not None and consent.given is False and consent.expires_at is not None:
        warnings.append("gdpr_consent.expires_at was not written: consent was not given.")
    return warnings


def _emails(candidate: CandidateInput) -> list[tuple[str, dict[str, Any]]]:
    """RECRU's ``emails`` (the primary first, each address once, whatever its case), each with its unified field."""
    emails = [("candidate.email_address", {"value": candidate.email_address, "type": "private", "primary": True})]
    seen = {candidate.email_address.lower()}
    for i, e in enumerate(candidate.additional_email_addresses or []):
        if e.email_address.lower() not in seen:
            seen.add(e.email_address.lower())
            field = f"candidate.additional_email_addresses[{i}].email_address"
            emails.append((field, {"value": e.email_address, "type": EMAIL_TYPES[e.type], "primary": False}))
    return emails


def _phones(candidate: CandidateInput) -> list[tuple[str, dict[str, Any]]]:
    """RECRU's ``phones`` (``phone_number`` first and primary), each with its unified field."""
    phones = []
    if candidate.phone_number:
        phones.append(("candidate.phone_number", {"value": candidate.phone_number, "type": "mobile", "primary": True}))
    phones += [
        (
            f"candidate.additional_phone_numbers[{i}].phone_number",
            {"value": p.phone_number, "type": PHONE_TYPES[p.type], "primary": not candidate.phone_number and i == 0},
        )
        for i, p in enumerate(candidate.additional_phone_numbers or [])
    ]
    return phones


def jobseeker_params(candidate: CandidateInput) -> dict[str, Any]:
    """RECRU's jobseeker input for a unified candidate (recru-mapping.md, writes)."""
    location = candidate.location
    salary = candidate.salary_expectations
    return {
        "firstName": candidate.first_name,
        "lastName": candidate.last_name,
        "emails": [entry for _, entry in _emails(candidate)],
        "phones": [entry for _, entry in _phones(candidate)],
        "address": None
        if location is None
        else {
            "street": location.street_1,
            "postalCode": location.zip_code,
            "city": location.city,
            "region": location.state,
            "countryCode": location.country.upper(),
        },
        "currentCompany": candidate.company,
        "currentPosition": candidate.title,
        "availableFrom": candidate.availability_date.date().isoformat() if candidate.availability_date else None,
        "salaryExpectation": None
        if salary is None
        else {"amount": salary.amount, "currency": None, "period": salary.period.lower()},
    }


# RECRU param paths (prefixes) → the unified request fields they were made from.
UNIFIED_FIELDS = {
    "jobseeker.firstName": "candidate.first_name",
    "jobseeker.lastName": "candidate.last_name",
    "jobseeker.currentCompany": "candidate.company",
    "jobseeker.currentPosition": "candidate.title",
    "jobseeker.availableFrom": "candidate.availability_date",
    "jobseeker.salaryExpectation": "candidate.salary_expectations",
    "jobseeker.address.street": "candidate.location.street_1",
    "jobseeker.address.postalCode": "candidate.location.zip_code",
    "jobseeker.address.city": "candidate.location.city",
    "jobseeker.address.region": "candidate.location.state",
    "jobseeker.address.countryCode": "candidate.location.country",
    "jobseeker.address": "candidate.location",
    "gdprConsent.expiresAt": "gdpr_consent.expires_at",
    "gdprConsent": "gdpr_consent",
    "stageId": "stage_id",
    "projectId": "job_id",
    "source": "source",
}
ATTACHMENT_FIELDS = {"fileName": "name", "contentType": "content_type", "data": "data", "type": "type"}
_CONTACT_PATH = re.compile(r"jobseeker\.(emails|phones)\[(\d+)\]")
_ATTACHMENT_PATH = re.compile(r"attachments\[(\d+)\]\.(\w+)")


def unified_field(path: str, candidate: CandidateInput) -> str:
    """The request field a RECRU param path stands for (``jobseeker.emails[1].value`` →
    ``candidate.additional_email_addresses[0].email_address``); RECRU's own path if none is known."""
    if contact := _CONTACT_PATH.match(path):
        entries = _emails(candidate) if contact[1] == "emails" else _phones(candidate)
        index = int(contact[2])
        return entries[index][0] if index < len(entries) else path
    if attachment := _ATTACHMENT_PATH.fullmatch(path):
        return f"attachments[{attachment[1]}].{ATTACHMENT_FIELDS.get(attachment[2], attachment[2])}"
    prefix = next((p for p in UNIFIED_FIELDS if path == p or path.startswith(p + ".")), None)
    return path if prefix is None else UNIFIED_FIELDS[prefix] + path.removeprefix(prefix)


def source_params(source: SourceInput | None, label: str) -> dict[str, Any]:
    """RECRU's source input: the request's ``id``, ``name`` or ``unified_key`` (matched as a name), else the
    integration's source label (at most RECRU's limit: the store cuts the default, the environment's name)."""
    if source is not None and _given(source.id):
        if not (source.id.strip().isascii() and source.id.strip().isdigit()):  # "١" is a digit to Python
            raise ActionRefused("input_invalid", "source.id: a RECRU source id is a number.")
        return {"id": int(source.id)}
    return {"name": _source_name(source) or label}


def _given(value: str | None) -> TypeGuard[str]:
    """Whether a text input says something: given, and not blank."""
    return value is not None and bool(value.strip())


def _source_name(source: SourceInput | None) -> str | None:
    """The source's ``name``, else its ``unified_key`` (matched as a name), trimmed; None if both are blank."""
    if source is None:
        return None
    return (source.name or "").strip() or (source.unified_key or "").strip() or None


def consent_params(extras: ActionExtras, today: date) -> dict[str, Any] | None:
    """RECRU's consent input, or ``None`` when the request gives none; refuses a given consent without a future
    expiry (RECRU would refuse it too, but only after we had uploaded everything), and an expiry without saying
    whether consent was given: consent is never assumed."""
    consent = extras.gdpr_consent
    if consent is None or (consent.given is None and consent.expires_at is None):
        return None
    if consent.given is None:
        raise ActionRefused(
            "input_invalid", "gdpr_consent.given must be true or false when gdpr_consent.expires_at is given."
        )
    given = consent.given
    if not given:
        return {"given": False, "expiresAt": None}
    if consent.expires_at is None or consent.expires_at.date() <= today:
        raise ActionRefused("input_invalid", "gdpr_consent.expires_at must be a future date when consent is given.")
    return {"given": True, "expiresAt": consent.expires_at.date().isoformat()}


def attachment_params(files: list[PreparedFile]) -> list[dict[str, Any]]:
    return [
        {
            "type": ATTACHMENT_TYPES[f.type],
            "fileName": f.name,
            "contentType": f.content_type,
            "data": base64.b64encode(f.data).decode(),
        }
        for f in files
    ]


async def find_jobseeker(client: RecruClient, email: str) -> dict[str, Any] | None:
    """The jobseeker RECRU has for this e-mail, or ``None``. RECRU matches exactly (case aside): the address is
    looked for composed (NFC, as we write it), then, if none has it so, decomposed (NFD), as one stored by another
    way in may be written; of several with the address written one way, the lowest id."""
    for form in dict.fromkeys(unicodedata.normalize(f, email) for f in ("NFC", "NFD")):
        result = await client.call("JobseekerService.list", {"email": form, "perPage": 200})
        items: list[dict[str, Any]] = result["items"]
        if items:
            return min(items, key=lambda item: int(item["id"]))
    return None


def _id(jobseeker: dict[str, Any] | None) -> int | None:
    return None if jobseeker is None else int(jobseeker["id"])


async def _existing_application(client: RecruClient, jobseeker_id: int, project_id: int) -> int | None:
    result = await client.call("ApplicationService.list", {"jobseekerId": jobseeker_id, "projectId": project_id})
    return result["items"][0]["id"] if result["items"] else None


async def _refuse_if_applied(client: RecruClient, jobseeker_id: int | None, project_id: int) -> None:
    """Refuse before creating when the jobseeker has applied to the project already (RECRU would refuse too): so an
    application the look-up after a lost answer finds is known to be the create's, never an older one."""
    if jobseeker_id is not None and await _existing_application(client, jobseeker_id, project_id) is not None:
        raise ActionRefused("application_exists", APPLIED_ALREADY)


async def application_of(client: RecruClient, email: str, project_id: int) -> tuple[int, int] | None:
    """RECRU's application of the jobseeker with this e-mail to the project, as (application id, jobseeker id);
    ``None`` if there is none."""
    jobseeker_id = _id(await find_jobseeker(client, email))
    if jobseeker_id is None:
        return None
    application_id = await _existing_application(client, jobseeker_id, project_id)
    return None if application_id is None else (application_id, jobseeker_id)


async def adopt_application(client: RecruClient, new: NewApplication) -> CreatedApplication | None:
    """The application an earlier create of ``new`` left in RECRU after its outcome was unknown, as if this create
    had made it; ``None`` if RECRU has none."""
    found = await application_of(client, new.candidate.email_address, new.project_id)
    if found is None:
        return None
    application_id, jobseeker_id = found
    warnings = unstorable_warnings(new.candidate, new.extras, existing=False)
    return CreatedApplication(application_id, jobseeker_id, False, warnings)


async def create_application(
    client: RecruClient,
    new: NewApplication,
    consent: dict[str, Any] | None,
    before_sending: Callable[[], Awaitable[None]] | None = None,
    alone: Callable[[], Awaitable[bool]] | None = None,
) -> CreatedApplication:
    """Create ``new`` in RECRU (attached to the jobseeker with its e-mail, if there is one); ``before_sending`` is
    awaited before each time the create is sent, once every check that may refuse it first has passed. After a lost
    answer, the application RECRU then holds for the pair is taken for this create's only if ``alone`` says no other
    create of the pair was on its way through us meanwhile: otherwise it may be the other one's, and this create is
    refused as ``application_unclaimed`` (the caller tells when to ask again)."""
    found = await find_jobseeker(client, new.candidate.email_address)  # the jobseeker attached to, if any
    jobseeker_id = _id(found)
    await _refuse_if_applied(client, jobseeker_id, new.project_id)
    unknown: RecruOutcomeUnknown | None = None
    lost_params: dict[str, Any] | None = None  # what the first attempt whose answer was lost sent
    matched: list[str] = []  # the warning that another address given found the candidate

    async def as_this_creates(application_id: int, sent: dict[str, Any]) -> CreatedApplication:
        if alone is not None and not await alone():
            raise ActionRefused("application_unclaimed", APPLIED_ALREADY)
        assert jobseeker_id is not None
        return _created(application_id, jobseeker_id, sent, new, matched or _kept(found, new.candidate))

    for _ in range(CREATE_ATTEMPTS):
        params: dict[str, Any] = {"projectId": new.project_id, "attachments": attachment_params(new.files)}
        if new.stage_id is not None:
            params["stageId"] = new.stage_id
        if jobseeker_id is None:
            params |= {"jobseeker": jobseeker_params(new.candidate), "source": new.source}
        else:
            params["jobseekerId"] = jobseeker_id
        if consent is not None:
            params["gdprConsent"] = consent  # an existing jobseeker's consent is replaced by the one given now
        if before_sending is not None:
            await before_sending()
        try:
            result = await client.call("ApplicationService.create", params, idempotent=False)
        except RecruConflict as conflict:
            if jobseeker_id is None and conflict.existing_id is not None:
                jobseeker_id = conflict.existing_id  # created meanwhile, or holding another address given: attach
                if lost_params is not None:  # an earlier attempt whose answer was lost may have made both
                    earlier = await _existing_application(client, jobseeker_id, new.project_id)
                    if earlier is not None:
                        return await as_this_creates(earlier, lost_params)
                await _refuse_if_applied(client, jobseeker_id, new.project_id)
                found = await find_jobseeker(client, new.candidate.email_address)
                if _id(found) != jobseeker_id:
                    matched = [_matched_by_another_address(jobseeker_id)]
                continue
            if lost_params is not None and conflict.existing_id is not None and jobseeker_id is not None:
                # an earlier attempt's answer was lost: the application RECRU now holds for the pair is that one's
                return await as_this_creates(conflict.existing_id, lost_params)
            raise ActionRefused("application_exists", APPLIED_ALREADY) from conflict
        except RecruOutcomeUnknown as lost:
            unknown, lost_params = lost, lost_params or params
            try:
                found = await find_jobseeker(client, new.candidate.email_address)
                jobseeker_id = _id(found)
                stored = (
                    None if jobseeker_id is None else await _existing_application(client, jobseeker_id, new.project_id)
                )
            except RecruError as lookup_failed:  # the outcome stays unknown, not merely "RECRU unavailable"
                raise lost from lookup_failed
            if stored is not None:
                return await as_this_creates(stored, params)
            continue
        except RecruProjectNotOpen as closed:
            raise ActionRefused(
                "job_closed", f"The job is not open for applications (RECRU status {closed.status})."
            ) from closed
        except RecruNotFound as missing:
            raise _not_found(missing) from missing
        except RecruInvalidParams as invalid:
            raise _invalid(invalid, new.candidate, stage_given=new.stage_id is not None) from invalid
        except RecruError as failed:
            if unknown is not None:  # an earlier attempt's answer was lost: RECRU may still store it
                raise unknown from failed
            raise
        told = matched or _kept(found, new.candidate)
        return _created(int(result["id"]), int(result["jobseekerId"]), params, new, told)
    # Only lost answers repeat the loop (a second conflict is final), and each was followed by a look-up that
    # found nothing stored: RECRU is failing, and nothing was created.
    assert unknown is not None
    raise unknown


def _created(
    application_id: int, jobseeker_id: int, params: dict[str, Any], new: NewApplication, existing_told: list[str]
) -> CreatedApplication:
    """The create's outcome; ``existing_told``: what to say of the existing jobseeker attached to, if it was."""
    existing = "jobseekerId" in params
    warnings = unstorable_warnings(new.candidate, new.extras, existing=existing)
    return CreatedApplication(application_id, jobseeker_id, existing, warnings + (existing_told if existing else []))


def _kept(jobseeker: dict[str, Any] | None, candidate: CandidateInput) -> list[str]:
    """A warning naming the candidate fields given that the existing ``jobseeker`` holds otherwise: none of them
    was written (unified-api §5: the application is attached to it). Fields given as RECRU holds them are not named,
    so sending the same candidate again to another job warns of nothing."""
    if jobseeker is None:
        return []
    kept = differing_fields(candidate, jobseeker)
    if not kept:
        return []
    were = "was" if len(kept) == 1 else "were"
    return [
        f"{', '.join(kept)} {were} not written: the candidate already existed in RECRU (RECRU id {jobseeker['id']}) "
        "and keeps what RECRU holds; the application was attached to it."
    ]


def differing_fields(candidate: CandidateInput, jobseeker: dict[str, Any]) -> list[str]:
    """The request fields of ``candidate`` given with a value the RECRU ``jobseeker`` does not hold: a name, company,
    title, availability or salary that differs, a location part given otherwise (parts not given are not compared),
    an address or phone number it lacks (compared without case, or without spaces)."""
    given = jobseeker_params(candidate)
    fields = [
        UNIFIED_FIELDS[f"jobseeker.{key}"]
        for key in ("firstName", "lastName", "currentCompany", "currentPosition", "availableFrom")
        if given[key] is not None and given[key] != jobseeker.get(key)
    ]
    held_address = jobseeker.get("address") or {}
    if given["address"] is not None and any(
        value is not None and str(value).casefold() != str(held_address.get(key) or "").casefold()
        for key, value in given["address"].items()
    ):
        fields.append("candidate.location")
    held_salary = jobseeker.get("salaryExpectation") or {}
    if given["salaryExpectation"] is not None and any(
        given["salaryExpectation"][key] != held_salary.get(key) for key in ("amount", "period")
    ):
        fields.append("candidate.salary_expectations")
    held_emails = {str(e["value"]).casefold() for e in jobseeker.get("emails") or []}
    if any(entry["value"].casefold() not in held_emails for _, entry in _emails(candidate)[1:]):
        fields.append("candidate.additional_email_addresses")
    held_phones = {"".join(str(p["value"]).split()) for p in jobseeker.get("phones") or []}
    missing = (name for name, entry in _phones(candidate) if "".join(entry["value"].split()) not in held_phones)
    fields += dict.fromkeys(re.sub(r"\[\d+\].*", "", name) for name in missing)
    return fields


def _matched_by_another_address(jobseeker_id: int) -> str:
    return (
        f"candidate.additional_email_addresses: RECRU already has a candidate (RECRU id {jobseeker_id}) with one of "
        "these addresses, though not with email_address: the application was attached to that candidate, and the "
        "candidate fields given were not written."
    )


def _not_found(missing: RecruNotFound) -> ActionRefused:
    if missing.entity == "project":
        return ActionRefused("job_not_found", "RECRU has no such job (project).")
    if missing.entity == "source":
        return ActionRefused("input_invalid", f"source.id: RECRU has no source with id {missing.id}.")
    return ActionRefused("remote_input_invalid", f"RECRU has no {missing.entity} {missing.id}.")


def _invalid(invalid: RecruInvalidParams, candidate: CandidateInput, *, stage_given: bool) -> ActionRefused:
    if invalid.fields.get("stageId") == "not_allowed":
        if not stage_given:  # RECRU's default stage is outside the pipeline: the job's pipeline is empty
            return ActionRefused(
                "stage_not_allowed", "The job has no stages in its pipeline in RECRU: nothing can be applied to it."
            )
        return ActionRefused("stage_not_allowed", "stage_id: the stage is not in this job's pipeline.")
    fields = []
    for path, reason in sorted(invalid.fields.items()):
        name = unified_field(path, candidate)
        fields.append(f"{name}: {reason}" if name == path else f"{name} (RECRU {path}): {reason}")
    return ActionRefused("remote_input_invalid", f"RECRU rejected the input ({', '.join(fields)}).")


def _tag_key(name: str) -> str:
    """A tag name as compared: trimmed, case-folded, and composed (NFC), so "kandidát" typed with a combining
    accent (NFD, as some keyboards and macOS file names give it) is the tag RECRU holds composed."""
    return unicodedata.normalize("NFC", name.strip()).casefold()


def _named_exactly(tag: dict[str, Any], name: str) -> bool:
    return unicodedata.normalize("NFC", str(tag["name"]).strip()) == unicodedata.normalize("NFC", name.strip())


async def _tags_named(client: RecruClient, name: str) -> list[dict[str, Any]]:
    """RECRU's tags of that name (``_tag_key``), the one named exactly so (if any) first."""
    wanted = _tag_key(name)
    matching = [tag for tag in await client.list_all("TagService.list") if _tag_key(str(tag["name"])) == wanted]
    return sorted(matching, key=lambda tag: not _named_exactly(tag, name))


async def add_tag(client: RecruClient, jobseeker_id: int, name: str) -> dict[str, Any]:
    """Give the jobseeker RECRU's tag of that name: the one named exactly so, else, of tags differing only in case,
    one the jobseeker holds already (nothing changes), else the first."""
    tags = await _tag_to_act_on(client, jobseeker_id, name)
    if not tags:
        raise ActionRefused(
            "remote_input_invalid",
            f"RECRU has no tag named {name.strip()!r}, and RECRU cannot create tags through its API: "
            "create the tag in RECRU first, then add it again.",
        )
    await _tag_call(client, "JobseekerService.addTag", jobseeker_id, tags[0])
    return tags[0]


async def remove_tag(client: RecruClient, jobseeker_id: int, name: str) -> dict[str, Any] | None:
    """Take RECRU's tag of that name from the jobseeker: the one named exactly so, else, of tags differing only in
    case, the one the jobseeker holds."""
    tags = await _tag_to_act_on(client, jobseeker_id, name)
    if tags:
        await _tag_call(client, "JobseekerService.removeTag", jobseeker_id, tags[0])
    return tags[0] if tags else None


async def _tag_to_act_on(client: RecruClient, jobseeker_id: int, name: str) -> list[dict[str, Any]]:
    """RECRU's tags of that name, the one to act on first: the one named exactly so, else (of tags differing only
    in case) one the jobseeker holds."""
    tags = await _tags_named(client, name)
    if len(tags) > 1 and not _named_exactly(tags[0], name):
        try:
            held = set((await client.call("JobseekerService.get", {"id": jobseeker_id}))["tagIds"])
        except RecruNotFound as missing:
            raise ActionRefused("candidate_not_found", "RECRU no longer has this candidate.") from missing
        tags = sorted(tags, key=lambda tag: tag["id"] not in held)
    return tags


TAG_CALLS = frozenset({"JobseekerService.addTag", "JobseekerService.removeTag"})
"""The calls of a tag action that change RECRU (``add_tag``, ``remove_tag``)."""


async def _tag_call(client: RecruClient, method: str, jobseeker_id: int, tag: dict[str, Any]) -> None:
    try:
        await client.call(method, {"jobseekerId": jobseeker_id, "tagId": tag["id"]})
    except RecruNotFound as missing:
        if missing.entity == "jobseeker":
            raise ActionRefused("candidate_not_found", "RECRU no longer has this candidate.") from missing
        raise _not_found(missing) from missing
