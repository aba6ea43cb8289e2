"""Adding and removing tags by name: matched against RECRU's tags (which it cannot create), idempotent both ways,
and visible in the candidate's ``tags`` at once."""

from __future__ import annotations

import secrets
import unicodedata
from typing import Any

import pytest
from sqlalchemy import select, update

from atsbridge.store import tables
from atsbridge.store.integrations import Integration
from integration.actions.conftest import ActionWorld, candidate, refusal


def new_candidate(world: ActionWorld, integration: Integration | None = None) -> Any:
    """A candidate created through the API (so in the store), without tags."""
    return (
        world.kombo(integration)
        .ats.create_application(job_id=f"remote:{world.open_job()['id']}", candidate=candidate())
        .data.candidate
    )


def served_tags(world: ActionWorld, candidate_id: str, integration: Integration | None = None) -> list[str]:
    """The candidate's tag names as the SDK reads them now."""
    (found,) = world.kombo(integration).ats.get_candidates(ids=[candidate_id]).result.data.results
    return sorted(tag.name for tag in found.tags)


def recru_tags(world: ActionWorld, remote_id: str) -> list[int]:
    return sorted(world.recru.call("JobseekerService.get", {"id": int(remote_id)})["tagIds"])


def test_a_tag_is_added_by_its_name_case_insensitively_and_trimmed(world: ActionWorld) -> None:
    tag = world.recru.all("tags")[0]
    person = new_candidate(world)
    answer = world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": f"  {tag['name'].upper()} "})
    assert answer.warnings == []
    assert recru_tags(world, person.remote_id) == [tag["id"]]
    assert served_tags(world, person.id) == [tag["name"]]

    before = world.recru.call("JobseekerService.get", {"id": int(person.remote_id)})
    world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": tag["name"]})  # again: no change
    assert world.recru.call("JobseekerService.get", {"id": int(person.remote_id)}) == before
    assert served_tags(world, person.id) == [tag["name"]]


def test_an_unknown_tag_name_is_422_saying_it_must_be_created_in_recru_first(world: ActionWorld) -> None:
    person = new_candidate(world)
    status, code, message = refusal(
        lambda: world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": "Tag, který neexistuje"})
    )
    assert (status, code) == (422, "REMOTE.INPUT_INVALID")
    assert "create the tag in RECRU first" in message
    assert recru_tags(world, person.remote_id) == []


def test_removing_is_idempotent_and_shows_at_once(world: ActionWorld) -> None:
    first, second, third = world.recru.all("tags")[:3]
    person = new_candidate(world)
    for tag in (first, second):
        world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": tag["name"]})
    assert served_tags(world, person.id) == sorted([first["name"], second["name"]])

    for name in (first["name"].lower(), first["name"], third["name"], "Tag, který neexistuje"):
        answer = world.kombo().ats.remove_candidate_tag(candidate_id=person.id, tag={"name": name})
        assert answer.warnings == []
        assert recru_tags(world, person.remote_id) == [second["id"]]
        assert served_tags(world, person.id) == [second["name"]]


def test_a_tag_made_in_recru_after_the_sync_is_added_and_served(world: ActionWorld) -> None:
    tag = world.recru.create("tags", name=f"Přidáno později {world.recru_totals()[0]}")
    person = new_candidate(world)
    world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": tag["name"]})
    assert served_tags(world, person.id) == [tag["name"]]
    served = world.kombo().ats.get_tags(remote_ids=[str(tag["id"])]).result.data.results
    assert [t.name for t in served] == [tag["name"]]


def test_an_unknown_candidate_is_404(world: ActionWorld) -> None:
    name = world.recru.all("tags")[0]["name"]
    for candidate_id in ("no-such-candidate", "remote:not-a-number"):
        status, code, _ = refusal(
            lambda ref=candidate_id: world.kombo().ats.add_candidate_tag(candidate_id=ref, tag={"name": name})
        )
        assert (status, code) == (404, "PLATFORM.INPUT_INVALID")


