"""One sync run (FULL or DELTA) of one integration: streams → mapping → store, then deletion detection.

- **FULL** lists every stream completely and stamps each record it sees with the run's id (see DELTA for the
  streams every run lists completely). Only after *every*
  stream was listed completely and without error are a stream's unstamped records deletion candidates, and each is
  confirmed with a ``get`` (offset pages drift when records vanish mid-listing): found → refreshed; not found →
  gone. The gone records of all streams are tombstoned together, in one store job at the very end, so a run that
  fails or is killed at any point before deletes nothing. A stream whose table held no live record of the
  integration before the listing (a first sync) has none to look for.
- **First sync.** Until an integration's first sync succeeds its data cannot be read (the API answers
  ``INTEGRATION.SETUP_SYNC_PENDING``), so no reader can have seen an older ``updated_at``: the run writes without
  the writer's nested-change marks, which would otherwise rewrite every application once its candidate arrives.
  On SQLite a model whose table is still empty is loaded without its secondary indexes, which are built once its
  listing is written (``store.first_load``); every run first builds any a killed run left unbuilt.
- **DELTA** asks for ``updatedSince = watermark − overlap``. The watermark is RECRU's ``serverTime`` taken by
  ``SystemService.ping`` when the previous successful run *started* (RECRU's clock, never ours; the start, so a
  record written during that run is read again). Its pages are asked from the last ``updatedAt`` seen, not by
  offset, so records changed mid-listing shift nothing out of reach (``listing.Listings.since``). The deletions of the
  paginated streams are left to FULL runs; stages and tags, which RECRU answers whole in one call, are listed
  completely by every run, so a DELTA run finds theirs as a FULL run does (unified API §3: absent from a complete
  listing). Without a watermark (no successful run yet), or when RECRU's clock is behind it (set back: what RECRU
  stamped since may lie anywhere before it) or has gone on since by more than the overlap less than ours (it was
  ahead when the watermark was taken, then put right), a DELTA run lists everything, as a FULL run. A stream whose
  mapping names entries of a codebook (jobs: departments, locations; applications: rejection reasons) that is not
  as the watermark's run read it is listed whole (a renamed department changes jobs RECRU does not stamp), and so
  also has its deletions found.
- **Sync only created applications**: jobs, users, stages and tags are always read in full. A FULL run (or a DELTA
  without a watermark) reads the tracked applications one by one with ``get`` (not found → gone, tombstoned at the
  end like the deletions of a FULL run), then their candidates. A DELTA lists what changed since the watermark, as
  in the other mode, and keeps the tracked applications and their candidates (a candidate of a tracked application
  not stored yet is read with ``get``): its cost follows what changed in RECRU, not how many applications were
  ever created through us; deletions are left to FULL runs, as for every paginated stream.
- **Flat memory and speed**: pages (≤ 200 records) are fetched up to ``listing.PAGES_AHEAD`` ahead and mapped as they
  come (the mapping lets the event loop run every ``MAP_SLICE`` records, so the requests ahead go out and their
  answers come in meanwhile), and written in batches of ``WRITE_BATCH`` records: a ``StoreWorker`` writes each
  batch on its own thread and connection while the next one is fetched, mapped and prepared (content hashes,
  values serialised: ``writer.prepare_records``), and commits every ``COMMIT_EVERY`` records or so, whole batches
  only. Two batches (and the pages ahead) at most are in memory.
- **Late references**: users, stages, tags and jobs are listed before the records referring to them; one RECRU
  made after its own listing and referred to by a record listed later (a project, and an application to it) is
  read with ``get`` (stages and tags: their list) once every stream is listed (``MappingContext.referenced``), so a
  run does not end serving a reference to a record it does not serve. So is an application's candidate the store
  lacks (a DELTA lists only the jobseekers that changed: one RECRU gave an application to, which it did not stamp
  since the last run, say after its clock was set back). A candidate RECRU no longer has then (deleted after the
  applications were listed, with its applications) has its stored applications read again, found gone or moved.
- **Killed runs**: every commit holds whole batches keyed by our deterministic ids, so a killed run leaves a
  consistent store; it never deletes (deletion needs a complete listing) and never moves the watermark, so the
  next run redoes what is missing.
- **Disabled or deleted meanwhile**: every ``WATCH_EVERY`` the run looks at its integration; once it is disabled or
  deleted the run stops, recorded CANCELLED with the reason (a deleted integration's runs went with it: nothing is
  recorded, and no event is sent). So does a run whose "sync only created applications" setting was changed (it
  reads what the setting said when it started): a sync is queued again, a FULL when everything is to be served.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import aclosing, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import StatementError

from atsbridge.connectors.recru.client import RecruClient
from atsbridge.connectors.recru.errors import RecruAuthError, RecruError
from atsbridge.connectors.recru.mapping import Mapped, MappingContext, joins_by_parent
from atsbridge.connectors.recru.streams import PAGE_SIZE, STREAMS, Stream
from atsbridge.store import syncs as sync_rows
from atsbridge.store.db import session_ended
from atsbridge.store.deletions import deletion_candidates, has_live_records, mark_deleted
from atsbridge.store.first_load import build_missing_indexes, defer_indexes
from atsbridge.store.integrations import (
    Integration,
    claim_integration,
    load_integration,
    set_integration_fields,
    tracked_application_ids,
    tracked_candidate_ids,
    undeleted_tracked_application_ids,
    unstored_tracked_application_ids,
    unstored_tracked_candidate_ids,
)
from atsbridge.store.nested_marks import models_changed_since
from atsbridge.store.writer import (
    Counts,
    Prepared,
    live_applications_of,
    prepare_joins,
    prepare_records,
    unstored_remote_ids,
    write_batch,
)
from atsbridge.sync import refresh
from atsbridge.sync.listing import Listings, abandon, now, recru_time
from atsbridge.sync.pending import adopt_pending
from atsbridge.sync.run_tuning import tuned_for_a_run
from atsbridge.sync.scheduler import queue_sync
from atsbridge.sync.store_worker import StoreWorker
from atsbridge.unified.ids import ModelName, model_id
from atsbridge.webhooks import notify

log = logging.getLogger("atsbridge.sync")
DEFAULT_OVERLAP = timedelta(seconds=60)
CLOCK_READING_ERROR = timedelta(seconds=2)  # RECRU's time is to the second, read a round trip before ours
COMMIT_EVERY = 25_000
WRITE_BATCH = 1_000
MAP_SLICE = 25
LATE_REFERENCE_ROUNDS = 2  # the references of the records read, then those of the jobs among them
WATCH_EVERY = 5.0  # seconds

INTEGRATION_DELETED = "the integration was deleted"
EVER = datetime(1970, 1, 1, tzinfo=UTC)
ALTERED_ANSWERS = (
    "RECRU's answers held text with NUL characters (removed) or lone surrogates (replaced with U+FFFD), or numbers "
    "beyond a double's range (made null): the records are stored so; count: answers"
)
RUN_ABANDONED = "the run was given up for dead meanwhile (its process stopped stamping it)"
SETTINGS_CHANGED = 'the integration\'s setting "sync only created applications" changed'
PROCESS_STOPPING = "the process running it was asked to stop (SIGTERM, Ctrl-C, a worker's stop timeout)"
SESSION_ENDED_LOOKS, SESSION_ENDED_LOOK_EVERY = 20, 0.5  # how long a run whose session was ended looks for why

ProgressCallback = Callable[[ModelName, int, int | None], None]


@dataclass
class SyncResult:
    sync_id: str
    type: str
    state: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "sync_id": self.sync_id,
            "type": self.type,
            "state": self.state,
            "counts": self.counts,
            "errors": self.errors,
            "timings": self.timings,
        }


class RunStopped(asyncio.CancelledError):
    """The cancellation of a run whose process is stopping, carrying what the run recorded (``atsbridge sync --json``
    prints it)."""

    def __init__(self, result: SyncResult) -> None:
        super().__init__(PROCESS_STOPPING)
        self.result = result


def _failure(error: RecruError | OSError | ValueError) -> str:
    """What a run's record says of a failure RECRU (or the machine) caused: RECRU's words, not our class names."""
    if isinstance(error, RecruAuthError):
        return f"RECRU refused the integration's credentials: {error}"
    return str(error) if isinstance(error, RecruError) else f"{type(error).__name__}: {error}"


def _described(error: Exception) -> str:
    """What a run's record says of an unexpected failure. For a database error: the error's class and the first line
    of the database's own message with every quoted part masked. SQLAlchemy's message quotes the statement, and the
    database's may quote values and add a DETAIL line with a key: record data, personal data in a sync's errors."""
    if not isinstance(error, StatementError) or error.orig is None:
        return f"{type(error).__name__}: {error}"
    cause = error.orig
    first_line = (str(cause).splitlines() or [""])[0]
    return f"{type(cause).__name__}: {_QUOTED.sub('…', first_line)}"


_QUOTED = re.compile(r"""("[^"]*"|'[^']*')""")


