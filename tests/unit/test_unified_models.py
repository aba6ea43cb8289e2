"""The unified API models: our payloads validate, serialise and pass the kombo SDK's response models unchanged.

Each read model has a realistic full example; its null-heavy variant is derived from our model (every nullable field
null, nested items kept), so the SDK checks both what keys we always send and where we may send ``null``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args, get_origin

import pytest
from fastapi import FastAPI
from kombo.errors.komboatserror import KomboAtsErrorData
from kombo.errors.kombogeneralerror import KomboGeneralErrorData
from kombo.models import (
    DeleteAtsCandidatesCandidateIDTagsPositiveResponse,
    GetAtsApplicationsApplicationIDAttachmentsPositiveResponse,
    GetAtsApplicationsPositiveResponse,
    GetAtsApplicationStagesPositiveResponse,
    GetAtsCandidatesCandidateIDAttachmentsPositiveResponse,
    GetAtsCandidatesPositiveResponse,
    GetAtsJobsPositiveResponse,
    GetAtsTagsPositiveResponse,
    GetAtsUsersPositiveResponse,
    GetCheckAPIKeyPositiveResponse,
    PostAtsCandidatesCandidateIDTagsPositiveResponse,
    PostAtsCandidatesPositiveResponse,
    PostAtsJobsJobIDApplicationsPositiveResponse,
)
from kombo.models.getatsapplicationspositiveresponse import GetAtsApplicationsPositiveResponseOutcome
from kombo.models.getatscandidatescandidateidattachmentspositiveresponse import (
    GetAtsCandidatesCandidateIDAttachmentsPositiveResponseType,
)
from kombo.models.getatsjobspositiveresponse import (
    GetAtsJobsPositiveResponseHiringTeamRole,
    GetAtsJobsPositiveResponseUnifiedType,
)
from kombo.models.getatsjobspositiveresponse import (
    StageStatus as SdkStageStatus,
)
from kombo.models.getatsuserspositiveresponse import GetAtsUsersPositiveResponseStatus
from kombo.models.komboatserror import KomboAtsErrorCode
from kombo.models.kombogeneralerror import KomboGeneralErrorCode
from pydantic import BaseModel, ValidationError

from atsbridge.unified.ids import ModelName, model_id
from atsbridge.unified.models import (
    ERROR_CODES,
    PLATFORM_ERROR_CODES,
    ActionResponse,
    ApiKeyInfo,
    Application,
    ApplicationStage,
    Attachment,
    AttachmentsResponse,
    AttachmentType,
    Candidate,
    CreatedApplication,
    DataResponse,
    EmptyData,
    ErrorResponse,
    HiringTeamRole,
    Job,
    ListResponse,
    Outcome,
    RoleType,
    StageStatus,
    Tag,
    User,
    UserStatus,
    action_payload,
    data_payload,
    error_payload,
    format_datetime,
    list_payload,
)

Payload = dict[str, Any]

INTEGRATION = "recruhr:6Hq2fGxkTzR8wPvYbN3mJcLd"
CHANGED = "2024-05-02T10:15:00.000Z"
CREATED = "2023-11-20T08:00:00.000Z"
UPDATED = "2024-04-30T16:45:12.250Z"


def _id(model: ModelName, remote_id: int) -> str:
    return model_id(INTEGRATION, model, remote_id)


# --- full examples, in the shapes the API emits ------------------------------------------------------------------


def user_example() -> Payload:
    return {
        "id": _id(ModelName.USERS, 7),
        "remote_id": "7",
        "first_name": "Anna",
        "last_name": "Berger",
        "email": "anna.berger@example.com",
        "status": "ACTIVE",
        "system_roles": [
            {"remote_id": "recruiter", "remote_label": "recruiter", "unified_type": "RECRUITER", "scope": "SYSTEM"}
        ],
        "remote_data": {"UserService.list": {"id": 7, "firstName": "Anna", "role": "recruiter", "active": True}},
        "changed_at": CHANGED,
        "remote_deleted_at": "2024-05-03T00:00:00Z",
    }


def location_example() -> Payload:
    return {
        "city": "Wien",
        "country": "AT",
        "state": "Wien",
        "street_1": "Mariahilfer Straße 1",
        "street_2": None,
        "zip_code": "1060",
        "raw": None,
    }


def job_stage_example(remote_id: int, index: int) -> Payload:
    return {
        "id": _id(ModelName.APPLICATION_STAGES, remote_id),
        "remote_id": str(remote_id),
        "name": f"Stage {remote_id}",
        "index": index,
        "status": "ACTIVE",
        "custom_fields": None,
    }


def job_ref_example() -> Payload:
    return {"id": _id(ModelName.JOBS, 101), "name": "Backend Engineer (m/w/d)", "remote_id": "101"}


def job_example() -> Payload:
    return {
        "id": _id(ModelName.JOBS, 101),
        "remote_id": "101",
        "name": "Backend Engineer (m/w/d)",
        "job_code": "ENG-2024-07",
        "description": "<p>Build our <b>platform</b>.</p>",
        "confidential": None,
        "employment_type": "FULL_TIME",
        "status": "OPEN",
        "visibility": "PUBLIC",
        "category": None,
        "department": "Engineering",
        "post_url": None,
        "experience_level": "senior",
        "remote_work_status": "HYBRID",
        "weekly_hours": 38.5,
        "salary_amount": 65000.0,
        "salary_amount_from": None,
        "salary_amount_to": None,
        "salary_currency": "EUR",
        "salary_period": "YEAR",
        "location": {**location_example(), "street_1": None, "zip_code": None, "raw": "Wien, AT"},
        "custom_fields": {"cost_center": "4711"},
        "integration_fields": [],
        "remote_url": None,
        "opened_at": "2024-01-15T09:00:00Z",
        "closed_at": None,
        "remote_created_at": CREATED,
        "remote_updated_at": UPDATED,
        "contact_id": None,
        "stages": [job_stage_example(1, 0), job_stage_example(2, 1), job_stage_example(5, 2)],
        "hiring_team": [
            {
                "id": _id(ModelName.USERS, 7),
                "remote_id": "7",
                "first_name": "Anna",
                "last_name": "Berger",
                "email": "anna.berger@example.com",
                "hiring_team_roles": ["RECRUITER"],
                "job_roles": [
                    {"remote_id": "recruiter", "remote_label": "recruiter", "unified_type": "RECRUITER", "scope": "JOB"}
                ],
            }
        ],
        "screening_questions": [],
        "job_postings": [],
        "remote_data": {"ProjectService.list": {"id": 101, "code": "ENG-2024-07"}},
        "changed_at": CHANGED,
        "remote_deleted_at": None,
    }


def tag_ref_example() -> Payload:
    return {"id": _id(ModelName.TAGS, 3), "name": "Talent pool", "remote_id": "3"}


def candidate_core_example() -> Payload:
    return {
        "id": _id(ModelName.CANDIDATES, 5001),
        "remote_id": "5001",
        "first_name": "Jonas",
        "last_name": "Huber",
        "company": "Acme GmbH",
        "title": "Software Developer",
        "confidential": None,
        "source": "LinkedIn",
        "email_addresses": [
            {"email_address": "jonas.huber@example.org", "type": "PRIVATE"},
            {"email_address": "j.huber@acme.example", "type": None},
        ],
        "phone_numbers": [{"phone_number": "+43 660 1234567", "type": "MOBILE"}],
        "social_media": [],
        "location": location_example(),
        "custom_fields": None,
        "integration_fields": [],
        "remote_url": None,
        "remote_created_at": CREATED,
        "remote_updated_at": UPDATED,
        "tags": [tag_ref_example()],
        "remote_data": {"JobseekerService.list": {"id": 5001, "firstName": "Jonas"}},
        "changed_at": CHANGED,
        "remote_deleted_at": None,
    }


def candidate_example() -> Payload:
    stage = job_stage_example(2, 1)
    return {
        **candidate_core_example(),
        "applications": [
            {
                "id": _id(ModelName.APPLICATIONS, 9001),
                "remote_id": "9001",
                "outcome": "DECLINED",
                "rejection_reason_name": "Overqualified",
                "rejected_at": None,
                "remote_url": None,
                "changed_at": CHANGED,
                "remote_created_at": CREATED,
                "remote_updated_at": UPDATED,
                "current_stage": {key: stage[key] for key in ("id", "name", "remote_id", "index")},
                "job": job_ref_example(),
            }
        ],
    }


def _application_record_example() -> Payload:
    return {
        "id": _id(ModelName.APPLICATIONS, 9001),
        "remote_id": "9001",
        "outcome": "PENDING",
        "rejection_reason_name": None,
        "rejected_at": None,
        "current_stage_id": _id(ModelName.APPLICATION_STAGES, 2),
        "job_id": _id(ModelName.JOBS, 101),
        "candidate_id": _id(ModelName.CANDIDATES, 5001),
        "screening_question_answers": [],
        "custom_fields": None,
        "integration_fields": [],
        "remote_url": None,
        "changed_at": CHANGED,
        "remote_deleted_at": None,
        "remote_created_at": CREATED,
        "remote_updated_at": UPDATED,
        "remote_data": {"ApplicationService.list": {"id": 9001, "status": "active"}},
        "current_stage": job_stage_example(2, 1),
        "job": job_ref_example(),
    }


def application_example() -> Payload:
    core = candidate_core_example()
    small = "id remote_id first_name last_name source remote_url email_addresses phone_numbers social_media tags"
    return {
        **_application_record_example(),
        "candidate": {key: core[key] for key in small.split()},
        "interviews": [],
        "offers": [],
    }


def created_application_example() -> Payload:
    return {**_application_record_example(), "candidate": candidate_core_example()}


def stage_example() -> Payload:
    return {
        "id": _id(ModelName.APPLICATION_STAGES, 2),
        "remote_id": "2",
        "name": "Interview",
        "status": "INACTIVE",
        "custom_fields": {},
        "remote_data": {"StageService.list": {"id": 2, "name": "Interview", "active": False}},
        "changed_at": CHANGED,
        "remote_deleted_at": None,
    }


def tag_example() -> Payload:
    return {**tag_ref_example(), "remote_data": None, "changed_at": CHANGED, "remote_deleted_at": None}


def attachment_example(application_id: str | None) -> Payload:
    return {
        "id": "4uQeVj5tqViQh7yWWGStvkEG",
        "application_id": application_id,
        "candidate_id": _id(ModelName.CANDIDATES, 5001),
        "type": "CV",
        "remote_id": "77",
        "data_url": "https://bridge.example/v1/files/77?expires=1714650000&signature=abc",
        "file_name": "cv-jonas-huber.pdf",
        "content_type": "application/pdf",
        "remote_created_at": CREATED,
        "remote_updated_at": None,
    }


# --- the null-heavy variant, derived from our model ----------------------------------------------------------------


def _admits_none(annotation: Any) -> bool:
    return type(None) in get_args(annotation)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def nulled(model: type[BaseModel], payload: Payload) -> Payload:
    """``payload`` with every field ``model`` lets be null set to null, recursively through nested models."""
    out: Payload = {}
    for name, field in model.model_fields.items():
        value = payload[name]
        annotation = field.annotation
        if _admits_none(annotation):
            out[name] = None
        elif (nested := _model_in(annotation)) is not None:
            out[name] = nulled(nested, value)
        elif get_origin(annotation) is list and (item := _model_in(get_args(annotation)[0])) is not None:
            out[name] = [nulled(item, element) for element in value]
        else:
            out[name] = value
    return out


# --- cases: our envelope model, the SDK's response model, a full example ------------------------------------------


@dataclass(frozen=True)
class Case:
    """One endpoint: its envelope model, the SDK's response model, a full example and how to wrap it."""

    name: str
    ours: type[BaseModel]
    sdk: type[BaseModel]
    example: Callable[[], Payload]
    wrap: Callable[[Payload], Payload]
    item: type[BaseModel]  # our model of one result


