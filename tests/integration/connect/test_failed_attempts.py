"""Failed attempts on the hosted connect page: each one is reported as a ``connection-flow-failed`` event (validated
with the kombo SDK's model) whose ``log_url`` shows the link's state in the API; a success after failures is
unaffected; after ``MAX_FAILED_ATTEMPTS`` the link is locked without RECRU being asked again."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from kombo import models as sdk

from atsbridge.api.connect_texts import TEXTS
from atsbridge.connectors.recru.credentials import CredentialProblem
from atsbridge.connectors.recru.guide import problem_message
from atsbridge.store.connect_links import CHECK_HOLD, MAX_FAILED_ATTEMPTS, begin_check, end_check, record_failure
from integration.connect.conftest import ConnectPage, Html
from support.connect_flow import ConnectSite
from support.emulator_process import EmulatorProcess, free_port
from support.recru import Recru

OpenPage = Callable[[str], ConnectPage]
WRONG_PASSWORD = "not-the-password"


def fields(process: EmulatorProcess, **changes: str) -> dict[str, str]:
    return {"tenant": process.url, "login": process.login, "password": process.password, **changes}


def failures(site: ConnectSite) -> list[dict[str, Any]]:
    return [event for event in site.events() if event["type"] == "connection-flow-failed"]


def link_details(site: ConnectSite, path: str, api_key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key or site.api_key}"}
    return httpx.get(f"{site.server.url}{path}", headers=headers)


def recru_calls(process: EmulatorProcess) -> dict[str, int]:
    recru = Recru(process)
    try:
        calls: dict[str, int] = recru.control("GET", "/counters")["calls"]
    finally:
        recru.close()
    return calls


@pytest.mark.parametrize(
    ("case", "problem"),
    [("wrong password", CredentialProblem.LOGIN_FAILED), ("unreachable", CredentialProblem.UNREACHABLE)],
)
def test_a_failed_attempt_is_reported_once_to_the_links_environment(
    site: ConnectSite,
    connect_page: OpenPage,
    recru_process: EmulatorProcess,
    case: str,
    problem: CredentialProblem,
) -> None:
    link = site.create_link(end_user_origin_id="crm-9", end_user_organization_name="Acme s.r.o.")
    change = {"password": WRONG_PASSWORD} if case == "wrong password" else {"tenant": f"http://127.0.0.1:{free_port()}"}
    answer = connect_page(link).submit(**fields(recru_process, **change))
    assert answer.status_code == 422

    (event,) = site.events()
    assert (event["type"], event["environment_id"], event["integration_id"]) == (
        "connection-flow-failed",
        site.environment_id,
        None,
    )
    stored = site.link(link)
    assert event["payload"] == {
        "integration_tool": "recruhr",
        "integration_category": "ATS",
        "end_user": {"organization_name": "Acme s.r.o.", "creator_email": "hr@acme.example", "origin_id": "crm-9"},
        "log_url": f"/v1/connect/links/{stored.token_hash}",
    }
    body = {"id": event["id"], "type": event["type"], "data": event["payload"]}
    assert sdk.ConnectionFlowFailedWebhookPayload.model_validate(body).model_dump(mode="json") == body
    assert site.integrations() == [] and stored.used_at is None

    details = link_details(site, event["payload"]["log_url"])
    assert details.status_code == 200
    data = details.json()["data"]
    last_failed_at = datetime.fromisoformat(data.pop("last_failed_at"))
    assert abs(datetime.now(UTC) - last_failed_at).total_seconds() < 60
    assert data == {
        "id": stored.token_hash,
        "state": "OPEN",
        "expires_at": f"{stored.expires_at:%Y-%m-%dT%H:%M:%S}.{stored.expires_at.microsecond // 1000:03d}Z",
        "failed_attempts": 1 if problem == CredentialProblem.LOGIN_FAILED else 0,  # only refused logins count
        "max_failed_attempts": MAX_FAILED_ATTEMPTS,
        "last_failure": problem.value,
        "integration_id": None,
    }
    assert link_details(site, event["payload"]["log_url"], site.other_api_key()).status_code == 404


def test_a_success_after_failures_short_of_the_cap_connects(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess
) -> None:
    link = site.create_link()
    page = connect_page(link)
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        assert page.submit(**fields(recru_process, password=WRONG_PASSWORD)).status_code == 422
    assert page.submit(**fields(recru_process)).status_code == 303

    (integration,) = site.integrations()
    assert [event["type"] for event in site.events()] == ["connection-flow-failed"] * (MAX_FAILED_ATTEMPTS - 1) + [
        "integration-created"
    ]
    data = link_details(site, f"/v1/connect/links/{site.link(link).token_hash}").json()["data"]
    assert (data["state"], data["failed_attempts"], data["integration_id"]) == (
        "USED",
        MAX_FAILED_ATTEMPTS - 1,
        integration["id"],
    )


def test_the_link_locks_after_too_many_failed_attempts_without_asking_recru_again(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess
) -> None:
    link = site.create_link(language="de")
    page = connect_page(link)
    csrf = page.csrf()
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        assert page.submit(csrf=csrf, **fields(recru_process, password=WRONG_PASSWORD)).status_code == 422
    last = page.submit(csrf=csrf, **fields(recru_process, password=WRONG_PASSWORD))
    assert last.status_code == 403
    html, locked = Html(last.text), TEXTS["de"].locked
    assert html.texts("h1") == [locked.title]
    assert html.texts("p") == [problem_message(CredentialProblem.LOGIN_FAILED, recru_process.url, "de"), *locked.body]
    assert html.all("form") == []
    assert len(failures(site)) == MAX_FAILED_ATTEMPTS

    calls = recru_calls(recru_process)
    refused = [
        page.submit(csrf=csrf, **fields(recru_process)),
        page.submit(csrf=csrf, **fields(recru_process, password=WRONG_PASSWORD)),
        page.open(),
        page.status(),
    ]
    for answer in refused:
        assert answer.status_code == 403
        assert Html(answer.text).texts("h1") == [locked.title]
        assert Html(answer.text).all("form") == []
    assert Html(page.open(lang="en").text).texts("h1") == [TEXTS["en"].locked.title]
    assert recru_calls(recru_process) == calls
    assert site.integrations() == []
    assert len(failures(site)) == MAX_FAILED_ATTEMPTS
    data = link_details(site, f"/v1/connect/links/{site.link(link).token_hash}").json()["data"]
    assert (data["state"], data["failed_attempts"], data["last_failure"]) == (
        "LOCKED",
        MAX_FAILED_ATTEMPTS,
        "LOGIN_FAILED",
    )


def test_failures_are_never_counted_past_the_cap(site: ConnectSite) -> None:
    """Attempts already in flight when the link locks are not counted (so they report no event either)."""
    link = site.link(site.create_link())
    now = datetime.now(UTC)
    with site.engine.begin() as conn:
        counted = [record_failure(conn, link, "LOGIN_FAILED", now) for _ in range(MAX_FAILED_ATTEMPTS + 2)]
    assert counted == [*range(1, MAX_FAILED_ATTEMPTS + 1), None, None]


def test_parallel_attempts_are_checked_one_at_a_time(
    site: ConnectSite, connect_page: OpenPage, recru_process: EmulatorProcess
) -> None:
    """Posts sent together cannot all ask RECRU before the first refusal counts (guessing past the lock)."""
    link = site.create_link()
    page = connect_page(link)
    csrf = page.csrf()
    logins = recru_calls(recru_process).get("AuthService.login", 0)
    recru = Recru(recru_process)
    try:
        recru.control("POST", "/faults", {"kind": "slow", "method": "AuthService.login", "delaySeconds": 2})
    finally:
        recru.close()
    with ThreadPoolExecutor(8) as pool:
        wrong = fields(recru_process, password=WRONG_PASSWORD)
        sent = [pool.submit(page.submit, csrf=csrf, **wrong) for _ in range(8)]
        time.sleep(1)  # the attempt checked waits 2 s on RECRU
        meanwhile = page.open()
        answers = [answer.result() for answer in sent]

    assert sorted(answer.status_code for answer in answers) == [422] + [429] * 7
    # the link opened meanwhile (where the busy page below goes back to) is that notice again, not an empty form:
    # the attempt checked may yet connect
    assert meanwhile.status_code == 200
    assert Html(meanwhile.text).texts("h1") == [TEXTS["en"].busy.title]
    assert Html(meanwhile.text).all("form") == []
    busy = next(answer for answer in answers if answer.status_code == 429)
    assert Html(busy.text).texts("h1") == [TEXTS["en"].busy.title]
    assert Html(busy.text).all("form") == []
    # it goes back to the link by itself: the form again, or the status once that attempt connected (a double click)
    refresh = Html(busy.text).one("meta", http_equiv="refresh").attrs["content"]
    assert refresh == f"3; url={page.path}?lang=en"
    assert recru_calls(recru_process)["AuthService.login"] == logins + 1
    assert len(failures(site)) == 1
    assert site.link(link).failed_attempts == 1
    assert page.submit(**fields(recru_process)).status_code == 303  # the link is free again


def test_a_check_holds_its_link_until_it_ends_or_its_hold_runs_out(site: ConnectSite) -> None:
    link = site.link(site.create_link())
    now = datetime.now(UTC)
    with site.engine.begin() as conn:
        first = begin_check(conn, link, now)
        assert first is not None
        assert begin_check(conn, link, now + CHECK_HOLD / 2) is None
        end_check(conn, link, first)
        second = begin_check(conn, link, now)
        assert second is not None and second != first
        third = begin_check(conn, link, now + CHECK_HOLD)  # the second's process died: its hold ran out
        assert third is not None
        end_check(conn, link, second)  # too late: frees nothing
        assert begin_check(conn, link, now + CHECK_HOLD) is None


def test_unknown_link_ids_are_not_found(site: ConnectSite) -> None:
    answer = link_details(site, "/v1/connect/links/no-such-link")
    assert answer.status_code == 404
    assert answer.json()["status"] == "error"
    assert answer.json()["error"]["code"] is None
