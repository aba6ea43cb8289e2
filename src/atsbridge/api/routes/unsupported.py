"""Kombo's ATS endpoints that RECRU has no data or action for: they answer ``INTEGRATION.MODEL_NOT_AVAILABLE`` /
``INTEGRATION.ACTION_NOT_AVAILABLE`` (unified-api §1; 403, as their ``*_DISABLED`` siblings) after the usual API
key and integration checks, instead of an unknown path's bare 404, so a client built on Kombo's SDK learns why.
The integration's details (``GET /v1/integrations/{id}``) list what is available."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response

from atsbridge.api.auth import integration
from atsbridge.api.errors import ApiError
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.store.integrations import Integration
from atsbridge.unified.models import ErrorCode

router = APIRouter(route_class=StrictJsonRoute, prefix="/ats", tags=["ATS"])

MODELS = {
    "/interviews": "interviews",
    "/offers": "offers",
    "/rejection-reasons": "rejection reasons",
    "/roles": "roles",
    "/scorecards": "scorecards",
    "/notes": "notes",
    "/attachments": "a list of all attachments (read a candidate's or an application's attachments)",
}
ACTIONS = {
    ("POST", "/applications/{application_id}/notes"): "adding notes",
    ("POST", "/applications/{application_id}/reject"): "rejecting applications",
    ("PUT", "/applications/{application_id}/stage"): "moving applications to another stage",
    ("POST", "/applications/{application_id}/attachments"): "uploading attachments to an application",
    ("POST", "/applications/{application_id}/result-links"): "result links",
    ("POST", "/candidates/{candidate_id}/attachments"): "uploading attachments to a candidate",
    ("POST", "/candidates/{candidate_id}/result-links"): "result links",
    ("POST", "/import-tracked-application"): "importing tracked applications",
}


def _refusal(code: ErrorCode, message: str, path: str) -> Callable[..., Response]:
    """The endpoint of ``path``, declaring its path parameter (OpenAPI requires each one), refusing with ``code``."""

    def endpoint(_integration: Annotated[Integration, Depends(integration)], **_path: str) -> Response:
        raise ApiError(code, message)

    own = inspect.signature(endpoint).parameters["_integration"]
    declared = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[str, Path()])
        for name in re.findall(r"\{(\w+)\}", path)
    ]
    endpoint.__signature__ = inspect.Signature([own, *declared], return_annotation=Response)  # type: ignore[attr-defined]
    return endpoint


for _path, _what in MODELS.items():
    router.add_api_route(
        _path,
        _refusal("INTEGRATION.MODEL_NOT_AVAILABLE", f"RECRU does not offer {_what}: not available here.", _path),
        methods=["GET"],
        summary=f"Not available for RECRU ({_what}).",
    )
for (_method, _path), _what in ACTIONS.items():
    router.add_api_route(
        _path,
        _refusal("INTEGRATION.ACTION_NOT_AVAILABLE", f"RECRU does not offer {_what}: not available here.", _path),
        methods=[_method],
        summary=f"Not available for RECRU ({_what}).",
    )
