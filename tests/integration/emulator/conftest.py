"""Black-box contract tests of the RECRU emulator, over real HTTP, written from the spec (recru-api.md) alone.

One emulator process serves the whole session; before every test the tenant is reset (seed 7, size 300), faults
are cleared, the clock released and the rate limit switched off, so tests are independent.
"""

from __future__ import annotations

import base64
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from support.emulator_process import EmulatorProcess, start_emulator

SEED, SIZE = 7, 300
RPC = "/api/json-rpc"
CTL = "/__emulator__"
FROZEN = "2030-01-01T00:00:00Z"  # later than any generated timestamp
MiB = 1024 * 1024

HTTP_STATUS = {
    -32700: 200, -32600: 200, -32601: 200, -32602: 200, -32603: 500, -32001: 401, -32002: 401,
    -32003: 403, -32004: 200, -32009: 200, -32010: 200, -32029: 429, -32050: 503,
}  # fmt: skip
ERROR_DATA_KEYS = {
    -32601: {"method"}, -32602: {"fields"}, -32002: {"reason"}, -32004: {"entity", "id"},
    -32009: {"existingId"}, -32010: {"projectId", "status"}, -32029: {"retryAfter"}, -32050: {"retryAfter"},
}  # fmt: skip
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
CODEBOOKS = ("jobseekerSources", "rejectionReasons", "projectCloseReasons", "departments", "locations", "countries")


# ---------------------------------------------------------------------------------------------------------------
# Read shapes (§4, §1, §9): a schema is a dict (object with exactly these keys), a one-element list (array of),
# Opt(schema) (null or schema) or a predicate.

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\d$")


@dataclass(frozen=True)
class Opt:
    inner: Any


def _pred(name: str, fn: Callable[[Any], bool]) -> Callable[[Any], bool]:
    fn.__name__ = name
    return fn


def one_of(*values: str) -> Callable[[Any], bool]:
    return _pred(f"one of {values}", lambda v: isinstance(v, str) and v in values)


def is_ts(v: Any) -> bool:
    return isinstance(v, str) and bool(TS_RE.match(v)) and bool(parse_ts(v))


def is_date(v: Any) -> bool:
    return isinstance(v, str) and bool(DATE_RE.match(v)) and bool(date.fromisoformat(v))


def is_id(v: Any) -> bool:
    return type(v) is int and v > 0


def is_count(v: Any) -> bool:
    return type(v) is int and v >= 0


def is_int(v: Any) -> bool:
    return type(v) is int


def is_str(v: Any) -> bool:
    return isinstance(v, str)


def is_text(v: Any) -> bool:
    return isinstance(v, str) and v.strip() != ""


def is_bool(v: Any) -> bool:
    return type(v) is bool


def is_number(v: Any) -> bool:
    return type(v) in (int, float)


def is_email(v: Any) -> bool:
    return isinstance(v, str) and bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v))


is_currency = _pred("currency", lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Z]{3}", v)))
is_country = _pred("country code", lambda v: isinstance(v, str) and bool(re.fullmatch(r"[A-Z]{2}", v)))

USER = {
    "id": is_id, "firstName": is_text, "lastName": is_text, "email": is_email,
    "role": one_of("admin", "recruiter", "hiring_manager"), "active": is_bool, "apiAccess": is_bool,
    "createdAt": is_ts, "updatedAt": is_ts,
}  # fmt: skip
PROJECT = {
    "id": is_id, "code": Opt(is_str), "name": is_text, "description": Opt(is_str),
    "status": one_of("draft", "open", "on_hold", "closed", "archived"), "closeReasonId": Opt(is_id),
    "visibility": one_of("public", "internal", "unlisted", "confidential"),
    "employmentType": Opt(one_of("full_time", "part_time", "mini_job", "working_student", "internship",
                                 "apprenticeship", "temporary", "freelance")),
    "experienceLevel": Opt(one_of("entry", "junior", "mid", "senior", "lead")),
    "salary": Opt({"amount": is_number, "currency": Opt(is_currency), "period": one_of("year", "month", "hour")}),
    "weeklyHours": Opt(is_number), "remote": Opt(one_of("on_site", "hybrid", "remote")),
    "departmentId": Opt(is_id), "locationIds": [is_id],
    "hiringTeam": [{"userId": is_id, "role": one_of("recruiter", "hiring_manager", "interviewer")}],
    "stageIds": [is_id], "openedAt": Opt(is_ts), "closedAt": Opt(is_ts), "createdAt": is_ts, "updatedAt": is_ts,
}  # fmt: skip
STAGE = {"id": is_id, "name": is_text, "position": is_int, "kind": one_of("regular", "hired", "rejected"),
         "active": is_bool}  # fmt: skip
