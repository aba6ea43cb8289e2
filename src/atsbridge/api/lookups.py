"""Record references in paths and bodies: our id, or ``remote:<RECRU id>``, resolved to the RECRU id."""

from __future__ import annotations

from sqlalchemy import Engine, select

from atsbridge.api.errors import ApiError
from atsbridge.store import tables
from atsbridge.store.integrations import Integration
from atsbridge.unified.ids import ModelName

REMOTE_PREFIX = "remote:"
NOUNS = {
    ModelName.JOBS: "job",
    ModelName.CANDIDATES: "candidate",
    ModelName.APPLICATIONS: "application",
    ModelName.APPLICATION_STAGES: "stage",
}


def remote_id_of(engine: Engine, integration: Integration, model: ModelName, ref: str, *, status: int = 404) -> int:
    """The RECRU id of a live record of ``model``; a ``remote:`` reference RECRU may know without us having synced
    it yet is passed on as it is. Anything else unknown is ``PLATFORM.INPUT_INVALID`` with ``status``."""
    table = tables.MODEL_TABLES[model]
    remote = ref.startswith(REMOTE_PREFIX)
    wanted = ref.removeprefix(REMOTE_PREFIX).strip()
    column = table.c.remote_id if remote else table.c.id
    with engine.connect() as conn:
        found = conn.execute(
            select(table.c.remote_id).where(
                table.c.integration_id == integration.id, column == wanted, table.c.remote_deleted_at.is_(None)
            )
        ).scalar()
    if found is None and remote and wanted.isdigit():
        found = wanted
    if found is None or not str(found).isdigit():
        raise ApiError("PLATFORM.INPUT_INVALID", f"No {NOUNS.get(model, 'record')} {ref!r}.", status=status)
    return int(found)
