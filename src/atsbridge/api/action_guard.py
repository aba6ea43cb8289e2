"""Guards around write actions: at most 30 in flight per integration, and ``Idempotency-Key`` replays.

- **Concurrency.** A 31st action of one integration while 30 are running is refused at once with 429
  ``PLATFORM.CONCURRENCY_LIMIT_EXCEEDED``, counted in the store across every API process
  (``store.action_slots``).
- **Idempotency.** The first request with a key claims it (a row inserted under the primary key
  ``(integration, key)``, so two simultaneous requests cannot both claim it); its final answer is stored and
  replayed to every retry with the same key and body for 24 hours. A retry that arrives while the first is still
  running waits for its answer. The same key with another body is refused. Answers worth retrying (429, 5xx, any
  with a ``Retry-After``) are not kept: the key is released so the retry acts again. Every action that runs past
  ``ACTION_DEADLINE`` is stopped with 504 ``PLATFORM.TASK_TIMED_OUT`` (a keyed one's key released as after any
  5xx), so a claim still without an answer after ``PENDING_LEASE`` belongs to an API process that died mid-action:
  it is released too, and the retry acts instead of being refused until the key expires (the create itself then
  finds what RECRU stored, if anything). A claim is told by its instant, so a first request that ends after its
  claim was taken over neither overwrites nor releases the new one.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.responses import Response
from sqlalchemy import ColumnElement, Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from atsbridge.api.errors import ApiError, error_response, integration_not_found
from atsbridge.api.responses import json_response
from atsbridge.store.action_slots import NoSlot, give_back, take_slot
from atsbridge.store.tables import idempotency_keys

MAX_ACTIONS_IN_FLIGHT = 30
KEY_LIFETIME = timedelta(hours=24)
ACTION_DEADLINE = timedelta(minutes=4)
PENDING_LEASE = timedelta(minutes=5)  # longer than ACTION_DEADLINE: a claim this old has no live request behind it
SLOT_LEASE = ACTION_DEADLINE + timedelta(minutes=2)  # a slot is held for an action and the writes around it
WAIT_FOR_FIRST = 60.0
POLL_SECONDS = 0.05


class ActionSlots:
    """Slots of the actions in flight, ``limit`` per integration, shared through the store."""

    def __init__(self, engine: Engine, limit: int = MAX_ACTIONS_IN_FLIGHT) -> None:
        self.engine = engine
        self.limit = limit

    @asynccontextmanager
    async def slot(self, integration_id: str) -> AsyncIterator[None]:
        taken = await asyncio.to_thread(self._take, integration_id)
        if taken is NoSlot.INTEGRATION_GONE:
            raise integration_not_found(integration_id)
        if taken is NoSlot.FULL:
            raise ApiError(
                "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
                f"At most {self.limit} actions per integration may run at once; retry when one has finished.",
                headers={"Retry-After": "1"},
            )
        try:
            yield
        finally:
            # shielded: a request cancelled on its way out still frees its slot
            await asyncio.shield(asyncio.to_thread(self._give_back, integration_id, taken))

    def _take(self, integration_id: str) -> str | NoSlot:
        with self.engine.begin() as conn:
            return take_slot(conn, integration_id, limit=self.limit, now=datetime.now(UTC), lease=SLOT_LEASE)

    def _give_back(self, integration_id: str, slot_id: str) -> None:
        with self.engine.begin() as conn:
            give_back(conn, integration_id, slot_id)


def request_hash(method: str, path: str, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = body.decode(errors="replace")
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()


async def _within_deadline(action: Callable[[], Awaitable[Response]]) -> Response:
    """``action``'s answer, or 504 ``PLATFORM.TASK_TIMED_OUT`` once it has run for ``ACTION_DEADLINE``."""
    try:
        async with asyncio.timeout(ACTION_DEADLINE.total_seconds()):
            return await action()
    except TimeoutError:
        return error_response(
            ApiError("PLATFORM.TASK_TIMED_OUT", "The action did not finish in time; RECRU may have stored it.")
        )


