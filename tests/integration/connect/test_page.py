"""The hosted connect page over plain HTTP (no JavaScript): the guide, the form, every way credentials are refused
(nothing saved but the failed attempt), the forms that are not accepted, used and expired links, and a connection
from the form to the completed first sync and the token exchange."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from kombo.errors import KomboGeneralError

from atsbridge.api.connect_page import csrf_token
from atsbridge.api.connect_texts import TEXTS
from atsbridge.config import Settings
from atsbridge.connectors.recru.credentials import CredentialProblem, tenant_url
from atsbridge.connectors.recru.guide import GUIDES, Language, problem_message
from atsbridge.store.credentials import RecruCredentials, decrypt_credentials
from atsbridge.store.syncs import FULL, QUEUED
from atsbridge.sync.runner import execute_sync
from integration.connect.conftest import ConnectPage, Html
from support.connect_flow import KEY, ConnectSite, token_of
from support.emulator_process import EmulatorProcess, free_port
from support.recru import Recru

OpenPage = Callable[[str], ConnectPage]


def credentials(process: EmulatorProcess, **changes: str) -> dict[str, str]:
    return {"tenant": process.url, "login": process.login, "password": process.password, **changes}


def assert_nothing_saved(site: ConnectSite, link: str) -> None:
    assert site.integrations() == []
    assert site.syncs() == []
    assert site.events() == []
    assert site.link(link).used_at is None


@pytest.mark.parametrize(
    ("link_language", "override", "language"), [("en", None, "en"), ("de", None, "de"), ("en", "de", "de")]
)
def test_the_page_shows_the_guide_then_an_accessible_form(
    site: ConnectSite, connect_page: OpenPage, link_language: Language, override: str | None, language: Language
) -> None:
    page = connect_page(site.create_link(language=link_language))
    opened = page.open(**({"lang": override} if override else {}))
    assert opened.status_code == 200
    assert opened.headers["cache-control"] == "no-store"
    assert opened.headers["referrer-policy"] == "no-referrer"
    assert "form-action 'self'" in opened.headers["content-security-policy"]
    html, guide = Html(opened.text), GUIDES[language]
    assert html.one("html").attrs["lang"] == language
    assert html.texts("h1") == [guide.title]
    assert html.texts("h2") == [guide.prerequisites_title, guide.steps_title, guide.form_title]
    assert html.texts("h3") == [step.title for step in guide.steps]
    assert [" ".join(li.text.split()) for li in html.all("li")][: len(guide.prerequisites)] == list(guide.prerequisites)
    for field in guide.fields:
        field_input = html.one("input", name=field.name)
        assert field_input.attrs["id"] == field.name
        assert html.text("label", for_=field.name) == field.label
        assert field_input.attrs["aria-describedby"] == f"{field.name}-hint"
        assert html.text(id=f"{field.name}-hint") == field.hint
        assert "required" in field_input.attrs
    assert html.one("input", name="password").attrs["type"] == "password"
    assert html.text("button", type="submit") == guide.submit
    assert html.one("form").attrs["method"] == "post"
    other = "de" if language == "en" else "en"
    assert html.one("a", hreflang=other).attrs["href"].endswith(f"?lang={other}")


def test_connecting_creates_the_integration_queues_the_first_sync_and_completes(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess, tmp_path: Path
) -> None:
    link = site.create_link(end_user_origin_id="crm-7", language="de")
    page = connect_page(link)
    answer = page.submit(**credentials(recru_process, tenant=f" {recru_process.url}/ "))
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{page.path}/status?lang=de"

    (integration,) = site.integrations()
    assert integration["tool"] == "recruhr"
    assert integration["environment_id"] == site.environment_id
    assert integration["tenant_url"] == recru_process.url
    assert integration["setup_status"] == "FINAL_SYNC_PENDING"
    assert integration["sync_only_created_applications"] is True
    assert (integration["end_user_email"], integration["end_user_organization_name"]) == (
        "hr@acme.example",
        "Acme s.r.o.",
    )
    assert integration["end_user_origin_id"] == "crm-7"
    assert recru_process.password.encode() not in integration["credentials_encrypted"]
    stored = decrypt_credentials(KEY, integration["id"], integration["credentials_encrypted"])
    assert stored == RecruCredentials(recru_process.login, recru_process.password)
    used = site.link(link)
    assert used.used_at is not None and used.integration_id == integration["id"]
    (sync,) = site.syncs()
    assert (sync["integration_id"], sync["type"], sync["state"]) == (integration["id"], FULL, QUEUED)
    (created,) = site.events()
    assert (created["type"], created["integration_id"]) == ("integration-created", integration["id"])

    pending = Html(page.status().text)
    assert pending.one("html").attrs["lang"] == "de"
    assert pending.texts("h1") == [TEXTS["de"].status_title]
    assert pending.one("meta", http_equiv="refresh").attrs["content"] == "2"
    assert pending.text(role="status") == TEXTS["de"].states[QUEUED]

    with site.sdk() as sdk:
        exchanged = sdk.connect.get_integration_by_token(token=token_of(link)).data
    assert (exchanged.id, exchanged.tool, exchanged.setup_status) == (
        integration["id"],
        "recruhr",
        "FINAL_SYNC_PENDING",
    )
    assert (exchanged.end_user_email, exchanged.end_user_organization_name, exchanged.end_user_origin_id) == (
        "hr@acme.example",
        "Acme s.r.o.",
        "crm-7",
    )
    with site.sdk(api_key=site.other_api_key()) as stranger, pytest.raises(KomboGeneralError) as raised:
        stranger.connect.get_integration_by_token(token=token_of(link))
    assert raised.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"

    settings = Settings(data_dir=tmp_path, secret_key=KEY.hex())
    result = asyncio.run(execute_sync(site.engine, settings, sync["id"], integration["id"], FULL))
    assert result is not None and result.state == "SUCCEEDED", result

    done = Html(page.status(lang="en").text)
    assert done.texts("h1") == [TEXTS["en"].done_title]
    assert done.all("meta", http_equiv="refresh") == []
    counts = dict(zip(done.texts("th"), done.texts("td"), strict=True))
    with emulator(recru_process) as recru:
        assert counts["Jobs"] == str(len(recru.all("projects"))) != "0"
    with site.sdk() as sdk:
        assert sdk.connect.get_integration_by_token(token=token_of(link)).data.setup_status == "COMPLETED"


def test_a_used_link_leads_to_its_status_and_cannot_connect_again(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess
) -> None:
    """Opened again, or its form sent twice (a double click): the connection's status page, no second one."""
    link = site.create_link()
    page = connect_page(link)
    csrf = page.csrf()
    assert page.submit(csrf=csrf, **credentials(recru_process)).status_code == 303
    status_path = f"{page.path}/status?lang=en"
    for answer in (page.open(), page.submit(csrf=csrf, **credentials(recru_process))):
        assert (answer.status_code, answer.headers["location"]) == (303, status_path)
    status = page.status(lang="en")
    assert status.status_code == 200 and Html(status.text).all("form") == []
    assert len(site.integrations()) == 1


