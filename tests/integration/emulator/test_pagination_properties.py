"""§3 as properties: walking every page returns each record once, in order; updatedSince is exact and inclusive."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import LISTED, Api, Entity, fmt_ts, parse_ts, ts_add

SMALL = 40  # a smaller tenant keeps perPage=1 walks cheap
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def small(api: Api) -> Api:
    api.ctl("POST", "/reset", {"seed": 11, "size": SMALL})
    api.relogin()
    return api


def walk_ids(api: Api, entity: Entity, per_page: int, **params: Any) -> list[int]:
    return [i["id"] for i in api.walk(entity, per_page=per_page, **params)]


@pytest.mark.parametrize("entity", LISTED, ids=lambda e: e.name)
@PROPERTY
@given(per_page=st.integers(1, 200), data=st.data())
def test_walking_all_pages_returns_every_record_once_in_id_order(
    small: Api, entity: Entity, per_page: int, data: st.DataObject
) -> None:
    full = walk_ids(small, entity, 200)
    assert full == sorted(set(full))
    assert walk_ids(small, entity, per_page) == full
    page = data.draw(st.integers(1, len(full) // per_page + 3), label="page")
    result = small.page(entity, page=page, perPage=per_page)
    assert [i["id"] for i in result["items"]] == full[(page - 1) * per_page : page * per_page]
    assert result["total"] == len(full)
    assert result["hasMore"] == (page * per_page < len(full))


@pytest.mark.parametrize("entity", LISTED, ids=lambda e: e.name)
@PROPERTY
@given(data=st.data(), per_page=st.integers(1, 200), shift=st.sampled_from([0, 0, 0, -1, 1]), tz=st.integers(-12, 14))
def test_updated_since_returns_exactly_the_later_records(
    small: Api, entity: Entity, data: st.DataObject, per_page: int, shift: int, tz: int
) -> None:
    full = small.walk(entity)
    pivot = data.draw(st.sampled_from(full), label="pivot")["updatedAt"]
    since = ts_add(pivot, shift)
    expected = [i["id"] for i in sorted(full, key=lambda i: (i["updatedAt"], i["id"])) if i["updatedAt"] >= since]
    assert walk_ids(small, entity, per_page, updatedSince=since) == expected
    # the same instant written with another UTC offset
    local = parse_ts(since).astimezone(timezone(timedelta(hours=tz))).isoformat()
    assert fmt_ts(parse_ts(local)) == since
    assert walk_ids(small, entity, 200, updatedSince=local) == expected
