"""``atsbridge sync``: one sync of an integration now, with a progress bar per model (or its report as JSON)."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy import Engine

from atsbridge.cli.common import err, fail, store
from atsbridge.config import Settings, get_settings
from atsbridge.progress import sync_progress
from atsbridge.store.integrations import (
    load_credentials,
    load_integration,
)
from atsbridge.store.syncs import DELTA, FULL, live_run
from atsbridge.sync.engine import RunStopped, SyncResult
from atsbridge.sync.runner import sync_integration
from atsbridge.sync.scheduler import fail_stale_runs


class SyncRefused(Exception):
    """The sync cannot start now: ``code`` says why (another process runs one, the integration is disabled)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def run_sync(engine: Engine, settings: Settings, integration_id: str, sync_type: str, show: bool) -> SyncResult:
    """Run the sync; SIGTERM or SIGINT cancels it, so its run is recorded CANCELLED, not left RUNNING. A second one
    while that is recorded (a double Ctrl-C) changes nothing: it would cut the recording short (asyncio's own SIGINT
    handling raises KeyboardInterrupt into it), leaving the run RUNNING while the CLI said CANCELLED."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, lambda: None)  # the stop is on its way
        task.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    with engine.connect() as conn:
        integration = load_integration(conn, integration_id)
        if integration is None:
            raise LookupError(integration_id)
        if not integration.enabled:
            raise SyncRefused(
                "INTEGRATION_DISABLED",
                f"{integration_id} is disabled; enable it to sync it (PUT /v1/integrations/{integration_id}/enabled "
                '{"value": true})',
            )
        running = live_run(conn, integration_id, datetime.now(UTC))
        if running is not None:
            message = f"a {running.type} sync of {integration_id} is running ({running.id}); wait for it"
            raise SyncRefused("SYNC_RUNNING", message)
        credentials = load_credentials(conn, settings.encryption_key, integration_id)
    with engine.begin() as conn:
        fail_stale_runs(conn, integration_id, datetime.now(UTC))
    with sync_progress(err, show) as bars:
        return await sync_integration(engine, settings, integration, credentials, sync_type, progress=bars)


def sync(
    integration_id: Annotated[str, typer.Argument(help="the integration, e.g. recruhr:...")],
    full: Annotated[bool, typer.Option("--full/--delta", help="FULL (default) or DELTA run")] = True,
    json_output: Annotated[bool, typer.Option("--json", help="print the run's state and counts as JSON")] = False,
) -> None:
    """Run one sync of an integration now, with a progress bar per model."""
    settings = get_settings()
    engine = store(settings)
    try:
        result = asyncio.run(run_sync(engine, settings, integration_id, FULL if full else DELTA, not json_output))
    except LookupError:
        fail(f"no integration {integration_id}", json_output, "INTEGRATION_NOT_FOUND")
    except SyncRefused as refused:
        fail(str(refused), json_output, refused.code)
    except (asyncio.CancelledError, KeyboardInterrupt) as stopped:  # KeyboardInterrupt: before the sync began
        for signum in (signal.SIGTERM, signal.SIGINT):  # stopping already: another signal does not cut the report
            signal.signal(signum, signal.SIG_IGN)
        if not (json_output and isinstance(stopped, RunStopped)):
            fail("the sync was stopped; its run is recorded as CANCELLED", json_output, "SYNC_CANCELLED")
        result = stopped.result
    if json_output:
        print(json.dumps(result.as_json()))
    else:
        for model, counts in result.counts.items():
            err.print(f"{model:<34} " + "  ".join(f"{k} {v}" for k, v in counts.items()))
        err.print(f"sync {result.sync_id}: {result.state} in {result.timings.get('total', 0):.1f} s")
        for error in result.errors:
            err.print(f"  {error.get('level', 'error')}: {error['message']}")
    if result.state != "SUCCEEDED":
        if json_output:  # the report on stdout says why; stderr says that it did not succeed, as every failure
            reasons = "; ".join(e["message"] for e in result.errors if e.get("level") != "warning")
            err.print(f"[red]error:[/red] sync {result.sync_id} {result.state}: {escape(reasons)}", highlight=False)
        raise typer.Exit(1)
