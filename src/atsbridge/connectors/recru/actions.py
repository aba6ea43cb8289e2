"""Creating an application in RECRU (and its candidate). Its params are made by ``write_params``; tag actions are
in ``tags``.

- **Existing candidates.** The candidate is looked up by e-mail first (``JobseekerService.list {email}``); if RECRU
  knows the address, the application is attached to that jobseeker and none of its fields is written (a warning
  names the fields given with a value it holds otherwise): not its source either (unified-api §5: never
  overwritten; a warning says so if the request gave one). Only a consent the request gives replaces the
  jobseeker's (RECRU keeps an existing consent only when none is given), and the attachments are added to it. A
  jobseeker that appears between the look-up and the create (RECRU answers -32009 with ``existingId``) is handled
  the same way.
- **Never a duplicate.** A create whose outcome is unknown (timeout, dropped connection, 500) is not repeated
  blindly: RECRU is asked what it stored (the jobseeker by e-mail, then its application for the project) and the
  create is repeated only if nothing is there — at most ``CREATE_ATTEMPTS`` times, then RECRU counts as unavailable.
- **RECRU's refusals name our fields** (``write_params.unified_field``).
- **What RECRU cannot store** (gender, social links, sourced_by, screening answers, other tools' remote_fields)
  is dropped with a warning naming the field.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

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
from atsbridge.connectors.recru.write_params import (
    attachment_params,
    blank_phone_fields,
    differing_fields,
    given_text,
    jobseeker_params,
    source_name,
    unified_field,
)
from atsbridge.unified.inputs import ActionExtras, CandidateInput

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
UNSTORABLE = ("gender", "social_links")
UNSTORABLE_EXTRAS = ("sourced_by", "screening_question_answers", "remote_fields")
CREATE_ATTEMPTS = 3
APPLIED_ALREADY = "This candidate has already applied to this job."


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
    with it wins (a source's ``id`` over its name and key, its name over a differing key; a consent not given has
    no expiry), or the candidate existed (``existing``: its source is never written), or a phone number is blank."""
    dropped = [f"candidate.{name}" for name in UNSTORABLE if getattr(candidate, name)]
    dropped += [name for name in UNSTORABLE_EXTRAS if getattr(extras, name)]
    warnings = [f"{name} was not written: RECRU cannot store it." for name in dropped]
    warnings += [f"{name} was not written: it is blank." for name in blank_phone_fields(candidate)]
    source, consent = extras.source, extras.gdpr_consent
    if source is not None and existing:
        warnings.append(
            "source was not written: the candidate already existed in RECRU, and an existing candidate's source is "
            "never written."
        )
    elif source is not None and given_text(source.id):
        warnings += [f"source.{name} was not written: source.id was given and wins." for name in ("name", "unified_key")
                     if getattr(source, name)]  # fmt: skip
    elif source is not None and given_text(source.name) and given_text(source.unified_key):
        if source.name.strip().casefold() != source.unified_key.strip().casefold():
            warnings.append("source.unified_key was not written: source.name was given and wins.")
    elif source is not None and not source_name(source):
        blank = [f"source.{name}" for name in ("id", "name", "unified_key") if getattr(source, name) is not None]
        if blank:
            were = "was" if len(blank) == 1 else "were"
            warnings.append(f"{' and '.join(blank)} {were} blank: the integration's source label was written instead.")
    if consent is not None and consent.given is False and consent.expires_at is not None:
        warnings.append("gdpr_consent.expires_at was not written: consent was not given.")
    return warnings


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
    alone: Callable[[int], Awaitable[bool]] | None = None,
) -> CreatedApplication:
    """Create ``new`` in RECRU (attached to the jobseeker with its e-mail, if there is one); ``before_sending`` is
    awaited before each time the create is sent, once every check that may refuse it first has passed. After a lost
    answer, the application RECRU then holds for the pair is taken for this create's only if ``alone`` (given its id)
    says no other create of the pair was on its way through us meanwhile, nor made it: otherwise it may be the other
    one's, and this create is refused as ``application_unclaimed`` (the caller tells when to ask again)."""
    found = await find_jobseeker(client, new.candidate.email_address)  # the jobseeker attached to, if any
    jobseeker_id = _id(found)
    await _refuse_if_applied(client, jobseeker_id, new.project_id)
    unknown: RecruOutcomeUnknown | None = None
    lost_params: dict[str, Any] | None = None  # what the first attempt whose answer was lost sent
    matched: list[str] = []  # the warning that another address given found the candidate

    async def as_this_creates(application_id: int, sent: dict[str, Any]) -> CreatedApplication:
        if alone is not None and not await alone(application_id):
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
            if isinstance(lost.cause, httpx.TimeoutException):  # RECRU took the whole read timeout and may still be
                raise  # storing it: the client waiting is told the outcome is unknown now, not after another try
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