JOBSEEKER = {
    "id": is_id, "salutation": Opt(one_of("mr", "ms", "diverse")), "titleBefore": Opt(is_str),
    "titleAfter": Opt(is_str), "firstName": is_text, "lastName": is_text,
    "emails": [{"value": is_email, "type": one_of("private", "work"), "primary": is_bool}],
    "phones": [{"value": is_text, "type": one_of("mobile", "private", "work"), "primary": is_bool}],
    "address": Opt({"street": Opt(is_str), "postalCode": Opt(is_str), "city": Opt(is_str), "region": Opt(is_str),
                    "countryCode": Opt(is_country)}),
    "currentCompany": Opt(is_str), "currentPosition": Opt(is_str), "dateOfBirth": Opt(is_date),
    "availableFrom": Opt(is_date),
    "salaryExpectation": Opt({"amount": is_number, "currency": Opt(is_currency), "period": one_of("year", "month")}),
    "source": Opt({"id": is_id, "name": is_text}), "tagIds": [is_id], "ownerUserId": Opt(is_id),
    "gdprConsent": {"given": is_bool, "givenAt": Opt(is_ts), "expiresAt": Opt(is_date)},
    "createdAt": is_ts, "updatedAt": is_ts,
}  # fmt: skip
APPLICATION = {
    "id": is_id, "jobseekerId": is_id, "projectId": is_id, "stageId": is_id,
    "status": one_of("active", "hired", "rejected", "withdrawn"), "rejectionReasonId": Opt(is_id),
    "appliedAt": is_ts, "createdAt": is_ts, "updatedAt": is_ts,
}  # fmt: skip
TAG = {"id": is_id, "name": is_text, "color": Opt(is_str)}
ATTACHMENT = {
    "id": is_id, "jobseekerId": is_id, "applicationId": Opt(is_id),
    "type": one_of("cv", "cover_letter", "certificate", "other"), "fileName": is_text,
    "contentType": one_of(*CONTENT_TYPES), "size": is_count, "createdAt": is_ts,
}  # fmt: skip
ENTRY = {"id": is_id, "name": is_text, "active": is_bool}
LOCATION = {**ENTRY, "city": Opt(is_str), "postalCode": Opt(is_str), "countryCode": Opt(is_country)}
PAGE = {"items": list, "page": is_id, "perPage": is_id, "total": is_count, "hasMore": is_bool}


def conform(value: Any, schema: Any, path: str = "$") -> None:
    """Assert that ``value`` has exactly the shape ``schema`` (see above)."""
    if isinstance(schema, Opt):
        if value is not None:
            conform(value, schema.inner, path)
    elif isinstance(schema, dict):
        assert isinstance(value, dict), f"{path}: expected an object, got {value!r}"
        assert set(value) == set(schema), f"{path}: keys {sorted(value)} != expected {sorted(schema)}"
        for key, sub in schema.items():
            conform(value[key], sub, f"{path}.{key}")
    elif isinstance(schema, list):
        assert isinstance(value, list), f"{path}: expected an array, got {value!r}"
        for i, item in enumerate(value):
            conform(item, schema[0], f"{path}[{i}]")
    elif schema is list:
        assert isinstance(value, list), f"{path}: expected an array, got {value!r}"
    else:
        assert schema(value), f"{path}: {value!r} is not {schema.__name__}"


@dataclass(frozen=True)
class Entity:
    name: str  # as in -32004 data.entity
    service: str
    schema: dict[str, Any]
    control: str  # /__emulator__/records/{control}

    @property
    def list(self) -> str:
        return f"{self.service}.list"

    @property
    def get(self) -> str:
        return f"{self.service}.get"


USERS = Entity("user", "UserService", USER, "users")
PROJECTS = Entity("project", "ProjectService", PROJECT, "projects")
JOBSEEKERS = Entity("jobseeker", "JobseekerService", JOBSEEKER, "jobseekers")
APPLICATIONS = Entity("application", "ApplicationService", APPLICATION, "applications")
LISTED = (USERS, PROJECTS, JOBSEEKERS, APPLICATIONS)


# ---------------------------------------------------------------------------------------------------------------
# Time helpers


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def fmt_ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ts_add(value: str, seconds: float) -> str:
    return fmt_ts(parse_ts(value) + timedelta(seconds=seconds))


# ---------------------------------------------------------------------------------------------------------------
# Inputs


def unique_email(prefix: str = "cand") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}@example.org"


def jobseeker_input(**overrides: Any) -> dict[str, Any]:
    """A minimal valid jobseeker input (§6) with a fresh e-mail."""
    return {
        "firstName": "Zuzana",
        "lastName": "Kováčová",
        "emails": [{"value": unique_email(), "type": "private", "primary": True}],
        **overrides,
    }


