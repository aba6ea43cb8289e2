"""``GET /v1/ats/*``: the mirrored RECRU data, read from the store only (unified-api §2-§4).

No ``from __future__ import annotations`` here: FastAPI must see each endpoint's real parameter model, which is a
closure variable of the endpoint factory.
"""

from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from atsbridge.api.auth import readable_integration, store
from atsbridge.api.params import (
    ApplicationsParams,
    CandidatesParams,
    JobsParams,
    ListParams,
    UsersParams,
    refuse_repeated,
)
from atsbridge.api.responses import success
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.store.db import snapshot
from atsbridge.store.integrations import Integration
from atsbridge.store.reader import Reader
from atsbridge.unified import models
from atsbridge.unified.ids import ModelName

router = APIRouter(route_class=StrictJsonRoute, prefix="/ats", tags=["ATS"])

LISTS: tuple[tuple[str, ModelName, type[ListParams], Any, str], ...] = (
    ("/users", ModelName.USERS, UsersParams, models.User, "Users (recruiters) of RECRU."),
    ("/jobs", ModelName.JOBS, JobsParams, models.Job, "Jobs (RECRU projects) with stages and hiring team."),
    ("/candidates", ModelName.CANDIDATES, CandidatesParams, models.Candidate, "Candidates with applications and tags."),
    ("/applications", ModelName.APPLICATIONS, ApplicationsParams, models.Application, "Applications."),
    ("/application-stages", ModelName.APPLICATION_STAGES, ListParams, models.ApplicationStage, "Pipeline stages."),
    ("/tags", ModelName.TAGS, ListParams, models.Tag, "Tags of RECRU."),
)


def _list_endpoint(model: ModelName, params_type: type[ListParams]) -> Any:
    def endpoint(
        request: Request,
        params: Annotated[params_type, Query()],  # type: ignore[valid-type]
        integration: Annotated[Integration, Depends(readable_integration)],
    ) -> Response:
        refuse_repeated(request)
        query = cast(ListParams, params).to_query()
        with snapshot(store(request)) as conn:
            results, next_cursor = Reader(conn, integration).page(model, query)
        return success({"next": next_cursor, "results": results})

    return endpoint


for _path, _model, _params, _shape, _summary in LISTS:
    router.add_api_route(
        _path,
        _list_endpoint(_model, _params),
        methods=["GET"],
        response_model=models.ListResponse[_shape],  # type: ignore[valid-type]
        summary=_summary,
        name=f"get_ats_{_model.value.removeprefix('ats_')}",
    )
