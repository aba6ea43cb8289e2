"""RECRU refusing or failing during a create: its input errors name our fields, its rate limit and outages become
5xx ``REMOTE.*`` after a few retries, and a create whose answer was lost is resolved by looking up what RECRU
stored — never a duplicate, never a false error."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kombo.errors import KomboAtsError
from sqlalchemy import select, update

from atsbridge.api import action_guard
from atsbridge.store import pending_applications, tables
from atsbridge.store.integrations import tracked_application_ids
from atsbridge.store.pending_applications import PENDING_FOR
from atsbridge.unified.ids import ModelName
from integration.actions.conftest import CREATE, ActionWorld, candidate, refusal, unique_email
from integration.sync.conftest import make_integration, run_async


def job_ref(world: ActionWorld) -> str:
    return f"remote:{world.open_job()['id']}"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"location": {"country": "CZ", "zip_code": "1" * 21}}, "candidate.location.zip_code"),
        ({"location": {"country": "CZ", "city": "B" * 101}}, "candidate.location.city"),
        ({"location": {"country": "CZ", "street_1": "Dlouhá " * 40}}, "candidate.location.street_1"),
    ],
    ids=["zip code", "city", "street"],
)
def test_input_recru_refuses_is_422_remote_input_invalid_naming_the_field(
    world: ActionWorld, fields: dict[str, object], named: str
) -> None:
    before = world.recru_totals()
    status, code, message = refusal(
        lambda: world.kombo().ats.create_application(job_id=job_ref(world), candidate=candidate(**fields))
    )
    assert (status, code) == (422, "REMOTE.INPUT_INVALID")
    assert named in message
    assert world.recru_totals() == before


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (
            {"additional_email_addresses": [{"type": "WORK", "email_address": "not-an-address"}]},
            "candidate.additional_email_addresses.0.email_address",
        ),
        ({"email_address": "kein-at-zeichen"}, "candidate.email_address"),
        ({"email_address": "zwei@@zeichen.example"}, "candidate.email_address"),
        ({"location": {"country": "C1"}}, "candidate.location.country"),
        ({"location": {"country": "XX"}}, "candidate.location.country"),
        ({"location": {"country": "uk"}}, "candidate.location.country"),
    ],
    ids=["additional e-mail", "e-mail", "two at signs", "country", "unassigned country", "reserved country"],
)
def test_input_that_is_no_e_mail_or_country_code_is_400_before_recru_is_asked(
    world: ActionWorld, fields: dict[str, object], named: str
) -> None:
    calls = world.calls(CREATE)
    status, code, message = refusal(
        lambda: world.kombo().ats.create_application(job_id=job_ref(world), candidate=candidate(**fields))
    )
    assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
    assert named in message
    assert world.calls(CREATE) == calls


def test_a_rate_limit_that_lasts_is_retried_then_503_remote_rate_limit(world: ActionWorld) -> None:
    job = job_ref(world)
    world.fault("rate_limit", CREATE, count=100)
    calls = world.calls(CREATE)
    status, code, _ = refusal(lambda: world.kombo().ats.create_application(job_id=job, candidate=candidate()))
    assert (status, code) == (503, "REMOTE.RATE_LIMIT_EXCEEDED")
    assert world.calls(CREATE) - calls > 1  # retried


def test_a_long_retry_after_is_answered_at_once_and_handed_on(world: ActionWorld) -> None:
    job = job_ref(world)
    world.fault("rate_limit", CREATE, count=100, retryAfter=30)
    calls = world.calls(CREATE)
    started = time.monotonic()
    with pytest.raises(KomboAtsError) as caught:
        world.kombo().ats.create_application(job_id=job, candidate=candidate())
    assert time.monotonic() - started < 5  # not 30 s of waiting for a retry RECRU would refuse
    answer = caught.value.raw_response
    assert (answer.status_code, answer.headers.get("Retry-After")) == (503, "30")
    assert caught.value.data.error.code == "REMOTE.RATE_LIMIT_EXCEEDED"
    assert world.calls(CREATE) - calls == 1


def test_recru_down_is_503_remote_service_unavailable(world: ActionWorld) -> None:
    job = job_ref(world)
    before = world.recru_totals()
    world.fault("unavailable_503", count=100)
    started = time.monotonic()
    status, code, _ = refusal(lambda: world.kombo().ats.create_application(job_id=job, candidate=candidate()))
    assert (status, code) == (503, "REMOTE.SERVICE_UNAVAILABLE")
    assert time.monotonic() - started < 15  # someone is waiting for the answer
    world.recru.control("DELETE", "/faults")
    assert world.recru_totals() == before


def test_recru_failing_internally_is_502_remote_unknown_http_error(world: ActionWorld) -> None:
    candidate_id = world.kombo().ats.get_candidates(page_size=1).result.data.results[0].id
    world.fault("error_500", "AttachmentService.list", count=100)
    try:
        answer = world.request("GET", f"/ats/candidates/{candidate_id}/attachments")
    finally:
        world.recru.control("DELETE", "/faults")
    assert (answer.status_code, answer.json()["error"]["code"]) == (502, "REMOTE.UNKNOWN_HTTP_ERROR")


def integration_status(world: ActionWorld) -> str:
    status: str = world.request("GET", f"/integrations/{world.integration_id}").json()["data"]["status"]
    return status


@pytest.mark.parametrize(
    ("change", "restore", "answered"),
    [
        ({"apiAccess": False}, {"apiAccess": True}, (403, "INTEGRATION.PERMISSION_MISSING")),
        ({"password": "changed-by-the-customer"}, {"password": None}, (424, "INTEGRATION.AUTHENTICATION_INVALID")),
    ],
    ids=["no API access", "password changed"],
)
def test_a_refused_login_makes_the_integration_invalid_until_an_action_logs_in_again(
    world: ActionWorld, change: dict[str, object], restore: dict[str, object], answered: tuple[int, str]
) -> None:
    job = job_ref(world)
    api_user = next(u for u in world.recru.all("users") if u["email"] == world.recru.process.login)
    world.recru.patch("users", api_user["id"], **change)
    try:
        world.recru.control("POST", "/tokens/expire")
        status, code, message = refusal(lambda: world.kombo().ats.create_application(job_id=job, candidate=candidate()))
        assert integration_status(world) == "INVALID"
    finally:  # a reset keeps the API user's password: put it back for the other tests
        world.recru.patch("users", api_user["id"], **{k: v or world.recru.process.password for k, v in restore.items()})
    assert (status, code) == answered
    assert "API" in message
    world.kombo().ats.create_application(job_id=job, candidate=candidate())
    assert integration_status(world) == "ACTIVE"
    with world.engine.connect() as conn:
        told = conn.execute(
            select(tables.webhook_outbox.c.payload)
            .where(
                tables.webhook_outbox.c.integration_id == world.integration_id,
                tables.webhook_outbox.c.type == "integration-state-changed",
            )
            .order_by(tables.webhook_outbox.c.created_at)
        ).scalars()
        assert [payload["state"] for payload in told][-2:] == ["INVALID", "ACTIVE"]


def test_a_login_refused_to_a_live_attachment_read_makes_the_integration_invalid_until_one_succeeds(
    world: ActionWorld,
) -> None:
    candidate_id = world.kombo().ats.get_candidates(page_size=1).result.data.results[0].id
    path = f"/ats/candidates/{candidate_id}/attachments"
    api_user = next(u for u in world.recru.all("users") if u["email"] == world.recru.process.login)
    world.recru.patch("users", api_user["id"], password="changed-by-the-customer")
    try:
        world.recru.control("POST", "/tokens/expire")
        refused = world.request("GET", path)
        assert integration_status(world) == "INVALID"
    finally:
        world.recru.patch("users", api_user["id"], password=world.recru.process.password)
    assert (refused.status_code, refused.json()["error"]["code"]) == (424, "INTEGRATION.AUTHENTICATION_INVALID")
    assert world.request("GET", path).status_code == 200
    assert integration_status(world) == "ACTIVE"


@pytest.mark.parametrize("kind", ["drop", "truncate", "error_500"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "existing"])
def test_a_create_whose_answer_was_lost_succeeds_exactly_once(world: ActionWorld, kind: str, existing: bool) -> None:
    """``drop``: RECRU processed nothing; ``truncate``: it stored the application and the answer was cut;
    ``error_500``: it failed before storing. Either way the client gets one application."""
    email = world.existing_jobseeker()["emails"][0]["value"] if existing else unique_email()
    job = world.open_job()
    world.fault(kind, CREATE, count=1)
    data = (
        world.kombo()
        .ats.create_application(job_id=f"remote:{job['id']}", candidate=candidate(email_address=email))
        .data
    )
    (jobseeker,) = world.jobseekers_with(email)
    (application,) = world.applications_of(jobseeker["id"])
    assert (application["id"], application["projectId"]) == (int(data.remote_id), job["id"])
    assert data.candidate.remote_id == str(jobseeker["id"])


def test_answers_lost_every_time_are_503_and_create_nothing(world: ActionWorld) -> None:
    job = job_ref(world)
    before = world.recru_totals()
    world.fault("drop", CREATE, count=100)
    status, code, _ = refusal(lambda: world.kombo().ats.create_application(job_id=job, candidate=candidate()))
    assert (status, code) == (503, "REMOTE.SERVICE_UNAVAILABLE")
    world.recru.control("DELETE", "/faults")
    assert world.recru_totals() == before


@pytest.mark.parametrize("failing", ["ApplicationService.get", "JobseekerService.get"])
def test_a_create_recru_made_but_failed_to_read_back_is_told_tracked_and_stored_by_the_next_sync(
    world: ActionWorld, failing: str
) -> None:
    email, job = unique_email("unread"), world.open_job()
    world.fault("error_500", failing, count=100)
    answer = world.send(
        "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)},
        integration=world.tracked,
    )  # fmt: skip
    world.recru.control("DELETE", "/faults")
    (jobseeker,) = world.jobseekers_with(email)
    (application,) = world.applications_of(jobseeker["id"])
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (502, "REMOTE.UNKNOWN_HTTP_ERROR")
    assert f"RECRU id {application['id']}" in error["message"] and "sent again answers it" in error["message"]
    with world.engine.connect() as conn:
        assert str(application["id"]) in tracked_application_ids(conn, world.tracked.id)
        queued = conn.execute(
            select(tables.syncs.c.type).where(
                tables.syncs.c.integration_id == world.tracked.id, tables.syncs.c.state == "QUEUED"
            )
        ).scalars()
        assert list(queued) == ["DELTA"]

    world.sync_tracked("DELTA")
    stored = world.read(
        "applications", world.id_of(ModelName.APPLICATIONS, application["id"], world.tracked), world.tracked
    )
    assert stored is not None and stored["candidate"]["remote_id"] == str(jobseeker["id"])
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    retried = world.send("POST", path, body, integration=world.tracked)  # as the SDK's retry of a 502 does
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["remote_id"] == str(application["id"])
    assert world.applications_of(jobseeker["id"]) == [application]
    again = world.send("POST", path, body, integration=world.tracked)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")


@pytest.mark.parametrize("deleted", ["jobseekers", "projects"])
def test_a_create_whose_records_recru_deletes_before_they_are_read_back_is_a_404_saying_so(
    world: ActionWorld, deleted: str
) -> None:
    email, job = unique_email("gone"), world.new_project(status="open")
    world.fault("slow", "ApplicationService.get", count=1, delaySeconds=1)

    def delete_once_created() -> None:
        deadline = time.monotonic() + 10
        while not world.jobseekers_with(email) and time.monotonic() < deadline:
            time.sleep(0.05)
        (jobseeker,) = world.jobseekers_with(email)
        world.recru.delete(deleted, jobseeker["id"] if deleted == "jobseekers" else job["id"])

    with ThreadPoolExecutor(1) as pool:
        deleting = pool.submit(delete_once_created)
        answer = world.send(
            "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
        )
        deleting.result()
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (404, "PLATFORM.INPUT_INVALID"), answer.text
    assert "deleted in RECRU before it could be read back" in error["message"]


def lose_every_answer_then_let_recru_store_it(world: ActionWorld, email: str, job: dict[str, Any]) -> dict[str, Any]:
    """A create whose every answer is lost (503 after the look-ups found nothing); then RECRU stores it after all,
    as a slow tenant finishing the first request does. Returns the answer and RECRU's application."""
    world.fault("drop", CREATE, count=100)
    path = f"/ats/jobs/remote:{job['id']}/applications"
    answer = world.send("POST", path, {"candidate": candidate(email_address=email)}, integration=world.tracked)
    world.recru.control("DELETE", "/faults")
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (503, "REMOTE.SERVICE_UNAVAILABLE")
    assert "did not answer whether it created the application (RECRU is not reachable right now)" in error["message"]
    assert world.jobseekers_with(email) == []
    jobseeker = world.recru.create("jobseekers", emails=[{"value": email}])
    return world.recru.create("applications", jobseekerId=jobseeker["id"], projectId=job["id"])


