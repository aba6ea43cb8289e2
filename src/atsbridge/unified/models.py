"""Pydantic models of what the unified ATS API returns: envelopes, read models and action results.

They are the documented, executable form of the JSON we serve (spec ``unified-api.md`` §1, §4, §7) and must stay
wire-compatible with Kombo's official SDK (``kombo`` 1.4.0), which validates every response:

- every key the SDK requires is a required field here (no defaults), nullable exactly where the SDK allows ``null``;
  keys we add (``remote_data``, ``integration_fields``) are harmless extras to the SDK;
- closed enums are ``Literal`` types with the SDK's values; open enums (jobs' ``employment_type``, ``status``,
  ``visibility``, ``remote_work_status``, ``salary_period``; e-mail and phone types) are plain strings;
- datetimes are normalised to UTC (naive = UTC) and serialise as ISO 8601 with ``Z``; ``custom_fields`` is an object
  or ``null``, never a list; ``remote_id`` values are strings.

Routes may build plain dicts in these shapes (the helpers at the end build the envelopes) and declare the models as
``response_model`` for the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

__all__ = [
    "ATTACHMENT_TYPES",
    "ERROR_CODES",
    "JOB_EMPLOYMENT_TYPES",
    "JOB_REMOTE_WORK_STATUSES",
    "JOB_SALARY_PERIODS",
    "JOB_STATUSES",
    "JOB_VISIBILITIES",
    "OUTCOMES",
    "PLATFORM_ERROR_CODES",
    "ActionResponse",
    "ActionWarning",
    "ApiKeyInfo",
    "ApiModel",
    "Application",
    "ApplicationCandidate",
    "ApplicationStage",
    "Attachment",
    "AttachmentList",
    "AttachmentType",
    "AttachmentsResponse",
    "Candidate",
    "CandidateApplication",
    "CandidateCore",
    "Changed",
    "CreatedApplication",
    "DataResponse",
    "EmailAddress",
    "EmptyData",
    "ErrorBody",
    "ErrorCode",
    "ErrorResponse",
    "HiringTeamMember",
    "HiringTeamRole",
    "Identified",
    "Job",
    "JobRef",
    "JobRole",
    "JobStage",
    "ListResponse",
    "Location",
    "Outcome",
    "Page",
    "PhoneNumber",
    "PlatformErrorCode",
    "Record",
    "RoleType",
    "SocialMedia",
    "StageRef",
    "StageStatus",
    "SystemRole",
    "Tag",
    "TagRef",
    "User",
    "UserStatus",
    "UtcDatetime",
    "action_payload",
    "at_api_precision",
    "data_payload",
    "error_payload",
    "format_datetime",
    "list_payload",
]

T = TypeVar("T")

# --- scalar types -------------------------------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def at_api_precision(value: datetime) -> datetime:
    """``value`` truncated to the millisecond, the precision the API serves (the store keeps record timestamps so)."""
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def _as_utc_millis(value: datetime) -> datetime:
    return at_api_precision(_as_utc(value))


UtcDatetime = Annotated[
    datetime, AfterValidator(_as_utc_millis), PlainSerializer(lambda value: format_datetime(value), when_used="json")
]
"""A datetime normalised to UTC (a naive value is taken as UTC) and to the millisecond, the precision the API
serves; serialises as ``format_datetime`` writes it."""

CustomFields = Annotated[
    dict[str, Any] | None, Field(description="Custom fields keyed by name: an object or null, never a list.")
]
RemoteData = Annotated[
    dict[str, Any] | None,
    Field(
        description='The raw RECRU payload keyed by the method it came from, e.g. `{"JobseekerService.list": {...}}`; '
        "null unless the integration enables remote data."
    ),
]
IntegrationFields = Annotated[
    list[dict[str, Any]], Field(description="Integration fields configured for this integration (none for RECRU).")
]
AlwaysEmpty = Annotated[list[dict[str, Any]], Field(description="Kombo key that RECRU does not provide: always `[]`.")]

# --- closed enums (the SDK rejects any other value) ---------------------------------------------------------------

UserStatus = Literal["ACTIVE", "INACTIVE"]
StageStatus = Literal["ACTIVE", "INACTIVE"]
Outcome = Literal["PENDING", "HIRED", "DECLINED"]
HiringTeamRole = Literal["HIRING_MANAGER", "RECRUITER", "COORDINATOR", "SOURCER", "INTERVIEWER"]
RoleType = Literal[HiringTeamRole, "ADMIN"]
AttachmentType = Literal["CV", "COVER_LETTER", "OTHER"]
PlatformErrorCode = Literal[
    "PLATFORM.RATE_LIMIT_EXCEEDED",
    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
    "PLATFORM.INTEGRATION_NOT_FOUND",
    "PLATFORM.INPUT_INVALID",
    "PLATFORM.UNKNOWN_ERROR",
    "PLATFORM.IP_NOT_WHITELISTED",
    "PLATFORM.AUTHENTICATION_INVALID",
    "PLATFORM.TASK_TIMED_OUT",
]
"""The only codes the general (non-``/ats``) endpoints may answer with."""
ErrorCode = Literal[
    PlatformErrorCode,
    "INTEGRATION.PERMISSION_MISSING",
    "INTEGRATION.AUTHENTICATION_INVALID",
    "INTEGRATION.QA_FAILED",
    "INTEGRATION.SETUP_SYNC_PENDING",
    "INTEGRATION.SETUP_INCOMPLETE",
    "INTEGRATION.INACTIVE",
    "INTEGRATION.MODEL_NOT_AVAILABLE",
    "INTEGRATION.MODEL_DISABLED",
    "INTEGRATION.ACTION_NOT_AVAILABLE",
    "INTEGRATION.ACTION_DISABLED",
    "REMOTE.SERVICE_UNAVAILABLE",
    "REMOTE.RATE_LIMIT_EXCEEDED",
    "REMOTE.INPUT_INVALID",
    "REMOTE.UNKNOWN_HTTP_ERROR",
    "ATS.JOB_CLOSED",
    "ATS.APPLICATION_ALREADY_EXISTS",
]
"""Every error code of the ATS endpoints (spec §1)."""

OUTCOMES: tuple[Outcome, ...] = ("PENDING", "HIRED", "DECLINED")
ATTACHMENT_TYPES: tuple[AttachmentType, ...] = ("CV", "COVER_LETTER", "OTHER")
PLATFORM_ERROR_CODES: frozenset[str] = frozenset(get_args(PlatformErrorCode))
ERROR_CODES: frozenset[str] = frozenset(get_args(ErrorCode))  # nested Literals are flattened

# --- open enums: the known values; anything else is passed through upper-cased -------------------------------------

JOB_EMPLOYMENT_TYPES = ("FULL_TIME", "PART_TIME", "CONTRACT", "SEASONAL", "INTERNSHIP")
JOB_STATUSES = ("OPEN", "CLOSED", "DRAFT", "ARCHIVED")
JOB_VISIBILITIES = ("PUBLIC", "INTERNAL", "UNLISTED", "CONFIDENTIAL")
JOB_REMOTE_WORK_STATUSES = ("REMOTE", "HYBRID", "TEMPORARY", "ON_SITE")
JOB_SALARY_PERIODS = ("YEAR", "MONTH", "TWO_WEEKS", "WEEK", "DAY", "HOUR")


def _open_enum(known: tuple[str, ...]) -> str:
    return f"Open enum: {', '.join(known)}; an unmapped RECRU value is passed through upper-cased."


# --- bases --------------------------------------------------------------------------------------------------------


class ApiModel(BaseModel):
    """Base of every API model: fields with defaults still count as required in the response schema."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class Identified(ApiModel):
    """Anything with our id and the RECRU id."""

    id: str = Field(description="Our id: 24 base58 characters, stable across re-syncs, unique across integrations.")
    remote_id: str | None = Field(description="The record's id in RECRU, as a string.")