def _name(case: Case) -> str:
    return case.name


def _listed(item: Payload) -> Payload:
    return list_payload([item], None)


def _acted(item: Payload) -> Payload:
    return action_payload(item, ["candidate.gender: not stored by RECRU"])


def _attachments(item: Payload) -> Payload:
    return action_payload({"results": [item]})


CASES = [
    Case("users", ListResponse[User], GetAtsUsersPositiveResponse, user_example, _listed, User),
    Case("jobs", ListResponse[Job], GetAtsJobsPositiveResponse, job_example, _listed, Job),
    Case(
        "candidates", ListResponse[Candidate], GetAtsCandidatesPositiveResponse, candidate_example, _listed, Candidate
    ),
    Case(
        "applications",
        ListResponse[Application],
        GetAtsApplicationsPositiveResponse,
        application_example,
        _listed,
        Application,
    ),
    Case(
        "application-stages",
        ListResponse[ApplicationStage],
        GetAtsApplicationStagesPositiveResponse,
        stage_example,
        _listed,
        ApplicationStage,
    ),
    Case("tags", ListResponse[Tag], GetAtsTagsPositiveResponse, tag_example, _listed, Tag),
    Case(
        "create-application",
        ActionResponse[CreatedApplication],
        PostAtsJobsJobIDApplicationsPositiveResponse,
        created_application_example,
        _acted,
        CreatedApplication,
    ),
    Case(
        "create-candidate",
        ActionResponse[Candidate],
        PostAtsCandidatesPositiveResponse,
        candidate_example,
        _acted,
        Candidate,
    ),
]
ATTACHMENT_CASES = [
    Case(
        "candidate-attachments",
        AttachmentsResponse,
        GetAtsCandidatesCandidateIDAttachmentsPositiveResponse,
        lambda: attachment_example(None),
        _attachments,
        Attachment,
    ),
    Case(
        "application-attachments",
        AttachmentsResponse,
        GetAtsApplicationsApplicationIDAttachmentsPositiveResponse,
        lambda: attachment_example(_id(ModelName.APPLICATIONS, 9001)),
        _attachments,
        Attachment,
    ),
]


