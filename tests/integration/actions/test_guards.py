"""The guards around every action: ``Idempotency-Key`` replays (also to a retry that races the first request), the
limit of 30 actions in flight per integration, and a disabled integration acting on nothing."""

from __future__ import annotations

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from atsbridge.api import action_guard
from atsbridge.api.action_guard import PENDING_LEASE, Idempotency, request_hash
from atsbridge.store.integrations import set_integration_fields
from atsbridge.store.tables import action_slots, idempotency_keys
from integration.actions.conftest import ALLOWLIST, CREATE, KEY, ActionWorld, candidate, refusal
from support.api_server import serve_api


def body() -> dict[str, Any]:
    return {"candidate": candidate()}


def path(world: ActionWorld) -> str:
    return f"/ats/jobs/remote:{world.open_job()['id']}/applications"


def test_a_repeated_key_and_body_get_the_first_answer_and_act_once(world: ActionWorld) -> None:
    url, payload, key = path(world), body(), f"retry-{uuid.uuid4().hex}"
    calls = world.calls(CREATE)
    first = world.send("POST", url, payload, **{"Idempotency-Key": key})
    second = world.send("POST", url, payload, **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200, first.text
    assert second.content == first.content  # byte for byte, keys in their order, on PostgreSQL too
    assert second.headers.get("Idempotent-Replayed") == "true"
    (jobseeker,) = world.jobseekers_with(payload["candidate"]["email_address"])
    assert len(world.applications_of(jobseeker["id"])) == 1
    assert world.calls(CREATE) == calls + 1


def test_two_requests_racing_with_one_key_act_once_and_answer_alike(world: ActionWorld) -> None:
    url, payload, key = path(world), body(), f"race-{uuid.uuid4().hex}"
    world.fault("slow", "JobseekerService.list", count=1, delaySeconds=1)  # the first holds the key a while
    calls = world.calls(CREATE)
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: world.send("POST", url, payload, **{"Idempotency-Key": key}), range(2)))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert answers[0].json() == answers[1].json()
    (jobseeker,) = world.jobseekers_with(payload["candidate"]["email_address"])
    assert len(world.applications_of(jobseeker["id"])) == 1
    assert world.calls(CREATE) == calls + 1


def test_a_key_reused_with_another_body_is_400(world: ActionWorld) -> None:
    url, key = path(world), f"reuse-{uuid.uuid4().hex}"
    assert world.send("POST", url, body(), **{"Idempotency-Key": key}).status_code == 200
    before = world.recru_totals()
    other = world.send("POST", url, body(), **{"Idempotency-Key": key})
    assert other.status_code == 400
    assert other.json()["error"]["code"] == "PLATFORM.INPUT_INVALID"
    assert world.recru_totals() == before


@pytest.mark.parametrize("key", ["", "x" * 256], ids=["empty", "overlong"])
def test_an_empty_or_overlong_key_is_400_and_acts_on_nothing(world: ActionWorld, key: str) -> None:
    before = world.recru_totals()
    refused = world.send("POST", path(world), body(), **{"Idempotency-Key": key})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID")
    assert "Idempotency-Key" in refused.json()["error"]["message"]
    assert world.recru_totals() == before


def test_a_keyed_body_nested_too_deeply_to_parse_is_400_and_acts_on_nothing(world: ActionWorld) -> None:
    before = world.recru_totals()
    headers = world.auth(None, **{"Content-Type": "application/json", "Idempotency-Key": f"deep-{uuid.uuid4().hex}"})
    content = b'{"candidate": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    refused = world._http.post(path(world), content=content, headers=headers)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID")
    assert world.recru_totals() == before


def test_a_failed_answer_is_not_kept_so_the_retry_acts(world: ActionWorld) -> None:
    url, payload, key = path(world), body(), f"after-outage-{uuid.uuid4().hex}"
    world.fault("unavailable_503", count=100)
    assert world.send("POST", url, payload, **{"Idempotency-Key": key}).status_code == 503
    world.recru.control("DELETE", "/faults")
    retried = world.send("POST", url, payload, **{"Idempotency-Key": key})
    assert retried.status_code == 200, retried.text
    assert len(world.jobseekers_with(payload["candidate"]["email_address"])) == 1


def claimed(world: ActionWorld, url: str, payload: dict[str, Any], key: str, created_at: datetime, **kept: Any) -> None:
    """The key's row as a request of ``payload`` left it: claimed at ``created_at`` (``kept``: its answer)."""
    with world.engine.begin() as conn:
        conn.execute(
            insert(idempotency_keys).values(
                integration_id=world.integration.id,
                key=key,
                request_hash=request_hash("POST", f"/v1{url}", json.dumps(payload).encode()),
                created_at=created_at,
                **kept,
            )
        )


def test_a_claim_its_process_left_unanswered_is_taken_over_after_the_lease(world: ActionWorld) -> None:
    # an API process killed mid-action leaves its claim without an answer; the retry must act, not wait for 24 h
    url, payload, key = path(world), body(), f"orphan-{uuid.uuid4().hex}"
    claimed(world, url, payload, key, datetime.now(UTC) - PENDING_LEASE - timedelta(seconds=1))
    retried = world.send("POST", url, payload, **{"Idempotency-Key": key})
    assert retried.status_code == 200, retried.text
    assert "Idempotent-Replayed" not in retried.headers
    assert len(world.jobseekers_with(payload["candidate"]["email_address"])) == 1


