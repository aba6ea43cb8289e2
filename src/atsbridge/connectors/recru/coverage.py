"""What the RECRU connector covers, model by model and field by field (recru-mapping.md), in the shape of
``GET /v1/integrations/{id}`` (``read_models`` and ``write_actions``), and how the tool is named and shown
(``TOOL``, also in ``GET /v1/tools/ats``)."""

from __future__ import annotations

from typing import Any

TOOL = {
    "id": "recruhr",
    "label": "RECRU",
    "internal_label": None,
    "logo_url": "https://recruhr.com/favicon.ico",
    "icon_url": "https://recruhr.com/favicon.ico",
}

COMMON = ("id", "remote_id", "changed_at", "remote_deleted_at", "remote_data")

READ_MODELS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "ats_users": (
        "Users",
        ("first_name", "last_name", "email", "status", "system_roles"),
        (),
    ),
    "ats_jobs": (
        "Jobs",
        (
            "name",
            "job_code",
            "description",
            "employment_type",
            "status",
            "visibility",
            "department",
            "experience_level",
            "salary_amount",
            "salary_currency",
            "salary_period",
            "weekly_hours",
            "remote_work_status",
            "location",
            "opened_at",
            "closed_at",
            "remote_created_at",
            "remote_updated_at",
            "stages",
            "hiring_team",
        ),
        (
            "confidential",
            "category",
            "post_url",
            "salary_amount_from",
            "salary_amount_to",
            "remote_url",
            "contact_id",
            "custom_fields",
            "screening_questions",
            "job_postings",
        ),
    ),
    "ats_candidates": (
        "Candidates",
        (
            "first_name",
            "last_name",
            "company",
            "title",
            "source",
            "email_addresses",
            "phone_numbers",
            "location",
            "remote_created_at",
            "remote_updated_at",
            "applications",
            "tags",
        ),
        ("confidential", "social_media", "custom_fields", "remote_url"),
    ),
    "ats_applications": (
        "Applications",
        (
            "job_id",
            "candidate_id",
            "current_stage_id",
            "outcome",
            "rejection_reason_name",
            "remote_created_at",
            "remote_updated_at",
            "candidate",
            "current_stage",
            "job",
        ),
        ("rejected_at", "custom_fields", "remote_url", "screening_question_answers", "interviews", "offers"),
    ),
    "ats_application_stages": ("Application stages", ("name", "status"), ("custom_fields",)),
    "ats_tags": ("Tags", ("name",), ()),
    "ats_join_candidates_tags": ("Candidate tags", ("candidate_id", "tag_id"), ()),
    "ats_join_jobs_application_stages": ("Job stages", ("job_id", "stage_id", "index"), ()),
    "ats_join_jobs_users": ("Hiring team", ("job_id", "user_id", "roles"), ()),
    "ats_interviews": ("Interviews", (), ()),
    "ats_offers": ("Offers", (), ()),
    "ats_rejection_reasons": ("Rejection reasons", (), ()),
    "ats_roles": ("Roles", (), ()),
    "ats_scorecards": ("Scorecards", (), ()),
    "ats_notes": ("Notes", (), ()),
    "ats_attachments": ("Attachments (all, as one list)", (), ()),
}

CANDIDATE_INPUT = (
    "candidate.first_name", "candidate.last_name", "candidate.email_address", "candidate.additional_email_addresses",
    "candidate.phone_number", "candidate.additional_phone_numbers", "candidate.location", "candidate.company",
    "candidate.title", "candidate.availability_date", "candidate.salary_expectations", "attachments", "source",
    "gdpr_consent",
)  # fmt: skip
CANDIDATE_UNSUPPORTED = ("candidate.gender", "candidate.social_links", "sourced_by", "screening_question_answers")

WRITE_ACTIONS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "ats_create_application": ("Create application", (*CANDIDATE_INPUT, "stage_id"), CANDIDATE_UNSUPPORTED),
    "ats_create_candidate": (
        "Create candidate",
        (*CANDIDATE_INPUT, "application.job_id", "application.stage_id"),
        CANDIDATE_UNSUPPORTED,
    ),
    "ats_add_candidate_tag": ("Add tag to candidate", ("tag.name",), ()),
    "ats_remove_candidate_tag": ("Remove tag from candidate", ("tag.name",), ()),
    "ats_move_application_to_stage": ("Move application to stage", (), ()),
    "ats_reject_application": ("Reject application", (), ()),
    "ats_add_application_note": ("Add note to application", (), ()),
    "ats_add_application_attachment": ("Add attachment to application", (), ()),
    "ats_add_candidate_attachment": ("Add attachment to candidate", (), ()),
    "ats_add_application_result_link": ("Add result link to application", (), ()),
    "ats_add_candidate_result_link": ("Add result link to candidate", (), ()),
    "ats_import_tracked_application": ("Import tracked application", (), ()),
}


def _field(field_id: str, supported: bool, enabled: bool = True) -> dict[str, Any]:
    """A model, action or field: ``supported`` by RECRU, ``enabled`` by the integration's settings."""
    return {
        "id": field_id,
        "is_available": supported and enabled,
        "coverage_status": "SUPPORTED" if supported else "UNSUPPORTED",
        "scope_config_setting": "ENABLED" if supported and enabled else "DISABLED",
        "opted_out_by_customer": False,
    }


def _entries(
    table: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]],
    common: tuple[str, ...],
    disabled: frozenset[str] = frozenset(),
) -> list[Any]:
    entries = []
    for entry_id, (label, supported, unsupported) in table.items():
        available = bool(supported)
        fields = [_field(f, True, f not in disabled) for f in (*common, *supported)] if available else []
        fields += [_field(f, False) for f in unsupported]
        entries.append({**_field(entry_id, available), "label": label, "fields": fields})
    return entries


def read_models(*, remote_data: bool) -> list[Any]:
    """The read models; their ``remote_data`` field is available where the integration serves it (``remote_data``:
    its setting)."""
    return _entries(READ_MODELS, COMMON, frozenset() if remote_data else frozenset({"remote_data"}))


def write_actions() -> list[Any]:
    return _entries(WRITE_ACTIONS, ())