def attachment(
    content: bytes = b"%PDF-1.4 hello", *, type_: str = "cv", name: str = "cv.pdf", ct: str = "application/pdf"
) -> dict[str, Any]:
    return {"type": type_, "fileName": name, "contentType": ct, "data": base64.b64encode(content).decode()}


# ---------------------------------------------------------------------------------------------------------------
# The API client


def check_error(resp: httpx.Response, code: int, request_id: Any = ...) -> dict[str, Any]:
    """Assert a JSON-RPC error response with ``code`` (HTTP status per §1/§7, shape per §1/§7); return ``error``."""
    assert resp.status_code == HTTP_STATUS[code], f"HTTP {resp.status_code} for {code}: {resp.text[:500]}"
    body = resp.json()
    assert set(body) == {"jsonrpc", "id", "error"}, body
    assert body["jsonrpc"] == "2.0"
    if request_id is not ...:
        if code in (-32700, -32600):
            assert body["id"] in (request_id, None), body
        else:
            assert body["id"] == request_id, body
    error = body["error"]
    assert set(error) == {"code", "message", "data"}, error
    assert error["code"] == code, f"expected {code}, got {error}"
    assert isinstance(error["message"], str), error
    assert error["message"], error
    if code in ERROR_DATA_KEYS:
        assert isinstance(error["data"], dict), error
        assert set(error["data"]) == ERROR_DATA_KEYS[code], error
    else:
        assert error["data"] is None or isinstance(error["data"], dict), error
    if code in (-32029, -32050):
        retry_after = int(resp.headers["Retry-After"])
        assert 1 <= retry_after <= 60 or code == -32050, resp.headers
        assert is_count(error["data"]["retryAfter"])
        assert abs(error["data"]["retryAfter"] - retry_after) <= 1
    return error


_KEEP: Any = object()


