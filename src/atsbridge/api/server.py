"""uvicorn's server as ``serve`` and the demo run it: at the stop signal (SIGTERM, Ctrl-C) the process's background
work (sync scheduler, webhook delivery) stops at once, beside the requests in flight, which get
``REQUEST_GRACE_SECONDS`` (an action waiting on a slow RECRU would otherwise hold the process for minutes): a
deploy's stop timeout (Docker's: 10 s) is kept. uvicorn alone stops the app's background work only once every
request has ended, and meanwhile it went on starting syncs and sending events."""

from __future__ import annotations

import asyncio
import socket
from types import FrameType

import uvicorn

from atsbridge.sync.service import SyncService

REQUEST_GRACE_SECONDS = 5
CUT_OFF_ANSWER_SECONDS = 1


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, syncs: SyncService) -> None:
        config.timeout_graceful_shutdown = REQUEST_GRACE_SECONDS
        super().__init__(config)
        self._syncs = syncs
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        # uvicorn cancels the requests still running after the grace without waiting for them; after Ctrl-C,
        # asyncio then cancels them again as the process ends, mid-answer, and logs each one's traceback.
        cut_off = [task for task in self.server_state.tasks if not task.done()]
        if cut_off:
            await asyncio.wait(cut_off, timeout=CUT_OFF_ANSWER_SECONDS)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        if self._loop is not None:  # called from the signal handler: the loop takes it from there
            self._loop.call_soon_threadsafe(self._syncs.begin_stopping)
