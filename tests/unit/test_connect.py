"""The connect flow's pure parts: reading a typed tenant, the form's CSRF token, classifying a failed check, and
the guide being complete in both languages."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from atsbridge.api.connect_page import CSRF_LIFETIME, csrf_token, csrf_valid, page_language
from atsbridge.api.connect_texts import TEXTS
from atsbridge.connectors.recru.credentials import CredentialProblem, CredentialsRefused, classify, tenant_url
from atsbridge.connectors.recru.errors import (
    RecruAccessDenied,
    RecruError,
    RecruInvalidParams,
    RecruLoginFailed,
    RecruRateLimited,
    RecruRpcError,
    RecruTokenRejected,
    RecruUnavailable,
)
from atsbridge.connectors.recru.guide import (
    GUIDES,
    LANGUAGES,
    PROBLEM_FIELDS,
    TENANT_STEP,
    Language,
    guide,
    problem_message,
)

SECRET = bytes(range(32))


@pytest.mark.parametrize(
    "typed",
    ["acme", " ACME ", "acme.recru.eu", "acme.recru.eu/", "https://acme.recru.eu", "https://acme.recru.eu/app/1?x"],
)
def test_a_subdomain_host_or_url_names_the_tenant(typed: str) -> None:
    assert tenant_url(typed) == tenant_url(typed, allow_custom=True) == "https://acme.recru.eu"


def test_plain_http_to_a_recru_host_is_upgraded() -> None:
    assert tenant_url("http://acme.recru.eu") == "https://acme.recru.eu"


@pytest.mark.parametrize(
    ("typed", "custom"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/api/json-rpc", "http://127.0.0.1:8765"),
        ("https://ats.internal.example", "https://ats.internal.example"),
        ("http://user:pw@[::1]:81/x", "http://[::1]:81"),
        ("localhost:9000", "https://localhost:9000"),
    ],
)
def test_other_addresses_need_the_custom_setting(typed: str, custom: str) -> None:
    assert tenant_url(typed, allow_custom=True) == custom
    with pytest.raises(CredentialsRefused) as refused:
        tenant_url(typed)
    assert refused.value.problem == CredentialProblem.INVALID_TENANT


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "acme corp",
        "-acme",
        "a.b.recru.eu",
        "ftp://acme.recru.eu",
        "https://acme.recru.eu:8443",
        "http://h:99999",
        "acme[",
        "acme.recru.eu]",
        "http://[::1",
    ],
)
def test_what_is_no_address_is_refused_even_with_the_custom_setting(typed: str) -> None:
    for allow_custom in (False, True):
        with pytest.raises(CredentialsRefused) as refused:
            tenant_url(typed, allow_custom=allow_custom)
        assert refused.value.problem == CredentialProblem.INVALID_TENANT


def test_a_csrf_token_is_bound_to_its_link_and_expires() -> None:
    now = time.time()
    token = csrf_token(SECRET, "link-a", now)
    assert csrf_valid(SECRET, "link-a", token, now + 60)
    assert not csrf_valid(SECRET, "link-b", token, now)
    assert not csrf_valid(bytes(32), "link-a", token, now)
    assert not csrf_valid(SECRET, "link-a", token, now + CSRF_LIFETIME.total_seconds() + 1)
    assert not csrf_valid(SECRET, "link-a", token, now - 60)  # issued in the future
    issued, _, mac = token.partition(".")
    assert not csrf_valid(SECRET, "link-a", f"{int(issued) + 1}.{mac}", now)
    for garbage in ("", ".", "x.y", f"{issued}.", mac, "-1.abc"):
        assert not csrf_valid(SECRET, "link-a", garbage, now)


def _unavailable(cause: BaseException, kind: type[RecruUnavailable] = RecruUnavailable) -> RecruUnavailable:
    return kind("AuthService.login", 2, cause)


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (RecruLoginFailed(-32001, "Login failed"), CredentialProblem.LOGIN_FAILED),
        (
            RecruInvalidParams(-32602, "Invalid params", {"fields": {"login": "too_long"}}),
            CredentialProblem.LOGIN_FAILED,
        ),
        (RecruAccessDenied(-32003, "No API access"), CredentialProblem.NO_API_ACCESS),
        (_unavailable(httpx.ConnectError("refused")), CredentialProblem.UNREACHABLE),
        (_unavailable(httpx.ReadTimeout("slow")), CredentialProblem.UNREACHABLE),
        (_unavailable(RecruRpcError(-32050, "Maintenance")), CredentialProblem.UNAVAILABLE),
        (_unavailable(RecruRpcError(-32029, "Slow down"), RecruRateLimited), CredentialProblem.UNAVAILABLE),
        (_unavailable(RecruError("HTTP 404, 9 bytes of text/html")), CredentialProblem.NOT_RECRU),
        (RecruRpcError(-32601, "Method not found"), CredentialProblem.NOT_RECRU),
        (RecruTokenRejected(-32002, "Token invalid"), CredentialProblem.NOT_RECRU),
    ],
)
def test_each_failure_of_the_check_is_one_problem(error: RecruError, problem: CredentialProblem) -> None:
    assert classify(error) == problem


def test_the_guide_is_complete_and_alike_in_every_language() -> None:
    english = GUIDES["en"]
    for language in LANGUAGES:
        guide = GUIDES[language]
        assert len(guide.prerequisites) == 2 and len(guide.steps) == 4
        assert [f.name for f in guide.fields] == ["tenant", "login", "password"]
        assert [(f.input_type, f.autocomplete) for f in guide.fields] == [
            (f.input_type, f.autocomplete) for f in english.fields
        ]
        assert set(guide.problems) == set(CredentialProblem)
        assert all(guide.problems[p].count("{tenant}") == english.problems[p].count("{tenant}") for p in guide.problems)
        assert set(TEXTS[language].states) == set(TEXTS["en"].states)
        assert list(TEXTS[language].models) == list(TEXTS["en"].models)
    assert set(PROBLEM_FIELDS) == set(CredentialProblem)
    assert set(PROBLEM_FIELDS.values()) <= {f.name for f in english.fields}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_reconnections_guide_never_points_at_the_tenant_step_it_leaves_out(language: Language) -> None:
    relinked = guide(language, relink=True)
    assert len(relinked.steps) == TENANT_STEP - 1 + len(GUIDES[language].steps) - TENANT_STEP
    steps_named = {int(n) for text in relinked.problems.values() for n in re.findall(r"(?:step|Schritt) (\d)", text)}
    assert steps_named and max(steps_named) <= len(relinked.steps)
    unreachable = problem_message(CredentialProblem.UNREACHABLE, "https://x.recru.eu", language, relink=True)
    assert unreachable == GUIDES[language].relink_tenant_problem.format(tenant="https://x.recru.eu")


def test_the_page_language_prefers_the_query_then_the_link() -> None:
    assert page_language("de", None) == "de"
    assert page_language("de", "en") == "en"
    assert page_language("en", "fr") == "en"
    assert page_language(None, None) == "en"
