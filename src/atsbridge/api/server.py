"""uvicorn's server as ``serve`` and the demo run it: at the stop signal (SIGTERM, Ctrl-C) the process's background
work (sync scheduler, webhook delivery) stops at once, beside the requests in flight, which get
``REQUEST_GRACE_SECONDS`` (an action waiting on a slow RECRU would otherwise hold the process for minutes): a
deploy's stop timeout (Docker's: 10 s) is kept. uvicorn alone stops the app's background work only once every
request has ended, and meanwhile it went on starting syncs and sending events."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from types import FrameType

import uvicorn
from uvicorn.lifespan.on import LifespanOn

from atsbridge.sync.service import SyncService

REQUEST_GRACE_SECONDS = 5
CUT_OFF_ANSWER_SECONDS = 1


class Server(uvicorn.Server):
    """``reraise_signals=False``: the stop signal ends ``serve`` and nothing else (uvicorn raises it again once it
    has stopped, for the process to end by it: the demo, serving beside its own work, ends that work itself)."""

    def __init__(self, config: uvicorn.Config, syncs: SyncService, *, reraise_signals: bool = True) -> None:
        config.timeout_graceful_shutdown = REQUEST_GRACE_SECONDS
        super().__init__(config)
        self._syncs = syncs
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reraise_signals = reraise_signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            # uvicorn raises each signal it caught again as it returns: a second Ctrl-C raised twice ends asyncio's
            # run mid-cleanup, with a traceback; once is the process's plain stop
            kept = list(dict.fromkeys(self._captured_signals)) if self._reraise_signals else []
            self._captured_signals[:] = kept

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        # uvicorn cancels the requests still running after the grace without waiting for them; after Ctrl-C,
        # asyncio then cancels them again as the process ends, mid-answer, and logs each one's traceback.
        cut_off = [task for task in self.server_state.tasks if not task.done()]
        skipped_app_shutdown = (
            self.force_exit and isinstance(self.lifespan, LifespanOn) and not self.lifespan.shutdown_event.is_set()
        )
        if skipped_app_shutdown:
            # A second Ctrl-C: uvicorn neither cancelled the requests nor shut the app down, so asyncio cut both
            # off at exit, mid-step, with a traceback. The requests are cut off as at the grace's end (answered
            # 504) before the app's shutdown closes the clients they use; it is quick, so done all the same.
            for task in cut_off:
                task.cancel(msg="cut off: a second stop signal")
        if cut_off:
            await asyncio.wait(cut_off, timeout=CUT_OFF_ANSWER_SECONDS)
        if skipped_app_shutdown:
            await self.lifespan.shutdown()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None:  # called from the signal handler: the loop takes it from there
            self._loop.call_soon_threadsafe(self._syncs.begin_stopping)
