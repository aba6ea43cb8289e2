"""Environment-level endpoints (bearer only): ``GET /v1/check-api-key``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from atsbridge.api.auth import Caller, caller
from atsbridge.api.responses import success
from atsbridge.unified import models

router = APIRouter(tags=["General"])


@router.get("/check-api-key", response_model=models.DataResponse[models.ApiKeyInfo], summary="Check an API key.")
def check_api_key(who: Annotated[Caller, Depends(caller)]) -> Response:
    return success({"environment_id": who.environment_id})