def _round_trip(case: Case, envelope: Payload) -> Payload:
    """Validate with our model, dump as JSON, and return the dump after the SDK's model has accepted it."""
    dumped = case.ours.model_validate(envelope).model_dump(mode="json")
    case.sdk.model_validate(dumped)
    return dumped


@pytest.mark.parametrize("case", CASES + ATTACHMENT_CASES, ids=_name)
def test_full_example_passes_our_model_and_the_sdk(case: Case) -> None:
    dumped = _round_trip(case, case.wrap(case.example()))
    assert dumped == _round_trip(case, dumped), "the dump must be a fixed point"


@pytest.mark.parametrize("case", CASES + ATTACHMENT_CASES, ids=_name)
def test_null_heavy_example_passes_our_model_and_the_sdk(case: Case) -> None:
    _round_trip(case, case.wrap(nulled(case.item, case.example())))


@pytest.mark.parametrize("case", CASES + ATTACHMENT_CASES, ids=_name)
def test_every_key_is_required(case: Case) -> None:
    example = case.example()
    case.item.model_validate(example)
    for key in example:
        with pytest.raises(ValidationError, match=key):
            case.item.model_validate({k: v for k, v in example.items() if k != key})


def test_full_example_keeps_values_through_the_sdk() -> None:
    dumped = _round_trip(CASES[1], _listed(job_example()))
    job = dumped["data"]["results"][0]
    assert (job["remote_id"], job["changed_at"], job["remote_updated_at"]) == ("101", CHANGED, UPDATED)
    assert [stage["index"] for stage in job["stages"]] == [0, 1, 2]
    parsed = GetAtsJobsPositiveResponse.model_validate(dumped).data.results[0]
    assert parsed.changed_at == datetime(2024, 5, 2, 10, 15, tzinfo=UTC)
    assert parsed.custom_fields == {"cost_center": "4711"}


