"""Creating an application through the connector against a scripted RECRU (``httpx.MockTransport``): lost answers
followed by failing look-ups or conflicts, which the emulator's "next N calls" faults cannot stage."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from atsbridge.connectors.base import ActionRefused
from atsbridge.connectors.recru.actions import CreatedApplication, NewApplication, create_application
from atsbridge.connectors.recru.client import RecruClient, RetryPolicy
from atsbridge.connectors.recru.errors import RecruOutcomeUnknown
from atsbridge.unified.inputs import ActionExtras, CandidateInput

Script = Callable[[str, dict[str, Any], httpx.Request], httpx.Response]
"""RECRU's answer to a call (method, params, request) other than the login."""


def answer(result: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "result": result})


def answer_error(error: dict[str, Any]) -> httpx.Response:
    return httpx.Response(200, json={"jsonrpc": "2.0", "id": 1, "error": error})


def page(items: list[dict[str, Any]]) -> httpx.Response:
    return answer({"items": items, "hasMore": False, "total": len(items)})


async def create_against(script: Script, max_attempts: int = 1, *, alone: bool = True) -> CreatedApplication:
    """Create an application for jana@firma.cz on project 3 against RECRU answering as ``script`` says; ``alone``:
    no other create of the pair is on its way through us."""

    async def no_other_create(application_id: int) -> bool:
        return alone

    async def recru(request: httpx.Request) -> httpx.Response:
        call = json.loads(request.content)
        if call["method"] == "AuthService.login":
            user = {"id": 1, "firstName": "A", "lastName": "B", "email": "api@x.cz"}
            return answer({"token": "t", "expiresAt": "2026-03-01T13:00:05Z", "user": user})
        return script(call["method"], call.get("params", {}), request)

    async def no_sleep(seconds: float) -> None:
        pass

    candidate = CandidateInput(first_name="Jana", last_name="Nová", email_address="jana@firma.cz")
    new = NewApplication(3, candidate, ActionExtras(), [], {"name": "Jobs"})
    async with RecruClient(
        "http://recru.test", "api@x.cz", "pw", retry=RetryPolicy(max_attempts=max_attempts), sleep=no_sleep,
        transport=httpx.MockTransport(recru),
    ) as client:  # fmt: skip
        return await create_application(client, new, None, alone=no_other_create)