def test_an_answer_kept_as_an_object_by_an_earlier_version_is_still_replayed(world: ActionWorld) -> None:
    url, payload, key = path(world), body(), f"older-{uuid.uuid4().hex}"
    kept = {"status": "success", "data": {"id": "kept"}, "warnings": []}
    claimed(world, url, payload, key, datetime.now(UTC), status_code=200, response=kept)
    replayed = world.send("POST", url, payload, **{"Idempotency-Key": key})
    assert (replayed.status_code, replayed.json(), replayed.headers.get("Idempotent-Replayed")) == (200, kept, "true")


def test_a_first_request_ending_after_its_claim_was_taken_over_changes_nothing(world: ActionWorld) -> None:
    url, payload, key = path(world), body(), f"late-{uuid.uuid4().hex}"
    stale = datetime.now(UTC) - PENDING_LEASE - timedelta(seconds=1)
    claimed(world, url, payload, key, stale)
    retried = world.send("POST", url, payload, **{"Idempotency-Key": key})  # takes the claim over and acts
    assert retried.status_code == 200, retried.text
    Idempotency(world.engine)._release(world.integration.id, key, stale)  # the first request ends, with a 5xx
    again = world.send("POST", url, payload, **{"Idempotency-Key": key})
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == retried.json()


def test_a_keyed_action_past_its_deadline_is_504_and_releases_its_key(
    world: ActionWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, payload, key = path(world), body(), f"deadline-{uuid.uuid4().hex}"
    monkeypatch.setattr(action_guard, "ACTION_DEADLINE", timedelta(seconds=1))
    world.fault("slow", "JobseekerService.list", count=1, delaySeconds=3)
    late = world.send("POST", url, payload, **{"Idempotency-Key": key})
    assert (late.status_code, late.json()["error"]["code"]) == (504, "PLATFORM.TASK_TIMED_OUT")
    retried = world.send("POST", url, payload, **{"Idempotency-Key": key})
    assert retried.status_code == 200, retried.text
    assert "Idempotent-Replayed" not in retried.headers


def burst(world: ActionWorld, servers: list[str]) -> list[httpx.Response]:
    """31 creates at once, spread over the API ``servers`` in turn, each held a while by a slow RECRU."""
    url = path(world)
    world.fault("slow", "JobseekerService.list", count=31, delaySeconds=2)

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=60) as client:
            sends = (
                client.post(f"{servers[n % len(servers)]}{url}", json=body(), headers=world.auth()) for n in range(31)
            )
            return await asyncio.gather(*sends)

    return asyncio.run(send_all())


def test_the_31st_action_in_flight_is_429_concurrency_limit(world: ActionWorld) -> None:
    url = path(world)
    answers = burst(world, [world.server.v1])
    refused = [a for a in answers if a.status_code != 200]
    assert len(refused) == 1, [a.text for a in refused]
    assert refused[0].status_code == 429
    assert refused[0].json()["error"]["code"] == "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert world.send("POST", url, body()).status_code == 200  # the slots are free again


def test_the_limit_of_actions_in_flight_holds_across_api_processes(world: ActionWorld, tmp_path: Path) -> None:
    with serve_api(world.engine, KEY, tmp_path, data_url_allowlist=ALLOWLIST) as other:
        answers = burst(world, [world.server.v1, other.v1])
    assert sorted(a.status_code for a in answers) == [200] * 30 + [429], [a.text for a in answers]
    assert world.send("POST", path(world), body()).status_code == 200


def test_slots_of_an_api_process_that_died_lapse(world: ActionWorld) -> None:
    with world.engine.begin() as conn:
        conn.execute(
            insert(action_slots),
            [
                {"integration_id": world.integration.id, "id": f"dead-{n}", "expires_at": datetime.now(UTC)}
                for n in range(action_guard.MAX_ACTIONS_IN_FLIGHT)
            ],
        )
    assert world.send("POST", path(world), body()).status_code == 200
    with world.engine.connect() as conn:
        assert conn.execute(select(action_slots)).all() == []


def test_a_disabled_integration_acts_on_nothing(world: ActionWorld) -> None:
    job_id = f"remote:{world.open_job()['id']}"
    person = world.kombo().ats.create_application(job_id=job_id, candidate=candidate()).data.candidate
    tag = world.recru.all("tags")[0]["name"]
    before = world.recru_totals()
    with world.engine.begin() as conn:
        set_integration_fields(conn, world.integration.id, enabled=False)
    try:
        ats = world.kombo().ats
        for act in (
            lambda: ats.create_application(job_id=job_id, candidate=candidate()),
            lambda: ats.create_candidate(candidate=candidate(), application={"job_id": job_id}),
            lambda: ats.add_candidate_tag(candidate_id=person.id, tag={"name": tag}),
            lambda: ats.remove_candidate_tag(candidate_id=person.id, tag={"name": tag}),
        ):
            assert refusal(act)[:2] == (403, "INTEGRATION.INACTIVE")
    finally:
        with world.engine.begin() as conn:
            set_integration_fields(conn, world.integration.id, enabled=True)
    assert world.recru_totals() == before
    assert world.recru.call("JobseekerService.get", {"id": int(person.remote_id)})["tagIds"] == []