class Changed(Identified):
    """An identified record that tracks when our copy of it changed."""

    changed_at: UtcDatetime = Field(
        description="When our stored copy of the record's own fields last changed (not RECRU's update time)."
    )


class Record(Changed):
    """A synced top-level record: the bookkeeping every unified model carries."""

    remote_deleted_at: UtcDatetime | None = Field(
        description="When the record was found deleted in RECRU; null while it exists."
    )
    remote_data: RemoteData


class Location(ApiModel):
    """A postal location; keys without a value are null."""

    city: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2 country code.")
    state: str | None
    street_1: str | None
    street_2: str | None
    zip_code: str | None
    raw: str | None = Field(description="The location as one free-text string, where RECRU only has that.")


# --- users --------------------------------------------------------------------------------------------------------


class _Role(ApiModel):
    remote_id: str | None = Field(description="The role's id in RECRU.")
    remote_label: str | None = Field(description="The role's name in RECRU.")
    unified_type: RoleType | None = Field(description="The unified role; null when RECRU's role has no equivalent.")


class SystemRole(_Role):
    """A user's system-wide role."""

    scope: Literal["SYSTEM"]


class JobRole(_Role):
    """A user's role on one job."""

    scope: Literal["JOB"]


class _UserFields(ApiModel):
    first_name: str | None
    last_name: str | None
    email: str | None = Field(description="The user's e-mail address; null if RECRU's is missing or invalid.")


