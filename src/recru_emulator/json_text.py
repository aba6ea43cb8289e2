"""Request bodies read as JSON by RFC 8259: Python's parser also takes ``NaN``, ``Infinity`` and ``-Infinity``, turns
a number too large for a float (``1e400``) into an infinity, and turns an escaped lone surrogate (``"\\ud800"``) into
a string no UTF-8 can hold; none of those is JSON text of §1, and stored, they would make every later answer holding
them unwritable."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def loads(raw: bytes) -> Any:
    """The JSON value of ``raw``; ValueError when it is not JSON, holds a number no float can hold, or nests deeper
    than Python's parser can follow (it recurses per level), or holds a lone surrogate."""
    try:
        value = json.loads(raw, parse_constant=_not_json, parse_float=_finite)
        if _SURROGATE_ESCAPE.search(raw):
            _check_text(value)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    return value


def _check_text(value: Any) -> None:
    """ValueError if any string in ``value`` (keys too) is not UTF-8 text: a surrogate escape not part of a pair."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ValueError("a string holds a lone surrogate") from None
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of a float's range")
    return value
