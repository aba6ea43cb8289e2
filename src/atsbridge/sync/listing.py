"""How a sync run reads RECRU's lists so that no record is skipped: offset pages fetched ahead (read again where
records vanished meanwhile), ``updatedSince`` pages asked from the last ``updatedAt`` seen, and ``get`` a few at a
time. What a listing learnt of its own reliability (``watermark_cap``) is left for the run to read."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruNotFound
from atsbridge.connectors.recru.streams import PAGE_SIZE, Stream

log = logging.getLogger("atsbridge.sync")
CONFIRM_CONCURRENCY = 4
PAGES_AHEAD = 2

Page = tuple[list[dict[str, Any]], int | None, datetime]
"""A page's items, the listing's ``total`` (``None`` where RECRU gives none) and when the page was asked for."""


def now() -> datetime:
    return datetime.now(UTC)


def recru_time(moment: datetime) -> str:
    """``moment`` (UTC) as RECRU writes times, to the second: ``2026-01-31T12:00:00Z`` (years < 1000 padded)."""
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _instant(value: Any) -> datetime | None:
    """A RECRU timestamp as an aware datetime (one without an offset taken as UTC); ``None`` if unreadable."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _after(stamp: Any, moment: datetime) -> bool:
    """Whether the RECRU timestamp ``stamp`` is of a later second than ``moment`` (an unreadable one is not)."""
    instant = _instant(stamp)
    return instant is not None and instant.replace(microsecond=0) > moment.replace(microsecond=0)