@dataclass
class Api:
    client: httpx.Client
    login_name: str
    password: str
    token: str | None = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # --- JSON-RPC
    def rpc(
        self, method: str, params: Any = None, *, token: Any = _KEEP, id: Any = None, timeout: float | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids) if id is None else id, "method": method}
        if params is not None:
            body["params"] = params
        token = self.token if token is _KEEP else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        return self.client.post(RPC, json=body, headers=headers, **kwargs)

    def call(self, method: str, params: Any = None, **kw: Any) -> Any:
        """Call and return ``result``, asserting a success response (§1)."""
        resp = self.rpc(method, params, **kw)
        assert resp.status_code == 200, f"{method} {params!r:.300} -> HTTP {resp.status_code}: {resp.text[:800]}"
        body = resp.json()
        assert set(body) == {"jsonrpc", "id", "result"}, body
        assert body["jsonrpc"] == "2.0", body
        return body["result"]

    def error(self, method: str, params: Any = None, code: int = -32602, **kw: Any) -> dict[str, Any]:
        """Call and return ``error``, asserting the code, its HTTP status and the error shape (§1, §7)."""
        rid = kw.pop("id") if "id" in kw else next(self._ids)
        return check_error(self.rpc(method, params, id=rid, **kw), code, rid)

    def fields(self, method: str, params: Any = None, **kw: Any) -> dict[str, str]:
        """Call expecting -32602; return ``data.fields``."""
        fields = self.error(method, params, -32602, **kw)["data"]["fields"]
        assert isinstance(fields, dict), fields
        assert fields, fields
        return fields

    def login(self, login: str | None = None, password: str | None = None) -> dict[str, Any]:
        return self.call(
            "AuthService.login",
            {"login": login or self.login_name, "password": password or self.password},
            token=None,
        )

    def relogin(self) -> str:
        self.token = self.login()["token"]
        return self.token

    def get(self, entity: Entity, id: int) -> dict[str, Any]:
        return self.call(entity.get, {"id": id})

    def page(self, entity: Entity, **params: Any) -> dict[str, Any]:
        result = self.call(entity.list, params)
        conform(result, PAGE)
        return result

    def walk(self, entity: Entity, per_page: int = 200, **params: Any) -> list[dict[str, Any]]:
        """Every item of a list, page by page, checking the envelope (§3)."""
        items: list[dict[str, Any]] = []
        for page in itertools.count(1):
            result = self.page(entity, page=page, perPage=per_page, **params)
            assert (result["page"], result["perPage"]) == (page, per_page), result
            assert result["hasMore"] == (page * per_page < result["total"]), result
            assert len(result["items"]) == max(0, min(per_page, result["total"] - (page - 1) * per_page)), result
            items += result["items"]
            if not result["hasMore"]:
                return items
        raise AssertionError("unreachable")

    def total(self, entity: Entity, **params: Any) -> int:
        return self.page(entity, perPage=1, **params)["total"]

    def items(self, method: str, params: Any = None) -> list[dict[str, Any]]:
        result = self.call(method, params)
        assert isinstance(result, dict), result
        assert set(result) == {"items"}, result
        assert isinstance(result["items"], list), result
        return result["items"]

    def codebook(self, name: str) -> list[dict[str, Any]]:
        return self.items("CodebookService.get", {"name": name})

    def new_jobseeker(self, **params: Any) -> int:
        params.setdefault("jobseeker", jobseeker_input())
        return self.call("JobseekerService.create", params)["id"]

    # --- controls (§8)
    def ctl(self, verb: str, path: str, body: Any = None, expect: int | None = None) -> httpx.Response:
        resp = self.client.request(verb, CTL + path, json=body)
        if expect is not None:
            assert resp.status_code == expect, f"{verb} {path} {body!r:.300} -> {resp.status_code}: {resp.text[:500]}"
        else:
            assert resp.is_success, f"{verb} {path} {body!r:.300} -> {resp.status_code}: {resp.text[:500]}"
        return resp

    def create(self, entity: str, **fields: Any) -> dict[str, Any]:
        return self.ctl("POST", f"/records/{entity}", fields, 201).json()

    def patch(self, entity: str, id: int | str, **fields: Any) -> dict[str, Any]:
        return self.ctl("PATCH", f"/records/{entity}/{id}", fields, 200).json()

    def delete(self, entity: str, id: int | str) -> None:
        self.ctl("DELETE", f"/records/{entity}/{id}", None, 204)

    def fault(self, kind: str, **params: Any) -> None:
        self.ctl("POST", "/faults", {"kind": kind, **params})

    def counters(self) -> dict[str, Any]:
        return self.ctl("GET", "/counters", None, 200).json()

    def freeze(self, ts: str = FROZEN) -> None:
        """Freeze the tenant clock and log in again (tokens follow the tenant clock)."""
        self.ctl("POST", "/clock", {"freeze": ts})
        self.relogin()

    def advance(self, seconds: int) -> None:
        self.ctl("POST", "/clock", {"advanceSeconds": seconds})

    def now(self) -> str:
        return self.call("SystemService.ping")["serverTime"]

    def new_user(self, *, api_access: bool = True, **fields: Any) -> tuple[dict[str, Any], str]:
        """A user created through the controls; returns (record, password)."""
        password = "Pw-" + uuid.uuid4().hex
        body = {"firstName": "Jana", "lastName": "Müller", "email": unique_email("user"), "role": "recruiter"}
        user = self.create("users", **{**body, **fields, "password": password, "apiAccess": api_access})
        return user, password

    def open_project(self, stage_count: int = 3) -> dict[str, Any]:
        """A fresh open project whose pipeline is not in id order (so 'first stage' differs from 'lowest id')."""
        stage_ids = sorted(s["id"] for s in self.items("StageService.list"))[:stage_count]
        assert len(stage_ids) == stage_count
        pipeline = stage_ids[1:] + stage_ids[:1]
        project = self.create("projects", name="Pflegefachkraft (m/w/d)", status="open", stageIds=pipeline)
        assert (project["status"], project["stageIds"]) == ("open", pipeline), project
        return project


# ---------------------------------------------------------------------------------------------------------------
# The emulator process


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    em = start_emulator("--seed", str(SEED), "--size", str(SIZE), "--rate-limit", "off", "--json")
    assert all((em.login, em.password, em.url)), em.first_line
    yield em
    em.stop()


@pytest.fixture(scope="session")
def client(emulator: EmulatorProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=emulator.url, timeout=60) as http:
        yield http


@pytest.fixture(autouse=True)
def fresh_tenant(client: httpx.Client) -> None:
    """Every test starts on a fresh tenant, without faults, with the real clock and no rate limit."""
    for verb, path, body in (
        ("DELETE", "/faults", None),
        ("PUT", "/rate-limit", {"perMinute": None}),
        ("POST", "/reset", {"seed": SEED, "size": SIZE}),
        ("POST", "/clock", {"release": True}),
    ):
        resp = client.request(verb, CTL + path, json=body)
        assert resp.is_success, f"{verb} {path}: {resp.status_code} {resp.text[:300]}"


@pytest.fixture
def api(client: httpx.Client, emulator: EmulatorProcess) -> Api:
    """A client logged in as the tenant's API user."""
    api = Api(client, emulator.login, emulator.password)
    api.relogin()
    return api


@pytest.fixture
def token(api: Api) -> str:
    assert api.token
    return api.token


@pytest.fixture
def rpc(api: Api) -> Callable[..., httpx.Response]:
    """``rpc(method, params=None, token=...)`` → the raw httpx response (default token: the logged-in one)."""
    return api.rpc