class User(_UserFields, Record):
    """An ATS user (`GET /v1/ats/users`)."""

    status: UserStatus | None
    system_roles: list[SystemRole]


# --- application stages, tags --------------------------------------------------------------------------------------


class _StageFields(ApiModel):
    status: StageStatus | None = Field(description="Whether the stage is in use in RECRU.")
    custom_fields: CustomFields


class ApplicationStage(_StageFields, Record):
    """An application stage (`GET /v1/ats/application-stages`)."""

    name: str | None


class StageRef(Identified):
    """A stage as nested in a candidate's applications."""

    name: str | None
    index: int | None = Field(description="0-based position of the stage in the job's pipeline; null if unknown.")


class JobStage(_StageFields, StageRef):
    """A stage of a job's pipeline (`jobs[].stages`, in pipeline order) or an application's current stage."""


class Tag(Record):
    """A candidate tag (`GET /v1/ats/tags`)."""

    name: str | None


class TagRef(Identified):
    """A tag as nested in a candidate."""

    name: str | None


# --- jobs ---------------------------------------------------------------------------------------------------------


class HiringTeamMember(_UserFields, Identified):
    """A user on a job's hiring team; `id` is the user's id."""

    hiring_team_roles: list[HiringTeamRole] = Field(description="Deprecated by Kombo in favour of `job_roles`.")
    job_roles: list[JobRole]


class JobRef(Identified):
    """A job as nested in an application."""

    remote_id: str = Field(description="The job's id in RECRU, as a string.")
    name: str | None


