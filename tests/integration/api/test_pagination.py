"""Keyset pagination (unified-api §2): a walk stays exact while records are written and deleted between its pages,
and a cursor is only good for the query that issued it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from atsbridge.store import deletions, tables, writer
from atsbridge.unified.ids import ModelName, model_id
from integration.api.conftest import World
from integration.api.test_errors import assert_error

PAGE = 7


def candidate_like(world: World, remote_id: str) -> dict[str, Any]:
    """A mapped candidate record for the writer, copied from a stored one with a new RECRU id."""
    table = tables.candidates
    with world.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.integration_id == world.integration_id).limit(1)).one()
    record = {str(name): row._mapping[name] for name in tables.record_columns(table)}
    return record | {"id": model_id(world.integration_id, ModelName.CANDIDATES, remote_id), "remote_id": remote_id}


def new_remote_ids(world: World, last_id: str, taken: set[str]) -> tuple[str, str]:
    """Two unused RECRU ids whose records sort before and after ``last_id``."""
    behind = ahead = None
    for number in range(900_000, 1_000_000):
        remote = str(number)
        candidate_id = model_id(world.integration_id, ModelName.CANDIDATES, remote)
        if remote in taken:
            continue
        if candidate_id < last_id and behind is None:
            behind = remote
        elif candidate_id > last_id and ahead is None:
            ahead = remote
        if behind and ahead:
            taken |= {behind, ahead}
            return behind, ahead
    raise AssertionError("no free ids")


def test_a_walk_neither_skips_nor_repeats_while_records_come_and_go(scratch: World) -> None:
    initial = [c["id"] for c in scratch.walk("/ats/candidates", page_size=250)]
    seen: list[str] = []
    deleted_unseen: set[str] = set()
    deleted_seen: set[str] = set()
    created_ahead: set[str] = set()
    created_behind: set[str] = set()
    taken: set[str] = set()
    recru_created: dict[str, Any] = {}
    cursor = None
    pages = 0
    while True:
        response = scratch.get("/ats/candidates", page_size=PAGE, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        seen += [c["id"] for c in data["results"]]
        cursor = data["next"]
        if cursor is None:
            break
        pages += 1
        last = seen[-1]
        now = datetime.now(UTC)
        with scratch.engine.begin() as conn:
            if pages % 2:  # two new candidates: one behind the cursor, one ahead of it
                behind, ahead = new_remote_ids(scratch, last, taken)
                records = [candidate_like(scratch, behind), candidate_like(scratch, ahead)]
                writer.upsert(conn, ModelName.CANDIDATES, scratch.integration_id, records, now=now)
                created_behind.add(records[0]["id"])
                created_ahead.add(records[1]["id"])
            else:  # one candidate not reached yet and one already listed are deleted
                unseen = next(c for c in initial if c > last and c not in deleted_unseen)
                listed = next(c for c in seen if c not in deleted_seen)
                deletions.mark_deleted(conn, ModelName.CANDIDATES, scratch.integration_id, [unseen, listed], now=now)
                deleted_unseen.add(unseen)
                deleted_seen.add(listed)
        if pages == 3:  # and a candidate created in RECRU arrives through a sync
            recru_created = scratch.recru.create("jobseekers", firstName="Mid", lastName="Walk")
            scratch.sync("DELTA")

    assert pages >= len(initial) // PAGE
    assert len(seen) == len(set(seen)), "a record was listed twice"
    existed_throughout = set(initial) - deleted_unseen - deleted_seen
    assert existed_throughout <= set(seen), "a record that existed for the whole walk was skipped"
    assert not deleted_unseen & set(seen)
    assert created_ahead <= set(seen)
    assert not created_behind & set(seen)
    arrived = model_id(scratch.integration_id, ModelName.CANDIDATES, recru_created["id"])
    assert arrived in {c["id"] for c in scratch.walk("/ats/candidates", page_size=250)}


def encoded(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGpzb24",
        encoded(123),
        encoded(["x"]),
        encoded({"a": 1, "b": 2}),
        encoded([1, "digest"]),
        encoded(["A" * 23 + "\x00", "digest"]),
        encoded(["no id at all", "digest"]),
    ],
    ids=["not-base64", "not-json", "a-number", "one-item", "an-object", "wrong-types", "nul", "not-an-id"],
)
def test_malformed_cursor(world: World, cursor: str) -> None:
    error = assert_error(world.get("/ats/candidates", cursor=cursor), 400, "PLATFORM.INPUT_INVALID")
    assert "malformed" in error["message"]


@pytest.mark.parametrize("altered", [lambda c: c + "A", lambda c: c + "====", lambda c: c[:-1]])
def test_a_real_cursor_altered_is_malformed(world: World, altered: Callable[[str], str]) -> None:
    cursor = world.get("/ats/candidates", page_size=2).json()["data"]["next"]
    assert world.get("/ats/candidates", page_size=2, cursor=cursor).status_code == 200
    error = assert_error(
        world.get("/ats/candidates", page_size=2, cursor=altered(cursor)), 400, "PLATFORM.INPUT_INVALID"
    )
    assert "malformed" in error["message"]


def test_a_cursor_is_bound_to_its_query(world: World) -> None:
    def next_of(path: str, **params: Any) -> str:
        cursor = world.get(path, page_size=2, **params).json()["data"]["next"]
        assert cursor
        return str(cursor)

    by_name = next_of("/ats/candidates", updated_after="2000-01-01")
    assert_error(world.get("/ats/candidates", cursor=by_name), 400, "PLATFORM.INPUT_INVALID")
    assert_error(
        world.get("/ats/candidates", cursor=by_name, updated_after="2000-01-02"), 400, "PLATFORM.INPUT_INVALID"
    )
    plain = next_of("/ats/candidates")
    for other in ({"include_deleted": "true"}, {"ids": "a,b"}, {"first_name": "Jana"}):
        assert_error(world.get("/ats/candidates", cursor=plain, **other), 400, "PLATFORM.INPUT_INVALID")
    assert_error(world.get("/ats/applications", cursor=plain), 400, "PLATFORM.INPUT_INVALID")
    # the same query goes on, also with another page size
    answer = world.get("/ats/candidates", cursor=plain, page_size=5)
    assert answer.status_code == 200
    assert len(answer.json()["data"]["results"]) == 5
    assert world.get("/ats/candidates", cursor=by_name, updated_after="2000-01-01").status_code == 200