def test_a_create_recru_stores_after_its_outcome_was_lost_is_the_retrys_answer(world: ActionWorld) -> None:
    email, job = unique_email("late"), world.open_job()
    application = lose_every_answer_then_let_recru_store_it(world, email, job)

    retried = world.send(
        "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)},
        integration=world.tracked,
    )  # fmt: skip
    assert retried.status_code == 200, retried.text  # not 409 "already applied": it is that create's application
    assert retried.json()["data"]["remote_id"] == str(application["id"])
    assert world.applications_of(application["jobseekerId"]) == [application]  # nothing created twice
    with world.engine.connect() as conn:
        assert str(application["id"]) in tracked_application_ids(conn, world.tracked.id)
    assert world.read("applications", retried.json()["data"]["id"], world.tracked) is not None
    again = world.send(
        "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)},
        integration=world.tracked,
    )  # fmt: skip
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")  # adopted once


def test_a_create_recru_stores_after_its_outcome_was_lost_is_tracked_by_the_next_sync(world: ActionWorld) -> None:
    email, job = unique_email("later"), world.open_job()
    application = lose_every_answer_then_let_recru_store_it(world, email, job)

    assert world.sync_tracked("DELTA").state == "SUCCEEDED"
    with world.engine.connect() as conn:
        assert str(application["id"]) in tracked_application_ids(conn, world.tracked.id)
    stored = world.read(
        "applications", world.id_of(ModelName.APPLICATIONS, application["id"], world.tracked), world.tracked
    )
    assert stored is not None and stored["candidate"]["remote_id"] == str(application["jobseekerId"])
    retried = world.send(  # the create is still the retry's to adopt
        "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)},
        integration=world.tracked,
    )  # fmt: skip
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["remote_id"] == str(application["id"])