def test_list_page_with_cursor_and_empty_page() -> None:
    dumped = _round_trip(CASES[5], list_payload([tag_example()], "eyJrIjoiMSJ9"))
    assert dumped["data"]["next"] == "eyJrIjoiMSJ9"
    assert _round_trip(CASES[5], list_payload([], None)) == {"status": "success", "data": {"next": None, "results": []}}


# --- closed enums: unknown literals are rejected, by us and by the SDK ----------------------------------------------


def _set(payload: Payload, path: tuple[str | int, ...], value: Any) -> Payload:
    target: Any = payload
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return payload


R = ("data", "results", 0)
CLOSED_ENUMS = [
    ("user.status", CASES[0], (*R, "status"), "DISABLED"),
    ("user.system_roles.unified_type", CASES[0], (*R, "system_roles", 0, "unified_type"), "OWNER"),
    ("user.system_roles.scope", CASES[0], (*R, "system_roles", 0, "scope"), "JOB"),
    ("job.hiring_team_roles", CASES[1], (*R, "hiring_team", 0, "hiring_team_roles", 0), "ADMIN"),
    ("job.job_roles.unified_type", CASES[1], (*R, "hiring_team", 0, "job_roles", 0, "unified_type"), "OWNER"),
    ("job.job_roles.scope", CASES[1], (*R, "hiring_team", 0, "job_roles", 0, "scope"), "SYSTEM"),
    ("job.stages.status", CASES[1], (*R, "stages", 0, "status"), "ARCHIVED"),
    ("candidate.applications.outcome", CASES[2], (*R, "applications", 0, "outcome"), "WITHDRAWN"),
    ("application.outcome", CASES[3], (*R, "outcome"), "REJECTED"),
    ("application.current_stage.status", CASES[3], (*R, "current_stage", "status"), "CLOSED"),
    ("application_stage.status", CASES[4], (*R, "status"), "DELETED"),
    ("attachment.type", ATTACHMENT_CASES[0], ("data", "results", 0, "type"), "RESUME"),
    ("envelope.status", CASES[5], ("status",), "ok"),
]