class Idempotency:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def run(
        self, integration_id: str, key: str | None, fingerprint: str, action: Callable[[], Awaitable[Response]]
    ) -> Response:
        if key is None:
            return await _within_deadline(action)
        if len(key) > 255:
            raise ApiError("PLATFORM.INPUT_INVALID", "Idempotency-Key: at most 255 characters.")
        if not key.strip():
            raise ApiError("PLATFORM.INPUT_INVALID", "Idempotency-Key is empty: send a key, or no such header.")
        claimed_at = await asyncio.to_thread(self._claim, integration_id, key, fingerprint)
        if claimed_at is None:
            return await self._replay(integration_id, key, fingerprint)
        try:
            response = await _within_deadline(action)
        except ApiError as error:
            response = error_response(error)
        except BaseException:
            await asyncio.to_thread(self._release, integration_id, key, claimed_at)
            raise
        if response.status_code >= 500 or response.status_code == 429 or "retry-after" in response.headers:
            await asyncio.to_thread(self._release, integration_id, key, claimed_at)
        else:
            await asyncio.to_thread(self._keep, integration_id, key, claimed_at, response)
        return response

    def _claim(self, integration_id: str, key: str, fingerprint: str) -> datetime | None:
        """Claim the key; the claim's instant (which tells it from a later claim of the key), or ``None``."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.integration_id == integration_id,
                    idempotency_keys.c.key == key,
                    or_(
                        idempotency_keys.c.created_at < now - KEY_LIFETIME,
                        and_(
                            idempotency_keys.c.status_code.is_(None),
                            idempotency_keys.c.created_at < now - PENDING_LEASE,
                        ),
                    ),
                )
            )
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(idempotency_keys).values(
                        integration_id=integration_id, key=key, request_hash=fingerprint, created_at=now
                    )
                )
        except IntegrityError:
            return None
        return now

    def _stored(self, integration_id: str, key: str) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.integration_id == integration_id, idempotency_keys.c.key == key
                )
            ).one_or_none()

    async def _replay(self, integration_id: str, key: str, fingerprint: str) -> Response:
        deadline = asyncio.get_running_loop().time() + WAIT_FOR_FIRST
        while True:
            row = await asyncio.to_thread(self._stored, integration_id, key)
            if row is not None and row.request_hash != fingerprint:
                raise ApiError(
                    "PLATFORM.INPUT_INVALID",
                    "This Idempotency-Key was already used with a different request; use a new key.",
                )
            if row is not None and row.status_code is not None:
                return _replayed(row.response, row.status_code)
            if row is None:
                raise ApiError(
                    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
                    "The first request with this Idempotency-Key failed meanwhile; send it again.",
                    headers={"Retry-After": "1"},
                )
            if asyncio.get_running_loop().time() > deadline:
                raise ApiError(
                    "PLATFORM.CONCURRENCY_LIMIT_EXCEEDED",
                    "The first request with this Idempotency-Key is still running; retry shortly.",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(POLL_SECONDS)

    def _keep(self, integration_id: str, key: str, claimed_at: datetime, response: Response) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(idempotency_keys)
                .where(*_the_claim(integration_id, key, claimed_at))
                .values(status_code=response.status_code, response=bytes(response.body).decode())
            )

    def _release(self, integration_id: str, key: str, claimed_at: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(idempotency_keys).where(*_the_claim(integration_id, key, claimed_at)))


def _the_claim(integration_id: str, key: str, claimed_at: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        idempotency_keys.c.integration_id == integration_id,
        idempotency_keys.c.key == key,
        idempotency_keys.c.created_at == claimed_at,
    )


def _replayed(kept: Any, status: int) -> Response:
    """The first answer again, byte for byte: it is kept as its text (a JSON string; PostgreSQL's JSONB would
    reorder an object's keys). A key kept as an object by an earlier version is answered re-encoded."""
    headers = {"Idempotent-Replayed": "true"}
    if isinstance(kept, str):
        return Response(kept.encode(), status_code=status, headers=headers, media_type="application/json")
    return json_response(kept, status, headers)