def lose_a_create_then_make_it_through_the_other_integration(
    world: ActionWorld, email: str, job: dict[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A create through ``world.tracked`` whose every answer is lost (nothing made, pending), then the identical
    create through ``world.integration``, on the same tenant, which makes the application: (path, body, its answer)."""
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    world.fault("drop", CREATE, count=100)
    lost = world.send("POST", path, body, integration=world.tracked)
    world.recru.control("DELETE", "/faults")
    assert (lost.status_code, lost.json()["error"]["code"]) == (503, "REMOTE.SERVICE_UNAVAILABLE")
    made = world.send("POST", path, body)
    assert made.status_code == 200, made.text
    return path, body, made.json()["data"]


@pytest.mark.parametrize("first", ["retry", "sync"])
def test_an_application_another_integration_on_the_tenant_made_is_never_a_lost_creates(
    world: ActionWorld, first: str
) -> None:
    """RECRU holds one application per jobseeker and job: made through the other integration after this one's create
    was lost, it is not this create's. Neither a sync (in "sync only created applications" mode) nor a retry takes
    it: the retry is a plain 409, and the lost create is settled."""
    email, job = unique_email(f"theirs-{first}"), world.open_job()
    path, body, theirs = lose_a_create_then_make_it_through_the_other_integration(world, email, job)
    for step in (first, "sync" if first == "retry" else "retry"):
        if step == "sync":
            assert world.sync_tracked("DELTA").state == "SUCCEEDED"
            with world.engine.connect() as conn:
                assert theirs["remote_id"] not in tracked_application_ids(conn, world.tracked.id)
                waiting = pending_applications.pending(conn, world.tracked.id, datetime.now(UTC))
                assert [p for p in waiting if p.email == email] == []
        else:
            retried = world.send("POST", path, body, integration=world.tracked)
            assert (retried.status_code, retried.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
            assert "Retry-After" not in retried.headers
    assert theirs["remote_id"] not in {a.remote_id for a in world.served("applications", world.tracked)}


def test_a_lost_create_that_finds_the_other_integrations_application_settles_at_once(world: ActionWorld) -> None:
    """This integration's create is lost (RECRU made nothing); while it looks the application up, the identical
    create through the other integration on the tenant makes and stores it. The look-up finds that one: not this
    create's (409), and the pair is settled, so a retry is a plain 409, not told to wait for this action's end."""
    email, job = unique_email("found-theirs"), world.open_job()
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    look_up = "JobseekerService.list"
    world.fault("slow", look_up, count=1, delaySeconds=0.01)  # the check before the create
    world.fault("drop", CREATE, count=1)
    world.fault("slow", look_up, count=1, delaySeconds=3)  # the look-up after the lost answer, held
    creates = world.calls(CREATE)
    with ThreadPoolExecutor(1) as pool:
        ours = pool.submit(world.send, "POST", path, body, integration=world.tracked)
        deadline = time.monotonic() + 10
        while world.calls(CREATE) == creates and time.monotonic() < deadline:
            time.sleep(0.02)
        theirs = world.send("POST", path, body)  # made while ours looks it up
        refused = ours.result(timeout=60)
    assert theirs.status_code == 200, theirs.text
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    retried = world.send("POST", path, body, integration=world.tracked)
    assert (retried.status_code, retried.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    assert "Retry-After" not in retried.headers
    world.sync_tracked("DELTA")
    with world.engine.connect() as conn:
        assert theirs.json()["data"]["remote_id"] not in tracked_application_ids(conn, world.tracked.id)


def test_a_create_remembered_by_two_requests_at_once_is_remembered_once(world: ActionWorld) -> None:
    now = datetime.now(UTC)
    with world.engine.begin() as conn:
        assert pending_applications.sending(conn, world.tracked.id, "1", "twice@example.com", now, now)
        assert not pending_applications.sending(conn, world.tracked.id, "1", " TWICE@example.com", now, now)
        pending_applications.unknown(conn, world.tracked.id, "1", "Twice@example.com", now)  # no IntegrityError
        waiting = [
            p for p in pending_applications.pending(conn, world.tracked.id, now) if p.email == "twice@example.com"
        ]
        pending_applications.forget(conn, world.tracked.id, "1", "twice@example.com")
    assert len(waiting) == 1


def test_identical_creates_on_their_way_together_keep_the_pair_until_the_last_ends(world: ActionWorld) -> None:
    """The first create is alone until an identical one joins it; then RECRU refusing the first does not settle the
    pair (the other may have made the application): once both actions are over the pair is pending, unless RECRU
    refused the other as well."""
    integration_id, project, email = world.tracked.id, "7", unique_email("together")
    now = datetime.now(UTC)
    first_until, second_until = now + timedelta(minutes=4), now + timedelta(minutes=4, seconds=1)
    later = second_until + timedelta(seconds=1)
    with world.engine.begin() as conn:
        assert pending_applications.sending(conn, integration_id, project, email, now, first_until)
        assert pending_applications.alone(conn, integration_id, project, email, first_until)
        pending_applications.answered(conn, integration_id, project, email)  # refused alone
        assert not pending_applications.is_pending(conn, integration_id, project, email, now)
        assert pending_applications.adoptable_from(conn, integration_id, project, email, now) is None  # settled

        for refused_too in (False, True):
            assert pending_applications.sending(conn, integration_id, project, email, now, first_until)
            assert not pending_applications.sending(conn, integration_id, project, email, now, second_until)  # joins
            assert not pending_applications.alone(conn, integration_id, project, email, first_until)
            pending_applications.answered(conn, integration_id, project, email)  # the first refused: kept
            assert pending_applications.adoptable_from(conn, integration_id, project, email, now) == second_until
            if refused_too:
                pending_applications.answered(conn, integration_id, project, email)
            assert pending_applications.is_pending(conn, integration_id, project, email, later) is not refused_too
            pending_applications.forget(conn, integration_id, project, email)


def test_identical_creates_refused_for_an_application_made_elsewhere_meanwhile_leave_nothing_to_adopt(
    world: ActionWorld,
) -> None:
    """Two identical creates on their way while the application is made in RECRU by others (another integration on
    the tenant): both are refused. The pair stayed remembered as on its way, then pending: a sync tracked the
    others' application and a retry was answered it (200), in "sync only created applications" mode too."""
    email, job = unique_email("made-elsewhere"), world.open_job()
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    world.fault("slow", CREATE, count=2, delaySeconds=2)
    with ThreadPoolExecutor(2) as pool:
        sent = [pool.submit(world.send, "POST", path, body, integration=world.tracked)]
        time.sleep(0.3)
        sent.append(pool.submit(world.send, "POST", path, body, integration=world.tracked))
        time.sleep(0.5)  # both are held by RECRU: the others' application is made meanwhile
        jobseeker = world.recru.create("jobseekers", emails=[{"value": email}])
        theirs = world.recru.create("applications", jobseekerId=jobseeker["id"], projectId=job["id"])
        answers = [answer.result(timeout=60) for answer in sent]
    for answer in answers:
        assert (answer.status_code, answer.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    with world.engine.connect() as conn:
        after_their_actions = datetime.now(UTC) + timedelta(minutes=5)
        assert pending_applications.pending(conn, world.tracked.id, after_their_actions) == []
    world.sync_tracked("DELTA")
    with world.engine.connect() as conn:
        assert str(theirs["id"]) not in tracked_application_ids(conn, world.tracked.id)
    retried = world.send("POST", path, body, integration=world.tracked)
    assert (retried.status_code, retried.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    assert "Retry-After" not in retried.headers


def test_a_create_remembered_longer_ago_than_a_day_is_taken_over_by_a_new_one(world: ActionWorld) -> None:
    integration_id, project, email = world.tracked.id, "8", unique_email("stale")
    long_ago = datetime.now(UTC) - pending_applications.PENDING_FOR - timedelta(minutes=1)
    now = datetime.now(UTC)
    with world.engine.begin() as conn:
        assert pending_applications.sending(conn, integration_id, project, email, long_ago, long_ago)
        assert pending_applications.sending(conn, integration_id, project, email, now, now + timedelta(minutes=4))
        assert pending_applications.alone(conn, integration_id, project, email, now + timedelta(minutes=4))
        pending_applications.forget(conn, integration_id, project, email)


@pytest.mark.parametrize("keyed", [True, False], ids=["keyed", "without a key"])
def test_a_create_recru_stores_after_its_action_was_cut_off_is_adopted_and_tracked(
    world: ActionWorld, monkeypatch: pytest.MonkeyPatch, keyed: bool
) -> None:
    """The action's deadline passes while RECRU is still storing the create: the answer is 504, RECRU stores it
    all the same; a sync tracks it and a retry answers it (not 409 "already applied")."""
    email, job = unique_email("cut-off"), world.open_job()
    monkeypatch.setattr(action_guard, "ACTION_DEADLINE", timedelta(seconds=1))
    world.fault("slow", CREATE, count=1, delaySeconds=2)
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    key = {"Idempotency-Key": f"cut-off-{uuid.uuid4().hex}"} if keyed else {}  # every action has a deadline
    late = world.send("POST", path, body, integration=world.tracked, **key)
    assert (late.status_code, late.json()["error"]["code"]) == (504, "PLATFORM.TASK_TIMED_OUT")
    monkeypatch.undo()
    deadline = time.monotonic() + 10
    while not world.jobseekers_with(email):  # RECRU finishes the create after the answer
        assert time.monotonic() < deadline
        time.sleep(0.1)
    (application,) = world.applications_of(world.jobseekers_with(email)[0]["id"])

    world.sync_tracked("DELTA")
    stored = world.read(
        "applications", world.id_of(ModelName.APPLICATIONS, application["id"], world.tracked), world.tracked
    )
    assert stored is not None
    retried = world.send("POST", path, body, integration=world.tracked, **key)
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["remote_id"] == str(application["id"])


def test_a_create_cut_off_while_it_is_read_back_is_the_retrys_answer(
    world: ActionWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    email, job = unique_email("cut-reading"), world.open_job()
    monkeypatch.setattr(action_guard, "ACTION_DEADLINE", timedelta(seconds=1.5))
    world.fault("slow", "ApplicationService.get", count=1, delaySeconds=3)
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    key = {"Idempotency-Key": f"cut-reading-{uuid.uuid4().hex}"}
    late = world.send("POST", path, body, integration=world.tracked, **key)
    assert (late.status_code, late.json()["error"]["code"]) == (504, "PLATFORM.TASK_TIMED_OUT")
    monkeypatch.undo()
    (application,) = world.applications_of(world.jobseekers_with(email)[0]["id"])
    retried = world.send("POST", path, body, integration=world.tracked, **key)
    assert retried.status_code == 200, retried.text
    assert retried.json()["data"]["remote_id"] == str(application["id"])
    again = world.send("POST", path, body, integration=world.tracked)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")


def test_a_create_whose_process_died_while_sending_it_is_pending_once_its_action_would_have_ended(
    world: ActionWorld,
) -> None:
    """What a killed API process leaves: the create remembered as being sent until its action's end. Until then a
    sync does not take the pair's application for it (it may be older); afterwards it does, and a retry adopts it."""
    email, job = unique_email("killed"), world.open_job()
    now = datetime.now(UTC)
    with world.engine.begin() as conn:
        pending_applications.sending(conn, world.tracked.id, str(job["id"]), email, now, now + timedelta(minutes=4))
    jobseeker = world.recru.create("jobseekers", emails=[{"value": email}])
    application = world.recru.create("applications", jobseekerId=jobseeker["id"], projectId=job["id"])
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}

    world.sync_tracked("DELTA")
    with world.engine.connect() as conn:
        assert str(application["id"]) not in tracked_application_ids(conn, world.tracked.id)
    early = world.send("POST", path, body, integration=world.tracked, **{"Idempotency-Key": f"early-{email}"})
    assert (early.status_code, early.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    assert "on its way to RECRU at the same moment" in early.json()["error"]["message"]  # "send it again"
    assert 1 <= int(early.headers["Retry-After"]) <= 10  # asked again soon, while the action that sent it may run

    with world.engine.begin() as conn:  # the action that sent it is over
        conn.execute(update(tables.pending_applications).values(sending_until=now - timedelta(seconds=1)))
    world.sync_tracked("DELTA")
    with world.engine.connect() as conn:
        assert str(application["id"]) in tracked_application_ids(conn, world.tracked.id)
    retried = world.send("POST", path, body, integration=world.tracked, **{"Idempotency-Key": f"early-{email}"})
    assert retried.status_code == 200, retried.text  # the key did not keep the 409 that said to retry
    assert retried.json()["data"]["remote_id"] == str(application["id"])


def test_a_create_that_succeeds_or_is_refused_leaves_nothing_pending(world: ActionWorld) -> None:
    email, job = unique_email("settled-at-once"), world.open_job()
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    assert world.send("POST", path, body, integration=world.tracked).status_code == 200
    closed = world.new_project(status="closed")
    refused = world.send("POST", f"/ats/jobs/remote:{closed['id']}/applications", body, integration=world.tracked)
    assert refused.json()["error"]["code"] == "ATS.JOB_CLOSED"
    with world.engine.connect() as conn:
        left = conn.execute(
            select(tables.pending_applications.c.email).where(
                tables.pending_applications.c.integration_id == world.tracked.id
            )
        ).scalars()
        assert email not in list(left)


def test_a_retry_that_creates_settles_the_lost_create(world: ActionWorld) -> None:
    """RECRU never stored the lost create; the retry creates it: the same request once more is a duplicate (409),
    whether a sync ran between or not."""
    email, job = unique_email("settled"), world.open_job()
    world.fault("drop", CREATE, count=100)
    path = f"/ats/jobs/remote:{job['id']}/applications"
    body = {"candidate": candidate(email_address=email)}
    assert world.send("POST", path, body, integration=world.tracked).status_code == 503
    world.recru.control("DELETE", "/faults")
    assert world.send("POST", path, body, integration=world.tracked).status_code == 200
    again = world.send("POST", path, body, integration=world.tracked)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")


def test_a_retry_adopts_the_application_though_the_job_closed_since(world: ActionWorld) -> None:
    email, job = unique_email("closed-since"), world.open_job()
    application = lose_every_answer_then_let_recru_store_it(world, email, job)
    world.recru.patch("projects", job["id"], status="closed")
    try:
        retried = world.send(
            "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)},
            integration=world.tracked,
        )  # fmt: skip
    finally:
        world.recru.patch("projects", job["id"], status="open")
    assert retried.status_code == 200, retried.text  # not 409 JOB_CLOSED: the application exists, made by its create
    assert retried.json()["data"]["remote_id"] == str(application["id"])


def test_a_retry_adopting_an_application_rejected_since_answers_its_rejection_reason(world: ActionWorld) -> None:
    """The application a lost create left was written through without the codebooks, its reason's name null (and
    kept so: no later DELTA lists it again)."""
    email, job = unique_email("rejected-since"), world.open_job()
    application = lose_every_answer_then_let_recru_store_it(world, email, job)
    reason = next(iter(world.recru.codebook("rejectionReasons").values()))
    world.recru.patch("applications", application["id"], status="rejected", rejectionReasonId=reason["id"])
    retried = world.send(
        "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)},
        integration=world.tracked,
    )  # fmt: skip
    assert retried.status_code == 200, retried.text
    answered = retried.json()["data"]
    assert (answered["outcome"], answered["rejection_reason_name"]) == ("DECLINED", reason["name"])
    stored = world.read("applications", answered["id"], world.tracked)
    assert stored is not None and stored["rejection_reason_name"] == reason["name"]


def test_a_create_lost_longer_ago_than_a_day_is_not_adopted(world: ActionWorld) -> None:
    email, job = unique_email("stale"), world.open_job()
    lose_every_answer_then_let_recru_store_it(world, email, job)
    with world.engine.begin() as conn:
        conn.execute(
            update(tables.pending_applications)
            .where(tables.pending_applications.c.integration_id == world.tracked.id)
            .values(created_at=datetime.now(UTC) - PENDING_FOR - timedelta(minutes=1))
        )
    retried = world.send(
        "POST", f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)},
        integration=world.tracked,
    )  # fmt: skip
    assert (retried.status_code, retried.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")


def test_an_integration_deleted_while_its_create_waits_on_recru_is_not_found(world: ActionWorld) -> None:
    doomed = make_integration(world.engine, world.recru.process)
    asyncio.run(run_async(world.engine, doomed, "FULL"))
    job = world.open_job()
    world.fault("slow", CREATE, delaySeconds=3)
    path = f"/ats/jobs/remote:{job['id']}/applications"
    before = world.recru_totals()
    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(world.send, "POST", path, {"candidate": candidate()}, integration=doomed)
        time.sleep(1)  # RECRU is holding the create
        deleted = world._http.request("DELETE", f"/integrations/{doomed.id}", headers=world.auth(doomed), json={})
        assert deleted.status_code == 200, deleted.text
        answer = creating.result(timeout=120)
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "PLATFORM.INTEGRATION_NOT_FOUND")
    deadline = time.monotonic() + 30
    while world.recru_totals() == before:  # RECRU finishes the create it held: not inside the next test
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_a_lost_answer_never_passes_off_an_older_application_as_the_creates(world: ActionWorld) -> None:
    """The candidate applied to the job long ago: the create is refused before it is sent, so a look-up after a
    lost answer can never mistake that application for the one just created."""
    existing = world.existing_jobseeker()
    job = world.open_job()
    older = world.recru.create("applications", jobseekerId=existing["id"], projectId=job["id"])
    world.fault("drop", CREATE, count=1)
    answer = world.send(
        "POST", f"/ats/jobs/remote:{job['id']}/applications",
        {"candidate": candidate(email_address=existing["emails"][0]["value"])}, integration=world.tracked,
    )  # fmt: skip
    assert (answer.status_code, answer.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    with world.engine.connect() as conn:
        assert str(older["id"]) not in tracked_application_ids(conn, world.tracked.id)


def test_after_identical_creates_at_once_the_same_create_again_is_409(world: ActionWorld) -> None:
    """A is slow in RECRU, B (sent meanwhile) creates the application and is stored; A is refused "already
    applied". Nothing stays pending: one more identical create is a plain duplicate."""
    email, job = unique_email("at-once"), world.open_job()
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    world.fault("slow", CREATE, count=1, delaySeconds=3)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(world.send, "POST", path, body, integration=world.tracked)
        time.sleep(0.5)
        second = pool.submit(world.send, "POST", path, body, integration=world.tracked)
        answers = sorted([first.result().status_code, second.result().status_code])
    assert answers == [200, 409]
    again = world.send("POST", path, body, integration=world.tracked)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    (jobseeker,) = world.jobseekers_with(email)
    assert len(world.applications_of(jobseeker["id"])) == 1


def test_identical_creates_sent_at_once_answer_one_application_once(world: ActionWorld) -> None:
    """A and B, identical, are both sent to RECRU (held there); A creates the application and reads it back slowly,
    B is refused "already applied". C, sent then, must not take A's create for one whose outcome is unknown and
    answer its application too: one application, one 200."""
    email, job = unique_email("sent-at-once"), world.open_job()
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    world.fault("slow", CREATE, count=2, delaySeconds=2)
    world.fault("slow", "ApplicationService.get", count=1, delaySeconds=5)
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(world.send, "POST", path, body, integration=world.tracked)
        time.sleep(0.5)
        second = pool.submit(world.send, "POST", path, body, integration=world.tracked)
        refused = second.result(timeout=60)  # A is reading its application back meanwhile
        third = world.send("POST", path, body, integration=world.tracked)
        created = first.result(timeout=60)
    assert created.status_code == 200, created.text
    for answer in (refused, third):
        assert (answer.status_code, answer.json()["error"]["code"]) == (409, "ATS.APPLICATION_ALREADY_EXISTS")
    (jobseeker,) = world.jobseekers_with(email)
    assert len(world.applications_of(jobseeker["id"])) == 1


def test_retries_at_once_of_a_create_whose_outcome_was_unknown_answer_its_application_once(
    world: ActionWorld,
) -> None:
    email, job = unique_email("retried-at-once"), world.open_job()
    path, body = f"/ats/jobs/remote:{job['id']}/applications", {"candidate": candidate(email_address=email)}
    world.fault("error_500", "ApplicationService.get", count=100)
    first = world.send("POST", path, body, integration=world.tracked)  # created, but not read back: pending
    world.recru.control("DELETE", "/faults")
    assert first.status_code == 502, first.text
    world.fault("slow", "ApplicationService.list", count=2, delaySeconds=1)  # both retries find it pending first
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: world.send("POST", path, body, integration=world.tracked), range(2)))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    (jobseeker,) = world.jobseekers_with(email)
    assert len(world.applications_of(jobseeker["id"])) == 1
