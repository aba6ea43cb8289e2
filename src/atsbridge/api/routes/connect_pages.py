"""The hosted connection page (unified-api §6), which a link from ``POST /v1/connect/create-link`` opens.

- ``GET /connect/{token}``: the RECRU guide, its prerequisites and credential steps, then the form (tenant, login,
  password). ``POST /connect/{token}`` checks the credentials with a real login and ping; only then is the
  integration created (credentials encrypted, "sync only created applications" on), the link marked used and the
  first FULL sync queued, all in one transaction, and the browser sent (303) to ``/connect/{token}/status``, which
  refreshes itself until the first sync has completed. A reconnection link (``relinks``) replaces its
  integration's credentials instead.
- **Failed attempts**: credentials refused, a tenant address that is none, a tenant unreachable or answering with an
  error: each is recorded on the link with a ``connection-flow-failed`` event in one transaction (an empty field or
  a form not sent from this page is no attempt); refused logins are counted, and the one that reaches
  ``connect_links.MAX_FAILED_ATTEMPTS`` answers the "locked" notice (403) after its reason; from then on the link
  shows only that notice, without asking RECRU, and records no more events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine

from atsbridge.api import connect_page as page
from atsbridge.api.auth import store
from atsbridge.api.connect_texts import TEXTS, Notice
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.connectors.recru import credentials as recru_credentials
from atsbridge.connectors.recru.credentials import CredentialProblem
from atsbridge.connectors.recru.guide import PROBLEM_FIELDS, Language, guide, problem_message
from atsbridge.store import connect_links as links
from atsbridge.store.connect_links import ConnectLink, LinkState
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import (
    Integration,
    create_integration,
    load_integration,
)
from atsbridge.store.syncs import CANCELLED, FAILED, FULL, QUEUED, recent_syncs
from atsbridge.sync.reconnect import IntegrationGone, reconnect
from atsbridge.sync.scheduler import queue_sync
from atsbridge.webhooks import notify

log = logging.getLogger("atsbridge.connect")
router = APIRouter(route_class=StrictJsonRoute, prefix="/connect", include_in_schema=False)


STATUS_REFRESH_SECONDS = 2


FAILED_REFRESH_SECONDS = 60  # the retry comes within the hour (``FULL_RETRY_AFTER``)


def _find(engine: Engine, token: str) -> ConnectLink | None:
    with engine.connect() as conn:
        return links.find_link(conn, token)


BUSY_REFRESH_SECONDS = 3


NoticeKind = Literal["unknown", "used", "locked", "expired", "rejected", "busy", "gone"]


CLOSED: Mapping[LinkState, tuple[NoticeKind, int]] = {
    "USED": ("used", 410),
    "LOCKED": ("locked", 403),
    "EXPIRED": ("expired", 410),
}
"""The notice and status of a link that cannot show the form."""


def _notice(
    request: Request, token: str, kind: NoticeKind, language: Language, status: int, *, reason: str | None = None
) -> HTMLResponse:
    """A notice page; ``reason`` (why the attempt that ended here failed) comes before its text."""
    texts = TEXTS[language]
    notices = {
        "unknown": texts.unknown,
        "used": texts.used,
        "locked": texts.locked,
        "expired": texts.expired,
        "rejected": texts.form_rejected,
        "busy": texts.busy,
        "gone": texts.gone,
    }
    notice = notices[kind] if reason is None else Notice(notices[kind].title, (reason, *notices[kind].body))
    again = (
        f"{request.url_for('connect_form', token=token).path}?lang={language}" if kind in ("rejected", "busy") else None
    )
    # busy: another attempt (the first click of a double click) is being checked; the page goes back to the link by
    # itself, which shows the form again, or, once that attempt connected, the connection's status
    refresh = again if kind == "busy" else None
    return page.render(
        "notice.html",
        language,
        status=status,
        notice=notice,
        again_url=again,
        refresh_url=refresh,
        refresh_seconds=BUSY_REFRESH_SECONDS,
    )


def _closed(request: Request, token: str, link: ConnectLink | None, language: Language) -> Response | None:
    """The page for a link that cannot show the form (unknown, used, locked, expired, or a reconnection link whose
    integration is gone); None if it can. A used link whose integration exists leads to its status page: a second
    click of the form, or the link opened again, shows the connection and its first sync (and tells an embedding
    page), not a dead end."""
    if link is None:
        return _notice(request, token, "unknown", language, 404)
    state = link.state(datetime.now(UTC))
    if state == "OPEN":
        gone = link.relinks is not None and not _exists(store(request), link.relinks)
        return _notice(request, token, "gone", language, 410) if gone else None
    if state == "USED" and link.integration_id is not None and _exists(store(request), link.integration_id):
        status_path = request.url_for("connect_status", token=token).path
        return RedirectResponse(f"{status_path}?lang={language}", status_code=303)
    if state == "USED" and link.relinks is not None:
        return _notice(request, token, "gone", language, 410)
    kind, status = CLOSED[state]
    return _notice(request, token, kind, language, status)


def _exists(engine: Engine, integration_id: str) -> bool:
    with engine.connect() as conn:
        return load_integration(conn, integration_id) is not None


def _relinked(engine: Engine, link: ConnectLink) -> Integration | None:
    """The integration a reconnection link replaces the credentials of (None: it is gone, or the link is none)."""
    if link.relinks is None:
        return None
    with engine.connect() as conn:
        return load_integration(conn, link.relinks, link.environment_id)


def _form(
    request: Request,
    token: str,
    language: Language,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    relinked: Integration | None = None,
) -> HTMLResponse:
    """The guide and the form; for a reconnection link (``relinked``) the tenant is that integration's, read-only."""
    path = request.url_for("connect_form", token=token).path
    if relinked is not None:
        values = {**(values or {}), "tenant": relinked.tenant_url}
    secret = request.app.state.settings.encryption_key
    return page.render(
        "connect.html",
        language,
        status=422 if errors else 200,
        guide=guide(language, relink=relinked is not None),
        action=path,
        switch_url=f"{path}?lang={page.other_language(language)}",
        csrf=page.csrf_token(secret, token, time.time()),
        values=values or {},
        errors=errors or {},
        relink=relinked is not None,
    )


