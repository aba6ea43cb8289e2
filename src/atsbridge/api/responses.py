"""JSON answers: the success envelopes of unified-api §1, encoded once, straight from plain dicts."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response

from atsbridge.unified.models import action_payload, data_payload


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def success(data: Any) -> Response:
    return json_response(data_payload(data))


def action_success(data: Any, warnings: list[str]) -> Response:
    return json_response(action_payload(data, warnings))