@pytest.mark.parametrize(("case", "path", "value"), [c[1:] for c in CLOSED_ENUMS], ids=[c[0] for c in CLOSED_ENUMS])
def test_unknown_literal_of_a_closed_enum_is_rejected(case: Case, path: tuple[str | int, ...], value: str) -> None:
    envelope = _set(case.wrap(case.example()), path, value)
    with pytest.raises(ValidationError):
        case.ours.model_validate(envelope)
    with pytest.raises(ValidationError):  # the SDK would break on it too
        case.sdk.model_validate(envelope)


@pytest.mark.parametrize(
    ("ours", "sdk"),
    [
        (UserStatus, GetAtsUsersPositiveResponseStatus),
        (StageStatus, SdkStageStatus),
        (Outcome, GetAtsApplicationsPositiveResponseOutcome),
        (HiringTeamRole, GetAtsJobsPositiveResponseHiringTeamRole),
        (RoleType, GetAtsJobsPositiveResponseUnifiedType),
        (AttachmentType, GetAtsCandidatesCandidateIDAttachmentsPositiveResponseType),
    ],
)
def test_closed_enums_have_the_sdk_values(ours: Any, sdk: Any) -> None:
    assert set(get_args(ours)) == set(get_args(sdk))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employment_type", "APPRENTICESHIP"),
        ("status", "ON_HOLD"),
        ("visibility", "SECRET"),
        ("remote_work_status", "WORKATION"),
        ("salary_period", "QUARTER"),
    ],
)
def test_open_enums_pass_raw_values_through(field: str, value: str) -> None:
    dumped = _round_trip(CASES[1], _listed({**job_example(), field: value}))
    assert dumped["data"]["results"][0][field] == value


# --- scalar rules -------------------------------------------------------------------------------------------------


def test_custom_fields_is_never_a_list() -> None:
    with pytest.raises(ValidationError, match="custom_fields"):
        Job.model_validate({**job_example(), "custom_fields": []})
    with pytest.raises(ValidationError, match="custom_fields"):
        ApplicationStage.model_validate({**stage_example(), "custom_fields": []})


def test_remote_ids_are_strings() -> None:
    with pytest.raises(ValidationError, match="remote_id"):
        Tag.model_validate({**tag_example(), "remote_id": 3})
    with pytest.raises(ValidationError, match="remote_id"):  # jobs and candidates always have one
        Job.model_validate({**job_example(), "remote_id": None})
    with pytest.raises(ValidationError, match="remote_id"):
        Candidate.model_validate({**candidate_example(), "remote_id": None})


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 5, 2, 10, 15),
        datetime(2024, 5, 2, 12, 15, tzinfo=timezone(timedelta(hours=2))),
        "2024-05-02T10:15:00",
        "2024-05-02T10:15:00+00:00",
        "2024-05-02T11:15:00+01:00",
    ],
)
def test_datetimes_go_out_in_utc_with_z(value: datetime | str) -> None:
    tag = Tag.model_validate({**tag_example(), "changed_at": value, "remote_deleted_at": value})
    dumped = tag.model_dump(mode="json")
    assert dumped["changed_at"] == dumped["remote_deleted_at"] == "2024-05-02T10:15:00.000Z"
    assert tag.model_dump_json().count('"2024-05-02T10:15:00.000Z"') == 2


def test_changed_at_is_never_null() -> None:
    with pytest.raises(ValidationError, match="changed_at"):
        Tag.model_validate({**tag_example(), "changed_at": None})


