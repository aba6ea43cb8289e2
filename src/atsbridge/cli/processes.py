"""The commands that run the product: ``emulator``, ``demo``, ``serve``, ``worker``, ``migrate``.

The web server, the demo and the job queue are imported inside the commands that use them: every ``atsbridge
sync`` (a DELTA run takes about a second) would otherwise pay for importing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from atsbridge.cli.common import check_key, err, fail, log_to_stderr, store
from atsbridge.config import get_settings
from atsbridge.store.db import create_engine, migrate, stored_revision


def _run_emulator(args: list[str]) -> None:
    """Replace this process with the bundled RECRU emulator (a separate package, started as its own program)."""
    os.execv(sys.executable, [sys.executable, "-m", "recru_emulator", *args])


def emulator(
    port: Annotated[
        int, typer.Option(help="TCP port to serve on (0: a free one, named in the URL)", min=0, max=65535)
    ] = 8765,
    seed: Annotated[int, typer.Option(help="the same seed and size give the same tenant")] = 1,
    size: Annotated[int, typer.Option(help="number of jobseekers; other counts scale from it")] = 1000,
    rate_limit: Annotated[str, typer.Option(help="calls per minute per API user, or 'off'")] = "120",
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    state_file: Annotated[
        Path | None, typer.Option(help="load the tenant from this file if it exists; save it there on exit")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="first stdout line: {url, login, password}")] = False,
) -> None:
    """Start the bundled RECRU emulator with a seeded tenant."""
    args = ["--host", host, "--port", str(port), "--seed", str(seed), "--size", str(size), "--rate-limit", rate_limit]
    args += ["--state-file", str(state_file)] if state_file is not None else []
    _run_emulator([*args, "--json"] if json_output else args)


def demo(
    port: Annotated[int, typer.Option(help="port of the API and connect page", min=1, max=65535)] = 8000,
    emulator_port: Annotated[int, typer.Option(help="port of the RECRU emulator", min=1, max=65535)] = 8765,
    size: Annotated[
        int,
        typer.Option(help="jobseekers in the seeded tenant (the emulator seeds at most 250,000)", min=0, max=250_000),
    ] = 1000,
    data_dir: Annotated[
        Path, typer.Option(help="where the demo's store lives (recreated each run; refused if it holds other files)")
    ] = Path(".atsbridge/demo"),
) -> None:
    """Run the whole product on this machine: emulator, store, connect flow, first sync, API, scheduler."""
    from atsbridge.demo import STOPPED_STARTING, DemoError, DemoStopped, ensure_free, prepare, run_demo

    console = Console()
    # SIGTERM (and SIGHUP: its terminal closed) ends the demo as Ctrl-C does, through the ``finally`` below, so the
    # emulator is stopped with it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.default_int_handler)
    if port == emulator_port:
        fail(
            f"--port and --emulator-port are both {port}: the API and the emulator need one each",
            False,
            "DEMO_NOT_STARTED",
        )
    try:
        ensure_free(port, "--port")
        prepared = prepare(data_dir, emulator_port, size, console)
    except DemoError as refused:
        fail(str(refused), False, "DEMO_NOT_STARTED")
    except KeyboardInterrupt:
        fail(STOPPED_STARTING, False, "DEMO_STOPPED")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_demo(prepared, "127.0.0.1", port, console))
    except DemoError as failed:
        fail(str(failed), False, "DEMO_FAILED")
    except DemoStopped as stopped:
        fail(str(stopped), False, "DEMO_STOPPED")
    finally:
        prepared.emulator.terminate()


def serve(
    host: Annotated[str | None, typer.Option(help="interface to bind (default ATSBRIDGE_HOST or 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default ATSBRIDGE_PORT or 8000)", min=1, max=65535)] = None,
    syncs: Annotated[
        bool,
        typer.Option(
            "--syncs/--no-syncs",
            help="also run the embedded sync scheduler and webhook delivery here (queue runner: workers run syncs)",
        ),
    ] = True,
) -> None:
    """Serve the unified API and the connect page (and, by default, run the sync scheduler)."""
    import uvicorn

    from atsbridge.api.app import create_app
    from atsbridge.api.http_protocol import EnvelopedH11Protocol
    from atsbridge.api.server import Server

    if host is not None and not host.strip():
        fail("--host is empty: name the interface to bind (127.0.0.1, or 0.0.0.0 for all)", False, "INPUT_INVALID")
    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    engine = store(settings)
    check_key(engine, settings)
    _ensure_bindable(host, port)
    app_ = create_app(engine, settings, run_syncs=syncs)
    # The objects of the loaded modules live as long as the process: kept out of the garbage collector's full
    # passes, which otherwise walk them all again every few list pages (tens of ms each, the pages' p99).
    gc.freeze()
    log_to_stderr()
    config = uvicorn.Config(app_, host=host, port=port, log_level="info", http=EnvelopedH11Protocol)
    Server(config, app_.state.syncs).run()


def _ensure_bindable(host: str, port: int) -> None:
    """Refuse, in one line, an address ``serve`` could not listen on (uvicorn would log it over several lines)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.create_server((host, port), family=family):
            pass
    except OSError as failed:
        raise OSError(f"cannot serve on {host}:{port}: {failed.strerror or failed}") from None


def worker() -> None:
    """Run syncs from PostgreSQL's job queue (ATSBRIDGE_SYNC_RUNNER=queue); start as many as you like."""
    from atsbridge.sync.worker import SyncQueue

    settings = get_settings()
    engine = store(settings)
    if engine.dialect.name != "postgresql":
        fail("workers need ATSBRIDGE_DATABASE_URL=postgresql://...; SQLite runs syncs in `atsbridge serve`", False, "")
    check_key(engine, settings)
    log_to_stderr()
    logging.getLogger("atsbridge.worker").info("worker started: syncs of %s", engine.url.render_as_string())
    asyncio.run(SyncQueue(engine, settings).work())


def migrate_command() -> None:
    """Create or upgrade the store's tables."""
    engine = create_engine(get_settings().resolved_database_url)
    before = stored_revision(engine)
    migrate(engine)
    newest = stored_revision(engine)
    if before == newest:
        err.print(f"the store is at the newest schema already (revision {newest})")
    elif before is None:
        err.print(f"the store was created at revision {newest}")
    else:
        err.print(f"the store was upgraded from revision {before} to {newest}")