class Job(Record):
    """A job (`GET /v1/ats/jobs`), with its pipeline and hiring team."""

    remote_id: str = Field(description="The job's id in RECRU, as a string.")
    name: str | None
    job_code: str | None
    description: str | None = Field(description="The job description; HTML as RECRU stores it.")
    confidential: bool | None
    employment_type: str | None = Field(description=_open_enum(JOB_EMPLOYMENT_TYPES))
    status: str | None = Field(description=_open_enum(JOB_STATUSES))
    visibility: str | None = Field(description=_open_enum(JOB_VISIBILITIES))
    category: str | None
    department: str | None
    post_url: str | None
    experience_level: str | None = Field(description="RECRU's experience level, as is.")
    remote_work_status: str | None = Field(description=_open_enum(JOB_REMOTE_WORK_STATUSES))
    weekly_hours: float | None
    salary_amount: float | None
    salary_amount_from: float | None
    salary_amount_to: float | None
    salary_currency: str | None = Field(description="ISO 4217 currency code.")
    salary_period: str | None = Field(description=_open_enum(JOB_SALARY_PERIODS))
    location: Location | None
    custom_fields: CustomFields
    integration_fields: IntegrationFields
    remote_url: str | None
    opened_at: UtcDatetime | None
    closed_at: UtcDatetime | None
    remote_created_at: UtcDatetime | None
    remote_updated_at: UtcDatetime | None
    contact_id: str | None = Field(description="Deprecated by Kombo; always null.")
    stages: list[JobStage] = Field(description="The job's pipeline, in order (`index` 0, 1, …).")
    hiring_team: list[HiringTeamMember]
    screening_questions: AlwaysEmpty
    job_postings: AlwaysEmpty


# --- candidates ---------------------------------------------------------------------------------------------------


class EmailAddress(ApiModel):
    """One of a candidate's e-mail addresses (primary first)."""

    email_address: str
    type: str | None = Field(description="Open: PRIVATE, WORK or RECRU's type upper-cased; the key is required.")


class PhoneNumber(ApiModel):
    """One of a candidate's phone numbers (primary first; empty numbers are dropped)."""

    phone_number: str
    type: str | None = Field(description="RECRU's phone type, upper-cased (open).")


class SocialMedia(ApiModel):
    """A social-media profile (RECRU provides none)."""

    link: str | None
    type: str | None
    username: str | None


class CandidateApplication(Changed):
    """An application as nested in a candidate (`candidates[].applications`)."""

    outcome: Outcome | None
    rejection_reason_name: str | None
    rejected_at: UtcDatetime | None
    remote_url: str | None
    remote_created_at: UtcDatetime | None
    remote_updated_at: UtcDatetime | None
    current_stage: StageRef | None
    job: JobRef | None


class ApplicationCandidate(Identified):
    """A candidate as nested in `GET /v1/ats/applications` (the small shape)."""

    remote_id: str = Field(description="The candidate's id in RECRU, as a string.")
    first_name: str | None
    last_name: str | None
    source: str | None = Field(description="Name of the candidate's source in RECRU.")
    remote_url: str | None
    email_addresses: list[EmailAddress]
    phone_numbers: list[PhoneNumber]
    social_media: list[SocialMedia]
    tags: list[TagRef]


class CandidateCore(ApplicationCandidate, Record):
    """The full candidate without its applications (nested in the create-application result)."""

    company: str | None = Field(description="The candidate's current employer.")
    title: str | None = Field(description="The candidate's current position.")
    confidential: bool | None
    location: Location | None
    custom_fields: CustomFields
    integration_fields: IntegrationFields
    remote_created_at: UtcDatetime | None
    remote_updated_at: UtcDatetime | None


class Candidate(CandidateCore):
    """A candidate (`GET /v1/ats/candidates`, create-candidate result), with applications and tags."""

    applications: list[CandidateApplication]


# --- applications -------------------------------------------------------------------------------------------------


class _ApplicationRecord(CandidateApplication, Record):
    current_stage_id: str | None
    job_id: str | None
    candidate_id: str | None
    current_stage: JobStage | None
    custom_fields: CustomFields
    integration_fields: IntegrationFields
    screening_question_answers: AlwaysEmpty


class Application(_ApplicationRecord):
    """An application (`GET /v1/ats/applications`)."""

    candidate: ApplicationCandidate | None
    interviews: AlwaysEmpty
    offers: AlwaysEmpty


class CreatedApplication(_ApplicationRecord):
    """The application created by `POST /v1/ats/jobs/{job_id}/applications`, with the full candidate."""

    candidate: CandidateCore | None


