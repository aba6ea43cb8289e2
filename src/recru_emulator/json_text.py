"""Request bodies read as JSON by RFC 8259: Python's parser also takes ``NaN``, ``Infinity`` and ``-Infinity``,
which are not JSON; stored, they would make every later answer holding them unreadable."""

from __future__ import annotations

import json
from typing import Any


def loads(raw: bytes | str) -> Any:
    """The JSON value of ``raw``; ValueError when it is not JSON."""
    return json.loads(raw, parse_constant=_not_json)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
