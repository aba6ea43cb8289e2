"""Deterministic ids: base58 against the Bitcoin test vectors, stability, uniqueness and format."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atsbridge.unified.ids import (
    ModelName,
    base58,
    is_model_id,
    join_id,
    model_id,
    new_integration_id,
)

BASE58_ID = re.compile(r"[1-9A-HJ-NP-Za-km-z]{24}")


@pytest.mark.parametrize(
    ("data", "encoded"),
    [
        (b"", ""),
        (bytes.fromhex("61"), "2g"),
        (bytes.fromhex("626262"), "a3gV"),
        (bytes.fromhex("636363"), "aPEr"),
        (b"simply a long string", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
        (bytes.fromhex("00eb15231dfceb60925886b67d065299925915aeb172c06647"), "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
        (bytes.fromhex("516b6fcd0f"), "ABnLTmg"),
        (bytes.fromhex("bf4f89001e670274dd"), "3SEo3LWLoPntC"),
        (bytes.fromhex("572e4794"), "3EFU7m"),
        (bytes.fromhex("ecac89cad93923c02321"), "EJDM8drfXA6uyA"),
        (bytes.fromhex("10c8511e"), "Rt5zm"),
        (bytes(10), "1111111111"),
    ],
)
def test_base58_matches_the_bitcoin_vectors(data: bytes, encoded: str) -> None:
    assert base58(data) == encoded


def test_model_id_is_pinned_forever() -> None:
    # Ids are stored by clients: a change of the derivation would break every integration. Golden value:
    # base58(sha256('["recruhr:abc","ats_candidates","42"]'))[:24].
    assert model_id("recruhr:abc", ModelName.CANDIDATES, 42) == "EpRcVNiNyc4GA8Zs3snY6oDK"


def reference_id(*parts: str) -> str:
    """The derivation as the docstring states it, computed the slow way."""
    canonical = json.dumps(parts, separators=(",", ":"))
    return base58(hashlib.sha256(canonical.encode()).digest())[:24]


def test_model_id_equals_the_first_24_characters_of_the_full_encoding() -> None:
    # Remote ids 1220, 1360, 1731 and 1747 give digests with a leading zero byte: the rare slow path.
    for remote_id in range(2_000):
        assert model_id("i", ModelName.JOBS, remote_id) == reference_id("i", "ats_jobs", str(remote_id))


@given(st.text(), st.sampled_from(ModelName), st.text())
def test_any_text_is_canonicalised_as_json_dumps_writes_it(
    integration_id: str, model: ModelName, remote_id: str
) -> None:
    # The canonical array was written with json.dumps(ensure_ascii=False); the ids derived from it must not change.
    canonical = json.dumps([integration_id, model.value, remote_id], ensure_ascii=False, separators=(",", ":"))
    expected = base58(hashlib.sha256(canonical.encode()).digest())[:24]
    assert model_id(integration_id, model, remote_id) == expected


def test_model_id_is_24_base58_characters_and_deterministic() -> None:
    first = model_id("recruhr:abc", ModelName.JOBS, 7)
    assert BASE58_ID.fullmatch(first)
    assert model_id("recruhr:abc", ModelName.JOBS, 7) == first
    assert model_id("recruhr:abc", ModelName.JOBS, "7") == first


def test_model_id_differs_per_integration_model_and_remote_id() -> None:
    ids = {
        model_id("recruhr:abc", ModelName.JOBS, 7),
        model_id("recruhr:abd", ModelName.JOBS, 7),
        model_id("recruhr:abc", ModelName.USERS, 7),
        model_id("recruhr:abc", ModelName.JOBS, 8),
        join_id("recruhr:abc", ModelName.JOBS_USERS, 7, 8),
        join_id("recruhr:abc", ModelName.JOBS_USERS, 8, 7),
        join_id("recruhr:abc", ModelName.JOBS_APPLICATION_STAGES, 7, 8),
    }
    assert len(ids) == 7
    assert all(BASE58_ID.fullmatch(id_) for id_ in ids)


def test_parts_cannot_run_into_each_other() -> None:
    assert join_id("i", ModelName.CANDIDATES_TAGS, "1", "23") != join_id("i", ModelName.CANDIDATES_TAGS, "12", "3")


def test_no_collisions_over_many_remote_ids() -> None:
    ids = {model_id("recruhr:abc", ModelName.APPLICATIONS, n) for n in range(100_000)}
    assert len(ids) == 100_000


def test_new_integration_id_is_random_recruhr_prefixed() -> None:
    first, second = new_integration_id(), new_integration_id()
    assert first != second
    for integration_id in (first, second):
        prefix, rest = integration_id.split(":")
        assert prefix == "recruhr"
        assert BASE58_ID.fullmatch(rest)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("EpRcVNiNyc4GA8Zs3snY6oDK", True),
        ("2DyBk6HeBtoRRXF1FfVEBxg", False),
        ("2DyBk6HeBtoRRXF1FfVEBxgYY", False),
        ("0DyBk6HeBtoRRXF1FfVEBxgY", False),
        ("IDyBk6HeBtoRRXF1FfVEBxgY", False),
        ("lDyBk6HeBtoRRXF1FfVEBxgY", False),
        ("remote:42", False),
    ],
)
def test_is_model_id(value: str, valid: bool) -> None:
    assert is_model_id(value) is valid
