"""Integration endpoints with the kombo SDK and over plain HTTP: details and coverage, enable/disable, settings,
force-sync with already_queued, the syncs list, credentials that stop working, deletion leaving nothing behind."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, inspect, select, text, update

from atsbridge.store import tables
from atsbridge.store.integrations import load_integration
from atsbridge.store.reader import encode_cursor
from atsbridge.webhooks import notify
from integration.integrations.conftest import Live
from support.api_server import serve_api
from support.recru import Recru


def wait_for(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def syncs_of(live: Live) -> list[dict[str, Any]]:
    answer = httpx.get(f"{live.server.v1}/integrations/{live.integration.id}/syncs", headers=live.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["next"] is None  # a list like every other, on one page
    results: list[dict[str, Any]] = answer.json()["data"]["results"]
    return results


def test_details_validate_with_the_sdk_and_list_recru_coverage(live: Live) -> None:
    details = live.sdk().general.get_integration_details(integration_id=live.integration.id).data
    assert (details.id, details.tool.id, details.category) == (live.integration.id, "recruhr", "ATS")
    assert (details.status, details.setup_status) == ("ACTIVE", "COMPLETED")
    models = {model.id: model for model in details.read_models}
    assert models["ats_candidates"].coverage_status == "SUPPORTED"
    assert {"first_name", "email_addresses", "tags"} <= {
        f.id for f in models["ats_candidates"].fields if f.is_available
    }
    assert "social_media" in {f.id for f in models["ats_candidates"].fields if not f.is_available}
    # what the API answers MODEL_NOT_AVAILABLE / ACTION_NOT_AVAILABLE for is listed as unavailable
    for model in ("ats_interviews", "ats_offers", "ats_rejection_reasons", "ats_roles", "ats_scorecards", "ats_notes"):
        assert models[model].coverage_status == "UNSUPPORTED", model
    unavailable = {action.id for action in details.write_actions if not action.is_available}
    assert {"ats_reject_application", "ats_move_application_to_stage", "ats_add_application_note"} <= unavailable
    actions = {action.id for action in details.write_actions if action.is_available}
    assert actions == {
        "ats_create_application",
        "ats_create_candidate",
        "ats_add_candidate_tag",
        "ats_remove_candidate_tag",
    }


def test_the_tools_list_offers_recru_for_ats_with_the_integrations_coverage(live: Live) -> None:
    sdk = live.sdk()
    tools = sdk.general.get_tools(category="ats").data.tools
    assert [(tool.id, tool.label) for tool in tools] == [("recruhr", "RECRU")]
    details = sdk.general.get_integration_details(integration_id=live.integration.id).data
    coverage = tools[0].coverage
    for listed, integration in (
        (coverage.read_models, details.read_models),
        (coverage.write_actions, details.write_actions),
    ):
        assert [(e.id, e.coverage_status, [(f.id, f.coverage_status) for f in e.fields]) for e in listed] == [
            (e.id, e.coverage_status, [(f.id, f.coverage_status) for f in e.fields]) for e in integration
        ]
    for category in ("hris", "assessment", "lms"):
        assert sdk.general.get_tools(category=category).data.tools == []
    refused = httpx.get(f"{live.server.v1}/tools/crm", headers={"Authorization": live.headers["Authorization"]})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID")
    assert httpx.get(f"{live.server.v1}/tools/ats").status_code == 401


def test_disabling_stops_reads_and_shows_inactive(live: Live, engine: Engine) -> None:
    sdk = live.sdk()
    sdk.general.set_integration_enabled(integration_id=live.integration.id, value=False)
    assert sdk.general.get_integration_details(integration_id=live.integration.id).data.status == "INACTIVE"
    answer = httpx.get(f"{live.server.v1}/ats/jobs", headers=live.headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "INTEGRATION.INACTIVE")
    forced = httpx.post(f"{live.server.v1}/force-sync", json={"type": "DELTA"}, headers=live.headers)
    assert (forced.status_code, forced.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID")  # not "queued"
    assert "disabled" in forced.json()["error"]["message"]
    sdk.general.set_integration_enabled(integration_id=live.integration.id, value=True)
    assert httpx.get(f"{live.server.v1}/ats/jobs", headers=live.headers).status_code == 200
    enabled = f"{live.server.v1}/integrations/{live.integration.id}/enabled"
    for not_a_boolean in ("no", 0, "false", None):
        answer = httpx.put(enabled, json={"value": not_a_boolean}, headers=live.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID")
    assert httpx.get(f"{live.server.v1}/ats/jobs", headers=live.headers).status_code == 200  # still enabled
    with engine.connect() as conn:
        states = conn.execute(
            select(tables.webhook_outbox.c.payload).where(tables.webhook_outbox.c.type == "integration-state-changed")
        ).scalars()
        # the first: the first sync completed the setup; then disabled, enabled
        assert [(p["state"], p["setup_status"]) for p in states] == [
            ("ACTIVE", "COMPLETED"),
            ("INACTIVE", "COMPLETED"),
            ("ACTIVE", "COMPLETED"),
        ]


def test_switched_to_everything_while_disabled_a_full_comes_once_enabled(live: Live, engine: Engine) -> None:
    """The switch drops the watermark but queues nothing while disabled; enabling queues the FULL that brings in
    everything RECRU holds (not the next scheduled DELTA, up to 15 minutes later)."""
    settings = f"{live.server.v1}/integrations/{live.integration.id}/settings"
    enabled = f"{live.server.v1}/integrations/{live.integration.id}/enabled"
    assert httpx.patch(settings, json={"sync_only_created_applications": True}, headers=live.headers).is_success
    assert httpx.put(enabled, json={"value": False}, headers=live.headers).is_success
    assert httpx.patch(settings, json={"sync_only_created_applications": False}, headers=live.headers).is_success
    before = {run["id"] for run in syncs_of(live)}
    assert httpx.put(enabled, json={"value": True}, headers=live.headers).is_success
    assert [run["type"] for run in syncs_of(live) if run["id"] not in before] == ["FULL"]
    assert httpx.put(enabled, json={"value": True}, headers=live.headers).is_success  # no change: nothing more
    assert len([run for run in syncs_of(live) if run["id"] not in before]) == 1


def test_one_change_of_enabled_sent_many_times_at_once_is_told_once(live: Live, engine: Engine) -> None:
    url = f"{live.server.v1}/integrations/{live.integration.id}/enabled"
    for value in (False, True):
        with ThreadPoolExecutor(8) as pool:
            body = {"value": value}
            answers = list(pool.map(lambda _, b=body: httpx.put(url, json=b, headers=live.headers), range(8)))
        assert {a.status_code for a in answers} == {200}
    with engine.connect() as conn:
        states = conn.execute(
            select(tables.webhook_outbox.c.payload)
            .where(tables.webhook_outbox.c.type == "integration-state-changed")
            .order_by(tables.webhook_outbox.c.created_at)
        ).scalars()
        # the first sync's completion, then one change each way
        assert [p["state"] for p in states] == ["ACTIVE", "INACTIVE", "ACTIVE"]


def remote_data_coverage(live: Live) -> set[tuple[bool, str, str]]:
    """(is_available, coverage_status, scope_config_setting) of every read model's ``remote_data`` field."""
    details = httpx.get(f"{live.server.v1}/integrations/{live.integration.id}", headers=live.headers).json()["data"]
    return {
        (field["is_available"], field["coverage_status"], field["scope_config_setting"])
        for model in details["read_models"]
        for field in model["fields"]
        if field["id"] == "remote_data"
    }


