"""Deterministic generator of a RECRU tenant: ``generate(seed, size)`` returns a :class:`TenantData`.

``size`` is the number of jobseekers; users, projects, tags, applications (about 3 per jobseeker) and attachments
(about 0.5 per jobseeker) scale from it, with minimums that keep a tiny tenant usable. The same ``(seed, size)``
gives the same tenant, byte for byte: every draw comes from a ``random.Random`` seeded with ``seed`` and the name
of a section, and every timestamp lies in the three years before the fixed :data:`ANCHOR` (the real clock is never
read). Records have the read shapes of spec §4 (see ``tenant_data``), and these relations hold:

- user 1 is the integration's API user: an active admin with API access, ``api_login`` / ``api_password``;
- every project status and visibility occurs; each pipeline starts with the first regular stage and holds the
  hired stage and at least one rejected stage; closed and archived projects carry ``closedAt`` and a close reason;
- applications: at most one per jobseeker and project, never on a draft project, applied within the project's open
  window, ``stageId`` in the project's pipeline and matching the status (hired → the hired stage, rejected → a
  rejected stage and a rejection reason); the first four applications take each status once, so that every
  status occurs even in a tiny tenant;
- e-mail addresses are unique across jobseekers; a jobseeker's ``createdAt`` is not after its applications';
- ids of users, projects, jobseekers, applications and attachments follow ``createdAt``, as in a real database.
"""

from __future__ import annotations

import functools
import gc
import string
import struct
import unicodedata
import zlib
from bisect import bisect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from html import escape
from itertools import accumulate
from math import sqrt
from operator import itemgetter
from random import Random
from typing import Generic, NamedTuple, TypeVar

from recru_emulator import sample_names as words
from recru_emulator.reads import FINISHED_PROJECT_STATUSES
from recru_emulator.tenant_data import VISIBILITIES, Record, TenantData

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
"""The fixed "now" of every generated tenant: all generated timestamps lie in the three years before it."""

T = TypeVar("T")

_DAY = 86_400
_END = int(ANCHOR.timestamp())
_START = _END - 3 * 365 * _DAY
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MINUTES = tuple(f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in range(60))
_SECONDS = tuple(f"{second:02d}" for second in range(60))
_BIRTH_DAYS = (date(1960, 1, 1).toordinal() - _EPOCH_ORDINAL, date(2005, 12, 31).toordinal() - _EPOCH_ORDINAL)

_API_USER_ID = 1
_FIXED_ROLES = ("admin", "recruiter", "hiring_manager")  # users 2, 3, 4: always active, with a password
_STATUS_SHARES = {"closed": 0.25, "archived": 0.09, "on_hold": 0.07, "draft": 0.07}  # at least one each; rest open
_STATUS_LATENESS = {"archived": 0.0, "closed": 0.3, "on_hold": 0.5, "open": 0.6, "draft": 0.8}  # + noise in [0, 1)
_STAGE_KIND = {stage_id: kind for stage_id, (_, kind, _) in enumerate(words.STAGES, 1)}
_STAGE_ACTIVE = {stage_id: active for stage_id, (_, _, active) in enumerate(words.STAGES, 1)}
_SECRET_ALPHABET = string.ascii_letters + string.digits
_ASCII_FIXES = (("ł", "l"), ("Ł", "L"), ("ß", "ss"), ("–", "-"))

