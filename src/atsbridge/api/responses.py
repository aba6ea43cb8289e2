"""JSON answers: the success envelopes of unified-api §1, encoded once by orjson, straight from plain dicts
(datetimes as RFC 3339 with ``Z``; anything else orjson cannot write goes out as ``str``)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

from atsbridge.unified.models import action_payload, data_payload


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def success(data: Any) -> Response:
    return json_response(data_payload(data))


def action_success(data: Any, warnings: list[str]) -> Response:
    return json_response(action_payload(data, warnings))
