"""Creating an application through the connector against a scripted RECRU (``httpx.MockTransport``): what a lost
answer followed by a failing look-up leaves, which the emulator's "next N calls" faults cannot stage."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from atsbridge.connectors.recru.actions import NewApplication, create_application
from atsbridge.connectors.recru.client import RecruClient, RetryPolicy
from atsbridge.connectors.recru.errors import RecruOutcomeUnknown
from atsbridge.unified.inputs import ActionExtras, CandidateInput


def answer(result: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": result})


async def test_a_look_up_failing_after_a_lost_answer_leaves_the_outcome_unknown() -> None:
    """The jobseeker exists and has not applied; the create's answer is lost; RECRU then fails the look-up of its
    application: RECRU may have stored it, so the error must say "unknown", not merely "unavailable"."""
    looked_up = 0

    async def recru(request: httpx.Request) -> httpx.Response:
        nonlocal looked_up
        method = json.loads(request.content)["method"]
        if method == "AuthService.login":
            user = {"id": 1, "firstName": "A", "lastName": "B", "email": "api@x.cz"}
            return answer({"token": "t", "expiresAt": "2026-03-01T13:00:05Z", "user": user})
        if method == "JobseekerService.list":
            return answer({"items": [{"id": 5}], "hasMore": False, "total": 1})
        if method == "ApplicationService.list":
            looked_up += 1
            if looked_up == 1:  # before the create: no application of the pair
                return answer({"items": [], "hasMore": False, "total": 0})
            return httpx.Response(500, json={"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "x"}})
        if method == "ApplicationService.create":
            raise httpx.ReadTimeout("lost", request=request)
        raise AssertionError(method)

    async def no_sleep(seconds: float) -> None:
        pass

    candidate = CandidateInput(first_name="Jana", last_name="Nová", email_address="jana@firma.cz")
    new = NewApplication(3, candidate, ActionExtras(), [], {"name": "Jobs"})
    retry = RetryPolicy(max_attempts=2)
    async with RecruClient(
        "http://recru.test", "api@x.cz", "pw", retry=retry, sleep=no_sleep, transport=httpx.MockTransport(recru)
    ) as client:
        with pytest.raises(RecruOutcomeUnknown):
            await create_application(client, new, None)
    assert looked_up >= 2


async def test_a_conflict_after_a_lost_answer_is_that_answers_application() -> None:
    """The create's answer is lost and the look-up does not show the application yet; the next attempt is refused
    as "already applied": that application is the lost attempt's, so the create succeeds with it."""
    created = False

    async def recru(request: httpx.Request) -> httpx.Response:
        nonlocal created
        method = json.loads(request.content)["method"]
        if method == "AuthService.login":
            user = {"id": 1, "firstName": "A", "lastName": "B", "email": "api@x.cz"}
            return answer({"token": "t", "expiresAt": "2026-03-01T13:00:05Z", "user": user})
        if method == "JobseekerService.list":  # the new jobseeker shows; its application does not yet
            return answer({"items": [{"id": 5}] if created else [], "hasMore": False, "total": int(created)})
        if method == "ApplicationService.list":
            return answer({"items": [], "hasMore": False, "total": 0})
        if method == "ApplicationService.create":
            if not created:
                created = True
                raise httpx.ReadTimeout("lost", request=request)
            error = {"code": -32009, "message": "conflict", "data": {"existingId": 77}}
            return answer_error(error)
        raise AssertionError(method)

    async def no_sleep(seconds: float) -> None:
        pass

    candidate = CandidateInput(first_name="Jana", last_name="Nová", email_address="jana@firma.cz")
    new = NewApplication(3, candidate, ActionExtras(), [], {"name": "Jobs"})
    async with RecruClient(
        "http://recru.test", "api@x.cz", "pw", retry=RetryPolicy(max_attempts=1), sleep=no_sleep,
        transport=httpx.MockTransport(recru),
    ) as client:  # fmt: skip
        result = await create_application(client, new, None)
    assert (result.application_id, result.jobseeker_id, result.existing_candidate) == (77, 5, False)


def answer_error(error: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "error": error})


async def test_a_new_candidate_made_by_a_lost_attempt_is_not_taken_for_an_earlier_application() -> None:
    """The lost attempt made the jobseeker and its application after the look-up showed nothing: the next attempt
    is refused for the e-mail, and the application RECRU then holds for the pair is the lost attempt's."""
    stored, creates = False, list[dict[str, Any]]()

    async def recru(request: httpx.Request) -> httpx.Response:
        nonlocal stored
        method = json.loads(request.content)["method"]
        if method == "AuthService.login":
            user = {"id": 1, "firstName": "A", "lastName": "B", "email": "api@x.cz"}
            return answer({"token": "t", "expiresAt": "2026-03-01T13:00:05Z", "user": user})
        if method == "JobseekerService.list":
            return answer({"items": [{"id": 5}] if stored else [], "hasMore": False, "total": int(stored)})
        if method == "ApplicationService.list":
            items = [{"id": 77, "projectId": 3, "jobseekerId": 5}] if stored else []
            return answer({"items": items, "hasMore": False, "total": len(items)})
        if method == "ApplicationService.create":
            creates.append(json.loads(request.content)["params"])
            if len(creates) == 1:
                raise httpx.ReadTimeout("lost", request=request)
            stored = True  # the lost attempt lands now, before this one
            return answer_error({"code": -32009, "message": "conflict", "data": {"existingId": 5}})
        raise AssertionError(method)

    async def no_sleep(seconds: float) -> None:
        pass

    candidate = CandidateInput(first_name="Jana", last_name="Nová", email_address="jana@firma.cz")
    new = NewApplication(3, candidate, ActionExtras(), [], {"name": "Jobs"})
    async with RecruClient(
        "http://recru.test", "api@x.cz", "pw", retry=RetryPolicy(max_attempts=1), sleep=no_sleep,
        transport=httpx.MockTransport(recru),
    ) as client:  # fmt: skip
        result = await create_application(client, new, None)
    assert (result.application_id, result.jobseeker_id, result.existing_candidate) == (77, 5, False)
    assert [bool(params.get("jobseeker")) for params in creates] == [True, True]