def test_a_candidate_recru_deleted_is_404_and_no_longer_served(world: ActionWorld) -> None:
    application = (
        world.kombo().ats.create_application(job_id=f"remote:{world.open_job()['id']}", candidate=candidate()).data
    )
    made = application.candidate
    world.recru.delete("jobseekers", int(made.remote_id))  # its applications go with it
    name = world.recru.all("tags")[0]["name"]
    status, code, message = refusal(
        lambda: world.kombo().ats.add_candidate_tag(candidate_id=made.id, tag={"name": name})
    )
    assert (status, code) == (404, "PLATFORM.INPUT_INVALID")
    assert "RECRU does not have this candidate" in message
    assert world.read("candidates", made.id) is None  # the store agrees with the refusal before the next sync
    status, code, _ = refusal(lambda: world.kombo().ats.remove_candidate_tag(candidate_id=made.id, tag={"name": name}))
    assert (status, code) == (404, "PLATFORM.INPUT_INVALID")  # now from the store, without asking RECRU
    assert world.read("applications", application.id) is None


def test_a_tag_name_given_decomposed_is_the_composed_one_recru_holds(world: ActionWorld) -> None:
    name = f"Zkušený kandidát {secrets.token_hex(3)}"  # composed (NFC), as RECRU's UI stores it
    tag = world.recru.create("tags", name=name)
    person = new_candidate(world)
    decomposed = unicodedata.normalize("NFD", tag["name"])
    assert decomposed != tag["name"]
    world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": decomposed})
    assert recru_tags(world, person.remote_id) == [tag["id"]]


def test_of_tags_differing_only_in_case_the_exact_name_is_taken(world: ActionWorld) -> None:
    suffix = secrets.token_hex(3)
    lower, upper = (world.recru.create("tags", name=f"{name}-{suffix}") for name in ("Kotlin", "KOTLIN"))
    person = new_candidate(world)
    world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": f"KOTLIN-{suffix}"})
    assert recru_tags(world, person.remote_id) == [upper["id"]]
    world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": f" Kotlin-{suffix}"})
    assert recru_tags(world, person.remote_id) == sorted([lower["id"], upper["id"]])
    world.kombo().ats.remove_candidate_tag(candidate_id=person.id, tag={"name": f"KOTLIN-{suffix}"})
    assert recru_tags(world, person.remote_id) == [lower["id"]]


def holding_the_later_of_two_tags_differing_in_case(world: ActionWorld) -> tuple[Any, str, int]:
    """(a new candidate, a name matching both tags by case only, the later tag's id, which the candidate holds):
    the earlier tag would be the first match, so a test sees which one an action took."""
    suffix = secrets.token_hex(3)
    first, second = (world.recru.create("tags", name=f"{name}-{suffix}") for name in ("Kotlin", "KOTLIN"))
    assert first["id"] < second["id"]
    person = new_candidate(world)
    world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": second["name"]})
    return person, f"kotlin-{suffix}", second["id"]


def test_removing_a_name_two_tags_match_only_by_case_removes_the_one_the_candidate_holds(world: ActionWorld) -> None:
    person, name, _ = holding_the_later_of_two_tags_differing_in_case(world)
    world.kombo().ats.remove_candidate_tag(candidate_id=person.id, tag={"name": name})
    assert recru_tags(world, person.remote_id) == []  # not "Kotlin", which it does not hold


def test_adding_a_name_two_tags_match_only_by_case_keeps_the_one_the_candidate_holds(world: ActionWorld) -> None:
    person, name, held = holding_the_later_of_two_tags_differing_in_case(world)
    world.kombo().ats.add_candidate_tag(candidate_id=person.id, tag={"name": name})
    assert recru_tags(world, person.remote_id) == [held]  # already tagged so: not "Kotlin" as well


def queued_syncs(world: ActionWorld) -> list[str]:
    with world.engine.connect() as conn:
        query = select(tables.syncs.c.type).where(
            tables.syncs.c.integration_id == world.tracked.id, tables.syncs.c.state == "QUEUED"
        )
        return list(conn.execute(query).scalars())


