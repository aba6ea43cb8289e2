"""A customer connects RECRU in a real browser: the SDK creates a link, the page shows the guide, a wrong password
is refused with its message (nothing saved), the right one leads to the progress page, the app's scheduler runs the
first sync, the page shows completion, and the SDK reads the integration's jobs."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from sqlalchemy import update

from atsbridge.api.connect_texts import TEXTS
from atsbridge.config import Settings
from atsbridge.connectors.recru.credentials import CredentialProblem
from atsbridge.connectors.recru.guide import GUIDES, problem_message
from atsbridge.store.syncs import FULL, QUEUED, RUNNING
from atsbridge.store.tables import syncs
from atsbridge.sync.runner import execute_sync
from support.connect_flow import KEY, ConnectSite, connect_site, token_of
from support.emulator_process import EmulatorProcess, start_emulator
from support.store import fresh_store

SCREENSHOTS = Path("/tmp")
FIRST_SYNC_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def recru_process() -> Iterator[EmulatorProcess]:
    process = start_emulator("--seed", "8", "--size", "40", "--rate-limit", "off", "--json")
    yield process
    process.stop()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[ConnectSite]:
    """The app on SQLite, running its own syncs (the embedded scheduler), as ``atsbridge serve`` does."""
    with fresh_store("sqlite", tmp_path) as engine, connect_site(engine, tmp_path, run_syncs=True) as served:
        yield served


def test_connect_recru_in_a_browser(page: Page, site: ConnectSite, recru_process: EmulatorProcess) -> None:
    link = site.create_link(end_user_origin_id="crm-1")  # the SDK's defaults: HRIS, en, EMBEDDED
    english, german = GUIDES["en"], GUIDES["de"]

    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(english.title)
    expect(page.get_by_role("heading", name=english.prerequisites_title, level=2)).to_be_visible()
    for prerequisite in english.prerequisites:
        expect(page.get_by_text(prerequisite)).to_be_visible()
    expect(page.get_by_role("heading", name=english.steps_title, level=2)).to_be_visible()
    for step in english.steps:
        expect(page.get_by_role("heading", name=step.title, level=3)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "atsbridge-connect-en.png"), full_page=True)

    page.get_by_role("link", name="Deutsch").click()
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", level=1)).to_have_text(german.title)
    expect(page.get_by_role("heading", name=german.prerequisites_title)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "atsbridge-connect-de.png"), full_page=True)
    page.get_by_role("link", name="English").click()

    tenant, login, password = (page.get_by_label(field.label) for field in english.fields)
    tenant.fill(recru_process.url)
    login.fill(recru_process.login)
    password.fill("not-the-password")
    page.keyboard.press("Tab")  # the submit button is the next stop after the password
    expect(page.get_by_role("button", name=english.submit)).to_be_focused()
    page.keyboard.press("Enter")

    refused = problem_message(CredentialProblem.LOGIN_FAILED, recru_process.url)
    expect(page.get_by_role("alert")).to_contain_text(refused)
    expect(page.get_by_role("alert")).to_be_focused()
    expect(password).to_have_accessible_description(re.compile(re.escape(refused)))
    expect(password).to_have_value("")
    expect(tenant).to_have_value(recru_process.url)
    page.screenshot(path=str(SCREENSHOTS / "atsbridge-connect-refused.png"), full_page=True)
    assert site.integrations() == []

    password.fill(recru_process.password)
    page.get_by_role("button", name=english.submit).click()
    expect(page).to_have_url(re.compile(r"/connect/[^/]+/status\?lang=en$"))
    assert len(site.integrations()) == 1
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(f"^({TEXTS['en'].status_title}|{TEXTS['en'].done_title})$")
    )
    # The page refreshes itself (no JavaScript) until the app's scheduler has finished the first sync.
    expect(page.get_by_role("heading", level=1)).to_have_text(TEXTS["en"].done_title, timeout=FIRST_SYNC_TIMEOUT_MS)
    page.screenshot(path=str(SCREENSHOTS / "atsbridge-connect-done.png"), full_page=True)

    (integration,) = site.integrations()
    assert integration["setup_status"] == "COMPLETED"
    with site.sdk() as sdk:
        exchanged = sdk.connect.get_integration_by_token(token=token_of(link)).data
    assert (exchanged.id, exchanged.setup_status, exchanged.end_user_origin_id) == (
        integration["id"],
        "COMPLETED",
        "crm-1",
    )
    with site.sdk(integration_id=exchanged.id) as sdk:
        jobs = sdk.ats.get_jobs().result.data.results
    assert jobs, "the connected integration serves RECRU's jobs"


def test_the_progress_page_updates_in_place_and_loads_whole_once_the_sync_is_done(
    page: Page, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    """The progress page reloaded itself every 2 s (`<meta http-equiv="refresh">`), which moves focus and restarts
    a screen reader: with JavaScript, its state and counts change in place (the refresh is kept for browsers without
    it), and the page loads whole when it changes shape, the first sync done."""
    refused = policy_errors(page)
    with fresh_store("sqlite", tmp_path) as engine, connect_site(engine, tmp_path) as site:
        connect_in(page, site, recru_process)
        state = page.get_by_role("status")
        expect(state).to_have_text(TEXTS["en"].states[QUEUED])
        page.evaluate("window.sameDocument = true")
        (sync,) = site.syncs()
        with engine.begin() as conn:
            conn.execute(update(syncs).where(syncs.c.id == sync["id"]).values(state=RUNNING))
        expect(state).to_have_text(TEXTS["en"].states[RUNNING])
        assert page.evaluate("window.sameDocument === true")
        with engine.begin() as conn:
            conn.execute(update(syncs).where(syncs.c.id == sync["id"]).values(state=QUEUED))
        settings = Settings(data_dir=tmp_path, secret_key=KEY.hex())
        first_sync = threading.Thread(  # asyncio.run cannot run beside Playwright's loop on this thread
            target=lambda: asyncio.run(execute_sync(engine, settings, sync["id"], sync["integration_id"], FULL))
        )
        first_sync.start()
        first_sync.join(FIRST_SYNC_TIMEOUT_MS / 1000)
        expect(page.get_by_role("heading", level=1)).to_have_text(TEXTS["en"].done_title)
        assert page.evaluate("window.sameDocument === undefined")
    assert refused == []  # a page fetched was parsed with its <style>, which this page's nonce does not allow


def test_the_progress_page_of_an_integration_deleted_meanwhile_says_so(
    page: Page, tmp_path: Path, recru_process: EmulatorProcess
) -> None:
    """The in-place updates took the 410 of a link whose integration was deleted for a passing failure: the page
    said "Waiting to start" for good. It shows that notice, as the page reloading itself without JavaScript does."""
    with fresh_store("sqlite", tmp_path) as engine, connect_site(engine, tmp_path) as site:
        connect_in(page, site, recru_process)
        expect(page.get_by_role("status")).to_have_text(TEXTS["en"].states[QUEUED])
        (integration,) = site.integrations()
        with site.sdk() as sdk:
            sdk.general.delete_integration(integration_id=integration["id"], body={})
        expect(page.get_by_role("heading", level=1)).to_have_text(TEXTS["en"].used.title)


def connect_in(page: Page, site: ConnectSite, recru_process: EmulatorProcess) -> None:
    """Connect RECRU through a new link of ``site``, in English: the page goes on to the progress page."""
    page.goto(site.create_link())
    english = GUIDES["en"]
    credentials = (recru_process.url, recru_process.login, recru_process.password)
    for field, value in zip(english.fields, credentials, strict=True):
        page.get_by_label(field.label).fill(value)
    page.get_by_role("button", name=english.submit).click()
    expect(page).to_have_url(re.compile(r"/connect/[^/]+/status\?lang=en$"))


def policy_errors(page: Page) -> list[str]:
    """The Content-Security-Policy violations ``page`` reports on its console from now on (the list fills up)."""
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", note)
    return refused
