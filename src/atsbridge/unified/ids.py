"""Identifiers of the unified model: model names, deterministic record ids and integration ids.

A record's ``id`` is 24 characters of base58, derived from ``(integration id, model name, remote id)``: the sha256
of a canonical JSON array of those parts, base58-encoded, first 24 characters (≈ 140 bits). It is therefore stable
across re-syncs and re-installs of the same integration and distinct across integrations and models. Join rows have
no remote id of their own; theirs is derived the same way from the remote ids of the two records they link.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
import secrets
from enum import StrEnum

import orjson

BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ID_LENGTH = 24
INTEGRATION_ID_PREFIX = "recruhr:"

_POWERS_OF_58 = [58**exponent for exponent in range(45)]  # 58**44 > 2**256
_DIGIT_PAIRS = [high + low for high in BASE58_ALPHABET for low in BASE58_ALPHABET]  # 58**2 two-digit strings
_58_TO_2, _58_TO_4, _58_TO_6, _58_TO_12 = 58**2, 58**4, 58**6, 58**12
_ID_PATTERN = re.compile(f"[{BASE58_ALPHABET}]{{{ID_LENGTH}}}")


class ModelName(StrEnum):
    """The unified models and joins, named as in webhooks, coverage and the store's table names."""

    USERS = "ats_users"
    JOBS = "ats_jobs"
    APPLICATION_STAGES = "ats_application_stages"
    TAGS = "ats_tags"
    CANDIDATES = "ats_candidates"
    APPLICATIONS = "ats_applications"
    CANDIDATES_TAGS = "ats_join_candidates_tags"
    JOBS_APPLICATION_STAGES = "ats_join_jobs_application_stages"
    JOBS_USERS = "ats_join_jobs_users"


def base58(data: bytes) -> str:
    """Bitcoin-style base58 of ``data`` (leading zero bytes become leading ``1``s)."""
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(BASE58_ALPHABET[remainder])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return BASE58_ALPHABET[0] * leading_zeros + "".join(reversed(digits))


def _derived_id(*parts: str) -> str:
    """``base58(sha256(canonical parts))[:24]``, computed from the 24 leading base58 digits only (ids are hot).
    ``ID_LENGTH`` is 24: ``_base58_24`` is written for it.

    The canonical parts are ``json.dumps(parts, ensure_ascii=False, separators=(",", ":"))``, which orjson writes
    byte for byte, only faster; the hash of their first two (integration id and model name, shared by every id of
    a model) is computed once (``_hash_of_leading``) and copied.
    """
    hasher = _hash_of_leading(parts[0], parts[1]).copy()
    hasher.update(orjson.dumps(parts[2:])[1:])
    digest = hasher.digest()
    if digest[0] == 0:
        return base58(digest)[:ID_LENGTH]
    number = int.from_bytes(digest, "big")
    digit_count = bisect.bisect_right(_POWERS_OF_58, number)
    return _base58_24(number // _POWERS_OF_58[digit_count - ID_LENGTH])


def _base58_24(number: int) -> str:
    """The 24 base58 digits of ``number`` (< 58**24), most significant first.

    Two divisions cut it into four 6-digit chunks that fit a machine word, and each chunk is three digit pairs, so
    only two operations touch the big integer.
    """
    high, low = divmod(number, _58_TO_12)
    a, b = divmod(high, _58_TO_6)
    c, d = divmod(low, _58_TO_6)
    p = _DIGIT_PAIRS
    return "".join(
        [
            p[a // _58_TO_4], p[a // _58_TO_2 % _58_TO_2], p[a % _58_TO_2],
            p[b // _58_TO_4], p[b // _58_TO_2 % _58_TO_2], p[b % _58_TO_2],
            p[c // _58_TO_4], p[c // _58_TO_2 % _58_TO_2], p[c % _58_TO_2],
            p[d // _58_TO_4], p[d // _58_TO_2 % _58_TO_2], p[d % _58_TO_2],
        ]
    )  # fmt: skip


@functools.lru_cache(maxsize=64)
def _hash_of_leading(integration_id: str, model: str) -> hashlib._Hash:
    """sha256 fed with the canonical JSON of ``[integration_id, model,`` (see ``_derived_id``)."""
    return hashlib.sha256(orjson.dumps([integration_id, model])[:-1] + b",")


@functools.lru_cache(maxsize=1 << 14)
def model_id(integration_id: str, model: ModelName, remote_id: str | int) -> str:
    """Our id of the record ``remote_id`` of ``model`` in ``integration_id``."""
    return _derived_id(integration_id, model.value, str(remote_id))


def join_id(integration_id: str, join: ModelName, parent_remote_id: str | int, child_remote_id: str | int) -> str:
    """Our id of the join row linking two records, from their remote ids (parent first: job, candidate)."""
    return _derived_id(integration_id, join.value, str(parent_remote_id), str(child_remote_id))


def attachment_id(integration_id: str, remote_id: str | int) -> str:
    """Id of a RECRU attachment (attachments are served live, not stored, but their ids are as stable)."""
    return _derived_id(integration_id, "ats_attachments", str(remote_id))


def is_model_id(value: str) -> bool:
    """Whether ``value`` has the shape of one of our record ids."""
    return _ID_PATTERN.fullmatch(value) is not None


def new_integration_id() -> str:
    """A fresh random integration id: ``recruhr:`` + 24 base58 characters."""
    return INTEGRATION_ID_PREFIX + "".join(secrets.choice(BASE58_ALPHABET) for _ in range(ID_LENGTH))
