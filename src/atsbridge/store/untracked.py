"""Forgetting what "sync only created applications" does not serve: the applications not created through us and
the candidates of none of the tracked ones, left from a time the integration mirrored everything.

In that mode nothing keeps them up to date (they are neither listed nor looked up), so switching back to mirroring
everything would serve them at once, stale and with records RECRU deleted since, until the FULL it queues has
listed everything again. A FULL run in that mode therefore forgets them (rows removed, not tombstoned: RECRU did not
delete them), with their candidates' tag links. Mirroring everything again stores them afresh, under the same ids.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, delete, not_, select

from atsbridge.store import tables
from atsbridge.store.reader import INTEGRATION_ID, tracked_conditions
from atsbridge.unified.ids import ModelName


def forget_untracked(conn: Connection, integration_id: str) -> int:
    """Remove the integration's applications and candidates its tracked set does not reach (in this order: the
    candidates kept are those of tracked applications); returns how many records went."""
    forgotten = 0
    for model, table in ((ModelName.APPLICATIONS, tables.applications), (ModelName.CANDIDATES, tables.candidates)):
        served = and_(*tracked_conditions(model))
        removed = conn.execute(
            delete(table).where(table.c.integration_id == integration_id, not_(served)),
            {INTEGRATION_ID: integration_id},
        )
        forgotten += removed.rowcount
    links = tables.candidates_tags
    kept = select(tables.candidates.c.id).where(tables.candidates.c.integration_id == integration_id)
    conn.execute(delete(links).where(links.c.integration_id == integration_id, links.c.candidate_id.not_in(kept)))
    return forgotten
