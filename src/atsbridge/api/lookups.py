"""Record references in paths and bodies: our id, or ``remote:<RECRU id>``, resolved to the RECRU id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, select

from atsbridge.api.errors import ApiError, echoed
from atsbridge.connectors.recru.tags import same_name
from atsbridge.store import tables, writer
from atsbridge.store.integrations import INTEGRATION_ID, Integration, tracked_conditions
from atsbridge.unified.ids import ModelName, is_model_id, model_id

REMOTE_PREFIX = "remote:"
NOUNS = {
    ModelName.JOBS: "job",
    ModelName.CANDIDATES: "candidate",
    ModelName.APPLICATIONS: "application",
    ModelName.APPLICATION_STAGES: "stage",
}


def _served_only(integration: Integration, model: ModelName) -> list[ColumnElement[bool]]:
    """What limits ``model`` to the records the API serves: the tracked applications and their candidates when the
    integration syncs only created applications (unified-api §5: only those are synced *and served*)."""
    return tracked_conditions(model) if integration.sync_only_created_applications else []


def _live_remote_id(
    engine: Engine, integration: Integration, model: ModelName, *, remote: bool, value: str, served: bool = False
) -> Any:
    table = tables.MODEL_TABLES[model]
    column = table.c.remote_id if remote else table.c.id
    conditions = [table.c.integration_id == integration.id, column == value, table.c.remote_deleted_at.is_(None)]
    if served:
        conditions += _served_only(integration, model)
    with engine.connect() as conn:
        return conn.execute(select(table.c.remote_id).where(*conditions), {INTEGRATION_ID: integration.id}).scalar()


def serves_candidate(engine: Engine, integration: Integration, remote_id: int) -> bool:
    """Whether the API serves RECRU's jobseeker ``remote_id`` (stored or not: one RECRU made since the last sync is
    read live) where it serves only some candidates ("sync only created applications"); always, otherwise."""
    if not integration.sync_only_created_applications:
        return True
    served = _live_remote_id(engine, integration, ModelName.CANDIDATES, remote=True, value=str(remote_id), served=True)
    return served is not None


def holds_live_tag(engine: Engine, integration: Integration, name: str) -> bool:
    """Whether the store serves a tag of that name (as the tag actions match names): one RECRU said it lacks is
    stale (deleted or renamed in RECRU since the last sync)."""
    table = tables.tags
    query = select(table.c.name).where(table.c.integration_id == integration.id, table.c.remote_deleted_at.is_(None))
    with engine.connect() as conn:
        return any(same_name(str(stored), name) for stored in conn.execute(query).scalars())


def job_takes(engine: Engine, integration: Integration, project_id: int, stage_id: int | None) -> bool:
    """Whether the store holds RECRU's project ``project_id`` as a live OPEN job whose pipeline has the stage
    ``stage_id`` (if given): what RECRU just accepted an application to. If not, the stored job is out of date."""
    jobs, pipeline = tables.jobs, tables.jobs_application_stages
    job = select(jobs.c.id).where(
        jobs.c.integration_id == integration.id,
        jobs.c.remote_id == str(project_id),
        jobs.c.remote_deleted_at.is_(None),
        jobs.c.status == "OPEN",
    )
    if stage_id is not None:
        stage = model_id(integration.id, ModelName.APPLICATION_STAGES, stage_id)
        in_pipeline = select(pipeline.c.id).where(
            pipeline.c.job_id == jobs.c.id, pipeline.c.stage_id == stage, pipeline.c.remote_deleted_at.is_(None)
        )
        job = job.where(in_pipeline.exists())
    with engine.connect() as conn:
        return conn.execute(job).first() is not None


def unstored_remote_ids(
    engine: Engine, integration: Integration, remote_ids: dict[ModelName, set[int]]
) -> dict[ModelName, set[int]]:
    """Of ``remote_ids`` per model, those the store holds no live record of (RECRU made them since the last sync)."""
    with engine.connect() as conn:
        return writer.unstored_remote_ids(conn, integration.id, remote_ids)


MAX_REMOTE_ID = 2**63 - 1


def _is_remote_id(value: str) -> bool:
    """RECRU ids are positive integers (of 64 bits: a longer number is no id, and is never parsed whole), written
    as RECRU writes them, as a ``remote_id`` is served: ``016`` is not RECRU's 16."""
    return (
        value.isascii()
        and value.isdigit()
        and not value.startswith("0")
        and len(value) <= len(str(MAX_REMOTE_ID))
        and int(value) <= MAX_REMOTE_ID
    )


def remote_id_of(engine: Engine, integration: Integration, model: ModelName, ref: str, *, status: int = 404) -> int:
    """The RECRU id of a live record of ``model`` the API serves; a ``remote:`` reference RECRU may know without us
    having synced it yet is passed on as it is, except where the integration serves only tracked applications and
    their candidates (a record not served is not reached through its attachments or tags either). Anything else
    unknown is ``PLATFORM.INPUT_INVALID`` with ``status`` — also a reference that cannot be an id at all, which is
    never looked up (PostgreSQL refuses NUL characters, say)."""
    remote = ref.startswith(REMOTE_PREFIX)
    wanted = ref.removeprefix(REMOTE_PREFIX).strip()
    shaped = _is_remote_id(wanted) if remote else is_model_id(wanted)
    found = _live_remote_id(engine, integration, model, remote=remote, value=wanted, served=True) if shaped else None
    if found is None and remote and shaped and not _served_only(integration, model):
        found = wanted
    if found is None or not _is_remote_id(str(found)):
        raise ApiError("PLATFORM.INPUT_INVALID", f"No {NOUNS.get(model, 'record')} {echoed(ref)}.", status=status)
    return int(found)
