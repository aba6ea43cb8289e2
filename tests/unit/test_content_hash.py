"""The content hash is made of two digests (written here with the stdlib as an independent reference): of the
canonical JSON form of the record's own fields (``json.dumps`` with sorted keys), then of that form followed by the
compact JSON of ``[remote_updated_at, remote_data]``; and what it tells the writer (own fields changed, or only
RECRU's ``updatedAt`` and the raw payload)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from atsbridge.store.writer import content_hash

# Floats in the range mapped values live in; outside it the two libraries spell exponents differently.
FLOATS = st.floats(min_value=1e-4, max_value=1e15) | st.floats(min_value=-1e15, max_value=-1e-4) | st.just(0.0)
TIMESTAMPS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | FLOATS | st.text()
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)
RECORDS = st.dictionaries(st.text(), JSON_VALUES | TIMESTAMPS, max_size=8)


def canonical(value: Any, *, sort_keys: bool = True) -> bytes:
    """Compact JSON, non-ASCII as is, timestamps as UTC ISO strings."""

    def default(value: object) -> str:
        assert isinstance(value, datetime)
        return value.astimezone(UTC).isoformat()

    text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), ensure_ascii=False, default=default)
    return text.encode()


def blake2b(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


@given(RECORDS)
def test_content_hash_is_own_fields_then_own_fields_with_the_payload(record: dict[str, Any]) -> None:
    own = {k: v for k, v in record.items() if k not in ("remote_updated_at", "remote_data")}
    own_json = canonical(own)
    payload = [record.get("remote_updated_at"), record.get("remote_data")]
    whole = blake2b(own_json) if own == record else blake2b(own_json + canonical(payload, sort_keys=False))
    assert content_hash(record) == blake2b(own_json) + whole


def test_only_recru_bookkeeping_changing_keeps_the_own_fields_digest() -> None:
    record = {"id": "x", "first_name": "Jana", "remote_updated_at": datetime(2026, 1, 1, tzinfo=UTC), "remote_data": {}}
    tagged = {**record, "remote_updated_at": datetime(2026, 1, 2, tzinfo=UTC), "remote_data": {"tagIds": [1]}}
    renamed = {**record, "first_name": "Jan"}
    assert content_hash(tagged)[:16] == content_hash(record)[:16] != content_hash(renamed)[:16]
    assert content_hash(tagged) != content_hash(record)