async def test_a_look_up_failing_after_a_lost_answer_leaves_the_outcome_unknown() -> None:
    """The jobseeker exists and has not applied; the create's answer is lost; RECRU then fails the look-up of its
    application: RECRU may have stored it, so the error must say "unknown", not merely "unavailable"."""
    looked_up = 0

    def script(method: str, params: dict[str, Any], request: httpx.Request) -> httpx.Response:
        nonlocal looked_up
        if method == "JobseekerService.list":
            return page([{"id": 5}])
        if method == "ApplicationService.list":
            looked_up += 1
            if looked_up == 1:  # before the create: no application of the pair
                return page([])
            return httpx.Response(500, json={"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "x"}})
        if method == "ApplicationService.create":
            raise httpx.RemoteProtocolError("lost", request=request)
        raise AssertionError(method)

    with pytest.raises(RecruOutcomeUnknown):
        await create_against(script, max_attempts=2)
    assert looked_up >= 2


async def test_a_create_that_timed_out_is_not_sent_again_while_the_client_waits() -> None:
    """RECRU took the whole read timeout and the look-up shows nothing yet: it may still be storing the create, so
    the outcome is unknown now (a retry later answers what RECRU stored), not after another create that slow."""
    creates = 0

    def script(method: str, params: dict[str, Any], request: httpx.Request) -> httpx.Response:
        nonlocal creates
        if method == "JobseekerService.list":
            return page([])
        if method == "ApplicationService.create":
            creates += 1
            raise httpx.ReadTimeout("slow", request=request)
        raise AssertionError(method)

    with pytest.raises(RecruOutcomeUnknown):
        await create_against(script)
    assert creates == 1


async def test_a_conflict_after_a_lost_answer_is_that_answers_application() -> None:
    """The create's answer is lost and the look-up does not show the application yet; the next attempt is refused
    as "already applied": that application is the lost attempt's, so the create succeeds with it."""
    created = False

    def script(method: str, params: dict[str, Any], request: httpx.Request) -> httpx.Response:
        nonlocal created
        if method == "JobseekerService.list":  # the new jobseeker shows; its application does not yet
            return page([{"id": 5}] if created else [])
        if method == "ApplicationService.list":
            return page([])
        if method == "ApplicationService.create":
            if not created:
                created = True
                raise httpx.RemoteProtocolError("lost", request=request)
            return answer_error({"code": -32009, "message": "conflict", "data": {"existingId": 77}})
        raise AssertionError(method)

    result = await create_against(script)
    assert (result.application_id, result.jobseeker_id, result.existing_candidate) == (77, 5, False)


async def test_a_new_candidate_made_by_a_lost_attempt_is_not_taken_for_an_earlier_application() -> None:
    """The lost attempt made the jobseeker and its application after the look-up showed nothing: the next attempt
    is refused for the e-mail, and the application RECRU then holds for the pair is the lost attempt's."""
    stored, creates = False, list[dict[str, Any]]()

    def script(method: str, params: dict[str, Any], request: httpx.Request) -> httpx.Response:
        nonlocal stored
        if method == "JobseekerService.list":
            return page([{"id": 5}] if stored else [])
        if method == "ApplicationService.list":
            return page([{"id": 77, "projectId": 3, "jobseekerId": 5}] if stored else [])
        if method == "ApplicationService.create":
            creates.append(params)
            if len(creates) == 1:
                raise httpx.RemoteProtocolError("lost", request=request)
            stored = True  # the lost attempt lands now, before this one
            return answer_error({"code": -32009, "message": "conflict", "data": {"existingId": 5}})
        raise AssertionError(method)

    result = await create_against(script)
    assert (result.application_id, result.jobseeker_id, result.existing_candidate) == (77, 5, False)
    assert [bool(params.get("jobseeker")) for params in creates] == [True, True]


@pytest.mark.parametrize("lookup_finds_it", [True, False], ids=["look-up", "conflict"])
async def test_after_a_lost_answer_an_application_another_create_may_have_made_is_not_taken(
    lookup_finds_it: bool,
) -> None:
    """Another create of the pair was on its way through us: the application RECRU holds after this one's answer
    was lost may be that one's (its own answer says so), so this create is refused as "already applied"."""
    created = False

    def script(method: str, params: dict[str, Any], request: httpx.Request) -> httpx.Response:
        nonlocal created
        if method == "JobseekerService.list":
            return page([{"id": 5}] if created else [])
        if method == "ApplicationService.list":
            return page([{"id": 77, "jobseekerId": 5, "projectId": 3}] if created and lookup_finds_it else [])
        if method == "ApplicationService.create":
            if not created:
                created = True  # the other create's, made while this one's answer was lost
                raise httpx.RemoteProtocolError("lost", request=request)
            return answer_error({"code": -32009, "message": "conflict", "data": {"existingId": 77}})
        raise AssertionError(method)

    with pytest.raises(ActionRefused) as refused:
        await create_against(script, alone=False)
    assert refused.value.kind == "application_unclaimed"
    created = False
    result = await create_against(script)  # alone: the application is this create's
    assert (result.application_id, result.jobseeker_id) == (77, 5)


async def test_an_attempt_failing_after_one_whose_answer_was_lost_leaves_the_outcome_unknown() -> None:
    """The first attempt's answer is lost and the look-up finds nothing yet; the next attempt is refused before
    processing (maintenance): RECRU may still store the first, so the outcome is unknown, not merely "unavailable"."""
    sent = 0

    def script(method: str, params: dict[str, Any], request: httpx.Request) -> httpx.Response:
        nonlocal sent
        if method in ("JobseekerService.list", "ApplicationService.list"):
            return page([])
        if method == "ApplicationService.create":
            sent += 1
            if sent == 1:
                raise httpx.RemoteProtocolError("lost", request=request)
            maintenance = {"code": -32050, "message": "maintenance", "data": {"retryAfter": 3}}
            body = {"jsonrpc": "2.0", "id": 1, "error": maintenance}
            return httpx.Response(503, headers={"Retry-After": "3"}, json=body)
        raise AssertionError(method)

    with pytest.raises(RecruOutcomeUnknown):
        await create_against(script)
    assert sent == 2
