"""RECRU's params of a create, made from the unified input (recru-mapping.md, writes): the jobseeker, its source,
its consent and its attachments; and back, a RECRU param path as the request field it was made from, so RECRU's
refusals name our fields (``jobseeker.emails[1].value`` → ``candidate.additional_email_addresses[0].email_address``).
"""

from __future__ import annotations

import base64
import re
from datetime import date
from typing import Any, TypeGuard

from atsbridge.connectors.base import ActionRefused, PreparedFile
from atsbridge.unified.inputs import ActionExtras, CandidateInput, SourceInput, is_blank

ATTACHMENT_TYPES = {"CV": "cv", "COVER_LETTER": "cover_letter", "OTHER": "other"}
EMAIL_TYPES = {"PERSONAL": "private", "WORK": "work", "OTHER": "private"}
PHONE_TYPES = {"PERSONAL": "private", "WORK": "work", "OTHER": "mobile"}
SOURCE_NAME_MAX = 100
"""RECRU's limit of a source name (its `too_long`)."""


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
    """RECRU's ``phones`` (``phone_number`` first; the first number given is primary), each with its unified field.
    Blank numbers are left out (see ``blank_phone_fields``)."""
    given = [("candidate.phone_number", candidate.phone_number, "mobile")] if candidate.phone_number else []
    given += [
        (f"candidate.additional_phone_numbers[{i}].phone_number", p.phone_number, PHONE_TYPES[p.type])
        for i, p in enumerate(candidate.additional_phone_numbers or [])
        if p.phone_number
    ]
    return [(name, {"value": value, "type": kind, "primary": i == 0}) for i, (name, value, kind) in enumerate(given)]


def blank_phone_fields(candidate: CandidateInput) -> list[str]:
    """The phone number fields given blank (empty or only spaces): not written, each with a warning."""
    blank = ["candidate.phone_number"] if candidate.phone_number == "" else []
    return blank + [
        f"candidate.additional_phone_numbers[{i}].phone_number"
        for i, p in enumerate(candidate.additional_phone_numbers or [])
        if not p.phone_number
    ]


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


LARGEST_RECRU_ID = 2**63 - 1


def source_params(source: SourceInput | None, label: str) -> dict[str, Any]:
    """RECRU's source input: the request's ``id``, ``name`` or ``unified_key`` (matched as a name), else the
    integration's source label (at most RECRU's limit: the store cuts the default, the environment's name)."""
    if source is not None and given_text(source.id):
        if not (source.id.strip().isascii() and source.id.strip().isdigit()):  # "١" is a digit to Python
            raise ActionRefused("input_invalid", "source.id: a RECRU source id is a number.")
        if int(source.id) > LARGEST_RECRU_ID:  # RECRU would read it as a float and name it so in its refusal
            raise ActionRefused("input_invalid", f"source.id: RECRU has no source with id {source.id.strip()}.")
        return {"id": int(source.id)}
    return {"name": source_name(source) or label}


def given_text(value: str | None) -> TypeGuard[str]:
    """Whether a text input says something: given, and not blank (spaces or invisible characters alone)."""
    return value is not None and not is_blank(value)


def source_name(source: SourceInput | None) -> str | None:
    """The source's ``name``, else its ``unified_key`` (matched as a name), trimmed; None if both are blank."""
    if source is None:
        return None
    return next((value.strip() for value in (source.name, source.unified_key) if given_text(value)), None)


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