@router.get("/{token}", name="connect_form", response_model=None)
def connect_form(request: Request, token: str, lang: str | None = None) -> Response:
    link = _find(store(request), token)
    language = page.page_language(link.language if link else None, lang)
    closed = _closed(request, token, link, language)
    if closed is not None:
        return closed
    assert link is not None  # _closed answers for an unknown link
    if link.being_checked(datetime.now(UTC)):  # the page a second click's notice goes back to while the first runs
        return _notice(request, token, "busy", language, 200)
    return _form(request, token, language, relinked=_relinked(store(request), link))


@router.post("/{token}", name="connect_submit", response_model=None)
async def connect_submit(request: Request, token: str, lang: str | None = None) -> Response:
    form = await page.read_form(request)
    link = await asyncio.to_thread(_find, store(request), token)
    language = page.page_language(link.language if link else None, (form or {}).get("lang") or lang)
    closed = _closed(request, token, link, language)
    if closed is not None:
        return closed
    assert link is not None  # _closed answers for an unknown link
    settings = request.app.state.settings
    if form is None or not page.form_accepted(request, settings.encryption_key, token, form):
        return _notice(request, token, "rejected", language, 400)
    relinked = await asyncio.to_thread(_relinked, store(request), link)
    values = {name: form.get(name, "").strip() for name in ("tenant", "login")}
    if relinked is not None:  # whatever was sent: a reconnection keeps the integration's tenant
        values["tenant"] = relinked.tenant_url
    password = form.get("password", "")
    errors = {
        field.name: field.missing
        for field in guide(language).fields
        if not (password if field.name == "password" else values[field.name])
    }
    if errors:
        return _form(request, token, language, values=values, errors=errors, relinked=relinked)
    owner = await asyncio.to_thread(_begin_check, store(request), link)
    if owner is None:
        current = await asyncio.to_thread(_find, store(request), token)
        return _closed(request, token, current, language) or _notice(request, token, "busy", language, 429)
    try:
        return await _attempt(request, token, link, language, values, password, relinked)
    finally:
        await asyncio.to_thread(_end_check, store(request), link, owner)


