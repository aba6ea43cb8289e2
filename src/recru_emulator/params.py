"""Reading and checking JSON-RPC params: every problem is collected as ``{path: reason}`` (spec §9).

A ``Checker`` gathers the reasons of one request; ``Checker.done()`` raises -32602 naming every bad field at once.
Readers return ``None`` for an absent or invalid value, so a handler can go on checking the rest.
"""

from __future__ import annotations

import binascii
import re
from datetime import date, datetime
from typing import Any

from recru_emulator.clock import format_ts, parse_ts
from recru_emulator.errors import invalid_params

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BASE64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
MISSING = object()


class Checker:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def fail(self, path: str, reason: str) -> None:
        self.fields.setdefault(path, reason)

    def done(self) -> None:
        if self.fields:
            raise invalid_params(self.fields)


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def field(obj: dict[str, Any], key: str, ch: Checker, prefix: str, required: bool) -> Any:
    """The raw value, ``MISSING`` if absent or null (after reporting ``required`` when it is required)."""
    value = obj.get(key)
    if value is None:
        if required:
            ch.fail(join(prefix, key), "required")
        return MISSING
    return value


def integer(
    obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False, minimum: int = 1
) -> int | None:
    value = field(obj, key, ch, prefix, required)
    if value is MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    if value < minimum:
        ch.fail(join(prefix, key), "out_of_range")
        return None
    return value


def boolean(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> bool | None:
    value = field(obj, key, ch, prefix, required)
    if value is MISSING:
        return None
    if not isinstance(value, bool):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    return value


def text(
    obj: dict[str, Any],
    key: str,
    ch: Checker,
    prefix: str = "",
    *,
    required: bool = False,
    max_length: int = 200,
) -> str | None:
    value = field(obj, key, ch, prefix, required)
    if value is MISSING:
        return None
    path = join(prefix, key)
    if not isinstance(value, str):
        ch.fail(path, "invalid_type")
        return None
    value = value.strip()
    if not value:
        if required:
            ch.fail(path, "required")
        return None
    if len(value) > max_length:
        ch.fail(path, "too_long")
        return None
    return value


def enum(
    obj: dict[str, Any],
    key: str,
    allowed: tuple[str, ...],
    ch: Checker,
    prefix: str = "",
    *,
    required: bool = False,
) -> str | None:
    value = field(obj, key, ch, prefix, required)
    if value is MISSING:
        return None
    if not isinstance(value, str):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    if value not in allowed:
        ch.fail(join(prefix, key), "invalid_enum")
        return None
    return value


def email(obj: dict[str, Any], key: str, ch: Checker, prefix: str, *, required: bool = True) -> str | None:
    value = text(obj, key, ch, prefix, required=required, max_length=254)
    if value is not None and not EMAIL_RE.match(value):
        ch.fail(join(prefix, key), "invalid_email")
        return None
    return value


def day(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> str | None:
    """A ``YYYY-MM-DD`` date."""
    value = field(obj, key, ch, prefix, required)
    if value is MISSING:
        return None
    if not isinstance(value, str):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value).isoformat()
    except ValueError:
        ch.fail(join(prefix, key), "invalid_format")
        return None


def moment(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> datetime | None:
    """A timestamp with an offset, as aware UTC (a timestamp without an offset is ``invalid_format``)."""
    value = field(obj, key, ch, prefix, required)
    if value is MISSING:
        return None
    if not isinstance(value, str):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    try:
        return parse_ts(value)
    except ValueError:
        ch.fail(join(prefix, key), "invalid_format")
        return None


def timestamp(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> str | None:
    parsed = moment(obj, key, ch, prefix, required=required)
    return None if parsed is None else format_ts(parsed)


def number(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> float | None:
    value = field(obj, key, ch, prefix, required)
    if value is MISSING:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    if value < 0:
        ch.fail(join(prefix, key), "out_of_range")
        return None
    return value


def mapping(
    container: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False
) -> dict[str, Any] | None:
    value = field(container, key, ch, prefix, required)
    if value is MISSING:
        return None
    if not isinstance(value, dict):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    return value


def array(
    container: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False
) -> list[Any] | None:
    value = field(container, key, ch, prefix, required)
    if value is MISSING:
        return None
    if not isinstance(value, list):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    if required and not value:
        ch.fail(join(prefix, key), "required")
        return None
    return value


def base64_bytes(container: dict[str, Any], key: str, ch: Checker, prefix: str) -> bytes | None:
    value = field(container, key, ch, prefix, True)
    if value is MISSING:
        return None
    if not isinstance(value, str):
        ch.fail(join(prefix, key), "invalid_type")
        return None
    try:
        if len(value) % 4 or not BASE64_RE.fullmatch(value):
            raise ValueError("not canonical base64")
        return binascii.a2b_base64(value, strict_mode=True)
    except (binascii.Error, ValueError):
        ch.fail(join(prefix, key), "invalid_base64")
        return None
