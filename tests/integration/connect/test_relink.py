"""Reconnection links (Kombo's relink): ``POST /v1/integrations/{id}/relink`` makes a link to the hosted page that
replaces an existing integration's RECRU credentials (its tenant, data, ids and settings stay), after a real login."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kombo.errors import KomboGeneralError

from atsbridge.api.connect_texts import TEXTS
from atsbridge.config import Settings
from atsbridge.connectors.recru.guide import GUIDES, TENANT_STEP
from atsbridge.store.credentials import RecruCredentials, decrypt_credentials
from atsbridge.store.integrations import load_integration
from atsbridge.store.syncs import DELTA, FULL, QUEUED
from atsbridge.sync.runner import execute_sync, record_login_verdict
from integration.connect.conftest import ConnectPage, Html
from support.connect_flow import KEY, ConnectSite, token_of
from support.emulator_process import EmulatorProcess, start_emulator
from support.recru import Recru

OpenPage = Callable[[str], ConnectPage]
NEW_PASSWORD = "rotated-Pa55word"


@pytest.fixture
def own_recru() -> Iterator[EmulatorProcess]:
    """A tenant of this test's own: its API user's password is changed."""
    process = start_emulator("--seed", "5", "--size", "10", "--rate-limit", "off", "--json")
    yield process
    process.stop()


def connected(site: ConnectSite, connect_page: OpenPage, process: EmulatorProcess, tmp_path: Path) -> str:
    """An integration connected through a link, its first sync done; its id."""
    page = connect_page(site.create_link())
    fields = {"tenant": process.url, "login": process.login, "password": process.password}
    assert page.submit(**fields).status_code == 303
    (integration,) = site.integrations()
    (first,) = site.syncs()
    settings = Settings(data_dir=tmp_path, secret_key=KEY.hex())
    result = asyncio.run(execute_sync(site.engine, settings, first["id"], integration["id"], FULL))
    assert result is not None and result.state == "SUCCEEDED", result
    return str(integration["id"])


def change_password(process: EmulatorProcess) -> None:
    """The API user's password changed in RECRU, every token expired: the integration's login is refused."""
    recru = Recru(process)
    try:
        (api_user,) = [user for user in recru.all("users") if user["email"] == process.login]
        recru.patch("users", api_user["id"], password=NEW_PASSWORD)
        recru.control("POST", "/tokens/expire")
    finally:
        recru.close()


def ping(site: ConnectSite, integration_id: str) -> int:
    """The status of ``SystemService.ping`` sent through the passthrough, with the integration's login."""
    call = {"jsonrpc": "2.0", "id": 1, "method": "SystemService.ping"}
    with site.sdk(integration_id=integration_id) as sdk:
        try:
            sdk.general.send_passthrough_request(tool="recruhr", api="json-rpc", method="POST", path="/", data=call)
        except KomboGeneralError as refused:
            return refused.status_code
    return 200


def relink(site: ConnectSite, integration_id: str, **body: str) -> str:
    with site.sdk() as sdk:
        return sdk.general.create_reconnection_link(integration_id=integration_id, **body).data.link


def test_a_reconnection_link_replaces_the_refused_credentials_and_the_integration_works_again(
    site: ConnectSite, connect_page: OpenPage, own_recru: EmulatorProcess, tmp_path: Path
) -> None:
    integration_id = connected(site, connect_page, own_recru, tmp_path)
    assert ping(site, integration_id) == 200  # the API's RECRU client is made, logged in with the old password
    change_password(own_recru)
    assert ping(site, integration_id) == 424
    (invalid,) = site.integrations()
    assert invalid["status"] == "INVALID"
    events_before = len(site.events())

    link = relink(site, integration_id, language="de")
    page = connect_page(link)
    form = Html(page.open().text)
    assert form.text("p", class_="relink") == TEXTS["de"].relink_intro
    tenant = form.one("input", name="tenant")
    assert (tenant.attrs["value"], "readonly" in tenant.attrs) == (own_recru.url, True)
    full = GUIDES["de"]  # no step to find the tenant, nor a hint to type it: the page shows the integration's
    assert form.texts("h3") == [step.title for step in full.steps if step is not full.steps[TENANT_STEP - 1]]
    assert form.text("p", id="tenant-hint") == full.relink_tenant_hint

    wrong = page.submit(tenant=own_recru.url, login=own_recru.login, password=own_recru.password)
    assert wrong.status_code == 422  # the old password: refused, nothing replaced
    assert decrypt_credentials(KEY, integration_id, site.integrations()[0]["credentials_encrypted"]) == (
        RecruCredentials(own_recru.login, own_recru.password)
    )
    answer = page.submit(tenant="https://elsewhere.recru.eu", login=own_recru.login, password=NEW_PASSWORD)
    assert (answer.status_code, answer.headers["location"]) == (303, f"{page.path}/status?lang=de")

    (reconnected,) = site.integrations()  # the same integration, its tenant kept, the new credentials stored
    assert (reconnected["id"], reconnected["tenant_url"], reconnected["status"]) == (
        integration_id,
        own_recru.url,
        "ACTIVE",
    )
    stored = decrypt_credentials(KEY, integration_id, reconnected["credentials_encrypted"])
    assert stored == RecruCredentials(own_recru.login, NEW_PASSWORD)
    assert site.link(link).integration_id == integration_id
    new_events = [event["type"] for event in site.events()[events_before:]]
    assert new_events == ["connection-flow-failed", "integration-state-changed"]  # no integration-created
    delta = next(sync for sync in site.syncs() if sync["type"] == DELTA)
    assert delta["state"] == QUEUED
    done = Html(page.status().text)
    assert done.texts("h1") == [TEXTS["de"].relinked_title]
    with site.sdk() as sdk:
        assert sdk.connect.get_integration_by_token(token=token_of(link)).data.id == integration_id

    assert ping(site, integration_id) == 200  # the API's RECRU client logs in with the new password
    settings = Settings(data_dir=tmp_path, secret_key=KEY.hex())
    result = asyncio.run(execute_sync(site.engine, settings, delta["id"], integration_id, DELTA))
    assert result is not None and result.state == "SUCCEEDED", result
    assert page.open().status_code == 303  # used: it leads to its status page


