"""Write-through: re-read a few records from RECRU and put them in the store, exactly as a sync would (same
mapping, same writer, the same codebooks where the model's mapping names entries from them), so the next GET sees
them at once and a later sync finds nothing to change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruNotFound
from atsbridge.connectors.recru.mapping import Codebooks, MappingContext, joins_by_parent
from atsbridge.connectors.recru.streams import STREAMS, Stream
from atsbridge.store.deletions import mark_deleted
from atsbridge.store.writer import prepare_joins, prepare_records, write_batch
from atsbridge.unified.ids import ModelName, model_id

STREAM_OF = {stream.model: stream for stream in STREAMS}


async def fetch(client: RecruClient, model: ModelName, remote_ids: Iterable[int]) -> dict[int, dict[str, Any] | None]:
    """Each record's current RECRU payload (``None``: RECRU no longer has it)."""
    stream = STREAM_OF[model]
    assert stream.get_method is not None
    found: dict[int, dict[str, Any] | None] = {}
    for remote_id in remote_ids:
        try:
            found[remote_id] = await client.call(stream.get_method, {"id": remote_id})
        except RecruNotFound:
            found[remote_id] = None
    return found


def references(fetched: dict[ModelName, dict[int, dict[str, Any] | None]]) -> dict[ModelName, set[int]]:
    """The users, jobs, stages, tags and candidates the fetched payloads refer to, as their mapping notes them
    (``MappingContext.referenced``): an application's job, stage and candidate, a job's pipeline stages and hiring
    team, a candidate's tags."""
    ctx = MappingContext(integration_id="")
    for model, payloads in fetched.items():
        for payload in payloads.values():
            if payload is not None:
                STREAM_OF[model].mapper(payload, ctx)
    return dict(ctx.referenced)


async def fetch_referenced(
    client: RecruClient, remote_ids: dict[ModelName, set[int]]
) -> dict[ModelName, dict[int, dict[str, Any] | None]]:
    """The RECRU payloads of the referenced records ``remote_ids`` (stages and tags from their whole lists, others
    one by one); a record RECRU does not have is left out, not marked gone."""
    found: dict[ModelName, dict[int, dict[str, Any] | None]] = {}
    for model, wanted in remote_ids.items():
        if not wanted:
            continue
        stream = STREAM_OF[model]
        if stream.paginated:
            payloads = await fetch(client, model, sorted(wanted))
        else:
            payloads = {item["id"]: item for item in await client.list_all(stream.list_method)}
        found[model] = {remote_id: item for remote_id, item in payloads.items() if remote_id in wanted and item}
    return found


async def fetch_codebooks(client: RecruClient) -> Codebooks:
    """The codebooks the mappings name entries from (a job's department and location, a rejection reason)."""
    items = {name: await client.list_all("CodebookService.get", {"name": name}) for name in Codebooks.NAMES}
    return Codebooks.from_items(items)


def store(
    conn: Connection,
    integration_id: str,
    model: ModelName,
    payloads: dict[int, dict[str, Any] | None],
    codebooks: Codebooks | None = None,
    *,
    fetched_at: datetime,
) -> None:
    """Upsert the payloads (and their join rows) and tombstone the records RECRU no longer has (what changed is
    then told by ``nested_marks.models_changed_since``). ``codebooks`` are needed for jobs and for rejected
    applications; without them such names would be stored as ``null``. ``fetched_at``: when the payloads were
    asked for (a record a sync stored meanwhile from a later read is left as it is)."""
    stream: Stream = STREAM_OF[model]
    ctx = MappingContext(integration_id, codebooks or Codebooks())
    now = datetime.now(UTC)
    mapped = [stream.mapper(payload, ctx) for payload in payloads.values() if payload is not None]
    if mapped:
        records = prepare_records(model, (m.record for m in mapped), conn.dialect)
        joins = [prepare_joins(join, rows, conn.dialect) for join, rows in joins_by_parent(mapped).items()]
        write_batch(conn, records, joins, integration_id, now=now, fetched_at=fetched_at)
    gone = [model_id(integration_id, model, remote_id) for remote_id, p in payloads.items() if p is None]
    if gone:
        mark_deleted(conn, model, integration_id, gone, now=now)