def test_a_used_link_whose_integration_was_deleted_says_so(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess
) -> None:
    link = site.create_link()
    page = connect_page(link)
    assert page.submit(csrf=page.csrf(), **credentials(recru_process)).status_code == 303
    (integration,) = site.integrations()
    with site.sdk() as sdk:
        sdk.general.delete_integration(integration_id=integration["id"], body={})
    for answer in (page.open(), page.status()):
        assert answer.status_code == 410
        html = Html(answer.text)
        assert html.texts("h1") == [TEXTS["en"].used.title]
        assert html.all("form") == [] and html.all("input") == []


def test_an_expired_link_shows_no_form_and_saves_nothing(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess
) -> None:
    link = site.create_link()
    page = connect_page(link)
    csrf = page.csrf()
    site.expire_in(link, -1)
    for answer in (page.open(), page.submit(csrf=csrf, **credentials(recru_process)), page.status()):
        assert answer.status_code == 410
        html = Html(answer.text)
        assert html.texts("h1") == [TEXTS["en"].expired.title]
        assert html.all("form") == []
    assert_nothing_saved(site, link)


def test_a_link_expiring_while_its_credentials_are_checked_says_it_expired(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess
) -> None:
    link = site.create_link()
    page = connect_page(link)
    csrf = page.csrf()
    site.expire_in(link, 1)
    with emulator(recru_process) as recru:
        recru.control("POST", "/faults", {"kind": "slow", "method": "AuthService.login", "delaySeconds": 2})
        answer = page.submit(csrf=csrf, **credentials(recru_process))
    assert answer.status_code == 410
    assert Html(answer.text).texts("h1") == [TEXTS["en"].expired.title]
    assert_nothing_saved(site, link)


def test_unknown_links_are_not_found(site: ConnectSite, connect_page: OpenPage) -> None:
    page = connect_page(f"{site.server.url}/connect/no-such-token")
    for answer in (page.open(), page.submit(csrf="1.x", tenant="acme", login="a", password="b"), page.status()):
        assert answer.status_code == 404
        assert Html(answer.text).texts("h1") == [TEXTS["en"].unknown.title]


def test_the_status_of_an_unused_link_leads_to_its_form(site: ConnectSite, connect_page: OpenPage) -> None:
    page = connect_page(site.create_link(language="de"))
    answer = page.status()
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{page.path}?lang=de"


@pytest.mark.parametrize("case", ["garbage", "other link", "stale", "missing", "cross-site", "json"])
def test_forms_not_sent_from_this_page_are_refused(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess, case: str
) -> None:
    link = site.create_link()
    page = connect_page(link)
    fields = credentials(recru_process)
    if case == "json":
        answer = page.http.post(page.path, json={"csrf": page.csrf(), **fields})
    elif case == "cross-site":
        answer = page.submit(headers={"Sec-Fetch-Site": "cross-site"}, **fields)
    else:
        forged = {
            "garbage": "12345.not-a-mac",
            "other link": connect_page(site.create_link()).csrf(),
            "stale": csrf_token(KEY, token_of(link), time.time() - 25 * 3600),
            "missing": "",
        }[case]
        answer = page.submit(csrf=forged, **fields)
    assert answer.status_code == 400
    html = Html(answer.text)
    assert html.texts("h1") == [TEXTS["en"].form_rejected.title]
    assert html.one("a", href=f"{page.path}?lang=en").text == TEXTS["en"].reload
    assert html.all("form") == []
    assert_nothing_saved(site, link)