def test_a_reconnection_link_is_only_for_the_environments_own_integrations_and_dies_with_its_integration(
    site: ConnectSite, connect_page: OpenPage, own_recru: EmulatorProcess, tmp_path: Path
) -> None:
    integration_id = connected(site, connect_page, own_recru, tmp_path)
    with site.sdk(api_key=site.other_api_key()) as stranger, pytest.raises(KomboGeneralError) as raised:
        stranger.general.create_reconnection_link(integration_id=integration_id)
    assert raised.value.data.error.code == "PLATFORM.INTEGRATION_NOT_FOUND"

    page = connect_page(relink(site, integration_id))
    csrf = page.csrf()
    with site.sdk() as sdk:
        sdk.general.delete_integration(integration_id=integration_id, body={})
    fields = {"tenant": own_recru.url, "login": own_recru.login, "password": own_recru.password}
    for answer in (page.open(), page.submit(csrf=csrf, **fields)):
        assert answer.status_code == 410
        assert Html(answer.text).texts("h1") == [TEXTS["en"].gone.title]
        assert Html(answer.text).all("form") == []
    assert site.integrations() == []  # nothing connected instead


def test_a_run_that_failed_on_the_credentials_replaced_meanwhile_leaves_the_integration_active(
    site: ConnectSite, connect_page: OpenPage, own_recru: EmulatorProcess, tmp_path: Path
) -> None:
    """A sync (or an action) read the integration, then it was reconnected, then that run's login with the old
    password was refused: the verdict is on credentials no longer stored, and does not undo the reconnection."""
    integration_id = connected(site, connect_page, own_recru, tmp_path)
    with site.engine.connect() as conn:
        seen_by_the_old_run = load_integration(conn, integration_id)
    assert seen_by_the_old_run is not None
    change_password(own_recru)
    page = connect_page(relink(site, integration_id))
    assert page.submit(tenant=own_recru.url, login=own_recru.login, password=NEW_PASSWORD).status_code == 303
    events_before = len(site.events())
    record_login_verdict(site.engine, seen_by_the_old_run, False)  # what the old run's end does
    (integration,) = site.integrations()
    assert integration["status"] == "ACTIVE"
    assert len(site.events()) == events_before


def test_a_verdict_is_judged_against_the_integrations_status_now(
    site: ConnectSite, connect_page: OpenPage, own_recru: EmulatorProcess, tmp_path: Path
) -> None:
    """A sync read the integration while ACTIVE; an action meanwhile found the login refused (INVALID); then the sync
    logged in fine: the integration is ACTIVE again (its view was ACTIVE, but the store's is INVALID)."""
    integration_id = connected(site, connect_page, own_recru, tmp_path)
    with site.engine.connect() as conn:
        seen_by_the_sync = load_integration(conn, integration_id)
    assert seen_by_the_sync is not None and seen_by_the_sync.status == "ACTIVE"
    record_login_verdict(site.engine, seen_by_the_sync, False)  # the action's refusal
    assert site.integrations()[0]["status"] == "INVALID"
    record_login_verdict(site.engine, seen_by_the_sync, True)  # the sync's success
    assert site.integrations()[0]["status"] == "ACTIVE"
    told = [e["payload"]["state"] for e in site.events() if e["type"] == "integration-state-changed"]
    assert told[-2:] == ["INVALID", "ACTIVE"]