def test_format_datetime_matches_the_models() -> None:
    for value in (datetime(2024, 5, 2, 10, 15), datetime(2024, 5, 2, 10, 15, 0, 250000, tzinfo=UTC)):
        assert (
            format_datetime(value)
            == Tag.model_validate({**tag_example(), "changed_at": value}).model_dump(mode="json")["changed_at"]
        )
    two_hours_east = timezone(timedelta(hours=2))
    assert format_datetime(datetime(2024, 5, 2, 12, 15, tzinfo=two_hours_east)) == "2024-05-02T10:15:00.000Z"
    assert format_datetime(datetime(2024, 5, 2, 10, 15, 0, 250999, tzinfo=UTC)) == "2024-05-02T10:15:00.250Z"
    assert format_datetime(datetime(999, 6, 1, 8, 0, tzinfo=UTC)) == "0999-06-01T08:00:00.000Z"  # ISO: four digits


# --- the other envelopes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sdk", [PostAtsCandidatesCandidateIDTagsPositiveResponse, DeleteAtsCandidatesCandidateIDTagsPositiveResponse]
)
def test_tag_actions_return_empty_data(sdk: type[BaseModel]) -> None:
    dumped = ActionResponse[EmptyData].model_validate(action_payload({})).model_dump(mode="json")
    assert dumped == {"status": "success", "data": {}, "warnings": []}
    sdk.model_validate(dumped)


def test_action_warnings_are_required() -> None:
    with pytest.raises(ValidationError, match="warnings"):
        ActionResponse[EmptyData].model_validate(data_payload({}))
    with pytest.raises(ValidationError, match="warnings"):
        AttachmentsResponse.model_validate(data_payload({"results": []}))


def test_check_api_key() -> None:
    dumped = DataResponse[ApiKeyInfo].model_validate(data_payload({"environment_id": "env_1"})).model_dump(mode="json")
    assert dumped == {"status": "success", "data": {"environment_id": "env_1"}}
    GetCheckAPIKeyPositiveResponse.model_validate(dumped)


def test_error_codes_are_the_sdk_codes() -> None:
    assert set(get_args(KomboAtsErrorCode)) == ERROR_CODES
    assert set(get_args(KomboGeneralErrorCode)) == PLATFORM_ERROR_CODES
    assert len(ERROR_CODES) == 24


@pytest.mark.parametrize("code", [*sorted(ERROR_CODES, key=str), None], ids=str)
def test_error_envelope(code: Any) -> None:
    envelope = error_payload(code, "Something went wrong.", title="Oops")
    dumped = ErrorResponse.model_validate(envelope).model_dump(mode="json")
    assert dumped == {
        "status": "error",
        "error": {"code": code, "title": "Oops", "message": "Something went wrong.", "log_url": None},
    }
    KomboAtsErrorData.model_validate(dumped)
    if code is None or code in PLATFORM_ERROR_CODES:
        KomboGeneralErrorData.model_validate(dumped)


def test_unknown_error_code_is_rejected() -> None:
    envelope = error_payload("PLATFORM.NOT_FOUND", "no")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ErrorResponse.model_validate(envelope)
    with pytest.raises(ValidationError):
        KomboAtsErrorData.model_validate(envelope)


# --- JSON schema / OpenAPI ----------------------------------------------------------------------------------------

ENVELOPES: list[type[BaseModel]] = [case.ours for case in CASES] + [
    AttachmentsResponse,
    ActionResponse[EmptyData],
    DataResponse[ApiKeyInfo],
    ErrorResponse,
]


@pytest.mark.parametrize("envelope", ENVELOPES, ids=lambda model: model.__name__)
def test_json_schema_is_generated(envelope: type[BaseModel]) -> None:
    schema = envelope.model_json_schema(mode="serialization")
    assert set(schema["required"]) >= {"status"}
    envelope.model_json_schema(mode="validation")


def test_read_model_schema_requires_every_key() -> None:
    for case in CASES:
        schema = case.item.model_json_schema(mode="serialization")
        assert set(schema["required"]) == set(case.item.model_fields), case.name


def test_openapi_document_is_generated() -> None:
    app = FastAPI()
    for index, envelope in enumerate(ENVELOPES):
        app.get(f"/v1/e{index}", response_model=envelope, responses={400: {"model": ErrorResponse}})(_noop)
    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert {"Job", "Candidate", "Application", "CreatedApplication", "ErrorBody"} <= set(schemas)
    assert "Open enum" in schemas["Job"]["properties"]["employment_type"]["description"]
    assert set(schemas["Job"]["required"]) == set(Job.model_fields)


def _noop() -> None:
    return None
