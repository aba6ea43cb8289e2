"""The connection flow's API (unified-api §6): links and the token exchange (the page a link opens:
``connect_pages``).

- ``POST /v1/connect/create-link`` (bearer): a link ``{base}/connect/{token}`` for one end user; EMBEDDED links live
  an hour, MAGIC_LINK links a year. ``integration_tool`` must be ``recruhr`` (or absent); for it every
  ``integration_category`` means ATS. The SDK's other options are accepted and ignored; languages other than
  ``en``/``de`` show the page in English.
- ``GET /v1/connect/links/{id}`` (bearer, same environment; the event's ``log_url``): the link's state, its failed
  attempts and the last one's reason (a ``CredentialProblem`` code). ``id`` is the hex SHA-256 of the token.
- **Token semantics**: the link's token is also the exchange token. Once the link has been used, ``GET
  /v1/connect/integration-by-token/{token}`` (bearer, same environment) answers the integration it created: the
  backend that created the link already knows the token (the last path segment of ``link``); an embedding page also
  receives it from the completed status page as ``postMessage({type: "atsbridge:connect:success", token})``. The
  token is a 256-bit secret stored only as its SHA-256 digest, works only with an API key of the link's
  environment, and never reveals an integration before the end user has connected one through it. It stays
  exchangeable as long as the integration exists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from atsbridge.api.auth import Caller, caller, store
from atsbridge.api.errors import ApiError, echoed, invalid_input
from atsbridge.api.public_base import public_base
from atsbridge.api.responses import success
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.connectors.recru.credentials import CredentialProblem
from atsbridge.connectors.recru.guide import language_of
from atsbridge.store import connect_links as links
from atsbridge.store.connect_links import LinkState
from atsbridge.store.integrations import (
    ORGANIZATION_NAME_MAX,
)
from atsbridge.unified.inputs import EmailAddress, StorableText, printable, visible
from atsbridge.unified.models import ApiModel, DataResponse, format_datetime

TOOL = "recruhr"

router = APIRouter(route_class=StrictJsonRoute, prefix="/connect", tags=["Connect"])


class CreateLinkBody(StorableText):
    """What ``create_connection_link`` of the SDK sends; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    end_user_email: EmailAddress  # as a create's e-mail: the events and the integration show it
    end_user_organization_name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=ORGANIZATION_NAME_MAX),
        AfterValidator(printable),
        AfterValidator(visible),
    ]
    end_user_origin_id: str | None = Field(default=None, max_length=500)
    integration_category: Literal["HRIS", "ATS", "ASSESSMENT", "LMS"] | None = "HRIS"
    integration_tool: str | None = None
    language: Literal["en", "de", "fr", "it", "es"] | None = "en"
    link_type: Literal["EMBEDDED", "MAGIC_LINK"] | None = "EMBEDDED"
    remote_environment: str | None = None
    scope_config_id: str | None = None
    enable_filtering: StrictBool | None = False  # true or false, as every flag the API takes: not "yes" or 1
    enable_field_mapping: StrictBool | None = False
    enable_static_ips: StrictBool | None = False

    @field_validator("end_user_origin_id")
    @classmethod
    def _origin_id(cls, value: str | None) -> str | None:
        """A blank origin id is none: the API and the events then both say ``null``."""
        return value if value and value.strip() else None

    @field_validator("end_user_email", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class ConnectLinkData(ApiModel):
    link: str = Field(description="The hosted connection page for the end user.")


class IntegrationByToken(ApiModel):
    tool: str
    id: str
    end_user_origin_id: str | None
    end_user_organization_name: str
    end_user_email: str | None
    setup_status: Literal["INCOMPLETE", "FINAL_SYNC_PENDING", "COMPLETED"]


class LinkDetails(ApiModel):
    id: str = Field(description="The link's id: the SHA-256 digest (hex) of its token.")
    state: LinkState = Field(
        description="OPEN: the form is shown; USED: an integration was connected through it; LOCKED: it refuses "
        "attempts after too many failed ones; EXPIRED: past expires_at."
    )
    expires_at: datetime
    failed_attempts: int
    max_failed_attempts: int = Field(description="The failed attempts that lock the link.")
    last_failed_at: datetime | None
    last_failure: CredentialProblem | None = Field(description="Why the last failed attempt failed.")
    integration_id: str | None = Field(description="The integration connected through the link (once USED).")


@router.post(
    "/create-link",
    response_model=DataResponse[ConnectLinkData],
    summary="Create a link to the hosted connection page.",
)
def create_link(request: Request, body: CreateLinkBody, who: Annotated[Caller, Depends(caller)]) -> Response:
    if (body.integration_tool or TOOL) != TOOL:
        raise invalid_input(
            f"integration_tool {echoed(body.integration_tool or '')} is not available: the only tool is {TOOL!r}."
        )
    link = new_link(
        request,
        who.environment_id,
        end_user=(body.end_user_email, body.end_user_organization_name, body.end_user_origin_id),
        language=body.language,
        link_type=body.link_type,
    )
    return success({"link": link})


def new_link(
    request: Request,
    environment_id: str,
    *,
    end_user: tuple[str, str, str | None],
    language: str | None,
    link_type: str | None,
    relinks: str | None = None,
) -> str:
    """A new link to the hosted page (its URL) for the end user (e-mail, organisation, origin id); ``relinks``: the
    integration whose credentials it replaces (``POST /v1/integrations/{id}/relink``)."""
    email, organization, origin_id = end_user
    with store(request).begin() as conn:
        token = links.create_link(
            conn,
            environment_id=environment_id,
            end_user_email=email,
            end_user_organization_name=organization,
            end_user_origin_id=origin_id,
            language=language_of(language) or "en",
            link_type=link_type or "EMBEDDED",
            now=datetime.now(UTC),
            relinks=relinks,
        )
    return f"{public_base(request)}/connect/{token}"


@router.get(
    "/integration-by-token/{token}",
    response_model=DataResponse[IntegrationByToken],
    summary="The integration created through a connection link (its token is the link's last path segment).",
)
def integration_by_token(request: Request, token: str, who: Annotated[Caller, Depends(caller)]) -> Response:
    with store(request).connect() as conn:
        found = links.integration_of_token(conn, token, who.environment_id)
    if found is None:
        raise ApiError(
            "PLATFORM.INTEGRATION_NOT_FOUND",
            "No integration has been connected through this token in the environment of this API key "
            "(the link may not have been used yet, or the integration it connected was deleted since).",
        )
    return success(
        {
            "tool": found.tool,
            "id": found.id,
            "end_user_origin_id": found.end_user_origin_id,
            "end_user_organization_name": found.end_user_organization_name,
            "end_user_email": found.end_user_email,
            "setup_status": found.setup_status,
        }
    )


@router.get(
    "/links/{link_id}",
    response_model=DataResponse[LinkDetails],
    summary="A connection link's state: its failed attempts and why the last one failed.",
)
def link_details(request: Request, link_id: str, who: Annotated[Caller, Depends(caller)]) -> Response:
    with store(request).connect() as conn:
        link = links.link_of_environment(conn, link_id, who.environment_id)
    if link is None:
        raise ApiError(None, "No connection link with this id exists in the environment of this API key.", status=404)
    return success(
        {
            "id": link.token_hash,
            "state": link.state(datetime.now(UTC)),
            "expires_at": format_datetime(link.expires_at),
            "failed_attempts": link.failed_attempts,
            "max_failed_attempts": links.MAX_FAILED_ATTEMPTS,
            "last_failed_at": None if link.last_failed_at is None else format_datetime(link.last_failed_at),
            "last_failure": link.last_failure,
            "integration_id": link.integration_id,
        }
    )