# --- attachments, API key -----------------------------------------------------------------------------------------


class Attachment(Identified):
    """A candidate's or application's file (live from RECRU, not synced)."""

    remote_id: str = Field(description="The attachment's id in RECRU, as a string.")
    application_id: str | None = Field(description="The application it belongs to; null for a candidate's own file.")
    candidate_id: str
    type: AttachmentType
    data_url: str = Field(description="Short-lived signed link to download the file from us.")
    file_name: str
    content_type: str
    remote_created_at: UtcDatetime | None
    remote_updated_at: UtcDatetime | None


class ApiKeyInfo(ApiModel):
    """The environment an API key belongs to (`GET /v1/check-api-key`)."""

    environment_id: str


# --- envelopes ----------------------------------------------------------------------------------------------------


class ActionWarning(ApiModel):
    """A non-fatal remark on a request, e.g. a field RECRU cannot store."""

    message: str


class EmptyData(ApiModel):
    """The empty `data: {}` of the tag actions."""


class Page(ApiModel, Generic[T]):
    """One page of a list."""

    next: str | None = Field(description="Cursor of the next page (pass as `cursor`); null on the last page.")
    results: list[T]


class DataResponse(ApiModel, Generic[T]):
    """A success: `{"status": "success", "data": ...}`."""

    status: Literal["success"] = "success"
    data: T


class ListResponse(DataResponse[Page[T]], Generic[T]):
    """A page of a list: `{"status": "success", "data": {"next": ..., "results": [...]}}`."""


class ActionResponse(DataResponse[T], Generic[T]):
    """The result of an action, with the warnings it raised."""

    warnings: list[ActionWarning]


class AttachmentList(ApiModel):
    """The attachments of a candidate or an application (not paginated)."""

    results: list[Attachment]


class AttachmentsResponse(DataResponse[AttachmentList]):
    """`GET .../attachments`: the files and the warnings raised while listing them."""

    warnings: list[ActionWarning]


class ErrorBody(ApiModel):
    """What went wrong; all four keys are always present."""

    code: ErrorCode | None = Field(description="Stable error code to branch on; null for errors without one.")
    title: str | None = Field(description="A static, human-readable label.")
    message: str = Field(description="What went wrong in this instance.")
    log_url: str | None = Field(description="Link to the request's log entry, where available.")


class ErrorResponse(ApiModel):
    """An error: `{"status": "error", "error": {...}}` (any non-200 status)."""

    status: Literal["error"] = "error"
    error: ErrorBody


# --- helpers for routes that build plain dicts --------------------------------------------------------------------


def format_datetime(value: datetime) -> str:
    """``value`` as the API writes every datetime (records, webhooks, connect links, syncs): UTC ISO 8601 with
    ``Z`` and always three decimals, ``2026-01-31T12:00:00.000Z`` (truncated to the millisecond; a naive value is
    taken as UTC)."""
    return _as_utc(value).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"  # years < 1000 padded


def data_payload(data: Any) -> dict[str, Any]:
    """``{"status": "success", "data": data}``."""
    return {"status": "success", "data": data}


def list_payload(results: list[Any], next_cursor: str | None) -> dict[str, Any]:
    """A list page: ``data = {"next": next_cursor, "results": results}``."""
    return data_payload({"next": next_cursor, "results": results})


def action_payload(data: Any, warnings: Iterable[str] = ()) -> dict[str, Any]:
    """An action result (also the attachment lists): ``data`` plus ``warnings`` (always present, maybe empty)."""
    return {**data_payload(data), "warnings": [{"message": message} for message in warnings]}


def error_payload(
    code: ErrorCode | None, message: str, *, title: str | None = None, log_url: str | None = None
) -> dict[str, Any]:
    """An error envelope with all four keys of ``error``."""
    return {"status": "error", "error": {"code": code, "title": title, "message": message, "log_url": log_url}}
