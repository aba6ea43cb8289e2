"""The plain data of a RECRU tenant, as the generator produces it and the state loads it.

Every record is a dict in the exact read shape of the RECRU spec (§4: camelCase keys, every optional key present,
timestamps as ISO 8601 UTC strings with ``Z`` to the second, dates ``YYYY-MM-DD``, arrays never ``None``), with
these private extras that the API never returns:

- users: ``password`` (str | None) — the password to log in with (``None``: cannot log in);
- attachments: ``data`` (bytes) — the file's content (``size`` equals ``len(data)``).

Lists are ordered by ``id`` ascending and ids start at 1 per entity (countries use ISO alpha-2 codes as ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]

# The project enums of §4.
VISIBILITIES = ("public", "internal", "unlisted", "confidential")
EMPLOYMENT_TYPES = (
    "full_time",
    "part_time",
    "mini_job",
    "working_student",
    "internship",
    "apprenticeship",
    "temporary",
    "freelance",
)
EXPERIENCE_LEVELS = ("entry", "junior", "mid", "senior", "lead")
REMOTE_MODES = ("on_site", "hybrid", "remote")

CODEBOOK_NAMES = (
    "jobseekerSources",
    "rejectionReasons",
    "projectCloseReasons",
    "departments",
    "locations",
    "countries",
)


JOBSEEKER_KEYS = (
    "id",
    "salutation",
    "titleBefore",
    "titleAfter",
    "firstName",
    "lastName",
    "emails",
    "phones",
    "address",
    "currentCompany",
    "currentPosition",
    "dateOfBirth",
    "availableFrom",
    "salaryExpectation",
    "source",
    "tagIds",
    "ownerUserId",
    "gdprConsent",
    "createdAt",
    "updatedAt",
)


@dataclass
class TenantData:
    """Everything a fresh tenant holds; ``api_login``/``api_password`` name the integration's API user."""

    users: list[Record] = field(default_factory=list)
    projects: list[Record] = field(default_factory=list)
    stages: list[Record] = field(default_factory=list)
    tags: list[Record] = field(default_factory=list)
    jobseekers: list[Record] = field(default_factory=list)
    applications: list[Record] = field(default_factory=list)
    attachments: list[Record] = field(default_factory=list)
    codebooks: dict[str, list[Record]] = field(default_factory=dict)
    api_login: str = "api@tenant.example"
    api_password: str = "api-password"