async def abandon(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait for them, so none is left running or with a failure nobody retrieved."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class _OffsetTally:
    """What one offset listing saw of the records RECRU deleted while it listed.

    The ``total`` of its first page, plus the records created since the listing began (RECRU stamps their
    ``createdAt`` at or after ``listed_from``; they are listed last, being the newest ids), minus the ``total`` of its
    last page, is the number of records that existed when it began and were deleted meanwhile. Each deletion
    shifts the later records one place back; the falls of the ``total`` from one page to the next, whose pages
    before are read again, account for some. A deletion and a creation between the same two pages leave the
    ``total`` as it was: such masked deletions are the rest.
    """

    listed_from: datetime
    first_total: int | None = None
    last_total: int | None = None
    fallen: int = 0
    stamped_since: set[int] = field(default_factory=set)  # ids of the records created at or after ``listed_from``
    newest_older: int = 0  # the highest id of a record created before ``listed_from``

    def count(self, result: dict[str, Any]) -> None:
        for item in result["items"]:
            id_, created_at = item.get("id"), _instant(item.get("createdAt"))
            if not isinstance(id_, int) or created_at is None:
                continue
            # RECRU stamps whole seconds: a record of the second the listing began counts (at worst one made just
            # before it makes the listing read again; not counting it could lose a record)
            if created_at >= self.listed_from:
                self.stamped_since.add(id_)
            else:
                self.newest_older = max(self.newest_older, id_)

    def created(self) -> int:
        """The records created while the listing ran: stamped since it began, and newer (RECRU's ids grow, never
        reused) than every record stamped before. One stamped since with a lower id was made while RECRU's clock
        was ahead, set back since: counting it made each FULL read the listing twice for as long as RECRU's clock
        stayed behind its stamp."""
        return sum(1 for id_ in self.stamped_since if id_ > self.newest_older)

    def page_total(self, total: int | None) -> None:
        if isinstance(total, int):
            self.first_total = total if self.first_total is None else self.first_total
            self.last_total = total

    def fell_by(self, records: int) -> None:
        self.fallen += records

    def masked_deletions(self) -> int:
        if self.first_total is None or self.last_total is None:
            return 0
        return self.first_total + self.created() - self.last_total - self.fallen


class Listings:
    """The listings of one run (``run`` names it in logs); ``server_time``: RECRU's time at the run's start."""

    def __init__(self, client: RecruClient, run: str, server_time: datetime) -> None:
        self.client = client
        self.run = run
        self.server_time = server_time
        self.watermark_cap: str | None = None  # see ``since``
        self.none_ahead: set[str] = set()  # list methods RECRU had no record stamped after the run's start for

    async def look_ahead(self, streams: Iterable[Stream]) -> None:
        """Ask RECRU, as the run begins, which paginated ``streams`` hold no record stamped after its start (one
        call each, of one record, all at once: ``total`` is what counts); their ``since`` listings end there (see
        ``since``)."""
        ahead = recru_time(self.server_time.replace(microsecond=0) + timedelta(seconds=1))
        methods = [stream.list_method for stream in streams if stream.paginated]
        results = await asyncio.gather(
            *(self.client.call(method, {"perPage": 1, "page": 1, "updatedSince": ahead}) for method in methods)
        )
        self.none_ahead.update(
            method for method, result in zip(methods, results, strict=True) if result.get("total") == 0
        )

    async def pages(self, stream: Stream, since: str | None) -> AsyncGenerator[Page]:
        """The stream's pages, the next ones fetched while the caller maps and writes the current one: all its
        records, or (``since`` given, paginated streams) those updated since then (``total`` ``None``)."""
        if not stream.paginated:
            asked_at = now()
            items = await self.client.list_all(stream.list_method)
            yield items, len(items), asked_at
            return
        if since is not None:
            async with aclosing(self.since(stream, since)) as pages:
                async for page_items, asked_at in pages:
                    yield page_items, None, asked_at
            return

        listed_from = await self.client.ping()
        tally = _OffsetTally(listed_from)
        async with aclosing(self._offset_pages(stream, tally)) as pages:
            async for page in pages:
                yield page
        if tally.masked_deletions() > 0:
            # Records were deleted while the total did not fall (creations made up for them), so some may have
            # shifted unseen into a page already read: the listing is read once more, whole.
            log.info("sync %s: %s deleted while listed, total unchanged: listing again", self.run, stream.model)
            async with aclosing(self._offset_pages(stream, _OffsetTally(listed_from))) as pages:
                async for page in pages:
                    yield page

    async def _offset_pages(self, stream: Stream, tally: _OffsetTally) -> AsyncGenerator[Page]:
        """Every offset page of ``stream``'s listing, in order, and earlier ones again where the ``total`` fell."""

        async def fetch(page: int) -> tuple[dict[str, Any], datetime]:
            asked_at = now()
            result = await self.client.call(stream.list_method, {"perPage": PAGE_SIZE, "page": page})
            tally.count(result)
            return result, asked_at

        # Up to PAGES_AHEAD pages are asked for before the one before them has answered, so the event loop sends
        # their requests while this thread maps: RECRU's answering time is hidden. Pages beyond the last one the
        # listing's ``total`` promises are not asked for before ``hasMore`` says they exist (a DELTA run's single
        # page costs a single call).
        # RECRU lists by id, so a record created meanwhile comes last and one updated keeps its place; but one
        # deleted before the current offset moves every later record one place back, and the one crossing a page
        # boundary would never be read: a first sync would miss it until the next FULL (a record the store holds
        # is at least confirmed with a ``get`` before being taken for deleted). When the listing's ``total`` falls
        # from one page to the next, the pages before are read again, as far back as the records moved.
        upcoming: deque[asyncio.Task[tuple[dict[str, Any], datetime]]] = deque([asyncio.create_task(fetch(1))])
        page, asked, previous_total = 0, 1, None
        try:
            while True:
                result, asked_at = await upcoming.popleft()
                page += 1
                items, total = result["items"], result.get("total")
                more = bool(result["hasMore"] and items)
                if more:
                    promised = -(-total // PAGE_SIZE) if isinstance(total, int) else 0
                    while asked < max(page + 1, min(page + PAGES_AHEAD, promised)):
                        asked += 1
                        upcoming.append(asyncio.create_task(fetch(asked)))
                yield items, total, asked_at
                tally.page_total(total)
                if isinstance(total, int) and isinstance(previous_total, int) and total < previous_total:
                    tally.fell_by(previous_total - total)
                    moved_back = -(-(previous_total - total) // PAGE_SIZE)
                    for earlier in range(max(1, page - moved_back), page):
                        again, again_asked_at = await fetch(earlier)
                        yield again["items"], total, again_asked_at
                previous_total = total
                if not more:
                    return
        finally:
            await abandon(upcoming)

    async def since(self, stream: Stream, since: str) -> AsyncGenerator[tuple[list[dict[str, Any]], datetime]]:
        """The records updated since ``since``, page by page (with when each was asked for), each page asked from
        the last ``updatedAt`` seen.

        RECRU sorts such a listing by ``(updatedAt, id)``, and a record updated while it is listed moves to its end:
        with offset pages every later record moves one place back, and the one that crosses a page boundary would
        be skipped, for good (the next DELTA starts after it). Asking each page from the last ``updatedAt`` seen
        (inclusive, so the records already read in that second are dropped: same id, same ``updatedAt``) skips
        none. Only when a whole page shares one second are that second's further records asked by offset; if
        records changed while this run listed (some carry an ``updatedAt`` from after its start) or vanished (the
        listing's ``total`` fell from one offset page to the next: a deleted record shifts the ones after it back),
        such a second may have lost one, so the watermark the run leaves goes no later than that second
        (``watermark_cap``): the next DELTA reads it again.

        Where RECRU held no record stamped after the run's start when it began (``look_ahead``), the listing ends at
        the first page reaching past that start: every record stamped until then is read by then, and what RECRU
        stamped since is the next DELTA's (its window starts at this run's start). Following those too, a run never
        ended while recruiters changed records faster than it paged. Records stamped ahead (RECRU's clock ahead,
        then put right) sort after every later change: where there are such, the listing is read to its end.
        """
        ends_at_start = stream.list_method in self.none_ahead
        started = recru_time(self.server_time)
        page, seen_in_second = 1, set[Any]()
        paged_by_offset: str | None = None
        latest = ""
        total, shrank = None, False
        while True:
            params = {"perPage": PAGE_SIZE, "updatedSince": since, "page": page}
            asked_at = now()
            result = await self.client.call(stream.list_method, params)
            if page > 1 and isinstance(total, int) and isinstance(result.get("total"), int):
                shrank = shrank or result["total"] < total
            total = result.get("total")
            items = result["items"]
            yield [item for item in items if item["updatedAt"] != since or item["id"] not in seen_in_second], asked_at
            if not items:
                break
            last = latest = items[-1]["updatedAt"]
            if not result["hasMore"] or (ends_at_start and _after(last, self.server_time)):
                break
            if last != since:
                since, page, seen_in_second = last, 1, set()
            else:
                page += 1
                paged_by_offset = paged_by_offset or since
            seen_in_second.update(item["id"] for item in items if item["updatedAt"] == last)
        if paged_by_offset is not None and (latest >= started or shrank):  # records moved or vanished meanwhile
            self.watermark_cap = min(self.watermark_cap or paged_by_offset, paged_by_offset)

    async def get_many(self, method: str, remote_ids: Iterable[int]) -> tuple[list[dict[str, Any]], list[int]]:
        """``get`` each id (a few at a time): (records found, ids RECRU no longer has)."""
        semaphore = asyncio.Semaphore(CONFIRM_CONCURRENCY)

        async def get(remote_id: int) -> dict[str, Any] | None:
            async with semaphore:
                try:
                    return await self.client.call(method, {"id": remote_id})
                except RecruNotFound:
                    return None

        ids = list(remote_ids)
        results = await asyncio.gather(*(get(remote_id) for remote_id in ids))
        found = [r for r in results if r is not None]
        missing = [remote_id for remote_id, r in zip(ids, results, strict=True) if r is None]
        return found, missing