async def _attempt(
    request: Request,
    token: str,
    link: ConnectLink,
    language: Language,
    values: dict[str, str],
    password: str,
    relinked: Integration | None,
) -> Response:
    """Check the credentials of a complete form; save the integration (or, for a reconnection link, its new
    credentials) if RECRU accepts them, else record why not."""
    settings = request.app.state.settings
    credentials = RecruCredentials(values["login"], password)
    tenant = values["tenant"]
    try:
        if relinked is None:  # the operator may have given a reconnected integration any address
            tenant = recru_credentials.tenant_url(tenant, allow_custom=settings.allow_custom_tenant_urls)
        await recru_credentials.check_credentials(tenant, credentials)
    except recru_credentials.CredentialsRefused as refused:
        locked = await asyncio.to_thread(_record_failure, store(request), link, refused.problem)
        log.info("connect link %s…: credentials refused (%s)", link.token_hash[:8], refused.detail)
        message = problem_message(refused.problem, tenant, language, relink=relinked is not None)
        if locked:
            return _notice(request, token, "locked", language, 403, reason=message)
        errors = {PROBLEM_FIELDS[refused.problem]: message}
        return _form(request, token, language, values=values, errors=errors, relinked=relinked)
    if relinked is not None:
        return await _reconnect_attempt(request, token, link, language, relinked, credentials)
    connected = await asyncio.to_thread(_connect, store(request), settings.encryption_key, link, tenant, credentials)
    if connected is None:  # used, or expired, while the credentials were checked: the page says which
        now_closed = await asyncio.to_thread(_find, store(request), token)
        return _closed(request, token, now_closed, language) or _notice(request, token, "used", language, 410)
    integration_id, sync_id = connected
    log.info("connect link %s…: integration %s created, sync %s queued", link.token_hash[:8], integration_id, sync_id)
    return await _to_status(request, token, language, integration_id, (sync_id, FULL))


async def _reconnect_attempt(
    request: Request,
    token: str,
    link: ConnectLink,
    language: Language,
    relinked: Integration,
    credentials: RecruCredentials,
) -> Response:
    """Store the accepted credentials of a reconnection link's integration, and lead to the status page."""
    key = request.app.state.settings.encryption_key
    try:
        queued = await asyncio.to_thread(_reconnect, store(request), key, link, relinked.id, credentials)
    except IntegrationGone:
        return _notice(request, token, "gone", language, 410)
    except _LinkTaken:
        now_closed = await asyncio.to_thread(_find, store(request), token)
        return _closed(request, token, now_closed, language) or _notice(request, token, "used", language, 410)
    log.info("connect link %s…: integration %s reconnected", link.token_hash[:8], relinked.id)
    return await _to_status(request, token, language, relinked.id, queued)


async def _to_status(
    request: Request, token: str, language: Language, integration_id: str, queued: tuple[str, str] | None
) -> Response:
    """Dispatch the sync ``queued`` (its id and type) and send the browser to the link's status page."""
    if queued is not None:
        sync_id, sync_type = queued
        try:
            await request.app.state.syncs.dispatch(sync_id, integration_id, sync_type)
        except Exception:  # the sync stays queued; the scheduler's next tick or the worker's tick picks it up
            log.exception("could not dispatch sync %s of %s", sync_id, integration_id)
    status_path = request.url_for("connect_status", token=token).path
    return RedirectResponse(f"{status_path}?lang={language}", status_code=303)


def _begin_check(engine: Engine, link: ConnectLink) -> str | None:
    with engine.begin() as conn:
        return links.begin_check(conn, link, datetime.now(UTC))


