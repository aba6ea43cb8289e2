"""Request bodies read as JSON by RFC 8259: Python's parser also takes ``NaN``, ``Infinity`` and ``-Infinity``, and
turns a number too large for a float (``1e400``) into an infinity; none of those is JSON, and stored, they would make
every later answer holding them unreadable."""

from __future__ import annotations

import json
import math
from typing import Any


def loads(raw: bytes | str) -> Any:
    """The JSON value of ``raw``; ValueError when it is not JSON, holds a number no float can hold, or nests deeper
    than Python's parser can follow (it recurses per level)."""
    try:
        return json.loads(raw, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of a float's range")
    return value