def cancel_queued_syncs(world: ActionWorld) -> None:
    with world.engine.begin() as conn:
        conn.execute(
            update(tables.syncs)
            .where(tables.syncs.c.integration_id == world.tracked.id, tables.syncs.c.state == "QUEUED")
            .values(state="CANCELLED")
        )


@pytest.mark.parametrize(
    ("failing", "told"),
    [
        ("JobseekerService.get", "RECRU made the change, but the candidate could not be read back"),
        ("JobseekerService.addTag", "RECRU may or may not have made the change"),
    ],
    ids=["read back", "tag call"],
)
def test_a_tag_action_failing_once_sent_is_told_and_stored_by_the_next_sync(
    world: ActionWorld, failing: str, told: str
) -> None:
    tag = world.recru.all("tags")[0]
    person = new_candidate(world, world.tracked)
    cancel_queued_syncs(world)
    world.fault("drop", failing, count=100)
    answer = world.send(
        "POST", f"/ats/candidates/{person.id}/tags", {"tag": {"name": tag["name"]}}, integration=world.tracked
    )
    world.recru.control("DELETE", "/faults")
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (503, "REMOTE.SERVICE_UNAVAILABLE")
    assert told in error["message"]
    assert queued_syncs(world) == ["DELTA"]
    world.sync_tracked("DELTA")
    assert served_tags(world, person.id, world.tracked) == sorted(
        t["name"] for t in world.recru.all("tags") if t["id"] in recru_tags(world, person.remote_id)
    )


def test_adding_a_tag_the_store_serves_but_recru_deleted_is_refused_and_the_store_put_right(
    world: ActionWorld,
) -> None:
    """The store served the tag (and on the candidate) until the next sync: the refusal queues one, which puts it
    right; a name the store does not serve either queues nothing."""
    name = f"Zrušený {secrets.token_hex(3)}"
    tag = world.recru.create("tags", name=name)
    person = new_candidate(world, world.tracked)
    world.kombo(world.tracked).ats.add_candidate_tag(candidate_id=person.id, tag={"name": name})
    assert served_tags(world, person.id, world.tracked) == [name]
    world.recru.delete("tags", tag["id"])  # RECRU takes it from every jobseeker too
    cancel_queued_syncs(world)

    for given, queued in (("Tag, který neexistuje", []), (name, ["DELTA"])):
        path = f"/ats/candidates/{person.id}/tags"
        answer = world.send("POST", path, {"tag": {"name": given}}, integration=world.tracked)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "REMOTE.INPUT_INVALID")
        assert queued_syncs(world) == queued, given
    world.sync_tracked("DELTA")
    assert served_tags(world, person.id, world.tracked) == []
    assert name not in {t.name for t in world.kombo(world.tracked).ats.get_tags().result.data.results}


@pytest.mark.parametrize(
    ("kind", "failing", "code"),
    [
        ("drop", "TagService.list", "REMOTE.SERVICE_UNAVAILABLE"),
        ("rate_limit", "JobseekerService.addTag", "REMOTE.RATE_LIMIT_EXCEEDED"),
        ("unavailable_503", "JobseekerService.addTag", "REMOTE.SERVICE_UNAVAILABLE"),
    ],
    ids=["tag lookup", "tag call rate-limited", "tag call in maintenance"],
)
def test_a_tag_action_failing_before_recru_processed_anything_is_a_plain_failure(
    world: ActionWorld, kind: str, failing: str, code: str
) -> None:
    """Nothing can have changed (RECRU refuses rate-limited calls and calls in maintenance before processing them):
    no "may have made the change", no sync queued."""
    tag = world.recru.all("tags")[0]
    person = new_candidate(world, world.tracked)
    cancel_queued_syncs(world)
    world.fault(kind, failing, count=100, retryAfter=1)
    answer = world.send(
        "POST", f"/ats/candidates/{person.id}/tags", {"tag": {"name": tag["name"]}}, integration=world.tracked
    )
    world.recru.control("DELETE", "/faults")
    error = answer.json()["error"]
    assert (answer.status_code, error["code"]) == (503, code)
    assert "change" not in error["message"]
    assert queued_syncs(world) == []
    assert recru_tags(world, person.remote_id) == []
