"""The create actions (unified-api §5): create an application, or a candidate with its application (tag actions:
``ats_tags``; how every action runs: ``api.action_run``).

Each create validates its input and its attachments before RECRU is called, then writes what RECRU stored into
the store in the same request (write-through), so the response and every following GET show it; created
applications join the integration's tracked set as soon as RECRU answers the create. If RECRU fails while the
created records are read back, the answer says that the application exists, and a DELTA sync is queued to store it.
A create is remembered while it is being sent (``store.pending_applications``); if RECRU never answers it (and
looking it up finds nothing), or the action is cut off meanwhile, it stays remembered: RECRU may store it later,
and then a retry adopts it and syncs track it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Engine

from atsbridge.api import action_guard
from atsbridge.api.action_run import (
    ActiveIntegration,
    IdempotencyKey,
    ReadBack,
    guarded,
    recru_client,
    refused,
    store_read_back,
)
from atsbridge.api.auth import store
from atsbridge.api.errors import ApiError
from atsbridge.api.lookups import job_takes, remote_id_of, unstored_remote_ids
from atsbridge.api.remote_errors import remote_error, remote_error_telling
from atsbridge.api.responses import action_success
from atsbridge.api.strict_json import StrictJsonRoute
from atsbridge.api.uploads import AllowList, prepare
from atsbridge.connectors.base import ActionRefused
from atsbridge.connectors.recru import actions as recru
from atsbridge.connectors.recru import write_params
from atsbridge.connectors.recru.errors import RecruError, RecruOutcomeUnknown
from atsbridge.store import pending_applications
from atsbridge.store.db import snapshot
from atsbridge.store.integrations import Integration, track_application
from atsbridge.store.reader import ListQuery, Reader
from atsbridge.store.syncs import DELTA
from atsbridge.sync import refresh
from atsbridge.unified import models
from atsbridge.unified.ids import ModelName, model_id
from atsbridge.unified.inputs import ActionExtras, CandidateInput, CreateApplicationBody, CreateCandidateBody

router = APIRouter(route_class=StrictJsonRoute, prefix="/ats", tags=["ATS actions"])

log = logging.getLogger("atsbridge.api")
JOB_STATE_LEARNED = ("job_closed", "job_not_found", "stage_not_allowed")  # refusals telling the job's state in RECRU


async def _write_through(
    request: Request, integration_: Integration, project_id: int, created: recru.CreatedApplication
) -> None:
    """Store the application and its candidate, and its job too where the stored one does not agree with what RECRU
    accepted (not stored yet: a job given as ``remote:<id>`` before a sync brought it; or stored as not open, or
    without the application's stage), so the answer and every GET show the job and the stage's index."""
    client = await recru_client(request, integration_)
    asked_at = datetime.now(UTC)
    applications = await refresh.fetch(client, ModelName.APPLICATIONS, [created.application_id])
    candidates = await refresh.fetch(client, ModelName.CANDIDATES, [created.jobseeker_id])
    stage_id = (applications.get(created.application_id) or {}).get("stageId")
    job_agrees = await asyncio.to_thread(job_takes, store(request), integration_, project_id, stage_id)
    jobs = {} if job_agrees else await refresh.fetch(client, ModelName.JOBS, [project_id])
    # an application answered by a retry may have been rejected since its create: its reason's name is a codebook's
    rejected = any((payload or {}).get("rejectionReasonId") is not None for payload in applications.values())
    codebooks = await refresh.fetch_codebooks(client) if jobs or rejected else None
    fetched = {ModelName.APPLICATIONS: applications, ModelName.CANDIDATES: candidates, ModelName.JOBS: jobs}
    referring = refresh.references(fetched)
    referring.pop(ModelName.JOBS, None)  # the job is read above where needed, with the codebooks its mapping needs
    referring.pop(ModelName.CANDIDATES, None)  # and the candidate with the application
    unstored = await asyncio.to_thread(unstored_remote_ids, store(request), integration_, referring)
    referenced = await refresh.fetch_referenced(client, unstored)

    read_back: list[ReadBack] = [(model, payloads, None) for model, payloads in referenced.items()]
    if jobs:
        read_back.append((ModelName.JOBS, jobs, codebooks))
    read_back += [(ModelName.CANDIDATES, candidates, None), (ModelName.APPLICATIONS, applications, codebooks)]
    await asyncio.to_thread(store_read_back, store(request), integration_.id, read_back, asked_at)


def _track(engine: Engine, integration_id: str, created: recru.CreatedApplication) -> None:
    with engine.begin() as conn:
        track_application(conn, integration_id, str(created.application_id), str(created.jobseeker_id))


async def _store_created(
    request: Request, integration_: Integration, new: recru.NewApplication, created: recru.CreatedApplication
) -> None:
    """Track the application RECRU just created (so every later sync reads it, whatever happens next) and write it
    through. If RECRU fails while it is read back, a DELTA sync is queued to store it and the answer says it exists;
    then, and if the action is cut off meanwhile, the create stays pending (``store.pending_applications``), so a
    retry of it answers that application."""
    engine = store(request)
    try:
        await asyncio.to_thread(_track, engine, integration_.id, created)
        await _write_through(request, integration_, new.project_id, created)
    except RecruError as error:
        await asyncio.to_thread(_outcome_unknown, engine, integration_.id, new.project_id, new.candidate.email_address)
        await request.app.state.syncs.request(integration_.id, DELTA)
        application_id, _ = _ids(integration_, created)
        raise remote_error_telling(
            error,
            lambda why: (
                f"RECRU created the application (id {application_id}, RECRU id {created.application_id}), but it "
                f"could not be read back ({why}). The next sync of the integration stores it; the same request sent "
                "again answers it."
            ),
        ) from error
    except BaseException:  # cut off (the action's deadline) before it was stored: a retry still answers it
        await asyncio.to_thread(_outcome_unknown, engine, integration_.id, new.project_id, new.candidate.email_address)
        raise


async def _create(
    request: Request,
    integration_: Integration,
    job_ref: str,
    stage_ref: str | None,
    candidate: CandidateInput,
    extras: ActionExtras,
) -> recru.CreatedApplication:
    engine = store(request)
    project_id = await asyncio.to_thread(remote_id_of, engine, integration_, ModelName.JOBS, job_ref)
    stage_id = (
        None
        if stage_ref is None
        else await asyncio.to_thread(
            remote_id_of, engine, integration_, ModelName.APPLICATION_STAGES, stage_ref, status=400
        )
    )
    settings = request.app.state.settings
    files = await prepare(extras.attachments or [], recru.UPLOAD_LIMITS, AllowList.parse(settings.data_url_allowlist))
    try:
        consent = write_params.consent_params(extras, datetime.now(UTC).date())
        source = write_params.source_params(extras.source, integration_.source_label)
        new = recru.NewApplication(project_id, candidate, extras, files, source, stage_id)
        created = await _create_or_adopt(request, integration_, new, consent)
        await _store_created(request, integration_, new, created)
        await asyncio.to_thread(_forget_pending, engine, integration_.id, str(project_id), candidate.email_address)
    except ActionRefused as refusal:
        if refusal.kind in JOB_STATE_LEARNED:
            await _refresh_job(request, integration_, project_id)
        raise refused(refusal) from refusal
    except RecruOutcomeUnknown as lost:
        await asyncio.to_thread(_outcome_unknown, engine, integration_.id, project_id, candidate.email_address)
        raise remote_error_telling(
            lost,
            lambda why: (
                f"RECRU did not answer whether it created the application ({why}), and has not shown it yet; it "
                "may still do. Send the same request again later: if RECRU created it, the answer is that "
                "application (syncs look for it as well)."
            ),
        ) from lost
    except RecruError as error:
        raise remote_error(error) from error
    return created


async def _create_or_adopt(
    request: Request, integration_: Integration, new: recru.NewApplication, consent: dict[str, Any] | None
) -> recru.CreatedApplication:
    """Create the application, remembered as being sent (``store.pending_applications``) from just before it goes
    to RECRU until ``_create`` has stored it. If an earlier create of it through us ended with its outcome unknown
    and RECRU refuses this one (already applied; or the job closed since), the application RECRU has for the pair is
    this create's. The first create of the pair on its way remembers it, identical ones joining it are counted; a
    refusal (RECRU answered: nothing made) settles it once each of them was refused so (an application RECRU holds
    for the pair is then none of ours: another integration's on the same tenant, say); one of them may have made
    the application, and settles the pair itself once it has stored it (or leaves it pending if its outcome stays
    unknown), so the pair stays remembered until then (at most until their actions' ends). Meanwhile a retry is
    told to come back (``_refuse_as_sent_at_once``), never given the application while another create may still
    answer it; so is a create that found an application after its own answer was lost while others were on their way
    (``application_unclaimed``: which one made it is unknown). The outcome stays unknown as well when RECRU did not
    answer (``_create`` remembers it) or this action was cut off (its deadline; a killed process leaves it
    remembered until the action's end)."""
    client = await recru_client(request, integration_)
    engine = store(request)
    email, project = new.candidate.email_address, str(new.project_id)
    pending = await asyncio.to_thread(_is_pending, engine, integration_.id, project, email)
    sent = False
    first_until: datetime | None = None  # this create's deadline, if it was the first of the pair on its way

    async def before_sending() -> None:
        nonlocal sent, first_until
        if not sent:
            sent = True
            first_until = await asyncio.to_thread(_remember_sending, engine, integration_.id, project, email)

    async def alone(application_id: int) -> bool:
        if first_until is None:  # another create of the pair was on its way (or pending) before this one
            return False
        return await asyncio.to_thread(
            _still_alone, engine, integration_.id, project, email, first_until, str(application_id)
        )

    try:
        try:
            return await recru.create_application(client, new, consent, before_sending, alone)
        except ActionRefused:
            adopted = await recru.adopt_application(client, new) if pending else None
            if adopted is None:
                raise
            application_id = str(adopted.application_id)
            if not await asyncio.to_thread(_claim_pending, engine, integration_.id, project, email, application_id):
                raise  # another retry adopted it at the same moment (answered once), or it is another integration's
            return adopted
    except RecruOutcomeUnknown:
        raise
    except ActionRefused as refusal:
        if sent and refusal.kind != "application_unclaimed":
            await asyncio.to_thread(_answered, engine, integration_.id, project, email)
        if refusal.kind in ("application_exists", "application_unclaimed"):
            await _refuse_as_sent_at_once(refusal, engine, integration_.id, project, email)
        raise
    except RecruError:
        if sent:
            await asyncio.to_thread(_answered, engine, integration_.id, project, email)
        raise
    except BaseException:
        if sent:
            await asyncio.to_thread(_outcome_unknown, engine, integration_.id, new.project_id, email)
        raise


def _remember_sending(engine: Engine, integration_id: str, project_remote_id: str, email: str) -> datetime | None:
    """This create's deadline if it is the first of the pair on its way (it remembered the pair), else None."""
    now = datetime.now(UTC)
    until = now + action_guard.ACTION_DEADLINE
    with engine.begin() as conn:
        first = pending_applications.sending(conn, integration_id, project_remote_id, email, now, until)
    return until if first else None


def _claim_pending(
    engine: Engine, integration_id: str, project_remote_id: str, email: str, application_remote_id: str
) -> bool:
    """Settle the pending create for this retry, which adopts RECRU's application; False if another retry did at the
    same moment, or another integration on the tenant made the application (the pending create is settled then)."""
    with engine.begin() as conn:
        if pending_applications.taken_elsewhere(conn, integration_id, application_remote_id):
            pending_applications.forget(conn, integration_id, project_remote_id, email)
            return False
        return pending_applications.claim(conn, integration_id, project_remote_id, email, datetime.now(UTC))


def _still_alone(
    engine: Engine, integration_id: str, project_remote_id: str, email: str, until: datetime, application_remote_id: str
) -> bool:
    with engine.begin() as conn:
        if pending_applications.taken_elsewhere(conn, integration_id, application_remote_id):
            # another integration's: no create of the pair through this one made it, so the pair is settled (a
            # retry is a plain 409, not told to wait for this create's action to end)
            pending_applications.forget(conn, integration_id, project_remote_id, email)
            return False
        return pending_applications.alone(conn, integration_id, project_remote_id, email, until)


def _answered(engine: Engine, integration_id: str, project_remote_id: str, email: str) -> None:
    with engine.begin() as conn:
        pending_applications.answered(conn, integration_id, project_remote_id, email)


def _outcome_unknown(engine: Engine, integration_id: str, project_id: int, email: str) -> None:
    with engine.begin() as conn:
        pending_applications.unknown(conn, integration_id, str(project_id), email, datetime.now(UTC))


SENT_AT_ONCE_RETRY_AFTER = 10  # seconds: most creates end within that; one cut off is adoptable after its deadline


async def _refuse_as_sent_at_once(
    refusal: ActionRefused, engine: Engine, integration_id: str, project: str, email: str
) -> None:
    """ "Already applied" met a create that another create of the pair through us sent (or was cut off sending)
    at the same moment: the application may be that one's. Then the 409 says so, with a ``Retry-After`` (so an
    ``Idempotency-Key`` does not keep it; at most ``SENT_AT_ONCE_RETRY_AFTER``, asked again while that create is
    on its way): once that create's action has ended, a retry adopts the application if its outcome stayed
    unknown. Returns if no such create is remembered (a plain "already applied")."""
    now = datetime.now(UTC)
    after = await asyncio.to_thread(_adoptable_from, engine, integration_id, project, email, now)
    if after is None:
        return
    seconds = max(1, min(SENT_AT_ONCE_RETRY_AFTER, round((after - now).total_seconds())))
    message = (
        f"{refusal.message} Another create of this application through atsbridge was on its way to RECRU at the "
        "same moment, or was cut off on its way (its process stopped), so RECRU's application may be that one's. "
        "If that was an earlier attempt of yours whose answer you did not get, send this request again after "
        "Retry-After: once that create has ended, the answer is its application if its own answer was lost, and "
        "a plain 409 if it was answered."
    )
    raise ApiError("ATS.APPLICATION_ALREADY_EXISTS", message, headers={"Retry-After": str(seconds)}) from refusal


def _adoptable_from(engine: Engine, integration_id: str, project: str, email: str, now: datetime) -> datetime | None:
    with engine.connect() as conn:
        return pending_applications.adoptable_from(conn, integration_id, project, email, now)


def _is_pending(engine: Engine, integration_id: str, project_remote_id: str, email: str) -> bool:
    with engine.connect() as conn:
        return pending_applications.is_pending(conn, integration_id, project_remote_id, email, datetime.now(UTC))


def _forget_pending(engine: Engine, integration_id: str, project_remote_id: str, email: str) -> None:
    with engine.begin() as conn:
        pending_applications.forget(conn, integration_id, project_remote_id, email)


async def _refresh_job(request: Request, integration_: Integration, project_id: int) -> None:
    """Re-read the job RECRU just refused an application to (closed, or gone) into the store, so reads agree with
    the refusal before the next sync; best effort: the refusal is answered whatever happens here."""
    try:
        client = await recru_client(request, integration_)
        asked_at = datetime.now(UTC)
        jobs = await refresh.fetch(client, ModelName.JOBS, [project_id])
        codebooks = await refresh.fetch_codebooks(client) if any(jobs.values()) else None
    except RecruError:
        log.warning("job %s of %s could not be re-read after a refusal", project_id, integration_.id, exc_info=True)
        return

    read_back: list[ReadBack] = [(ModelName.JOBS, jobs, codebooks)]
    await asyncio.to_thread(store_read_back, store(request), integration_.id, read_back, asked_at)


async def _read_created(
    request: Request, integration_: Integration, created: recru.CreatedApplication, model: ModelName
) -> dict[str, Any]:
    """The record the create made, as GET serves it; one RECRU deleted before it was read back (its job or its
    candidate deleted in RECRU meanwhile) is a 404 saying so."""
    application_id, candidate_id = _ids(integration_, created)
    record_id = application_id if model is ModelName.APPLICATIONS else candidate_id

    def read() -> list[dict[str, Any]]:
        with snapshot(store(request)) as conn:
            return Reader(conn, integration_).page(model, ListQuery(page_size=1, ids=(record_id,)))[0]

    results = await asyncio.to_thread(read)
    if not results:
        raise ApiError(
            "PLATFORM.INPUT_INVALID",
            f"RECRU created the application (RECRU id {created.application_id}, its candidate RECRU id "
            f"{created.jobseeker_id}), but it was deleted in RECRU before it could be read back: its job or its "
            "candidate was deleted meanwhile.",
            status=404,
        )
    return results[0]


def _ids(integration_: Integration, created: recru.CreatedApplication) -> tuple[str, str]:
    return (
        model_id(integration_.id, ModelName.APPLICATIONS, created.application_id),
        model_id(integration_.id, ModelName.CANDIDATES, created.jobseeker_id),
    )


@router.post(
    "/jobs/{job_id}/applications",
    response_model=models.ActionResponse[models.CreatedApplication],
    summary="Create an application (and its candidate, unless RECRU knows the e-mail) for a job.",
)
async def create_application(
    request: Request,
    job_id: str,
    body: CreateApplicationBody,
    integration_: ActiveIntegration,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def act() -> Response:
        created = await _create(request, integration_, job_id, body.stage_id, body.candidate, body)
        application = await _read_created(request, integration_, created, ModelName.APPLICATIONS)
        candidate = await _read_created(request, integration_, created, ModelName.CANDIDATES)
        candidate.pop("applications")
        for key in ("interviews", "offers"):
            application.pop(key)
        return action_success({**application, "candidate": candidate}, created.warnings)

    return await guarded(request, integration_, idempotency_key, act)


@router.post(
    "/candidates",
    response_model=models.ActionResponse[models.Candidate],
    summary="Create a candidate with an application (legacy; prefer creating an application).",
)
async def create_candidate(
    request: Request,
    body: CreateCandidateBody,
    integration_: ActiveIntegration,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    async def act() -> Response:
        application = body.application
        created = await _create(request, integration_, application.job_id, application.stage_id, body.candidate, body)
        candidate = await _read_created(request, integration_, created, ModelName.CANDIDATES)
        return action_success(candidate, created.warnings)

    return await guarded(request, integration_, idempotency_key, act)