def test_settings_change_what_is_served(live: Live) -> None:
    url = f"{live.server.v1}/integrations/{live.integration.id}/settings"
    candidates = f"{live.server.v1}/ats/candidates"
    assert httpx.get(candidates, headers=live.headers).json()["data"]["results"]  # sync-all integration
    changed = httpx.patch(
        url, json={"sync_only_created_applications": True, "source_label": "Jobportal"}, headers=live.headers
    )
    assert changed.json()["data"] == {
        "sync_only_created_applications": True,
        "source_label": "Jobportal",
        "remote_data": False,
    }
    assert httpx.get(url, headers=live.headers).json()["data"] == changed.json()["data"]
    assert httpx.get(candidates, headers=live.headers).json()["data"]["results"] == []  # nothing created through us
    jobs = f"{live.server.v1}/ats/jobs"
    assert httpx.get(jobs, headers=live.headers).json()["data"]["results"][0]["remote_data"] is None
    assert remote_data_coverage(live) == {(False, "SUPPORTED", "DISABLED")}  # a client is told it gets none
    httpx.patch(url, json={"remote_data": True}, headers=live.headers)
    job = httpx.get(jobs, headers=live.headers).json()["data"]["results"][0]
    assert job["remote_data"]["ProjectService.list"]["id"] == int(job["remote_id"])
    assert remote_data_coverage(live) == {(True, "SUPPORTED", "ENABLED")}
    for bad_body in (
        {"source_label": ""},
        {"source_label": "   "},
        {"source_label": "x" * 101},  # RECRU's limit of a source name
        {"source_label": "Job\u0007portal"},
        {"source_label": "Job\u2028portal"},
        {"source_label": "\u200b"},  # shows nothing
        {"sync_only_created_applications": "yes"},
        {"remote_data": 1},
    ):
        bad = httpx.patch(url, json=bad_body, headers=live.headers)
        assert (bad.status_code, bad.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID"), bad_body
    assert httpx.get(url.removesuffix("/settings"), headers=live.headers).status_code == 200
    fulls = [s["id"] for s in syncs_of(live) if s["type"] == "FULL"]
    # back to everything: a FULL is queued at once, not at the next scheduled one, and brings the candidates back
    opened = httpx.patch(url, json={"sync_only_created_applications": False}, headers=live.headers)
    assert opened.json()["data"]["sync_only_created_applications"] is False
    (queued,) = [s for s in syncs_of(live) if s["type"] == "FULL" and s["id"] not in fulls]
    wait_for(lambda: next(s for s in syncs_of(live) if s["id"] == queued["id"])["state"] == "SUCCEEDED")
    assert httpx.get(candidates, headers=live.headers).json()["data"]["results"]
    again = httpx.patch(url, json={"sync_only_created_applications": False}, headers=live.headers)
    assert again.status_code == 200
    later = [s["id"] for s in syncs_of(live) if s["type"] == "FULL" and s["id"] not in fulls]
    assert later == [queued["id"]]  # no change, no sync


def test_the_syncs_list_pages_by_cursor(live: Live) -> None:
    for sync_type in ("DELTA", "FULL", "DELTA"):
        sync_id = live.sdk().general.trigger_sync(type_=sync_type).data.sync_id
        wait_for(lambda sync_id=sync_id: next(s for s in syncs_of(live) if s["id"] == sync_id)["state"] == "SUCCEEDED")
    everything = [s["id"] for s in syncs_of(live)]
    assert len(everything) >= 4
    url = f"{live.server.v1}/integrations/{live.integration.id}/syncs"
    walked, cursor, pages = [], None, 0
    while True:
        params = {"page_size": 1} | ({"cursor": cursor} if cursor else {})
        page = httpx.get(url, params=params, headers=live.headers).json()["data"]
        walked += [s["id"] for s in page["results"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
        live.sdk().general.trigger_sync(type_="DELTA")  # a run queued meanwhile shifts nothing
    assert walked == everything and pages == len(everything)
    blank = httpx.get(url, params={"cursor": " ", "page_size": 1}, headers=live.headers)  # the first page, as lists
    assert [s["id"] for s in blank.json()["data"]["results"]] == [syncs_of(live)[0]["id"]]
    for params in ({"page_size": 0}, {"page_size": 251}, {"page_size": "x"}, {"cursor": "garbage"},
                   {"page_size": [1, 2]},
                   {"cursor": encode_cursor(everything[0], "syncs:recruhr:someone-else")}):  # fmt: skip
        answer = httpx.get(url, params=params, headers=live.headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID"), params


def test_force_sync_queues_once_and_the_scheduler_runs_it(live: Live) -> None:
    sdk = live.sdk()
    first = sdk.general.trigger_sync(type_="DELTA").data
    second = sdk.general.trigger_sync(type_="DELTA").data
    assert first.type == "DELTA"
    assert second.sync_id == first.sync_id or not second.already_queued
    if second.sync_id == first.sync_id:
        assert second.already_queued
    wait_for(lambda: next(s for s in syncs_of(live) if s["id"] == first.sync_id)["state"] == "SUCCEEDED")
    run = next(s for s in syncs_of(live) if s["id"] == first.sync_id)
    assert run["type"] == "DELTA"
    assert run["started_at"] >= run["queued_at"]
    assert run["counts"]["ats_tags"]["unchanged"] > 0
    full = sdk.general.trigger_sync().data
    assert (full.type, full.already_queued) == ("FULL", False)
    as_null = httpx.post(f"{live.server.v1}/force-sync", json={"type": None}, headers=live.headers).json()["data"]
    assert as_null["type"] == "FULL"  # null is absent: FULL
    assert as_null["sync_id"] == full.sync_id or not as_null["already_queued"]


@contextmanager
def store_write_lock(engine: Engine) -> Iterator[None]:
    """Hold a write lock another process's sync could hold: SQLite's one write lock, PostgreSQL's on ``syncs``."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.begin()
            conn.exec_driver_sql("LOCK TABLE syncs IN EXCLUSIVE MODE")
        try:
            yield
        finally:
            conn.rollback()


@pytest.mark.parametrize("call", ["force-sync", "delete"])
def test_a_write_waiting_for_the_store_stalls_no_other_request(live: Live, engine: Engine, call: str) -> None:
    def waiting_call() -> httpx.Response:
        if call == "force-sync":
            return httpx.post(f"{live.server.v1}/force-sync", json={"type": "DELTA"}, headers=live.headers, timeout=60)
        url = f"{live.server.v1}/integrations/{live.integration.id}"
        return httpx.request("DELETE", url, json={}, headers=live.headers, timeout=60)

    with ThreadPoolExecutor(1) as pool, store_write_lock(engine):
        waiting = pool.submit(waiting_call)
        time.sleep(0.5)
        other = httpx.get(f"{live.server.v1}/check-api-key", headers=live.headers, timeout=5)
        assert other.status_code == 200
        assert not waiting.done()  # it is the one waiting for the lock
    assert waiting.result().status_code == 200


def test_credentials_that_stop_working_make_the_integration_invalid(live: Live, recru: Recru, engine: Engine) -> None:
    recru.patch("users", 1, password="changed-by-the-customer")
    try:
        sync_id = live.sdk().general.trigger_sync(type_="DELTA").data.sync_id
        wait_for(lambda: next(s for s in syncs_of(live) if s["id"] == sync_id)["state"] == "FAILED")
        details = live.sdk().general.get_integration_details
        wait_for(lambda: details(integration_id=live.integration.id).data.status == "INVALID")
    finally:  # a reset keeps the API user's password: put it back for the other tests
        recru.patch("users", 1, password=recru.process.password)
    with engine.connect() as conn:
        payloads = list(
            conn.execute(
                select(tables.webhook_outbox.c.payload).where(
                    tables.webhook_outbox.c.type == "integration-state-changed"
                )
            ).scalars()
        )
    assert payloads[-1]["state"] == "INVALID"


def test_deleting_an_integration_at_once_several_times_deletes_it_once(live: Live, engine: Engine) -> None:
    integration_id = live.integration.id
    with engine.begin() as conn:
        emails = conn.execute(select(tables.candidate_emails.c.email).limit(20)).scalars().all()
        conn.execute(update(tables.webhook_outbox).values(delivered_at=datetime.now(UTC)))  # as if sent: history
    assert emails
    url = f"{live.server.v1}/integrations/{integration_id}"
    with ThreadPoolExecutor(6) as pool:  # one deletes; the others find it gone
        answers = list(pool.map(lambda _: httpx.request("DELETE", url, json={}, headers=live.headers), range(6)))
    assert sorted(a.status_code for a in answers) == [200, 404, 404, 404, 404, 404], [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 404} == {"PLATFORM.INTEGRATION_NOT_FOUND"}
    with engine.connect() as conn:
        assert load_integration(conn, integration_id) is None
        for table in inspect(engine).get_table_names():
            columns = {column["name"] for column in inspect(engine).get_columns(table)}
            if "integration_id" in columns:
                count = conn.execute(
                    text(f'SELECT count(*) FROM "{table}" WHERE integration_id = :id'), {"id": integration_id}
                ).scalar_one()
                assert count == 0, table
        deleted = conn.execute(
            select(func.count()).where(tables.webhook_outbox.c.type == "integration-deleted")
        ).scalar_one()
        assert deleted == 1
    again = httpx.get(f"{live.server.v1}/integrations/{integration_id}", headers=live.headers)
    assert (again.status_code, again.json()["error"]["code"]) == (404, "PLATFORM.INTEGRATION_NOT_FOUND")
    if engine.dialect.name == "sqlite":  # nor any trace in the files: free pages and the log are cleared too
        database = Path(str(engine.url.database))
        on_disk = b"".join(path.read_bytes() for path in database.parent.glob(f"{database.name}*"))
        assert [email for email in emails if email.encode() in on_disk] == []


def test_events_still_to_be_sent_outlive_their_deleted_integration(live: Live, engine: Engine) -> None:
    """At least once: an event told before the deletion is still delivered (before ``integration-deleted``); those
    already sent go with the integration."""
    outbox = tables.webhook_outbox
    with engine.begin() as conn:
        conn.execute(update(outbox).values(delivered_at=datetime.now(UTC), next_attempt_at=None))  # sent: history
        conn.execute(
            update(tables.environments)
            .where(tables.environments.c.id == live.integration.environment_id)
            .values(webhook_url="http://127.0.0.1:9/never-answers")
        )
        notify.integration_state_changed(conn, live.integration.id)
    answer = httpx.request(
        "DELETE", f"{live.server.v1}/integrations/{live.integration.id}", json={}, headers=live.headers
    )
    assert answer.status_code == 200, answer.text
    with engine.connect() as conn:
        left = conn.execute(
            select(outbox.c.type, outbox.c.integration_id, outbox.c.delivered_at, outbox.c.payload).order_by(
                outbox.c.created_at
            )
        ).all()
    assert [(row.type, row.integration_id, row.delivered_at) for row in left] == [
        ("integration-state-changed", None, None),
        ("integration-deleted", None, None),
    ]
    assert (left[0].payload["integration_id"], left[1].payload["id"]) == (live.integration.id, live.integration.id)


def test_a_nul_character_in_an_id_or_a_text_is_refused_alike_on_both_stores(live: Live) -> None:
    # PostgreSQL cannot hold a NUL: it is answered as SQLite answers it, never with a 500
    v1, headers = live.server.v1, live.headers
    for method, path in (
        ("GET", "/integrations/x%00"),
        ("GET", "/integrations/x%00/syncs"),
        ("PUT", "/integrations/x%00/enabled"),
        ("DELETE", "/integrations/x%00"),
        ("GET", "/connect/links/x%00"),
    ):
        answer = httpx.request(method, f"{v1}{path}", json={"value": True}, headers=headers)
        assert answer.status_code == 404, (method, path, answer.text)
    for method, path, body in (
        ("POST", "/connect/create-link", {"end_user_email": "a@b.cz", "end_user_organization_name": "Org\u0000X"}),
        ("PATCH", f"/integrations/{live.integration.id}/settings", {"source_label": "x\u0000y"}),
        ("PUT", "/webhook", {"url": "https://example.org/\u0000"}),
    ):
        answer = httpx.request(method, f"{v1}{path}", json=body, headers=headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID"), path


def test_an_api_process_with_another_secret_key_says_so(live: Live, engine: Engine, tmp_path: Path) -> None:
    with engine.connect() as conn:
        candidate_id = conn.execute(select(tables.candidates.c.id).limit(1)).scalar_one()
    with serve_api(engine, bytes(range(1, 33)), tmp_path / "other") as other:
        answer = httpx.get(f"{other.v1}/ats/candidates/{candidate_id}/attachments", headers=live.headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (500, "PLATFORM.UNKNOWN_ERROR")
    assert "ATSBRIDGE_SECRET_KEY" in answer.json()["error"]["message"]