class SyncRun:
    """One run; ``progress(model, records_done, records_total_or_None)`` is called after every page."""

    store: StoreWorker  # the run's store connection, from its start (it carries the run's id)
    listings: Listings  # how it reads RECRU, from when RECRU's time at its start is known

    def __init__(
        self,
        engine: Engine,
        client: RecruClient,
        integration: Integration,
        *,
        overlap: timedelta = DEFAULT_OVERLAP,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.integration = integration
        self.overlap = overlap
        self.progress = progress or (lambda model, done, total: None)
        self.counts: dict[ModelName, Counts] = defaultdict(Counts)
        self.timings: dict[str, float] = {}
        self.sync_id = ""
        self.full = True
        self.since: str | None = None
        self.jobseeker_ids: set[int] = set()
        self.server_time: datetime | None = None
        self.clock_offset: float | None = None  # RECRU's clock minus ours at the start, in seconds
        self.codebook_digests: dict[str, str] = {}  # the codebooks this run read (``Codebooks.digests``)
        self.relisted: set[ModelName] = set()  # listed whole by a DELTA: codebooks they read changed
        self.gone: dict[ModelName, list[str]] = defaultdict(list)
        self.ctx = MappingContext(integration.id)
        self.stopped_because: str | None = None  # set by ``_watch``
        self.abandoned = False  # given up for dead by another process meanwhile (see ``_finish``)

    @property
    def first_sync(self) -> bool:
        """Whether this is the integration's first sync (none has succeeded yet): nothing of it is readable."""
        return self.integration.setup_status != "COMPLETED"

    async def run(self, sync_type: str, claimed_sync_id: str | None = None) -> SyncResult:
        """Run a sync of ``sync_type``: the queued run ``claimed_sync_id`` (already RUNNING, see
        ``syncs.claim_sync``), or a run started here."""
        integration = self.integration
        self.full = sync_type == sync_rows.FULL or integration.delta_watermark is None
        if claimed_sync_id is not None:
            self.sync_id = claimed_sync_id
        else:
            with self.engine.begin() as conn:
                self.sync_id = sync_rows.start_sync(conn, integration.id, sync_type, now())
        self.store = StoreWorker(
            self.engine,
            commit_every=COMMIT_EVERY,
            session_name=sync_rows.session_name(self.sync_id),
            before_commit=self._record_progress,
        )
        started = time.perf_counter()
        self.started_at = now()
        heartbeat = asyncio.create_task(self._heartbeat())
        streams = asyncio.create_task(self._sync_in_store())
        watch = asyncio.create_task(self._watch(streams))
        try:
            await streams
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self.stopped_because is not None and current is not None and not current.cancelling():
                return self._finish(
                    sync_type, sync_rows.CANCELLED, started, [sync_rows.run_note(self.stopped_because, "info")]
                )
            recorded = self._finish(
                sync_type, sync_rows.CANCELLED, started, [sync_rows.run_note(PROCESS_STOPPING, "info")]
            )
            log.info("%s sync %s of %s: CANCELLED: %s", sync_type, self.sync_id, integration.id, PROCESS_STOPPING)
            raise RunStopped(recorded) from None
        except (RecruError, OSError, ValueError) as error:
            return self._finish(sync_type, sync_rows.FAILED, started, [sync_rows.run_note(_failure(error))])
        except Exception as error:  # a bug or a store failure: the run still ends FAILED, with sync-finished
            stopped = await self._stopped_meanwhile(error)
            if stopped == INTEGRATION_DELETED:  # its rows went from under the run's writes: no bug
                return self._finish(
                    sync_type, sync_rows.CANCELLED, started, [sync_rows.run_note(INTEGRATION_DELETED, "info")]
                )
            if stopped == RUN_ABANDONED:  # its store session was ended by the process that gave it up: no bug
                return self._finish(sync_type, sync_rows.FAILED, started, [sync_rows.run_note(RUN_ABANDONED)])
            log.exception("sync %s of %s failed unexpectedly", self.sync_id, integration.id)
            return self._finish(
                sync_type, sync_rows.FAILED, started, [sync_rows.run_note(f"unexpected {_described(error)}")]
            )
        finally:
            await abandon([heartbeat, watch, streams])
        return self._finish(sync_type, sync_rows.SUCCEEDED, started, [])

    async def _sync_in_store(self) -> None:
        with tuned_for_a_run(), closing(self.store):
            await self._sync_streams()

    async def _watch(self, streams: asyncio.Task[None]) -> None:
        """Every ``WATCH_EVERY``: stop the run (cancel ``streams``) once its integration is disabled or deleted."""
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                stopped = await asyncio.to_thread(self._why_stop)
            except Exception:
                log.warning("sync %s: its integration could not be looked at", self.sync_id, exc_info=True)
                continue
            if stopped is not None:
                self.stopped_because = stopped
                streams.cancel()
                return

    async def _stopped_meanwhile(self, error: Exception) -> str | None:
        """Why the run had to stop (``_why_stop``), asked after it failed with ``error``: ``None`` if the failure is
        its own. When another process ended its store session (it gave the run up for dead,
        ``store.syncs.abandon_stale``), that process may not have committed saying so yet: asked again a while."""
        looks = SESSION_ENDED_LOOKS if session_ended(error) else 1
        for look in range(looks):
            try:
                reason = await asyncio.to_thread(self._why_stop)
            except Exception:  # the store itself fails: the run's own failure is what to record
                return None
            if reason is not None or look == looks - 1:
                return reason
            await asyncio.sleep(SESSION_ENDED_LOOK_EVERY)
        return None

    def _why_stop(self) -> str | None:
        """Why the run must stop now: its integration was disabled or deleted, or its "sync only created
        applications" setting changed (what the run reads; another run is queued, see ``run``), or the run was
        given up for dead (its process was stopped for minutes, then went on: another run may be under way)
        (``None``: it goes on)."""
        with self.engine.connect() as conn:
            found = load_integration(conn, self.integration.id)
            running = sync_rows.is_running(conn, self.sync_id)
        if found is None:
            return INTEGRATION_DELETED
        if not running:
            return RUN_ABANDONED
        if not found.enabled:
            return "the integration was disabled"
        if found.sync_only_created_applications != self.integration.sync_only_created_applications:
            return SETTINGS_CHANGED
        return None

    async def _heartbeat(self) -> None:
        """Stamp the run as alive every ``HEARTBEAT_EVERY`` (on its own connection, in a thread: a write may wait
        for the store's transaction); a stamp that fails is logged and the run goes on."""
        while True:
            await asyncio.sleep(sync_rows.HEARTBEAT_EVERY.total_seconds())
            try:
                await asyncio.to_thread(self._beat)
            except Exception:
                log.warning("sync %s: its heartbeat could not be stamped", self.sync_id, exc_info=True)

    def _beat(self) -> None:
        with self.engine.begin() as conn:
            sync_rows.beat(conn, self.sync_id, now())

    async def _sync_streams(self) -> None:
        await self.store.call(build_missing_indexes)
        self.server_time = await self.client.ping()
        self.clock_offset = (self.server_time - now()).total_seconds()
        self.listings = Listings(self.client, self.sync_id, self.server_time)
        watermark = self.integration.delta_watermark
        went_back = None if self.full or watermark is None else self._recru_clock_went_back(self.server_time, watermark)
        if went_back is not None:
            self.full = True
        if not self.full and watermark is not None:
            self.since = recru_time(watermark - self.overlap)
            await self.listings.look_ahead(STREAMS)
        self.ctx = MappingContext(self.integration.id, await refresh.fetch_codebooks(self.client))
        self.codebook_digests = self.ctx.codebooks.digests()
        if not self.full:
            self.relisted = self._codebooks_changed()
        if went_back is not None:  # in the run's record too, not only the log: its counts are a FULL's
            self.ctx.warn(f"{went_back}: this DELTA listed everything, as a FULL does")
        await adopt_pending(self.client, self.store, self.integration.id, now())
        listed_before: list[Stream] = []
        for stream in STREAMS:
            stream_started = time.perf_counter()
            if await self._sync_stream(stream, self.ctx):
                listed_before.append(stream)
            await self.store.drain()
            self.timings[stream.model.value] = round(time.perf_counter() - stream_started, 3)
        deletions_started = time.perf_counter()
        for stream in listed_before:
            await self._detect_deletions(stream, self.ctx)
        # after the deletions' re-reads too (a record a listing missed refers to others), before any tombstone:
        # what is stored here was listed by no stream, so it is no deletion candidate
        await self._store_late_references()
        await self._tombstone_gone()
        self.timings["deletions"] = round(time.perf_counter() - deletions_started, 3)

    def _finish(
        self,
        sync_type: str,
        state: str,
        started: float,
        errors: list[dict[str, Any]],
    ) -> SyncResult:
        self.timings["total"] = round(time.perf_counter() - started, 3)
        counts = self._counts_so_far()
        if self.client.stats.altered_answers:
            self.ctx.warnings[ALTERED_ANSWERS] = self.client.stats.altered_answers
        warnings = self._warnings_so_far()
        ended_at = now()
        with self.engine.begin() as conn:
            # the row locked first: a settings change commits wholly before this reads it, or after this run ended
            claimed = claim_integration(conn, self.integration.id)
            now_is = load_integration(conn, self.integration.id) if claimed else None
            if now_is is None:  # deleted, with its runs: nothing to record
                gone = [sync_rows.run_note(INTEGRATION_DELETED, "info")]
                return SyncResult(self.sync_id, sync_type, sync_rows.CANCELLED, counts, gone, self.timings)
            started_at = sync_rows.finish_sync(
                conn,
                self.sync_id,
                state=state,
                now=ended_at,
                server_time=self.server_time,
                counts=counts,
                errors=[*errors, *warnings],
                timings=self.timings,
            )
            if started_at is None:  # given up for dead meanwhile: its end is recorded and told already
                self.abandoned = True
                abandoned = [sync_rows.run_note(RUN_ABANDONED)]
                return SyncResult(self.sync_id, sync_type, sync_rows.FAILED, counts, abandoned, self.timings)
            opened = self.integration.sync_only_created_applications and not now_is.sync_only_created_applications
            if state == sync_rows.SUCCEEDED:
                # a run that read only the tracked records leaves no watermark once everything is to be served: the
                # next sync of either type lists everything (``apply_settings``)
                watermark = (
                    {}
                    if opened
                    else {
                        "delta_watermark": self._next_watermark(),
                        "delta_clock_offset": self.clock_offset,
                        "codebook_digests": self.codebook_digests,
                    }
                )
                set_integration_fields(conn, self.integration.id, setup_status="COMPLETED", **watermark)
                if self.integration.setup_status != "COMPLETED":
                    notify.integration_state_changed(conn, self.integration.id)
            follow_up = self._follow_up(now_is, sync_type, state, opened)
            if follow_up is not None:
                queue_sync(conn, self.integration.id, follow_up[0])
                log.info("sync %s of %s: %s; a %s sync is queued", self.sync_id, now_is.id, follow_up[1], follow_up[0])
            if not self.first_sync:
                changed = models_changed_since(conn, self.integration.id, self.started_at)
            elif state == sync_rows.SUCCEEDED:  # everything becomes readable now, what killed runs wrote too
                changed = models_changed_since(conn, self.integration.id, EVER)
            else:  # nothing is readable before the first sync succeeds: nothing to tell
                changed = []
            notify.data_changed(conn, self.integration.id, changed)
            notify.sync_finished(conn, self.integration.id, self.sync_id, state, started_at, ended_at)
        return SyncResult(self.sync_id, sync_type, state, counts, [*errors, *warnings], self.timings)

    def _counts_so_far(self) -> dict[str, dict[str, int]]:
        return {model.value: vars(self.counts[model]).copy() for model in ModelName}

    def _warnings_so_far(self) -> list[dict[str, Any]]:
        warned = dict(self.ctx.warnings)  # copied at once: the store's thread reads it while the run adds to it
        return [{"level": "warning", "message": m, "count": n} for m, n in sorted(warned.items())]

    def _record_progress(self, conn: Connection) -> None:
        counts, timings, warnings = self._counts_so_far(), dict(self.timings), self._warnings_so_far()
        sync_rows.record_progress(conn, self.sync_id, counts, timings, warnings)

    def _follow_up(self, now_is: Integration, sync_type: str, state: str, opened: bool) -> tuple[str, str] | None:
        """The sync to queue after this one, and why, when the integration changed while it ran (this run read
        it as it was at its start, and was handed to whoever asked for a sync meanwhile: ``already_queued``):
        "sync only created applications" switched (a FULL once everything RECRU holds is to be served; the other
        way, a run that did not succeed, stopped for the switch, again), or credentials replaced (a relink) and
        this run, on the older login, did not succeed (again, on the new one)."""
        if now_is.sync_only_created_applications != self.integration.sync_only_created_applications:
            if opened:
                return sync_rows.FULL, SETTINGS_CHANGED
            return (sync_type, SETTINGS_CHANGED) if state != sync_rows.SUCCEEDED else None
        if state != sync_rows.SUCCEEDED and now_is.credentials_digest != self.integration.credentials_digest:
            return sync_type, "the integration's credentials were replaced"
        return None

    def _recru_clock_went_back(self, server_time: datetime, watermark: datetime) -> str | None:
        """Whether RECRU may have stamped records since the watermark's run began with times before the watermark,
        less the overlap, which a DELTA would not read: its clock now says an earlier time (it was set back), or it
        went on since by more than the overlap less than ours did (it was ahead as that run began and was put right,
        or was set back by less than the time between the runs). A clock set back and put right again between two
        runs leaves no trace in either; the next FULL reads what it stamped. Returns why, if so."""
        if server_time < watermark:
            reason = "RECRU's clock is behind the last run's start"
        elif (
            self.integration.delta_clock_offset is not None
            and self.clock_offset is not None
            and (
                self.integration.delta_clock_offset - self.clock_offset
                > max(self.overlap, CLOCK_READING_ERROR).total_seconds()
            )
        ):
            lag = round(self.integration.delta_clock_offset - self.clock_offset)
            reason = f"RECRU's clock went on {lag} s less than ours since the last run's start"
        else:
            return None
        log.warning("sync %s: %s: listing everything", self.sync_id, reason)
        return reason

    def _codebooks_changed(self) -> set[ModelName]:
        """The streams whose mappings read a codebook that is not as the watermark's run read it (or not known to
        be: that run kept no digests): their records may have changed though RECRU did not stamp them (a renamed
        department is every job's of it), so this DELTA lists them whole."""
        before = self.integration.codebook_digests or {}
        changed = {name for name, digest in self.codebook_digests.items() if before.get(name) != digest}
        relisted = {stream.model for stream in STREAMS if changed.intersection(stream.codebooks)}
        for model in sorted(relisted):
            log.info("sync %s: codebooks %s changed: listing every %s", self.sync_id, sorted(changed), model.value)
        return relisted

    def _since(self, stream: Stream) -> str | None:
        """Where this run's listing of ``stream`` begins: ``None`` to list it whole."""
        return None if stream.model in self.relisted else self.since

    def _next_watermark(self) -> datetime | None:
        """RECRU's time at this run's start, or the second a listing may have lost a record in (``Listings.since``)."""
        cap = self.listings.watermark_cap  # a run succeeded: it read RECRU
        if cap is None or self.server_time is None:
            return self.server_time
        return min(self.server_time, datetime.fromisoformat(cap).astimezone(UTC))

    # --- streams ------------------------------------------------------------------------------------------------

    def _lists_whole(self, stream: Stream) -> bool:
        """Whether this run lists every record of ``stream`` (and so stamps them as seen): a FULL run, or a stream
        RECRU answers whole in one call (stages, tags), whatever the run."""
        return self.full or not stream.paginated or stream.model in self.relisted

    async def _sync_stream(self, stream: Stream, ctx: MappingContext) -> bool:
        """List ``stream`` into the store; whether its deletions are to be looked for once every stream is listed
        (it is listed whole, see ``_lists_whole``, and records of it were stored before this listing)."""
        if stream.tracked and self.integration.sync_only_created_applications:
            await self._sync_tracked(stream, ctx)
            return False
        # Records created while this run lists them are RECRU's current ones: deletion detection only concerns
        # records stored before the listing began (a first sync has none and skips it).
        stored_before = self._lists_whole(stream) and await self.store.call(
            partial(has_live_records, model=stream.model, integration_id=self.integration.id)
        )
        indexes_deferred = self.first_sync and await self.store.call(partial(defer_indexes, model=stream.model))
        done = 0
        batch: list[Mapped] = []
        batch_asked_at: datetime | None = None  # when the batch's first page was asked for
        async with aclosing(self.listings.pages(stream, self._since(stream))) as pages:
            async for items, total, asked_at in pages:
                batch_asked_at = batch_asked_at or asked_at
                for start in range(0, len(items), MAP_SLICE):
                    batch.extend(stream.mapper(item, ctx) for item in items[start : start + MAP_SLICE])
                    await asyncio.sleep(0)
                if len(batch) >= WRITE_BATCH:
                    await self._write(stream, batch, batch_asked_at)
                    batch, batch_asked_at = [], None
                done += len(items)
                self.progress(stream.model, done, total)
        await self._write(stream, batch, batch_asked_at)
        if indexes_deferred:
            await self.store.call(build_missing_indexes)
        return stored_before

    async def _sync_tracked(self, stream: Stream, ctx: MappingContext) -> None:
        """Read the tracked applications not known deleted (or their candidates) one by one; one not found is gone
        (``self.gone``). A DELTA with a watermark lists what changed instead (``_sync_tracked_since``)."""
        since = self._since(stream)
        if since is not None:
            await self._sync_tracked_since(stream, ctx, since)
            return
        if stream.model is ModelName.APPLICATIONS:
            tracked = await self.store.call(lambda conn: undeleted_tracked_application_ids(conn, self.integration.id))
            remote_ids = [int(r) for r in tracked]
        else:  # also those stored before, whose application (and maybe themselves) RECRU no longer has
            stored = await self.store.call(lambda conn: tracked_candidate_ids(conn, self.integration.id))
            remote_ids = sorted(self.jobseeker_ids | {int(r) for r in stored})
        assert stream.get_method is not None
        for start in range(0, len(remote_ids), PAGE_SIZE):
            chunk = remote_ids[start : start + PAGE_SIZE]
            asked_at = now()
            found, missing = await self.listings.get_many(stream.get_method, chunk)
            await self._write_tracked(stream, ctx, found, asked_at)
            self.gone[stream.model] += [model_id(self.integration.id, stream.model, r) for r in missing]
            self.progress(stream.model, start + len(chunk), len(remote_ids))

    async def _sync_tracked_since(self, stream: Stream, ctx: MappingContext, since: str) -> None:
        """The tracked applications (or their candidates) RECRU changed since ``since``, then those the store does
        not hold yet, read with ``get``: a candidate of a tracked application (creating an application does not move
        its jobseeker's ``updatedAt``, so an existing one is not listed; or a run failed before storing it), an
        application tracked after RECRU last changed it (its read-back failed, or its create's outcome was unknown:
        ``store.pending_applications``)."""
        integration_id = self.integration.id
        if stream.model is ModelName.APPLICATIONS:
            wanted = {int(r) for r in await self.store.call(lambda conn: tracked_application_ids(conn, integration_id))}
            unstored = {
                int(r)
                for r in await self.store.call(lambda conn: unstored_tracked_application_ids(conn, integration_id))
            }
        else:
            stored = {int(r) for r in await self.store.call(lambda conn: tracked_candidate_ids(conn, integration_id))}
            lacking = await self.store.call(lambda conn: unstored_tracked_candidate_ids(conn, integration_id))
            wanted = stored | self.jobseeker_ids | {int(r) for r in lacking}
            unstored = wanted - stored
        seen: set[int] = set()
        async with aclosing(self.listings.since(stream, since)) as pages:
            async for items, asked_at in pages:
                await self._write_tracked(stream, ctx, [item for item in items if item["id"] in wanted], asked_at)
                seen.update(item["id"] for item in items if item["id"] in wanted)
                self.progress(stream.model, len(seen), None)
        assert stream.get_method is not None
        missing = sorted(unstored - seen)
        for start in range(0, len(missing), PAGE_SIZE):
            asked_at = now()
            found, _gone = await self.listings.get_many(
                stream.get_method, missing[start : start + PAGE_SIZE]
            )  # FULL's to mark
            await self._write_tracked(stream, ctx, found, asked_at)

    async def _write_tracked(
        self, stream: Stream, ctx: MappingContext, items: list[dict[str, Any]], asked_at: datetime
    ) -> None:
        """Write tracked applications (noting their jobseekers, for the candidates' stream) or candidates."""
        if stream.model is ModelName.APPLICATIONS:
            self.jobseeker_ids.update(item["jobseekerId"] for item in items)
        await self._write(stream, [stream.mapper(item, ctx) for item in items], asked_at)

    async def _detect_deletions(self, stream: Stream, ctx: MappingContext) -> None:
        """After complete listings: records this run did not see are confirmed gone (``self.gone``), or refreshed
        if still there."""
        after: str | None = None
        while True:
            candidates = await self.store.call(
                partial(
                    deletion_candidates,
                    model=stream.model,
                    integration_id=self.integration.id,
                    sync_id=self.sync_id,
                    limit=PAGE_SIZE,
                    after_id=after,
                )
            )
            if not candidates:
                return
            after = candidates[-1][0]
            if stream.get_method is None:
                gone_ids = [record_id for record_id, _ in candidates]
            else:
                by_remote = {int(remote_id): record_id for record_id, remote_id in candidates}
                asked_at = now()
                found, missing = await self.listings.get_many(stream.get_method, by_remote)
                await self._write(stream, [stream.mapper(item, ctx) for item in found], asked_at)
                gone_ids = [by_remote[remote_id] for remote_id in missing]
            self.gone[stream.model] += gone_ids

    async def _store_late_references(self) -> None:
        """Read the users, jobs, stages, tags and candidates that records of this run refer to but the store lacks
        (for candidates, see the module's "Late references"): RECRU made
        them after their own stream was listed (a project, and an application to it, while the run listed the
        applications), so the run does not end serving a record that refers to one it does not serve. A job read
        so may refer to users and stages made as late: looked for once more. One RECRU no longer has is left out;
        the applications referring to a candidate RECRU no longer has (deleted meanwhile, with them) are read again:
        each is stored as RECRU holds it now, or found gone (they were served live with ``candidate: null``)."""
        for _ in range(LATE_REFERENCE_ROUNDS):
            referenced, self.ctx.referenced = self.ctx.referenced, defaultdict(set)
            unstored = await self.store.call(
                partial(unstored_remote_ids, integration_id=self.integration.id, remote_ids=referenced)
            )
            if not unstored:
                return
            made = {model.value: sorted(ids) for model, ids in unstored.items()}
            log.info("sync %s: reading records RECRU made while the run listed: %s", self.sync_id, made)
            asked_at = now()
            fetched = await refresh.fetch_referenced(self.client, unstored)
            for model, payloads in fetched.items():
                stream = refresh.STREAM_OF[model]
                mapped = [stream.mapper(payload, self.ctx) for payload in payloads.values() if payload is not None]
                await self._write(stream, mapped, asked_at)
            gone = unstored.get(ModelName.CANDIDATES, set()) - set(fetched.get(ModelName.CANDIDATES, {}))
            await self.store.drain()
            if gone:
                await self._read_applications_of_gone(gone)

    async def _read_applications_of_gone(self, candidates: set[int]) -> None:
        """Read again the stored live applications of these candidates RECRU no longer has."""
        ours = [model_id(self.integration.id, ModelName.CANDIDATES, remote_id) for remote_id in candidates]
        stored = await self.store.call(
            partial(live_applications_of, integration_id=self.integration.id, candidate_ids=ours)
        )
        if not stored:
            return
        stream = refresh.STREAM_OF[ModelName.APPLICATIONS]
        assert stream.get_method is not None  # a paginated list's records are confirmed by get
        asked_at = now()
        found, missing = await self.listings.get_many(stream.get_method, stored)
        await self._write(stream, [stream.mapper(item, self.ctx) for item in found], asked_at)
        self.gone[ModelName.APPLICATIONS] += [stored[remote_id] for remote_id in missing]
        await self.store.drain()

    # --- store ----------------------------------------------------------------------------------------------

    async def _write(self, stream: Stream, mapped: list[Mapped], asked_at: datetime | None) -> None:
        """Prepare the batch here (hashes, serialised rows: while the store writes the batch before) and queue its
        write. ``asked_at``: when RECRU was asked for it (a record stored from a later read is not overwritten)."""
        if not mapped:
            return
        dialect = self.engine.dialect
        records = prepare_records(stream.model, (item.record for item in mapped), dialect)
        prepared_joins = [
            prepare_joins(join, rows_by_parent, dialect) for join, rows_by_parent in joins_by_parent(mapped).items()
        ]
        seen_by = self.sync_id if self._lists_whole(stream) else None
        await self.store.submit(
            lambda conn: self._write_batch(conn, records, prepared_joins, seen_by, asked_at), len(mapped)
        )

    def _write_batch(
        self,
        conn: Connection,
        records: Prepared,
        joins: list[Prepared],
        seen_by: str | None,
        asked_at: datetime | None,
    ) -> None:
        written = write_batch(
            conn,
            records,
            joins,
            self.integration.id,
            now=now(),
            sync_id=seen_by,
            nested_marks=not self.first_sync,
            fetched_at=asked_at,
        )
        for model, counts in written.items():
            self.counts[model] += counts

    async def _tombstone_gone(self) -> None:
        """Tombstone every record the run found gone, of every model, in one store job (so in one commit)."""
        gone = {model: ids for model, ids in self.gone.items() if ids}
        if gone:
            await self.store.submit(lambda conn: self._tombstone(conn, gone), sum(map(len, gone.values())))

    def _tombstone(self, conn: Connection, gone: dict[ModelName, list[str]]) -> None:
        if not sync_rows.is_running(conn, self.sync_id, lock=True):  # given up for dead: another run may list now
            return
        at = now()
        tombstoned = [mark_deleted(conn, model, self.integration.id, ids, now=at) for model, ids in gone.items()]
        for counts in tombstoned:  # counted once all is written: a job ended for a conflict is done again
            for model, count in counts.items():
                self.counts[model] += Counts(deleted=count)
