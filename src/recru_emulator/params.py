"""Reading and checking JSON-RPC params: every problem is collected as ``{path: reason}`` (spec §9).

A ``Checker`` gathers the reasons of one request; ``Checker.done()`` raises -32602 naming every bad field at once.
Readers return ``None`` for an absent or invalid value, so a handler can go on checking the rest.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

from recru_emulator.clock import format_ts, parse_ts
from recru_emulator.errors import invalid_params

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
BASE64_RE = re.compile(r"[A-Za-z0-9+/]*={0,2}")
DAY_RE = re.compile(r"\d{4}-\d\d-\d\d", re.ASCII)
MISSING = object()
T = TypeVar("T")
Accepts = Callable[[Any], bool]


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


def typed(obj: dict[str, Any], key: str, ch: Checker, prefix: str, required: bool, accepts: Accepts) -> Any:
    """The raw value if present and of the accepted type; else ``MISSING`` (after reporting ``required`` for an
    absent or null required value, ``invalid_type`` for a value of another type)."""
    value = obj.get(key)
    if value is None:
        if required:
            ch.fail(join(prefix, key), "required")
        return MISSING
    if not accepts(value):
        ch.fail(join(prefix, key), "invalid_type")
        return MISSING
    return value


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_dict(value: Any) -> bool:
    return isinstance(value, dict)


def _is_list(value: Any) -> bool:
    return isinstance(value, list)


def _at_least(value: Any, minimum: float | None, path: str, ch: Checker) -> Any:
    if value is MISSING:
        return None
    if minimum is not None and value < minimum:
        ch.fail(path, "out_of_range")
        return None
    return value


def integer(
    obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False, minimum: int | None = None
) -> int | None:
    """An integer param; below ``minimum`` → ``out_of_range``. Ids have none: an id no record has (0 included) is
    answered by the existence checks (-32004, or ``not_allowed`` for a stage), as spec §9 reserves ``out_of_range``
    for ``page`` and ``perPage``."""
    value = typed(obj, key, ch, prefix, required, _is_int)
    result: int | None = _at_least(value, minimum, join(prefix, key), ch)
    return result


MAX_NUMBER = 2**53
"""The largest amount taken: the largest integer a JSON reader holding numbers as doubles reads exactly (a larger
one, stored, would be served to every listing: 10**400 is no double at all)."""


def number(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> float | None:
    """A number from 0 to ``MAX_NUMBER`` (else ``out_of_range``)."""
    value = typed(obj, key, ch, prefix, required, _is_number)
    result: float | None = _at_least(value, 0, join(prefix, key), ch)
    if result is not None and result > MAX_NUMBER:
        ch.fail(join(prefix, key), "out_of_range")
        return None
    return result


def boolean(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> bool | None:
    value = typed(obj, key, ch, prefix, required, _is_bool)
    return None if value is MISSING else bool(value)


def text(
    obj: dict[str, Any],
    key: str,
    ch: Checker,
    prefix: str = "",
    *,
    required: bool = False,
    max_length: int = 200,
) -> str | None:
    value = typed(obj, key, ch, prefix, required, _is_str)
    if value is MISSING:
        return None
    path = join(prefix, key)
    value = value.strip()
    if not value:
        if required:
            ch.fail(path, "required")
        return None
    if len(value) > max_length:
        ch.fail(path, "too_long")
        return None
    return str(value)


def enum(
    obj: dict[str, Any],
    key: str,
    allowed: tuple[str, ...],
    ch: Checker,
    prefix: str = "",
    *,
    required: bool = False,
) -> str | None:
    value = typed(obj, key, ch, prefix, required, _is_str)
    if value is MISSING:
        return None
    if value not in allowed:
        ch.fail(join(prefix, key), "invalid_enum")
        return None
    return str(value)


def email(obj: dict[str, Any], key: str, ch: Checker, prefix: str, *, required: bool = True) -> str | None:
    value = text(obj, key, ch, prefix, required=required, max_length=254)
    if value is not None and not EMAIL_RE.match(value):
        ch.fail(join(prefix, key), "invalid_email")
        return None
    return value


def _parsed(
    obj: dict[str, Any], key: str, ch: Checker, prefix: str, required: bool, parse: Callable[[str], T]
) -> T | None:
    """A string field turned into a value by ``parse`` (a ValueError is ``invalid_format``)."""
    value = typed(obj, key, ch, prefix, required, _is_str)
    if value is MISSING:
        return None
    try:
        return parse(value)
    except ValueError:
        ch.fail(join(prefix, key), "invalid_format")
        return None


def _iso_day(value: str) -> str:
    if not DAY_RE.fullmatch(value):  # date.fromisoformat also takes week dates and the basic form
        raise ValueError(value)
    return date.fromisoformat(value).isoformat()


def day(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> str | None:
    """A ``YYYY-MM-DD`` date."""
    return _parsed(obj, key, ch, prefix, required, _iso_day)


def moment(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> datetime | None:
    """A timestamp with an offset, as aware UTC (a timestamp without an offset is ``invalid_format``)."""
    return _parsed(obj, key, ch, prefix, required, parse_ts)


def timestamp(obj: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False) -> str | None:
    parsed = moment(obj, key, ch, prefix, required=required)
    return None if parsed is None else format_ts(parsed)


def mapping(
    container: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False
) -> dict[str, Any] | None:
    value = typed(container, key, ch, prefix, required, _is_dict)
    return None if value is MISSING else dict(value)


def array(
    container: dict[str, Any], key: str, ch: Checker, prefix: str = "", *, required: bool = False
) -> list[Any] | None:
    value = typed(container, key, ch, prefix, required, _is_list)
    if value is MISSING:
        return None
    if required and not value:
        ch.fail(join(prefix, key), "required")
        return None
    return list(value)


def _canonical_base64(value: str) -> bytes:
    if len(value) % 4 or not BASE64_RE.fullmatch(value):
        raise ValueError("not canonical base64")
    try:
        return binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error as error:
        raise ValueError(str(error)) from error


def base64_bytes(container: dict[str, Any], key: str, ch: Checker, prefix: str) -> bytes | None:
    value = typed(container, key, ch, prefix, True, _is_str)
    if value is MISSING:
        return None
    try:
        return _canonical_base64(value)
    except ValueError:
        ch.fail(join(prefix, key), "invalid_base64")
        return None