_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "rtf": "application/rtf",
    "txt": "text/plain",
    "jpg": "image/jpeg",
    "png": "image/png",
}
_OFFICE_MAGIC = {"doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "docx": b"PK\x03\x04", "odt": b"PK\x03\x04"}

_SALARY_RANGES = {  # (currency, period) → (lowest, highest, step)
    ("CZK", "month"): (30_000, 120_000, 1_000),
    ("CZK", "hour"): (150, 450, 10),
    ("EUR", "month"): (1_500, 6_500, 100),
    ("EUR", "year"): (38_000, 110_000, 1_000),
    ("EUR", "hour"): (12, 45, 1),
    ("PLN", "month"): (5_000, 25_000, 500),
    ("PLN", "hour"): (30, 120, 5),
    ("HUF", "month"): (400_000, 1_800_000, 10_000),
    ("HUF", "hour"): (2_500, 9_000, 100),
}
_HOURLY_EMPLOYMENT = frozenset({"part_time", "mini_job", "working_student", "temporary"})
_WEEKLY_HOURS = {"part_time": (20.0, 25.0, 30.0), "mini_job": (10.0,), "working_student": (20.0,)}
_FULL_TIME_HOURS = (40.0, 40.0, 38.5, 37.5)


class _Weighted(Generic[T]):
    """A fixed weighted choice (faster than ``Random.choices`` for single draws)."""

    def __init__(self, weights: dict[T, float]) -> None:
        self._values = list(weights)
        self._cumulative = list(accumulate(weights.values()))
        self._last = len(self._values) - 1

    def pick(self, rng: Random) -> T:
        """One value, drawn with the probability of its weight."""
        return self._values[bisect(self._cumulative, rng.random() * self._cumulative[-1], 0, self._last)]


_ROLE = _Weighted({"recruiter": 50, "hiring_manager": 35, "admin": 15})
_STAFF_COUNTRY = _Weighted({"CZ": 60, "SK": 20, "DE": 6, "AT": 6, "PL": 4, "HU": 4})
_NATIONALITY = _Weighted({"CZ": 45, "SK": 17, "DE": 12, "AT": 8, "PL": 10, "HU": 8})
_VISIBILITY = _Weighted({"public": 50, "internal": 25, "unlisted": 10, "confidential": 15})
_EMPLOYMENT = _Weighted(
    {
        None: 25,
        "full_time": 55,
        "part_time": 10,
        "mini_job": 3,
        "working_student": 4,
        "internship": 4,
        "apprenticeship": 2,
        "temporary": 4,
        "freelance": 3,
    }
)
_EXPERIENCE = _Weighted({None: 40, "entry": 8, "junior": 15, "mid": 20, "senior": 13, "lead": 4})
_REMOTE = _Weighted({None: 35, "on_site": 35, "hybrid": 22, "remote": 8})
_TEAM_EXTRA = _Weighted({0: 20, 1: 40, 2: 30, 3: 10})  # hiring-team members besides the recruiter
_MALE_SALUTATION = _Weighted({"mr": 83, None: 15, "diverse": 2})
_FEMALE_SALUTATION = _Weighted({"ms": 83, None: 15, "diverse": 2})
_EMAIL_COUNT = _Weighted({1: 65, 2: 28, 3: 7})
_PHONE_COUNT = _Weighted({0: 15, 1: 58, 2: 22, 3: 5})
_PHONE_TYPE = _Weighted({"mobile": 50, "private": 30, "work": 20})
_TAG_COUNT = _Weighted({0: 45, 1: 25, 2: 15, 3: 10, 4: 5})
_APPLICATION_COUNT = _Weighted({0: 7, 1: 20, 2: 20, 3: 16, 4: 13, 5: 10, 6: 7, 7: 4, 8: 3})
_FRESH_OUTCOME = _Weighted({"active": 80, "rejected": 14, "withdrawn": 5.5, "hired": 0.5})
_OPEN_OUTCOME = _Weighted({"active": 30, "rejected": 58, "withdrawn": 10.5, "hired": 1.5})
_FINISHED_OUTCOME = _Weighted({"active": 3, "rejected": 82, "withdrawn": 12, "hired": 3})
_ATTACHMENT_COUNT = _Weighted({0: 60, 1: 30, 2: 8, 3: 2})
_FIRST_FILE = _Weighted({"cv": 85, "cover_letter": 5, "certificate": 5, "other": 5})
_LATER_FILE = _Weighted({"cover_letter": 40, "certificate": 30, "other": 20, "cv": 10})
_DOCUMENT_FORMAT = _Weighted({"pdf": 65, "docx": 20, "doc": 6, "odt": 3, "rtf": 2, "txt": 4})
_SCAN_FORMAT = _Weighted({"pdf": 55, "jpg": 30, "png": 15})


def generate(seed: int, size: int) -> TenantData:
    """The tenant of ``(seed, size)``: ``size`` jobseekers, everything else scaled from it."""
    with _collector_paused():
        return _generate(seed, size)


def api_credentials(seed: int) -> tuple[str, str]:
    """The login and password of the API user of the tenants of ``seed`` (whatever their size)."""
    tenant = _rng(seed, "tenant").choice(words.TENANTS)
    return f"api@{tenant}.example", "recru-" + _secret(_rng(seed, "api-password"), 12)


def _generate(seed: int, size: int) -> TenantData:
    """The tenant, section by section, each section from its own random stream."""
    tenant = _rng(seed, "tenant").choice(words.TENANTS)
    api_login, api_password = api_credentials(seed)
    codebooks = _codebooks()
    users = _users(_rng(seed, "users"), max(8, size // 200), tenant, api_login, api_password)
    projects = _projects(_rng(seed, "projects"), max(6, size // 50), users, codebooks)
    tags = _tags(_rng(seed, "tags"), min(len(words.TAGS), max(5, size // 2000)))
    people = _People(_rng(seed, "jobseekers"), users, projects, codebooks, len(tags))
    jobseekers, applications, attachments = people.build(size)
    return TenantData(
        users=users,
        projects=projects,
        stages=_stages(),
        tags=tags,
        jobseekers=jobseekers,
        applications=applications,
        attachments=attachments,
        codebooks=codebooks,
        api_login=api_login,
        api_password=api_password,
    )


# --- small helpers ---------------------------------------------------------------------------------------------


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector: generating allocates millions of acyclic containers, and the
    collector's repeated scans of them would add about a third to the run time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _rng(seed: int, section: str) -> Random:
    """The random stream of one section, so that sections do not shift each other's draws."""
    return Random(f"{seed}:{section}")


@functools.cache
def _date(day: int) -> str:
    """``YYYY-MM-DD`` of the day ``day`` days after 1970-01-01 (cached: few distinct days, many calls)."""
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


def _ts(moment: int) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` of a Unix time, from tables (several times faster than ``strftime``)."""
    day, second = divmod(moment, _DAY)
    minute, second = divmod(second, 60)
    return f"{_date(day)}T{_MINUTES[minute]}:{_SECONDS[second]}Z"


def _epoch(timestamp: str) -> int:
    """The Unix time of a generated timestamp."""
    return int(datetime.fromisoformat(timestamp).timestamp())


def _between(rng: Random, start: int, end: int) -> int:
    """A moment in ``[start, end]`` (``random()`` scaled: several times faster than ``randrange``)."""
    return start + int(rng.random() * (end - start + 1))


def _after(rng: Random, moment: int, within: int) -> int:
    """A moment up to ``within`` seconds after ``moment``, never past the anchor."""
    return _between(rng, moment, moment + max(0, min(within, _END - moment)))


def _maybe(rng: Random, share: float, value: T) -> T | None:
    """``value`` in ``share`` of the draws, else ``None``."""
    return value if rng.random() < share else None


def _secret(rng: Random, length: int) -> str:
    """A password-like string of letters and digits."""
    return "".join(rng.choice(_SECRET_ALPHABET) for _ in range(length))


def _fold(text: str) -> str:
    """``text`` without diacritics (Łukasz → Lukasz, Groß → Gross), for e-mail addresses and PDF text."""
    for special, plain in _ASCII_FIXES:  # letters that Unicode does not decompose
        text = text.replace(special, plain)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _covering(rng: Random, values: list[T], required: Sequence[T]) -> list[T]:
    """``values`` with each of ``required`` written over its own random position, so that every one occurs."""
    for position, value in zip(rng.sample(range(len(values)), len(required)), required, strict=True):
        values[position] = value
    return values


def _number(records: list[Record]) -> None:
    """Orders ``records`` by ``createdAt`` (stable) and numbers them 1..n in that order."""
    records.sort(key=itemgetter("createdAt"))
    for record_id, record in enumerate(records, 1):
        record["id"] = record_id


def _person(rng: Random, country: words.Country) -> tuple[str, str, bool]:
    """First name, last name and whether the person is female."""
    female = rng.random() < 0.5
    first = rng.choice(country.female_first if female else country.male_first)
    last = rng.choice(country.surnames)[1 if female else 0]
    return first, last, female


def _unique_email(rng: Random, local: str, domain: str, taken: set[str]) -> str:
    """``local@domain``, or ``local.<n>@domain`` while that is taken; records the address as taken."""
    address = f"{local}@{domain}"
    while address in taken:
        address = f"{local}.{rng.randrange(1, 1000)}@{domain}"
    taken.add(address)
    return address


# --- lookups: codebooks, stages, tags ----------------------------------------------------------------------------


def _codebooks() -> dict[str, list[Record]]:
    """The six codebooks, the same in every tenant."""
    return {
        "jobseekerSources": _entries(words.JOBSEEKER_SOURCES),
        "rejectionReasons": _entries(words.REJECTION_REASONS),
        "projectCloseReasons": _entries(words.PROJECT_CLOSE_REASONS),
        "departments": _entries(words.DEPARTMENTS),
        "locations": [
            {"id": entry_id, "name": name, "active": active, "city": city, "postalCode": postal, "countryCode": code}
            for entry_id, (name, city, postal, code, active) in enumerate(words.LOCATIONS, 1)
        ],
        "countries": [{"id": code, "name": name} for code, name in sorted(words.COUNTRY_NAMES.items())],
    }


def _entries(names: Sequence[tuple[str, bool]]) -> list[Record]:
    """Codebook entries numbered 1..n."""
    return [{"id": entry_id, "name": name, "active": active} for entry_id, (name, active) in enumerate(names, 1)]


def _stages() -> list[Record]:
    """The global stages, in pipeline order."""
    return [
        {"id": stage_id, "name": name, "position": stage_id, "kind": kind, "active": active}
        for stage_id, (name, kind, active) in enumerate(words.STAGES, 1)
    ]


def _tags(rng: Random, count: int) -> list[Record]:
    """``count`` tags with distinct names and random colours."""
    return [
        {"id": tag_id, "name": name, "color": f"#{rng.randrange(0x1000000):06x}"}
        for tag_id, name in enumerate(rng.sample(words.TAGS, count), 1)
    ]


# --- users -------------------------------------------------------------------------------------------------------


def _users(rng: Random, count: int, tenant: str, api_login: str, api_password: str) -> list[Record]:
    """The API user (id 1), then ``count - 1`` staff: users 2-4 are an active admin, recruiter and hiring manager
    with passwords and without API access; the last user is inactive, with a password."""
    created = sorted(_between(rng, _START, _END - 30 * _DAY) for _ in range(count - 1))
    taken = {api_login}
    staff = [
        _user(rng, user_id, moment, user_id == count, f"{tenant}.example", taken)
        for user_id, moment in enumerate(created, _API_USER_ID + 1)
    ]
    return [_api_user(api_login, api_password), *staff]


def _api_user(login: str, password: str) -> Record:
    """The integration's user, created when the tenant was."""
    return {
        "id": _API_USER_ID,
        "firstName": "API",
        "lastName": "Integrace",
        "email": login,
        "role": "admin",
        "active": True,
        "apiAccess": True,
        "createdAt": _ts(_START),
        "updatedAt": _ts(_START),
        "password": password,
    }


def _user(rng: Random, user_id: int, created: int, last: bool, domain: str, taken: set[str]) -> Record:
    """One member of staff."""
    fixed = user_id - _API_USER_ID <= len(_FIXED_ROLES)
    role = _FIXED_ROLES[user_id - _API_USER_ID - 1] if fixed else _ROLE.pick(rng)
    first, surname, _ = _person(rng, words.COUNTRIES[_STAFF_COUNTRY.pick(rng)])
    return {
        "id": user_id,
        "firstName": first,
        "lastName": surname,
        "email": _unique_email(rng, f"{_fold(first)}.{_fold(surname)}".lower(), domain, taken),
        "role": role,
        "active": fixed or (not last and rng.random() < 0.9),
        "apiAccess": not fixed and rng.random() < (0.25 if role == "admin" else 0.03),
        "createdAt": _ts(created),
        "updatedAt": _ts(_after(rng, created, 365 * _DAY)),
        "password": _secret(rng, 10) if fixed or last or rng.random() < 0.9 else None,
    }


class _Staff(NamedTuple):
    """Users who can work on projects and own jobseekers (never the API user)."""

    recruiters: list[int]
    members: list[int]
    managers: frozenset[int]


def _staff(users: list[Record], include_inactive: bool) -> _Staff:
    """The staff pool, with or without deactivated users."""
    eligible = [user for user in users if user["id"] != _API_USER_ID and (include_inactive or user["active"])]
    return _Staff(
        recruiters=[user["id"] for user in eligible if user["role"] in ("admin", "recruiter")],
        members=[user["id"] for user in eligible],
        managers=frozenset(user["id"] for user in eligible if user["role"] == "hiring_manager"),
    )


# --- projects ----------------------------------------------------------------------------------------------------


def _projects(rng: Random, count: int, users: list[Record], codebooks: dict[str, list[Record]]) -> list[Record]:
    """``count`` projects (at least 5): every status and visibility present, most projects open."""
    created = sorted(_between(rng, _START, _END - 2 * _DAY) for _ in range(count))
    statuses = _project_statuses(rng, count)
    visibilities = _covering(rng, [_VISIBILITY.pick(rng) for _ in created], VISIBILITIES)
    current, former = _staff(users, include_inactive=False), _staff(users, include_inactive=True)
    rows = zip(created, statuses, visibilities, strict=True)
    return [
        _project(
            rng,
            project_id,
            moment,
            status,
            visibility,
            former if status in FINISHED_PROJECT_STATUSES else current,
            codebooks,
        )
        for project_id, (moment, status, visibility) in enumerate(rows, 1)
    ]


def _project_statuses(rng: Random, count: int) -> list[str]:
    """Statuses of projects in creation order: fixed shares, at least one of each, the rest (the most) open;
    older projects are more often archived or closed, younger ones more often drafts."""
    statuses = [status for status, share in _STATUS_SHARES.items() for _ in range(max(1, int(share * count)))]
    statuses += ["open"] * (count - len(statuses))
    return sorted(statuses, key=lambda status: _STATUS_LATENESS[status] + rng.random())


def _project(
    rng: Random,
    project_id: int,
    created: int,
    status: str,
    visibility: str,
    staff: _Staff,
    codebooks: dict[str, list[Record]],
) -> Record:
    """One project; finished (closed or archived) ones may use deactivated stages, users and codebook entries."""
    finished = status in FINISHED_PROJECT_STATUSES
    opened = None if status == "draft" else _after(rng, created, 14 * _DAY)
    closed = _after(rng, opened, 300 * _DAY) if finished and opened is not None else None
    remote = _REMOTE.pick(rng)
    location_ids = _location_ids(rng, codebooks["locations"], remote, finished)
    location = codebooks["locations"][location_ids[0] - 1] if location_ids else None
    country = words.COUNTRIES[location["countryCode"] if location else "CZ"]
    employment = _EMPLOYMENT.pick(rng)
    name = _job_title(rng, country, location["city"] if location else None)
    return {
        "id": project_id,
        "code": f"REQ-{_date(created // _DAY)[:4]}-{project_id:04d}",
        "name": name,
        "description": None if status == "draft" and rng.random() < 0.3 else _description(rng, name),
        "status": status,
        "closeReasonId": _entry_id(rng, codebooks["projectCloseReasons"], historical=True) if finished else None,
        "visibility": visibility,
        "employmentType": employment,
        "experienceLevel": _EXPERIENCE.pick(rng),
        "salary": _maybe(rng, 0.4, _salary(rng, country.currency, _pay_period(rng, country, employment))),
        "weeklyHours": _maybe(rng, 0.5, rng.choice(_WEEKLY_HOURS.get(employment or "", _FULL_TIME_HOURS))),
        "remote": remote,
        "departmentId": _maybe(rng, 0.9, _entry_id(rng, codebooks["departments"], finished)),
        "locationIds": location_ids,
        "hiringTeam": _hiring_team(rng, staff),
        "stageIds": _pipeline(rng, finished),
        "openedAt": None if opened is None else _ts(opened),
        "closedAt": None if closed is None else _ts(closed),
        "createdAt": _ts(created),
        "updatedAt": _ts(_after(rng, closed or opened or created, 60 * _DAY)),
    }


def _entry_id(rng: Random, entries: list[Record], historical: bool) -> int:
    """A codebook entry's id: any entry for historical records, else an active one."""
    return int(rng.choice([entry["id"] for entry in entries if historical or entry["active"]]))


def _location_ids(rng: Random, locations: list[Record], remote: str | None, historical: bool) -> list[int]:
    """A remote job has at most one location, others one or two."""
    count = rng.choice((0, 1)) if remote == "remote" else rng.choice((1, 1, 1, 2))
    pool = [entry["id"] for entry in locations if historical or entry["active"]]
    return sorted(rng.sample(pool, count))


def _job_title(rng: Random, country: words.Country, city: str | None) -> str:
    """A job title in the location's language (or English), German ones with the usual "(m/w/d)"."""
    title = rng.choice(words.ENGLISH_POSITIONS if rng.random() < 0.25 else country.positions)
    if country.code in ("DE", "AT"):
        title += " (m/w/d)"
    return f"{title} – {city}" if city and rng.random() < 0.3 else title


def _description(rng: Random, name: str) -> str:
    """An HTML job ad."""
    requirements = "".join(f"<li>{item}</li>" for item in rng.sample(words.REQUIREMENTS, 3))
    benefits = "".join(f"<li>{item}</li>" for item in rng.sample(words.BENEFITS, 3))
    return (
        f"<p>Hledáme posilu na pozici <strong>{escape(name)}</strong>.</p>"
        f"<h3>Požadujeme</h3><ul>{requirements}</ul><h3>Nabízíme</h3><ul>{benefits}</ul>"
    )


def _pay_period(rng: Random, country: words.Country, employment: str | None) -> str:
    """Hourly pay for short jobs, yearly in German-speaking countries, else monthly."""
    if employment in _HOURLY_EMPLOYMENT and rng.random() < 0.6:
        return "hour"
    return "year" if country.code in ("DE", "AT") and rng.random() < 0.8 else "month"


def _salary(rng: Random, currency: str, period: str) -> Record:
    """A round amount in the usual range of the currency and period."""
    lowest, highest, step = _SALARY_RANGES[(currency, period)]
    return {"amount": rng.randrange(lowest, highest + 1, step), "currency": currency, "period": period}


def _hiring_team(rng: Random, staff: _Staff) -> list[Record]:
    """A recruiter, then up to three more distinct users as hiring managers or interviewers."""
    recruiter = rng.choice(staff.recruiters)
    others = [user_id for user_id in staff.members if user_id != recruiter]
    chosen = rng.sample(others, min(_TEAM_EXTRA.pick(rng), len(others)))
    return [
        {"userId": recruiter, "role": "recruiter"},
        *({"userId": user_id, "role": _team_role(user_id, staff)} for user_id in chosen),
    ]


def _team_role(user_id: int, staff: _Staff) -> str:
    """Hiring managers manage, everyone else interviews."""
    return "hiring_manager" if user_id in staff.managers else "interviewer"


def _pipeline(rng: Random, historical: bool) -> list[int]:
    """The first regular stage, a random choice of the other regular stages (deactivated ones only in historical
    projects), the hired stage(s), the first rejected stage and maybe the other rejected stages; in stage order."""
    regular = [stage_id for stage_id, kind in _STAGE_KIND.items() if kind == "regular"]
    rejected = [stage_id for stage_id, kind in _STAGE_KIND.items() if kind == "rejected"]
    hired = [stage_id for stage_id, kind in _STAGE_KIND.items() if kind == "hired"]
    optional = [stage_id for stage_id in regular[1:] if historical or _STAGE_ACTIVE[stage_id]]
    middle = [stage_id for stage_id in optional if rng.random() < 0.5]
    extra_rejected = [stage_id for stage_id in rejected[1:] if rng.random() < 0.6]
    return sorted([regular[0], *middle, *hired, rejected[0], *extra_rejected])


# --- jobseekers, applications, attachments -----------------------------------------------------------------------


class _Opening(NamedTuple):
    """What an application needs to know of a project that took applicants."""

    project_id: int
    opens: int
    closes: int
    finished: bool
    regular: tuple[int, ...]
    hired: int
    rejected: tuple[int, ...]


def _opening(project: Record) -> _Opening:
    """The opening of a project that is not a draft."""
    pipeline = project["stageIds"]
    return _Opening(
        project_id=project["id"],
        opens=_epoch(project["openedAt"]),
        closes=_epoch(project["closedAt"]) if project["closedAt"] else _END,
        finished=project["status"] in FINISHED_PROJECT_STATUSES,
        regular=tuple(stage_id for stage_id in pipeline if _STAGE_KIND[stage_id] == "regular"),
        hired=next(stage_id for stage_id in pipeline if _STAGE_KIND[stage_id] == "hired"),
        rejected=tuple(stage_id for stage_id in pipeline if _STAGE_KIND[stage_id] == "rejected"),
    )


class _Draft(NamedTuple):
    """A jobseeker before numbering, with its applications and its attachments (each with its application)."""

    jobseeker: Record
    applications: list[Record]
    attachments: list[tuple[Record, Record | None]]


class _People:
    """Builds the jobseekers with their applications and attachments: the bulk of a tenant."""

    def __init__(
        self,
        rng: Random,
        users: list[Record],
        projects: list[Record],
        codebooks: dict[str, list[Record]],
        tag_count: int,
    ) -> None:
        self._rng = rng
        openings = [_opening(project) for project in projects if project["status"] != "draft"]
        self._openings = _Weighted({opening: self._popularity(opening) for opening in openings})
        self._opening_count = len(openings)
        self._owners = _staff(users, include_inactive=True).recruiters
        self._sources = {entry["name"]: entry["id"] for entry in codebooks["jobseekerSources"]}
        self._source_names = list(self._sources)
        self._reasons = [entry["id"] for entry in codebooks["rejectionReasons"]]
        self._tag_ids = range(1, tag_count + 1)
        self._taken: set[str] = set()
        self._unseen_statuses = ["withdrawn", "rejected", "hired", "active"]  # forced first, so that every one occurs

    def build(self, count: int) -> tuple[list[Record], list[Record], list[Record]]:
        """``count`` jobseekers, their applications and attachments, each list numbered in ``createdAt`` order."""
        drafts = sorted((self._draft() for _ in range(count)), key=lambda draft: draft.jobseeker["createdAt"])
        for jobseeker_id, draft in enumerate(drafts, 1):
            draft.jobseeker["id"] = jobseeker_id
            for application in draft.applications:
                application["jobseekerId"] = jobseeker_id
            for attachment, _ in draft.attachments:
                attachment["jobseekerId"] = jobseeker_id
        applications = [application for draft in drafts for application in draft.applications]
        _number(applications)
        attachments = [
            _linked(attachment, application) for draft in drafts for attachment, application in draft.attachments
        ]
        _number(attachments)
        return [draft.jobseeker for draft in drafts], applications, attachments

    def _popularity(self, opening: _Opening) -> float:
        """How many applicants a project draws: random appeal times the square root of its open days."""
        return self._rng.lognormvariate(0, 0.8) * sqrt(1 + (opening.closes - opening.opens) / _DAY)

    def _draft(self) -> _Draft:
        """One jobseeker, created no later than its first application."""
        rng = self._rng
        country = words.COUNTRIES[_NATIONALITY.pick(rng)]
        first, last, female = _person(rng, country)
        applications, earliest = self._applications()
        created = self._created(earliest)
        company = rng.choice(words.COMPANIES) if rng.random() < 0.55 else None
        consent = _consent(rng, created)
        attachments = self._attachments(first, last, created, applications)
        edited = _ts(_after(rng, created, 400 * _DAY) if rng.random() < 0.5 else created)
        filed = [attachment["createdAt"] for attachment, _ in attachments]
        jobseeker: Record = {
            "id": 0,
            "salutation": (_FEMALE_SALUTATION if female else _MALE_SALUTATION).pick(rng),
            "titleBefore": _maybe(rng, country.title_share, rng.choice(country.titles_before)),
            "titleAfter": _maybe(rng, country.title_share / 5, rng.choice(country.titles_after)),
            "firstName": first,
            "lastName": last,
            "emails": self._emails(first, last, country, company),
            "phones": _phones(rng, country),
            "address": _address(rng, country) if rng.random() < 0.65 else None,
            "currentCompany": company[0] if company else None,
            "currentPosition": _maybe(rng, 0.55, _position(rng, country)),
            "dateOfBirth": _date(rng.randint(*_BIRTH_DAYS)) if rng.random() < 0.35 else None,
            "availableFrom": _date(_END // _DAY + rng.randint(-60, 180)) if rng.random() < 0.3 else None,
            "salaryExpectation": _maybe(rng, 0.35, _salary(rng, country.currency, _expected_period(country))),
            "source": self._source(country),
            "tagIds": sorted(rng.sample(self._tag_ids, min(_TAG_COUNT.pick(rng), len(self._tag_ids)))),
            "ownerUserId": _maybe(rng, 0.7, rng.choice(self._owners)),
            "gdprConsent": consent,
            "createdAt": _ts(created),
            "updatedAt": max(edited, consent["givenAt"] or "", *filed),  # ISO strings order like the moments
        }
        return _Draft(jobseeker, applications, attachments)

    def _applications(self) -> tuple[list[Record], int | None]:
        """Applications to distinct projects, and the earliest moment applied."""
        wanted = min(_APPLICATION_COUNT.pick(self._rng), self._opening_count)
        chosen: dict[int, _Opening] = {}
        for _ in range(20 * wanted):
            if len(chosen) == wanted:
                break
            opening = self._openings.pick(self._rng)
            chosen.setdefault(opening.project_id, opening)
        applied = [_between(self._rng, opening.opens, opening.closes) for opening in chosen.values()]
        records = [self._application(opening, moment) for opening, moment in zip(chosen.values(), applied, strict=True)]
        return records, min(applied, default=None)

    def _application(self, opening: _Opening, applied: int) -> Record:
        """One application; its status fits the project's state and the time applied."""
        rng = self._rng
        created = applied if rng.random() < 0.75 else _after(rng, applied, 4 * _DAY)
        status = self._unseen_statuses.pop() if self._unseen_statuses else _outcome(opening, applied).pick(rng)
        stage_id = _stage_for(rng, opening, status)
        untouched = status == "active" and stage_id == opening.regular[0] and rng.random() < 0.7
        updated = created if untouched else _after(rng, created, 90 * _DAY)
        applied_at = _ts(applied)
        created_at = applied_at if created == applied else _ts(created)
        return {
            "id": 0,
            "jobseekerId": 0,
            "projectId": opening.project_id,
            "stageId": stage_id,
            "status": status,
            "rejectionReasonId": rng.choice(self._reasons) if status == "rejected" else None,
            "appliedAt": applied_at,
            "createdAt": created_at,
            "updatedAt": created_at if updated == created else _ts(updated),
        }

    def _created(self, earliest_application: int | None) -> int:
        """When the jobseeker was created: mostly at its first application, sometimes sourced earlier."""
        rng = self._rng
        if earliest_application is None:
            return _between(rng, _START, _END)
        if rng.random() < 0.7:
            return earliest_application
        return _between(rng, max(_START, earliest_application - 365 * _DAY), earliest_application)

    def _emails(self, first: str, last: str, country: words.Country, company: tuple[str, str] | None) -> list[Record]:
        """One to three unique addresses, the first private, exactly one primary."""
        rng = self._rng
        given, family = _fold(first).lower(), _fold(last).lower()
        emails = [self._private_email(given, family, country)]
        for _ in range(_EMAIL_COUNT.pick(rng) - 1):
            if rng.random() < 0.6:
                domain = (company or rng.choice(words.COMPANIES))[1]
                value = _unique_email(rng, f"{given}.{family}", domain, self._taken)
                emails.append({"value": value, "type": "work", "primary": False})
            else:
                emails.append(self._private_email(given, family, country))
        _mark_primary(rng, emails)
        return emails

    def _private_email(self, given: str, family: str, country: words.Country) -> Record:
        """A private address on a provider popular in the country."""
        rng = self._rng
        local = rng.choice(
            (
                f"{given}.{family}",
                f"{given}{family}",
                f"{given[0]}{family}",
                f"{family}.{given}",
                f"{given}.{family}{rng.randint(60, 99)}",
                f"{given}_{family}",
            )
        )
        value = _unique_email(rng, local, rng.choice(country.mail_domains), self._taken)
        return {"value": value, "type": "private", "primary": False}

    def _source(self, country: words.Country) -> Record | None:
        """Mostly the country's job board or any source, sometimes none."""
        roll = self._rng.random()
        if roll < 0.2:
            return None
        name = words.HOME_SOURCES[country.code] if roll < 0.5 else self._rng.choice(self._source_names)
        return {"id": self._sources[name], "name": name}

    def _attachments(
        self, first: str, last: str, created: int, applications: list[Record]
    ) -> list[tuple[Record, Record | None]]:
        """Files (mostly a CV), each with the application it came with, if any."""
        rng = self._rng
        files: list[tuple[Record, Record | None]] = []
        for position in range(_ATTACHMENT_COUNT.pick(rng)):
            kind = (_LATER_FILE if position else _FIRST_FILE).pick(rng)
            application = rng.choice(applications) if applications and rng.random() < 0.5 else None
            if application is not None:
                created_at = application["createdAt"]
            else:
                created_at = _ts(created if rng.random() < 0.7 else _after(rng, created, 200 * _DAY))
            files.append((_attachment(rng, kind, first, last, created_at), application))
        return files


def _outcome(opening: _Opening, applied: int) -> _Weighted[str]:
    """Status odds: mostly decided on finished projects and older applications, mostly active on fresh ones."""
    if opening.finished:
        return _FINISHED_OUTCOME
    return _FRESH_OUTCOME if applied >= _END - 45 * _DAY else _OPEN_OUTCOME


def _stage_for(rng: Random, opening: _Opening, status: str) -> int:
    """A stage of the pipeline fitting the status; active applications sit mostly in early stages."""
    if status == "hired":
        return opening.hired
    if status == "rejected":
        return opening.rejected[0] if rng.random() < 0.85 else rng.choice(opening.rejected)
    if status == "withdrawn" and len(opening.rejected) > 1:
        return opening.rejected[-1]
    stages = len(opening.regular)
    return opening.regular[min(rng.randrange(stages), rng.randrange(stages))]


def _linked(attachment: Record, application: Record | None) -> Record:
    """The attachment with the (by now numbered) id of its application."""
    attachment["applicationId"] = application["id"] if application is not None else None
    return attachment


def _mark_primary(rng: Random, items: list[Record]) -> None:
    """Makes one item primary: mostly the first."""
    if items:
        items[0 if rng.random() < 0.85 else rng.randrange(len(items))]["primary"] = True


def _consent(rng: Random, created: int) -> Record:
    """Consent given by most, at creation or later, for one to three years (so some have expired)."""
    if rng.random() >= 0.65:
        return {"given": False, "givenAt": None, "expiresAt": None}
    given = created if rng.random() < 0.7 else _after(rng, created, 365 * _DAY)
    return {"given": True, "givenAt": _ts(given), "expiresAt": _date(given // _DAY + rng.choice((365, 730, 1095)))}


def _phones(rng: Random, country: words.Country) -> list[Record]:
    """Zero to three numbers in the country's formats, one primary if any."""
    phones = []
    for position in range(_PHONE_COUNT.pick(rng)):
        kind = "mobile" if position == 0 and rng.random() < 0.85 else _PHONE_TYPE.pick(rng)
        formats = country.mobile_formats if kind == "mobile" else country.landline_formats
        phones.append({"value": _digits(rng, rng.choice(formats)), "type": kind, "primary": False})
    _mark_primary(rng, phones)
    return phones


def _digits(rng: Random, pattern: str) -> str:
    """``pattern`` with every ``#`` replaced by a random digit."""
    holes = pattern.count("#")
    return pattern.replace("#", "{}").format(*f"{rng.randrange(10**holes):0{holes}d}")


def _address(rng: Random, country: words.Country) -> Record:
    """A home address, mostly in the person's country, with some parts missing."""
    home = country if rng.random() < 0.9 else words.COUNTRIES[_NATIONALITY.pick(rng)]
    city, postal_code, region = rng.choice(home.cities)
    number = rng.choice(home.house_formats).format(
        big=rng.randint(100, 3999), small=rng.randint(1, 150), door=rng.randint(1, 40)
    )
    return {
        "street": _maybe(rng, 0.88, f"{rng.choice(home.streets)} {number}"),
        "postalCode": _maybe(rng, 0.95, postal_code),
        "city": _maybe(rng, 0.98, city),
        "region": _maybe(rng, 0.6, region),
        "countryCode": _maybe(rng, 0.97, home.code),
    }


def _position(rng: Random, country: words.Country) -> str:
    """A job title in the country's language, or in English."""
    return rng.choice(words.ENGLISH_POSITIONS if rng.random() < 0.25 else country.positions)


def _expected_period(country: words.Country) -> str:
    """Germans and Austrians think in yearly pay, the others in monthly pay."""
    return "year" if country.code in ("DE", "AT") else "month"


# --- attachment files --------------------------------------------------------------------------------------------


def _attachment(rng: Random, kind: str, first: str, last: str, created_at: str) -> Record:
    """An attachment record with a small file (ids and ``applicationId`` are set later)."""
    extension = (_DOCUMENT_FORMAT if kind in ("cv", "cover_letter") else _SCAN_FORMAT).pick(rng)
    title = rng.choice(words.ATTACHMENT_TITLES[kind]).format(first=first, last=last)
    data = _file_data(extension, f"{title}\n{first} {last}\n\n{words.FILE_BODY}")
    return {
        "id": 0,
        "jobseekerId": 0,
        "applicationId": None,
        "type": kind,
        "fileName": f"{title}.{extension}",
        "contentType": _CONTENT_TYPES[extension],
        "size": len(data),
        "createdAt": created_at,
        "data": data,
    }


def _file_data(extension: str, text: str) -> bytes:
    """A few hundred bytes that look like a file of the type: a real minimal PDF, RTF, text or PNG; a JPEG or
    office file reduced to its signature and the text."""
    if extension == "pdf":
        return _pdf(_fold(text))
    if extension == "rtf":
        return ("{\\rtf1\\ansi " + _fold(text).replace("\n", "\\par ") + "}").encode("ascii")
    if extension == "png":
        return _png(_fold(text))
    if extension == "jpg":
        return _jpeg(text.encode())
    return _OFFICE_MAGIC.get(extension, b"") + text.encode()


def _pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII)."""
    lines = " T* ".join(f"({_pdf_escape(line)}) Tj" for line in text.splitlines())
    stream = f"BT /F1 10 Tf 12 TL 56 780 Td {lines} ET"
    return (
        "%PDF-1.4\n"
        "1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        "2 0 obj <</Type /Pages /Kids [3 0 R] /Count 1>> endobj\n"
        "3 0 obj <</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        " /Resources <</Font <</F1 5 0 R>>>>>> endobj\n"
        f"4 0 obj <</Length {len(stream)}>> stream\n{stream}\nendstream endobj\n"
        "5 0 obj <</Type /Font /Subtype /Type1 /BaseFont /Helvetica>> endobj\n"
        "trailer <</Root 1 0 R>>\n%%EOF\n"
    ).encode("ascii")


def _pdf_escape(line: str) -> str:
    """A line safe inside a PDF string literal."""
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _png(text: str) -> bytes:
    """A 1×1 white PNG carrying ``text`` (ASCII) as its description."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"tEXt", b"Description\x00" + text.encode("ascii")),
            _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One length-prefixed, CRC-suffixed PNG chunk."""
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _jpeg(comment: bytes) -> bytes:
    """A JPEG signature, JFIF header and comment, without image data."""
    jfif = b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + jfif + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + b"\xff\xd9"
