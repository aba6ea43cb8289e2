"""RECRU → unified mapping: every row of spec/recru-mapping.md, with expected values written from the spec.

The payloads follow the RECRU read shapes of spec/recru-api.md §4. Records are also validated against the kombo
SDK's response models, so the API can serve them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from kombo.models.getatsapplicationspositiveresponse import (
    GetAtsApplicationsPositiveResponseOutcome,
    GetAtsApplicationsPositiveResponseResult,
)
from kombo.models.getatsapplicationstagespositiveresponse import GetAtsApplicationStagesPositiveResponseResult
from kombo.models.getatscandidatespositiveresponse import (
    GetAtsCandidatesPositiveResponseLocation,
    GetAtsCandidatesPositiveResponseResult,
)
from kombo.models.getatsjobspositiveresponse import (
    GetAtsJobsPositiveResponseEmploymentType,
    GetAtsJobsPositiveResponseHiringTeamRole,
    GetAtsJobsPositiveResponseResult,
    GetAtsJobsPositiveResponseStatus,
    GetAtsJobsPositiveResponseVisibility,
    RemoteWorkStatus,
    SalaryPeriod,
)
from kombo.models.getatstagspositiveresponse import GetAtsTagsPositiveResponseResult
from kombo.models.getatsuserspositiveresponse import (
    GetAtsUsersPositiveResponseResult,
    GetAtsUsersPositiveResponseUnifiedType,
)

from atsbridge.connectors.recru.mapping import (
    EMPLOYMENT_TYPES,
    HIRING_TEAM_ROLES,
    JOB_STATUSES,
    OUTCOMES,
    REMOTE_WORK_STATUSES,
    SALARY_PERIODS,
    SYSTEM_ROLES,
    VISIBILITIES,
    Codebooks,
    Mapped,
    MappingContext,
    map_application,
    map_application_stage,
    map_candidate,
    map_job,
    map_tag,
    map_user,
)
from atsbridge.store.tables import record_columns, table_of
from atsbridge.unified.ids import ModelName, join_id, model_id

INTEGRATION = "recruhr:Tst1ntegrat1onTst1ntegrat"
CHANGED_AT = datetime(2024, 6, 1, tzinfo=UTC)

CODEBOOKS = Codebooks.from_items(
    {
        "departments": [{"id": 4, "name": "Engineering", "active": True}],
        "locations": [
            {"id": 1, "name": "Wien", "active": True, "city": "Wien", "postalCode": "1010", "countryCode": "AT"},
            {
                "id": 2,
                "name": "Prague HQ",
                "active": True,
                "city": "Praha",
                "postalCode": "110 00",
                "countryCode": "CZ",
            },
        ],
        "rejectionReasons": [{"id": 3, "name": "Qualifikation passt nicht", "active": True}],
    }
)

USER = {
    "id": 3,
    "firstName": "Jana",
    "lastName": "Nováková",
    "email": "jana.novakova@tenant.example",
    "role": "hiring_manager",
    "active": True,
    "apiAccess": False,
    "createdAt": "2024-01-02T03:04:05Z",
    "updatedAt": "2024-02-03T04:05:06Z",
}

PROJECT = {
    "id": 11,
    "code": "DEV-7",
    "name": "Backend Developer (m/w/d)",
    "description": "<p>Python &amp; <b>SQL</b></p>",
    "status": "on_hold",
    "closeReasonId": None,
    "visibility": "internal",
    "employmentType": "working_student",
    "experienceLevel": "senior",
    "salary": {"amount": 65000, "currency": "EUR", "period": "year"},
    "weeklyHours": 38.5,
    "remote": "hybrid",
    "departmentId": 4,
    "locationIds": [2, 1],
    "hiringTeam": [
        {"userId": 3, "role": "hiring_manager"},
        {"userId": 5, "role": "recruiter"},
        {"userId": 3, "role": "interviewer"},
    ],
    "stageIds": [30, 10, 20],
    "openedAt": "2024-03-01T08:00:00Z",
    "closedAt": None,
    "createdAt": "2024-02-28T10:00:00Z",
    "updatedAt": "2024-03-05T12:30:00Z",
}

STAGE = {"id": 10, "name": "Interview", "position": 2, "kind": "regular", "active": True}

TAG = {"id": 5, "name": "Python", "color": "#3572A5"}

JOBSEEKER = {
    "id": 42,
    "salutation": "ms",
    "titleBefore": "Ing.",
    "titleAfter": None,
    "firstName": "Zuzana",
    "lastName": "Kováč",
    "emails": [
        {"value": "z.kovac@work.example", "type": "work", "primary": False},
        {"value": "zuzana@private.example", "type": "private", "primary": True},
        {"value": "broken-address", "type": "private", "primary": False},
    ],
    "phones": [
        {"value": "+421 900 111 222", "type": "work", "primary": False},
        {"value": "  ", "type": "private", "primary": False},
        {"value": "+421 900 333 444", "type": "mobile", "primary": True},
    ],
    "address": {
        "street": "Hlavná 1",
        "postalCode": "811 01",
        "city": "Bratislava",
        "region": "Bratislavský kraj",
        "countryCode": "SK",
    },
    "currentCompany": "ACME s.r.o.",
    "currentPosition": "Data Engineer",
    "dateOfBirth": "1990-05-06",
    "availableFrom": "2024-06-01",
    "salaryExpectation": {"amount": 4000, "currency": "EUR", "period": "month"},
    "source": {"id": 2, "name": "LinkedIn"},
    "tagIds": [5, 6, 5],
    "ownerUserId": 3,
    "gdprConsent": {"given": True, "givenAt": "2024-01-01T00:00:00Z", "expiresAt": "2026-01-01"},
    "createdAt": "2024-01-10T09:00:00Z",
    "updatedAt": "2024-01-11T10:00:00+01:00",
}

APPLICATION = {
    "id": 900,
    "jobseekerId": 42,
    "projectId": 11,
    "stageId": 20,
    "status": "rejected",
    "rejectionReasonId": 3,
    "appliedAt": "2024-03-02T10:00:00Z",
    "createdAt": "2024-03-02T10:00:05Z",
    "updatedAt": "2024-03-09T16:00:00Z",
}


def context() -> MappingContext:
    return MappingContext(INTEGRATION, CODEBOOKS)


def our_id(model: ModelName, remote_id: int) -> str:
    return model_id(INTEGRATION, model, remote_id)


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def with_changes(payload: Mapping[str, Any], **changes: Any) -> dict[str, Any]:
    return {**payload, **changes}


# --- users ----------------------------------------------------------------------------------------------------------


def test_user() -> None:
    assert map_user(USER, context()) == Mapped(
        {
            "id": our_id(ModelName.USERS, 3),
            "remote_id": "3",
            "first_name": "Jana",
            "last_name": "Nováková",
            "email": "jana.novakova@tenant.example",
            "status": "ACTIVE",
            "system_roles": [
                {
                    "remote_id": "hiring_manager",
                    "remote_label": "hiring_manager",
                    "unified_type": "HIRING_MANAGER",
                    "scope": "SYSTEM",
                }
            ],
            "remote_data": {"UserService.list": USER},
        }
    )


@pytest.mark.parametrize(
    ("role", "unified"), [("admin", "ADMIN"), ("recruiter", "RECRUITER"), ("hiring_manager", "HIRING_MANAGER")]
)
def test_user_system_roles(role: str, unified: str) -> None:
    record = map_user(with_changes(USER, role=role), context()).record
    assert [item["unified_type"] for item in record["system_roles"]] == [unified]


def test_user_inactive() -> None:
    assert map_user(with_changes(USER, active=False), context()).record["status"] == "INACTIVE"


@pytest.mark.parametrize(
    "email", ["not-an-email", "", "two@@signs.example", "no-domain@", "a b@tenant.example", "a@b.example\n", None]
)
def test_user_invalid_email_is_null(email: str | None) -> None:
    ctx = context()
    assert map_user(with_changes(USER, email=email), ctx).record["email"] is None
    assert list(ctx.warnings) == ([] if email is None else ["ats_users.email: an invalid e-mail address was left out"])


@pytest.mark.parametrize("email", ["jana@tenant.example", "jana@tenant.example.", "j+x@a.b.c"])
def test_user_email_recru_accepts_is_kept(email: str) -> None:
    assert map_user(with_changes(USER, email=email), context()).record["email"] == email


def test_user_unknown_role_is_kept_unmapped_with_a_warning() -> None:
    ctx = context()
    record = map_user(with_changes(USER, role="owner"), ctx).record
    assert record["system_roles"] == [
        {"remote_id": "owner", "remote_label": "owner", "unified_type": None, "scope": "SYSTEM"}
    ]
    assert list(ctx.warnings) == ["ats_users.system_roles: unknown RECRU value 'owner' mapped to null"]


def test_user_role_recru_adds_that_kombo_knows_is_taken() -> None:
    record = map_user(with_changes(USER, role="interviewer"), context()).record
    assert [role["unified_type"] for role in record["system_roles"]] == ["INTERVIEWER"]


# --- jobs and their joins -------------------------------------------------------------------------------------------


def test_job() -> None:
    ctx = context()
    mapped = map_job(PROJECT, ctx)
    job_id = our_id(ModelName.JOBS, 11)
    assert mapped.record == {
        "id": job_id,
        "remote_id": "11",
        "name": "Backend Developer (m/w/d)",
        "job_code": "DEV-7",
        "description": "<p>Python &amp; <b>SQL</b></p>",
        "employment_type": "PART_TIME",
        "status": "CLOSED",
        "visibility": "INTERNAL",
        "department": "Engineering",
        "experience_level": "senior",
        "salary_amount": 65000.0,
        "salary_currency": "EUR",
        "salary_period": "YEAR",
        "weekly_hours": 38.5,
        "remote_work_status": "HYBRID",
        "location": {
            "city": "Praha",
            "country": "CZ",
            "raw": "Prague HQ",
            "state": None,
            "street_1": None,
            "street_2": None,
            "zip_code": "110 00",
        },
        "custom_fields": None,
        "opened_at": at("2024-03-01 08:00:00"),
        "closed_at": None,
        "remote_created_at": at("2024-02-28 10:00:00"),
        "remote_updated_at": at("2024-03-05 12:30:00"),
        "remote_data": {"ProjectService.list": PROJECT},
    }
    assert mapped.joins[ModelName.JOBS_APPLICATION_STAGES] == [
        {
            "id": join_id(INTEGRATION, ModelName.JOBS_APPLICATION_STAGES, 11, stage),
            "job_id": job_id,
            "stage_id": our_id(ModelName.APPLICATION_STAGES, stage),
            "index": index,
        }
        for index, stage in [(0, 30), (1, 10), (2, 20)]
    ]
    assert mapped.joins[ModelName.JOBS_USERS] == [
        {
            "id": join_id(INTEGRATION, ModelName.JOBS_USERS, 11, 3),
            "job_id": job_id,
            "user_id": our_id(ModelName.USERS, 3),
            "hiring_team_roles": ["HIRING_MANAGER", "INTERVIEWER"],
            "job_roles": [
                {
                    "remote_id": "hiring_manager",
                    "remote_label": "hiring_manager",
                    "unified_type": "HIRING_MANAGER",
                    "scope": "JOB",
                },
                {
                    "remote_id": "interviewer",
                    "remote_label": "interviewer",
                    "unified_type": "INTERVIEWER",
                    "scope": "JOB",
                },
            ],
        },
        {
            "id": join_id(INTEGRATION, ModelName.JOBS_USERS, 11, 5),
            "job_id": job_id,
            "user_id": our_id(ModelName.USERS, 5),
            "hiring_team_roles": ["RECRUITER"],
            "job_roles": [
                {"remote_id": "recruiter", "remote_label": "recruiter", "unified_type": "RECRUITER", "scope": "JOB"}
            ],
        },
    ]
    assert not ctx.warnings


@pytest.mark.parametrize(
    ("raw", "unified"),
    [
        ("full_time", "FULL_TIME"),
        ("part_time", "PART_TIME"),
        ("mini_job", "PART_TIME"),
        ("working_student", "PART_TIME"),
        ("internship", "INTERNSHIP"),
        ("apprenticeship", "INTERNSHIP"),
        ("temporary", "SEASONAL"),
        ("freelance", "CONTRACT"),
        (None, None),
    ],
)
def test_job_employment_type(raw: str | None, unified: str | None) -> None:
    assert map_job(with_changes(PROJECT, employmentType=raw), context()).record["employment_type"] == unified


@pytest.mark.parametrize(
    ("raw", "unified"),
    [("draft", "DRAFT"), ("open", "OPEN"), ("on_hold", "CLOSED"), ("closed", "CLOSED"), ("archived", "ARCHIVED")],
)
def test_job_status(raw: str, unified: str) -> None:
    assert map_job(with_changes(PROJECT, status=raw), context()).record["status"] == unified


@pytest.mark.parametrize(
    ("raw", "unified"),
    [("public", "PUBLIC"), ("internal", "INTERNAL"), ("unlisted", "UNLISTED"), ("confidential", "CONFIDENTIAL")],
)
def test_job_visibility(raw: str, unified: str) -> None:
    assert map_job(with_changes(PROJECT, visibility=raw), context()).record["visibility"] == unified


@pytest.mark.parametrize(("raw", "unified"), [("year", "YEAR"), ("month", "MONTH"), ("hour", "HOUR")])
def test_job_salary_period(raw: str, unified: str) -> None:
    salary = {"amount": 20, "currency": "CZK", "period": raw}
    record = map_job(with_changes(PROJECT, salary=salary), context()).record
    assert (record["salary_amount"], record["salary_currency"], record["salary_period"]) == (20.0, "CZK", unified)


@pytest.mark.parametrize(
    ("raw", "unified"), [("on_site", "ON_SITE"), ("hybrid", "HYBRID"), ("remote", "REMOTE"), (None, None)]
)
def test_job_remote_work_status(raw: str | None, unified: str | None) -> None:
    assert map_job(with_changes(PROJECT, remote=raw), context()).record["remote_work_status"] == unified


@pytest.mark.parametrize(
    ("changes", "field", "passed_through"),
    [
        ({"employmentType": "seasonal_work"}, "employment_type", "SEASONAL_WORK"),
        ({"status": "paused"}, "status", "PAUSED"),
        ({"visibility": "secret"}, "visibility", "SECRET"),
        ({"remote": "anywhere"}, "remote_work_status", "ANYWHERE"),
        ({"salary": {"amount": 1, "currency": "EUR", "period": "week"}}, "salary_period", "WEEK"),
    ],
)
def test_job_unknown_open_enum_values_pass_through_upper_cased(
    changes: dict[str, Any], field: str, passed_through: str
) -> None:
    ctx = context()
    assert map_job(with_changes(PROJECT, **changes), ctx).record[field] == passed_through
    [(message, count)] = ctx.warnings.items()
    assert message.startswith(f"ats_jobs.{field}: unknown RECRU value")
    assert passed_through in message
    assert count == 1


def test_job_without_optional_data() -> None:
    ctx = context()
    changes: dict[str, Any] = {
        "salary": None,
        "weeklyHours": None,
        "departmentId": None,
        "locationIds": [],
        "experienceLevel": None,
        "hiringTeam": [],
        "stageIds": [],
        "openedAt": None,
    }
    mapped = map_job(with_changes(PROJECT, **changes), ctx)
    record = mapped.record
    assert [record[key] for key in ("salary_amount", "salary_currency", "salary_period", "weekly_hours")] == [None] * 4
    assert [record[key] for key in ("department", "location", "experience_level", "opened_at")] == [None] * 4
    assert mapped.joins == {ModelName.JOBS_APPLICATION_STAGES: [], ModelName.JOBS_USERS: []}
    assert not ctx.warnings


def test_job_codebook_ids_without_entry_are_null_with_warnings() -> None:
    ctx = context()
    record = map_job(with_changes(PROJECT, departmentId=99, locationIds=[77]), ctx).record
    assert record["department"] is None
    assert record["location"] is None
    assert sorted(ctx.warnings) == [
        "codebook departments: no entry 99, name mapped to null",
        "codebook locations: no entry 77, job location mapped to null",
    ]


def test_a_stage_repeated_in_the_pipeline_is_listed_once_and_the_others_keep_their_positions() -> None:
    mapped = map_job(with_changes(PROJECT, stageIds=[30, 10, 10, 20]), context())
    indexes = {row["stage_id"]: row["index"] for row in mapped.joins[ModelName.JOBS_APPLICATION_STAGES]}
    assert indexes == {our_id(ModelName.APPLICATION_STAGES, 30): 0, our_id(ModelName.APPLICATION_STAGES, 10): 1,
                       our_id(ModelName.APPLICATION_STAGES, 20): 3}  # fmt: skip


def test_job_unknown_hiring_team_role() -> None:
    ctx = context()
    team = [{"userId": 8, "role": "sourcer_lead"}, {"userId": 8, "role": "recruiter"}]
    [row] = map_job(with_changes(PROJECT, hiringTeam=team), ctx).joins[ModelName.JOBS_USERS]
    assert row["hiring_team_roles"] == ["RECRUITER"]
    assert [role["unified_type"] for role in row["job_roles"]] == [None, "RECRUITER"]
    assert list(ctx.warnings) == ["ats_join_jobs_users.roles: unknown RECRU value 'sourcer_lead' mapped to null"]


def test_job_hiring_team_role_recru_adds_that_kombo_knows_is_taken() -> None:
    ctx = context()
    team = [{"userId": 8, "role": "sourcer"}, {"userId": 8, "role": "admin"}, {"userId": 9, "role": "Coordinator"}]
    rows = map_job(with_changes(PROJECT, hiringTeam=team), ctx).joins[ModelName.JOBS_USERS]
    assert [row["hiring_team_roles"] for row in rows] == [["SOURCER"], ["COORDINATOR"]]  # ADMIN is no team role
    assert [[role["unified_type"] for role in row["job_roles"]] for row in rows] == [
        ["SOURCER", "ADMIN"],
        ["COORDINATOR"],
    ]
    assert (
        "ats_join_jobs_users.roles: unknown RECRU value 'sourcer' taken as 'SOURCER', a value of the unified enum"
        in ctx.warnings
    )


def test_job_numbers_no_float_can_hold_are_null_with_a_warning() -> None:
    ctx = context()
    job = map_job(with_changes(PROJECT, salary={**PROJECT["salary"], "amount": 10**400}, weeklyHours=40), ctx).record
    assert (job["salary_amount"], job["weekly_hours"]) == (None, 40.0)
    assert list(ctx.warnings) == ["ats_jobs.salary_amount: a number no float can hold was mapped to null"]


# --- stages and tags ------------------------------------------------------------------------------------------------


def test_application_stage() -> None:
    assert map_application_stage(STAGE, context()) == Mapped(
        {
            "id": our_id(ModelName.APPLICATION_STAGES, 10),
            "remote_id": "10",
            "name": "Interview",
            "status": "ACTIVE",
            "custom_fields": None,
            "remote_data": {"StageService.list": STAGE},
        }
    )


def test_inactive_application_stage() -> None:
    assert map_application_stage(with_changes(STAGE, active=False), context()).record["status"] == "INACTIVE"


def test_tag() -> None:
    assert map_tag(TAG, context()) == Mapped(
        {"id": our_id(ModelName.TAGS, 5), "remote_id": "5", "name": "Python", "remote_data": {"TagService.list": TAG}}
    )


# --- candidates -----------------------------------------------------------------------------------------------------


def test_candidate() -> None:
    ctx = context()
    mapped = map_candidate(JOBSEEKER, ctx)
    candidate_id = our_id(ModelName.CANDIDATES, 42)
    assert mapped.record == {
        "id": candidate_id,
        "remote_id": "42",
        "first_name": "Zuzana",
        "last_name": "Kováč",
        "company": "ACME s.r.o.",
        "title": "Data Engineer",
        "source": "LinkedIn",
        "email_addresses": [
            {"email_address": "zuzana@private.example", "type": "PRIVATE"},
            {"email_address": "z.kovac@work.example", "type": "WORK"},
        ],
        "phone_numbers": [
            {"phone_number": "+421 900 333 444", "type": "MOBILE"},
            {"phone_number": "+421 900 111 222", "type": "WORK"},
        ],
        "location": {
            "city": "Bratislava",
            "country": "SK",
            "raw": None,
            "state": "Bratislavský kraj",
            "street_1": "Hlavná 1",
            "street_2": None,
            "zip_code": "811 01",
        },
        "custom_fields": None,
        "remote_created_at": at("2024-01-10 09:00:00"),
        "remote_updated_at": at("2024-01-11 09:00:00"),
        "remote_data": {"JobseekerService.list": JOBSEEKER},
    }
    assert mapped.joins == {
        ModelName.CANDIDATES_TAGS: [
            {
                "id": join_id(INTEGRATION, ModelName.CANDIDATES_TAGS, 42, tag),
                "candidate_id": candidate_id,
                "tag_id": our_id(ModelName.TAGS, tag),
            }
            for tag in (5, 6)
        ]
    }
    assert ctx.warnings == {"ats_candidates.email_addresses: an invalid e-mail address was left out": 1}


def test_candidate_without_optional_data() -> None:
    changes: dict[str, Any] = {
        "address": None,
        "source": None,
        "emails": [],
        "phones": [],
        "tagIds": [],
        "currentCompany": None,
    }
    mapped = map_candidate(with_changes(JOBSEEKER, **changes), context())
    record = mapped.record
    assert (record["location"], record["source"], record["company"]) == (None, None, None)
    assert (record["email_addresses"], record["phone_numbers"]) == ([], [])
    assert mapped.joins == {ModelName.CANDIDATES_TAGS: []}


def test_candidate_phone_types_are_upper_cased() -> None:
    phones = [
        {"value": "1", "type": "private", "primary": False},
        {"value": "2", "type": "fax", "primary": False},
        {"value": "3", "type": None, "primary": False},
        {"value": None, "type": "work", "primary": True},
    ]
    record = map_candidate(with_changes(JOBSEEKER, phones=phones), context()).record
    assert record["phone_numbers"] == [
        {"phone_number": "1", "type": "PRIVATE"},
        {"phone_number": "2", "type": "FAX"},
        {"phone_number": "3", "type": None},
    ]


def test_candidate_phone_numbers_that_show_nothing_are_left_out() -> None:
    phones = [
        {"value": "\u200b", "type": "work", "primary": True},
        {"value": " \u2060\ufeff ", "type": "mobile", "primary": False},
        {"value": "\u00a0", "type": "home", "primary": False},
        {"value": "+420 1", "type": "mobile", "primary": False},
    ]
    record = map_candidate(with_changes(JOBSEEKER, phones=phones), context()).record
    assert record["phone_numbers"] == [{"phone_number": "+420 1", "type": "MOBILE"}]


def test_candidate_country_is_an_upper_case_iso_code_whatever_the_case_recru_sends() -> None:
    address = {"street": None, "postalCode": None, "city": "Graz", "region": None, "countryCode": "at"}
    record = map_candidate(with_changes(JOBSEEKER, address=address), context()).record
    assert record["location"]["country"] == "AT"


@pytest.mark.parametrize(
    ("recru", "unified", "warned"),
    [("uk", "GB", False), ("EL", "GR", False), ("XX", None, True), ("EU", None, True), ("CZE", None, True)],
)
def test_a_country_code_iso_does_not_assign_is_its_country_or_null_with_a_warning(
    recru: str, unified: str | None, warned: bool
) -> None:
    """The unified `country` is ISO 3166-1 alpha-2: RECRU's `UK` (reserved for the United Kingdom) is GB, a code no
    country has is null (it was served as RECRU held it), on candidates and on jobs alike."""
    address = {"street": None, "postalCode": None, "city": "Město", "region": None, "countryCode": recru}
    ctx = context()
    assert map_candidate(with_changes(JOBSEEKER, address=address), ctx).record["location"]["country"] == unified
    location = {"id": 9, "name": "Jinde", "active": True, "city": "Město", "postalCode": None, "countryCode": recru}
    codebooks = Codebooks.from_items({"locations": [location]})
    job_ctx = MappingContext(INTEGRATION, codebooks)
    assert map_job(with_changes(PROJECT, locationIds=[9]), job_ctx).record["location"]["country"] == unified
    assert [w for w in ctx.warnings if "country" in w] == (
        [f"ats_candidates.location.country: {recru!r} is no ISO 3166-1 alpha-2 country code, mapped to null"]
        if warned
        else []
    )
    assert [w for w in job_ctx.warnings if "country" in w] == (
        [f"ats_jobs.location.country: {recru!r} is no ISO 3166-1 alpha-2 country code, mapped to null"]
        if warned
        else []
    )


def test_candidate_keeps_every_address_recru_accepts_and_drops_empty_ones() -> None:
    emails = [
        {"value": "", "type": "work", "primary": True},
        {"value": "a@b.example.", "type": "private", "primary": False},
        {"value": "not-an-email", "type": "private", "primary": False},
    ]
    ctx = context()
    record = map_candidate(with_changes(JOBSEEKER, emails=emails), ctx).record
    assert record["email_addresses"] == [{"email_address": "a@b.example.", "type": "PRIVATE"}]
    assert ctx.warnings == {"ats_candidates.email_addresses: an invalid e-mail address was left out": 2}


def test_candidate_unknown_email_type_passes_through() -> None:
    ctx = context()
    emails = [{"value": "a@b.example", "type": "other", "primary": True}]
    record = map_candidate(with_changes(JOBSEEKER, emails=emails), ctx).record
    assert record["email_addresses"] == [{"email_address": "a@b.example", "type": "OTHER"}]
    assert len(ctx.warnings) == 1


def test_candidate_unreadable_timestamp_is_null_with_warning() -> None:
    ctx = context()
    record = map_candidate(with_changes(JOBSEEKER, updatedAt="yesterday"), ctx).record
    assert record["remote_updated_at"] is None
    assert "ats_candidates.remote_updated_at: unreadable timestamp 'yesterday' mapped to null" in ctx.warnings


# --- applications ---------------------------------------------------------------------------------------------------


def test_application() -> None:
    ctx = context()
    assert map_application(APPLICATION, ctx) == Mapped(
        {
            "id": our_id(ModelName.APPLICATIONS, 900),
            "remote_id": "900",
            "job_id": our_id(ModelName.JOBS, 11),
            "candidate_id": our_id(ModelName.CANDIDATES, 42),
            "current_stage_id": our_id(ModelName.APPLICATION_STAGES, 20),
            "outcome": "DECLINED",
            "rejection_reason_name": "Qualifikation passt nicht",
            "rejected_at": None,
            "custom_fields": None,
            "remote_created_at": at("2024-03-02 10:00:05"),
            "remote_updated_at": at("2024-03-09 16:00:00"),
            "remote_data": {"ApplicationService.list": APPLICATION},
        }
    )
    assert not ctx.warnings


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("active", "PENDING"), ("hired", "HIRED"), ("rejected", "DECLINED"), ("withdrawn", "DECLINED")],
)
def test_application_outcome(status: str, outcome: str) -> None:
    assert map_application(with_changes(APPLICATION, status=status), context()).record["outcome"] == outcome


def test_application_unknown_status_is_null_with_warning() -> None:
    ctx = context()
    assert map_application(with_changes(APPLICATION, status="parked"), ctx).record["outcome"] is None
    assert list(ctx.warnings) == ["ats_applications.outcome: unknown RECRU value 'parked' mapped to null"]


def test_application_status_recru_adds_that_kombo_knows_is_taken() -> None:
    ctx = context()
    assert map_application(with_changes(APPLICATION, status="declined"), ctx).record["outcome"] == "DECLINED"
    assert list(ctx.warnings) == [
        "ats_applications.outcome: unknown RECRU value 'declined' taken as 'DECLINED', a value of the unified enum"
    ]


def test_application_created_at_falls_back_to_applied_at() -> None:
    record = map_application(with_changes(APPLICATION, createdAt=None), context()).record
    assert record["remote_created_at"] == at("2024-03-02 10:00:00")


def test_application_without_stage_and_rejection_reason() -> None:
    ctx = context()
    record = map_application(with_changes(APPLICATION, stageId=None, rejectionReasonId=None), ctx).record
    assert (record["current_stage_id"], record["rejection_reason_name"]) == (None, None)
    record = map_application(with_changes(APPLICATION, rejectionReasonId=12), ctx).record
    assert record["rejection_reason_name"] is None
    assert list(ctx.warnings) == ["codebook rejectionReasons: no entry 12, name mapped to null"]


def test_warnings_aggregate_per_message() -> None:
    ctx = context()
    for remote_id in range(3):
        map_job(with_changes(PROJECT, id=remote_id, status="paused"), ctx)
    assert ctx.warnings == {"ats_jobs.status: unknown RECRU value 'paused' passed through as 'PAUSED'": 3}


# --- shape: store columns and the SDK's models -----------------------------------------------------------------------

ALL = [
    (map_user, USER, ModelName.USERS),
    (map_job, PROJECT, ModelName.JOBS),
    (map_application_stage, STAGE, ModelName.APPLICATION_STAGES),
    (map_tag, TAG, ModelName.TAGS),
    (map_candidate, JOBSEEKER, ModelName.CANDIDATES),
    (map_application, APPLICATION, ModelName.APPLICATIONS),
]


@pytest.mark.parametrize(("mapper", "payload", "model"), ALL)
def test_records_fill_exactly_their_store_columns(mapper: Any, payload: dict[str, Any], model: ModelName) -> None:
    mapped = mapper(payload, context())
    assert list(mapped.record) == record_columns(table_of(model))
    for join, rows in mapped.joins.items():
        assert rows
        assert all(list(row) == record_columns(table_of(join)) for row in rows)


def sdk_literals(annotation: Any) -> set[str]:
    """The values of a closed SDK enum (``Literal``) or of the known part of an open one (``Union[Literal, str]``)."""
    args = get_args(annotation)
    return set(args) if all(isinstance(arg, str) for arg in args) else set(get_args(args[0]))


@pytest.mark.parametrize(
    ("table", "sdk_enum"),
    [
        (EMPLOYMENT_TYPES, GetAtsJobsPositiveResponseEmploymentType),
        (JOB_STATUSES, GetAtsJobsPositiveResponseStatus),
        (VISIBILITIES, GetAtsJobsPositiveResponseVisibility),
        (SALARY_PERIODS, SalaryPeriod),
        (REMOTE_WORK_STATUSES, RemoteWorkStatus),
        (OUTCOMES, GetAtsApplicationsPositiveResponseOutcome),
        (SYSTEM_ROLES, GetAtsUsersPositiveResponseUnifiedType),
        (HIRING_TEAM_ROLES, GetAtsJobsPositiveResponseHiringTeamRole),
    ],
)
def test_enum_tables_produce_only_sdk_values(table: Mapping[str, str], sdk_enum: Any) -> None:
    assert set(table.values()) <= sdk_literals(sdk_enum)


def api_shape(record: Mapping[str, Any], **nested: Any) -> dict[str, Any]:
    """The record as the API will serve it: bookkeeping added, ``remote_data`` left out."""
    served = {key: value for key, value in record.items() if key != "remote_data"}
    return {**served, "changed_at": CHANGED_AT, "remote_deleted_at": None, **nested}


def test_users_fit_the_sdk() -> None:
    GetAtsUsersPositiveResponseResult.model_validate(api_shape(map_user(USER, context()).record))


def test_jobs_fit_the_sdk() -> None:
    ctx = context()
    mapped = map_job(PROJECT, ctx)
    user = map_user(USER, ctx).record
    hiring_team = [
        {
            "id": row["user_id"],
            "remote_id": "3",
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "email": user["email"],
            "hiring_team_roles": row["hiring_team_roles"],
            "job_roles": row["job_roles"],
        }
        for row in mapped.joins[ModelName.JOBS_USERS]
    ]
    stage = map_application_stage(STAGE, ctx).record
    stages = [{**api_shape(stage), "index": row["index"]} for row in mapped.joins[ModelName.JOBS_APPLICATION_STAGES]]
    unsupported = dict.fromkeys(
        ["confidential", "category", "post_url", "salary_amount_from", "salary_amount_to", "remote_url", "contact_id"]
    )
    result = GetAtsJobsPositiveResponseResult.model_validate(
        api_shape(
            mapped.record,
            **unsupported,
            stages=stages,
            hiring_team=hiring_team,
            screening_questions=[],
            job_postings=[],
        )
    )
    assert result.hiring_team[0].job_roles[0].scope == "JOB"


def test_application_stages_and_tags_fit_the_sdk() -> None:
    GetAtsApplicationStagesPositiveResponseResult.model_validate(
        api_shape(map_application_stage(STAGE, context()).record)
    )
    GetAtsTagsPositiveResponseResult.model_validate(api_shape(map_tag(TAG, context()).record))


def test_candidates_fit_the_sdk() -> None:
    record = map_candidate(JOBSEEKER, context()).record
    result = GetAtsCandidatesPositiveResponseResult.model_validate(
        api_shape(record, confidential=None, remote_url=None, social_media=[], applications=[], tags=[])
    )
    assert isinstance(result.location, GetAtsCandidatesPositiveResponseLocation)
    assert result.location.country == "SK"


def test_applications_fit_the_sdk() -> None:
    record = map_application(APPLICATION, context()).record
    GetAtsApplicationsPositiveResponseResult.model_validate(
        api_shape(
            record,
            remote_url=None,
            candidate=None,
            current_stage=None,
            job=None,
            interviews=[],
            offers=[],
            screening_question_answers=[],
        )
    )