@contextmanager
def emulator(process: EmulatorProcess) -> Iterator[Recru]:
    recru = Recru(process)
    try:
        yield recru
    finally:
        recru.close()


def user_without_api_access(process: EmulatorProcess) -> dict[str, str]:
    email, password = f"noapi-{uuid.uuid4().hex[:8]}@acme.example", "s3cret-password"
    with emulator(process) as recru:
        recru.create("users", email=email, password=password, apiAccess=False, firstName="No", lastName="Api")
    return {"login": email, "password": password}


def maintenance(process: EmulatorProcess) -> dict[str, str]:
    """RECRU answers 503 to the check's login and its one retry (the test clears the fault afterwards)."""
    fault = {"kind": "unavailable_503", "method": "AuthService.login", "count": 2, "retryAfter": 1}
    with emulator(process) as recru:
        recru.control("POST", "/faults", fault)
    return {}


REFUSALS: dict[str, tuple[Callable[[EmulatorProcess, ConnectSite], dict[str, str]], CredentialProblem, str]] = {
    "wrong password": (lambda p, s: {"password": "not-the-password"}, CredentialProblem.LOGIN_FAILED, "password"),
    "unknown login": (lambda p, s: {"login": "nobody@acme.example"}, CredentialProblem.LOGIN_FAILED, "password"),
    "login RECRU finds too long": (
        lambda p, s: {"login": "a" * 300 + "@acme.example"},
        CredentialProblem.LOGIN_FAILED,
        "password",
    ),
    "no API access": (lambda p, s: user_without_api_access(p), CredentialProblem.NO_API_ACCESS, "login"),
    "unreachable": (
        lambda p, s: {"tenant": f"http://127.0.0.1:{free_port()}"},
        CredentialProblem.UNREACHABLE,
        "tenant",
    ),
    "not RECRU": (lambda p, s: {"tenant": s.server.url}, CredentialProblem.NOT_RECRU, "tenant"),
    "maintenance": (lambda p, s: maintenance(p), CredentialProblem.UNAVAILABLE, "tenant"),
    "not an address": (lambda p, s: {"tenant": "acme corp!"}, CredentialProblem.INVALID_TENANT, "tenant"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_credentials_are_explained_at_their_field_and_only_the_failure_is_recorded(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess, case: str
) -> None:
    make, problem, field = REFUSALS[case]
    link = site.create_link()
    page = connect_page(link)
    fields = credentials(recru_process, **make(recru_process, site))
    try:
        answer = page.submit(**fields)
    finally:
        with emulator(recru_process) as recru:
            recru.control("DELETE", "/faults")
    assert answer.status_code == 422
    html = Html(answer.text)
    shown_tenant = (
        fields["tenant"]
        if problem == CredentialProblem.INVALID_TENANT
        else tenant_url(fields["tenant"], allow_custom=True)
    )
    expected = problem_message(problem, shown_tenant)
    assert html.text(id=f"{field}-error") == expected
    assert html.one("input", name=field).attrs["aria-describedby"] == f"{field}-hint {field}-error"
    assert html.one("input", name=field).attrs["aria-invalid"] == "true"
    assert html.text(role="alert").endswith(expected)
    assert html.one("a", href=f"#{field}").text == expected
    assert "value" not in html.one("input", name="password").attrs
    assert html.one("input", name="tenant").attrs["value"] == fields["tenant"].strip()
    assert html.one("input", name="login").attrs["value"] == fields["login"]
    assert (site.integrations(), site.syncs()) == ([], [])
    assert [event["type"] for event in site.events()] == ["connection-flow-failed"]
    stored = site.link(link)
    counted = 1 if problem == CredentialProblem.LOGIN_FAILED else 0  # only refused logins count towards the lock
    assert (stored.used_at, stored.failed_attempts, stored.last_failure) == (None, counted, problem.value)


def test_empty_fields_are_named_in_the_page_language(site: ConnectSite, connect_page: OpenPage) -> None:
    link = site.create_link(language="de")
    answer = connect_page(link).submit(tenant=" ", login="", password="", lang="de")
    assert answer.status_code == 422
    html = Html(answer.text)
    for field in GUIDES["de"].fields:
        assert html.text(id=f"{field.name}-error") == field.missing
    assert [" ".join(a.text.split()) for a in html.all("a") if a.attrs.get("href", "").startswith("#")] == [
        field.missing for field in GUIDES["de"].fields
    ]
    assert_nothing_saved(site, link)


def test_what_was_typed_is_escaped(site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess) -> None:
    typed = '"><script>alert(1)</script>'
    answer = connect_page(site.create_link()).submit(**credentials(recru_process, login=typed, password="x"))
    assert answer.status_code == 422
    assert "<script>alert" not in answer.text
    assert Html(answer.text).one("input", name="login").attrs["value"] == typed