def _end_check(engine: Engine, link: ConnectLink, owner: str) -> None:
    with engine.begin() as conn:
        links.end_check(conn, link, owner)


def _record_failure(engine: Engine, link: ConnectLink, problem: CredentialProblem) -> bool:
    """Count a failed attempt and record its ``connection-flow-failed`` event, in one transaction (neither if the link
    was used or locked meanwhile); True if this attempt locked the link."""
    with engine.begin() as conn:
        failed = links.record_failure(conn, link, problem.value, datetime.now(UTC))
        if failed is not None:
            notify.connection_flow_failed(conn, link)
    return failed == links.MAX_FAILED_ATTEMPTS and problem == links.COUNTED_FAILURE


class _LinkTaken(Exception):
    """The link was used (or expired) between the check and the save."""


def _connect(
    engine: Engine, key: bytes, link: ConnectLink, tenant: str, credentials: RecruCredentials
) -> tuple[str, str] | None:
    """Create the integration, mark the link used, record the ``integration-created`` event and queue the first FULL
    sync, in one transaction; returns (integration id, sync id), or None if the link was used meanwhile (then nothing
    is saved)."""
    try:
        with engine.begin() as conn:
            integration_id = create_integration(
                conn,
                key,
                environment_id=link.environment_id,
                tenant_url=tenant,
                credentials=credentials,
                end_user_email=link.end_user_email,
                end_user_organization_name=link.end_user_organization_name,
                end_user_origin_id=link.end_user_origin_id,
            )
            if not links.claim(conn, link, integration_id, datetime.now(UTC)):
                raise _LinkTaken
            notify.integration_created(conn, integration_id)
            sync_id, _already = queue_sync(conn, integration_id, FULL)
    except _LinkTaken:
        return None
    return integration_id, sync_id


def _reconnect(
    engine: Engine, key: bytes, link: ConnectLink, integration_id: str, credentials: RecruCredentials
) -> tuple[str, str] | None:
    """Reconnect the integration with ``credentials`` and mark the link used, in one transaction; the sync queued."""
    with engine.begin() as conn:
        queued = reconnect(conn, key, integration_id, credentials)
        if not links.claim(conn, link, integration_id, datetime.now(UTC)):
            raise _LinkTaken
    return queued


@router.get("/{token}/status", name="connect_status", response_model=None)
def connect_status(request: Request, token: str, lang: str | None = None) -> Response:
    engine = store(request)
    link = _find(engine, token)
    language = page.page_language(link.language if link else None, lang)
    if link is None:
        return _notice(request, token, "unknown", language, 404)
    if link.used_at is None:
        closed = _closed(request, token, link, language)
        form_path = request.url_for("connect_form", token=token).path
        return closed or RedirectResponse(f"{form_path}?lang={language}", status_code=303)
    with engine.connect() as conn:
        integration = None if link.integration_id is None else load_integration(conn, link.integration_id)
        if integration is None:
            return _notice(request, token, "used" if link.relinks is None else "gone", language, 410)
        first = next((row for row in recent_syncs(conn, integration.id) if row.type == FULL), None)
        counts = links.stored_counts(conn, integration.id)
    texts = TEXTS[language]
    done = integration.setup_status == "COMPLETED"
    relinked = link.relinks is not None
    state = first.state if first else QUEUED
    failed = not done and state in (FAILED, CANCELLED)
    return page.render(
        "status.html",
        language,
        done=done,
        failed=failed,
        state_label=texts.states.get(state, state),
        records=[(label, counts[model]) for model, label in texts.models.items()],
        refresh=None if done else FAILED_REFRESH_SECONDS if failed else STATUS_REFRESH_SECONDS,
        done_title=texts.relinked_title if relinked else texts.done_title,
        done_body=texts.relinked_body if relinked else texts.done_body,
        token=token,
        switch_url=f"{request.url.path}?lang={page.other_language(language)}",
    )
