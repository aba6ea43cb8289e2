"""The ``atsbridge`` command: demo, emulator, serve, worker, sync, migrate and the admin commands.

The web server, the demo and the job queue are imported inside the commands that use them: every ``atsbridge
sync`` (a DELTA run takes about a second) would otherwise pay for importing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Connection, Engine

from atsbridge import __version__
from atsbridge.config import Settings, get_settings
from atsbridge.connectors.recru import credentials as recru_credentials
from atsbridge.connectors.recru.guide import problem_message
from atsbridge.connectors.recru.write_params import SOURCE_NAME_MAX
from atsbridge.progress import sync_progress
from atsbridge.store.api_keys import create_api_key, list_api_keys, revoke_api_key
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.db import StoreTooNew, create_engine, migrate, stored_revision
from atsbridge.store.integrations import (
    ORGANIZATION_NAME_MAX,
    apply_settings,
    check_key_opens_store,
    create_integration,
    ensure_environment,
    find_environment,
    list_integrations,
    load_credentials,
    load_integration,
)
from atsbridge.store.reader import ts
from atsbridge.store.syncs import DELTA, FULL, latest_syncs, live_run
from atsbridge.sync.engine import SyncResult
from atsbridge.sync.runner import sync_integration
from atsbridge.sync.scheduler import fail_stale_runs, queue_sync
from atsbridge.webhooks import notify
from atsbridge.webhooks.endpoint import InvalidWebhookUrl, WebhookEndpoint, set_webhook, webhook_of

app = typer.Typer(help="atsbridge: a self-hostable unified ATS API with a RECRU connector.", no_args_is_help=True)
integration_app = typer.Typer(help="Connect and inspect integrations.", no_args_is_help=True)
app.add_typer(integration_app, name="integration")
api_key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)
app.add_typer(api_key_app, name="api-key")
webhook_app = typer.Typer(help="Configure where events are sent.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")
err = Console(stderr=True, soft_wrap=True)  # an error is one line, however narrow the terminal


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"atsbridge {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """The options of ``atsbridge`` itself, before a command."""


def _store(settings: Settings) -> Engine:
    """The store at ``ATSBRIDGE_DATABASE_URL`` (default: SQLite under ``ATSBRIDGE_DATA_DIR``), migrated."""
    engine = create_engine(settings.resolved_database_url)
    migrate(engine)
    return engine


def _check_key(engine: Engine, settings: Settings) -> None:
    """For a long-running process: refused (``CredentialsUnreadable``) if its secret key cannot open the credentials
    stored already, rather than failing every sync, action and connect-flow save it would take on."""
    with engine.connect() as conn:
        check_key_opens_store(conn, settings.encryption_key)


def _tell_error(message: str, json_output: bool, code: str) -> None:
    """One line on stderr; with ``--json``, also the error object on stdout."""
    if json_output:
        print(json.dumps({"error": {"code": code, "message": message}}))
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)


def _fail(message: str, json_output: bool, code: str) -> NoReturn:
    _tell_error(message, json_output, code)
    raise typer.Exit(1)


def _log_to_stderr() -> None:
    """Log lines (each sync run's, warnings) on stderr, without a line per RECRU call or webhook POST."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _run_emulator(args: list[str]) -> None:
    """Replace this process with the bundled RECRU emulator (a separate package, started as its own program)."""
    os.execv(sys.executable, [sys.executable, "-m", "recru_emulator", *args])


@app.command(context_settings={"allow_extra_args": False})
def emulator(
    port: Annotated[int, typer.Option(help="TCP port to serve on", min=1, max=65535)] = 8765,
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


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="port of the API and connect page", min=1, max=65535)] = 8000,
    emulator_port: Annotated[int, typer.Option(help="port of the RECRU emulator", min=1, max=65535)] = 8765,
    size: Annotated[int, typer.Option(help="jobseekers in the seeded tenant", min=0)] = 1000,
    data_dir: Annotated[
        Path, typer.Option(help="where the demo's store lives (recreated each run; refused if it holds other files)")
    ] = Path(".atsbridge/demo"),
) -> None:
    """Run the whole product on this machine: emulator, store, connect flow, first sync, API, scheduler."""
    from atsbridge.demo import DemoError, ensure_free, prepare, run_demo

    console = Console()
    # SIGTERM (and SIGHUP: its terminal closed) ends the demo as Ctrl-C does, through the ``finally`` below, so the
    # emulator is stopped with it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.default_int_handler)
    if port == emulator_port:
        _fail(
            f"--port and --emulator-port are both {port}: the API and the emulator need one each",
            False,
            "DEMO_NOT_STARTED",
        )
    try:
        ensure_free(port, "--port")
        prepared = prepare(data_dir, emulator_port, size, console)
    except DemoError as refused:
        _fail(str(refused), False, "DEMO_NOT_STARTED")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_demo(prepared, "127.0.0.1", port, console))
    except DemoError as failed:
        _fail(str(failed), False, "DEMO_FAILED")
    finally:
        prepared.emulator.terminate()


@api_key_app.command("create")
def api_key_create(
    environment: Annotated[str, typer.Option(help="environment the key belongs to (created if new)")] = "default",
    json_output: Annotated[bool, typer.Option("--json", help="print {key, environment_id} as one JSON object")] = False,
) -> None:
    """Create an API key; it is shown once and stored only as a hash."""
    environment = _environment_name(environment, json_output)
    with _store(get_settings()).begin() as conn:
        environment_id = ensure_environment(conn, environment)
        key = create_api_key(conn, environment_id)
    if json_output:
        print(json.dumps({"key": key, "environment_id": environment_id}))
    else:
        print(key)
        err.print(f"API key for environment {environment!r} ({environment_id}); it is not shown again.")


@api_key_app.command("list")
def api_key_list(
    environment: Annotated[str | None, typer.Option(help="only this environment's keys")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print {api_keys: [...]} as one JSON object")] = False,
) -> None:
    """List the API keys: id, environment, first characters and creation time (the keys themselves are not kept)."""
    with _store(get_settings()).connect() as conn:
        environment_id = None if environment is None else _existing_environment(conn, environment, json_output)
        keys = list_api_keys(conn, environment_id)
    shown = [
        {"id": k.id, "environment": k.environment, "prefix": k.prefix, "created_at": ts(k.created_at)} for k in keys
    ]
    if json_output:
        print(json.dumps({"api_keys": shown}))
    elif not shown:
        err.print("no API keys yet: `atsbridge api-key create` makes one")
    else:
        heading = ("id", "environment", "starts with", "created")
        _print_table([heading, *((k.id, k.environment, f"{k.prefix}…", str(ts(k.created_at))) for k in keys)])


@api_key_app.command("revoke")
def api_key_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id, as `atsbridge api-key list` shows it")],
    json_output: Annotated[bool, typer.Option("--json", help="print {id, revoked: true} as one JSON object")] = False,
) -> None:
    """Revoke an API key: requests made with it are refused (401) from now on."""
    with _store(get_settings()).begin() as conn:
        if not revoke_api_key(conn, key_id.strip()):
            _fail(f"no API key {key_id.strip()!r} (`atsbridge api-key list` shows their ids)", json_output,
                  "API_KEY_NOT_FOUND")  # fmt: skip
    if json_output:
        print(json.dumps({"id": key_id.strip(), "revoked": True}))
    else:
        err.print(f"API key {key_id.strip()} revoked")


def _existing_environment(conn: Connection, name: str, json_output: bool) -> str:
    """The id of the environment called ``name``; an unknown one ends the command (``ENVIRONMENT_NOT_FOUND``)."""
    environment_id = find_environment(conn, name)
    if environment_id is None:
        _fail(f"no environment {name!r}", json_output, "ENVIRONMENT_NOT_FOUND")
    return environment_id


def _environment_name(given: str, json_output: bool) -> str:
    """An ``--environment`` as named: trimmed (" acme " is acme, not another environment); blank is refused."""
    if not given.strip():
        _fail("--environment must name an environment", json_output, "INPUT_INVALID")
    return given.strip()


def _print_webhook(environment: str, endpoint: WebhookEndpoint | None, json_output: bool) -> None:
    if json_output:
        url, secret = (endpoint.url, endpoint.secret) if endpoint else (None, None)
        print(json.dumps({"environment": environment, "url": url, "secret": secret}))
    elif endpoint is None:
        err.print(f"no webhook URL is set for environment {environment!r}")
    else:
        print(endpoint.secret)
        err.print(f"events of environment {environment!r} go to {endpoint.url}, signed with the secret above")


@webhook_app.command("set")
def webhook_set(
    url: Annotated[str, typer.Option(help="where events are POSTed (http:// or https://)")],
    environment: Annotated[str, typer.Option(help="the environment (created if new)")] = "default",
    rotate_secret: Annotated[bool, typer.Option("--rotate-secret", help="replace the signing secret")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print {environment, url, secret} as JSON")] = False,
) -> None:
    """Send the environment's events to URL; prints the signing secret (made on first use, kept unless rotated)."""
    environment = _environment_name(environment, json_output)
    settings = get_settings()
    try:
        with _store(settings).begin() as conn:
            check_key_opens_store(conn, settings.encryption_key)  # else only this key could read the secret
            environment_id = ensure_environment(conn, environment)
            secret = set_webhook(conn, settings.encryption_key, environment_id, url, rotate_secret=rotate_secret)
    except InvalidWebhookUrl as error:
        _fail(str(error), json_output, "INPUT_INVALID")
    _print_webhook(environment, WebhookEndpoint(url, secret), json_output)


@webhook_app.command("show")
def webhook_show(
    environment: Annotated[str, typer.Option(help="the environment")] = "default",
    json_output: Annotated[bool, typer.Option("--json", help="print {environment, url, secret} as JSON")] = False,
) -> None:
    """Show where the environment's events go and the secret they are signed with."""
    environment = _environment_name(environment, json_output)
    settings = get_settings()
    with _store(settings).connect() as conn:
        environment_id = _existing_environment(conn, environment, json_output)
        endpoint = webhook_of(conn, settings.encryption_key, environment_id)
    _print_webhook(environment, endpoint, json_output)


def _credentials(login: str, password: str | None, json_output: bool) -> RecruCredentials:
    """The login with ``--password``, or the password typed at the prompt (or piped in)."""
    if password is None:
        password = _read_password()
    if password is None:
        _fail("no password: give --password, type it at the prompt or pipe it in", json_output, "INPUT_INVALID")
    return RecruCredentials(login, password)


def _checked_login(tenant_url: str, credentials: RecruCredentials, json_output: bool, *, normalise: bool) -> str:
    """The tenant's URL (``normalise``: taken as typed, any address), once RECRU accepted a real login there; else
    one error line, what RECRU or the address refused."""
    try:
        if normalise:
            tenant_url = recru_credentials.tenant_url(tenant_url, allow_custom=True)
        asyncio.run(recru_credentials.check_credentials(tenant_url, credentials))
    except recru_credentials.CredentialsRefused as refused:
        _fail(problem_message(refused.problem, tenant_url, on_page=False), json_output, refused.problem.value)
    return tenant_url


def _read_password() -> str | None:
    """The password typed at a prompt on stderr (stdout carries only the ``--json`` answer), or, without a terminal,
    the first line piped in (without getpass's echo warning); None if there is none."""
    if sys.stdin.isatty():
        try:
            return str(typer.prompt("Password", hide_input=True, err=True))
        except typer.Abort:
            return None
    return sys.stdin.readline().rstrip("\r\n") or None


@app.command()
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

    if host is not None and not host.strip():
        _fail("--host is empty: name the interface to bind (127.0.0.1, or 0.0.0.0 for all)", False, "INPUT_INVALID")
    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    engine = _store(settings)
    _check_key(engine, settings)
    _ensure_bindable(host, port)
    app_ = create_app(engine, settings, run_syncs=syncs)
    # The objects of the loaded modules live as long as the process: kept out of the garbage collector's full
    # passes, which otherwise walk them all again every few list pages (tens of ms each, the pages' p99).
    gc.freeze()
    _log_to_stderr()
    uvicorn.run(app_, host=host, port=port, log_level="info", http=EnvelopedH11Protocol)


def _ensure_bindable(host: str, port: int) -> None:
    """Refuse, in one line, an address ``serve`` could not listen on (uvicorn would log it over several lines)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.create_server((host, port), family=family):
            pass
    except OSError as failed:
        raise OSError(f"cannot serve on {host}:{port}: {failed.strerror or failed}") from None


@app.command()
def worker() -> None:
    """Run syncs from PostgreSQL's job queue (ATSBRIDGE_SYNC_RUNNER=queue); start as many as you like."""
    from atsbridge.sync.worker import SyncQueue

    settings = get_settings()
    engine = _store(settings)
    if engine.dialect.name != "postgresql":
        _fail("workers need ATSBRIDGE_DATABASE_URL=postgresql://...; SQLite runs syncs in `atsbridge serve`", False, "")
    _check_key(engine, settings)
    _log_to_stderr()
    logging.getLogger("atsbridge.worker").info("worker started: syncs of %s", engine.url.render_as_string())
    asyncio.run(SyncQueue(engine, settings).work())


@app.command("migrate")
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


@integration_app.command("settings")
def integration_settings(
    integration_id: Annotated[str, typer.Argument(help="the integration, e.g. recruhr:...")],
    sync_only_created: Annotated[
        bool | None, typer.Option("--sync-only-created/--sync-all", help="sync only applications created through us")
    ] = None,
    source_label: Annotated[str | None, typer.Option(help="source written on candidates created through us")] = None,
    remote_data: Annotated[
        bool | None, typer.Option("--remote-data/--no-remote-data", help="serve remote_data")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the settings as JSON")] = False,
) -> None:
    """Show or change an integration's settings."""
    changes: dict[str, object] = {}
    if sync_only_created is not None:
        changes["sync_only_created_applications"] = sync_only_created
    if source_label is not None:
        label = source_label.strip()
        if not 1 <= len(label) <= SOURCE_NAME_MAX:
            _fail(
                f"--source-label must be 1 to {SOURCE_NAME_MAX} characters (RECRU's limit)",
                json_output,
                "INPUT_INVALID",
            )
        changes["source_label"] = label
    if remote_data is not None:
        changes["remote_data_enabled"] = remote_data
    with _store(get_settings()).begin() as conn:
        if load_integration(conn, integration_id) is None:
            _fail(f"no integration {integration_id}", json_output, "INTEGRATION_NOT_FOUND")
        applied = apply_settings(conn, integration_id, **changes) if changes else None
        if applied is not None:
            notify.data_changed(conn, integration_id, applied.revealed)
            if applied.opened:
                queue_sync(conn, integration_id, FULL)  # run by `serve`'s scheduler or a worker at its next look
        found = load_integration(conn, integration_id)
    assert found is not None
    shown = {
        "sync_only_created_applications": found.sync_only_created_applications,
        "source_label": found.source_label,
        "remote_data": found.remote_data_enabled,
    }
    print(json.dumps(shown) if json_output else "\n".join(f"{k}: {v}" for k, v in shown.items()))


@integration_app.command("list")
def integration_list(
    environment: Annotated[str | None, typer.Option(help="only this environment's integrations")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print {integrations: [...]} as one JSON object")] = False,
) -> None:
    """List the integrations: state, setup status, what they sync and their latest sync."""
    with _store(get_settings()).connect() as conn:
        environment_id = None if environment is None else _existing_environment(conn, environment, json_output)
        latest_by_integration = latest_syncs(conn)
        listed = [(found, latest_by_integration.get(found.id)) for found in list_integrations(conn, environment_id)]
    shown: list[dict[str, Any]] = [
        {
            "id": found.id,
            "environment": found.environment_name,
            "tenant_url": found.tenant_url,
            "state": found.state,
            "setup_status": found.setup_status,
            "sync_only_created_applications": found.sync_only_created_applications,
            "latest_sync": None
            if last is None
            else {"id": last.id, "type": last.type, "state": last.state, "ended_at": ts(last.ended_at)},
        }
        for found, last in listed
    ]
    if json_output:
        print(json.dumps({"integrations": shown}))
        return
    if not shown:
        err.print("no integrations yet: `atsbridge integration create` or the connect page adds one")
        return
    table = [("id", "environment", "tenant", "state", "setup", "syncs", "latest sync")]
    for row in shown:
        latest = row["latest_sync"]
        table.append(
            (
                row["id"],
                row["environment"],
                row["tenant_url"],
                row["state"],
                row["setup_status"],
                "created applications" if row["sync_only_created_applications"] else "all",
                f"{latest['type']} {latest['state']} {latest['ended_at'] or ''}".strip() if latest else "none",
            )
        )
    _print_table(table)


def _print_table(table: Sequence[Sequence[str]]) -> None:
    """Plain aligned columns, never wrapped: ids and URLs stay whole for copying and grep."""
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())


@integration_app.command("create")
def integration_create(
    tenant_url: Annotated[str, typer.Option(help="the RECRU tenant, e.g. https://acme.recru.eu")],
    login: Annotated[str, typer.Option(help="login (e-mail) of the dedicated RECRU API user")],
    password: Annotated[str | None, typer.Option(help="its password (asked for on the terminal if not given)")] = None,
    tool: Annotated[str, typer.Option(help="the ATS; only recruhr exists")] = "recruhr",
    environment: Annotated[
        str, typer.Option(help="environment the integration belongs to (created if new)")
    ] = "default",
    sync_only_created: Annotated[
        bool, typer.Option("--sync-only-created/--sync-all", help="sync only applications created through us")
    ] = True,
    organization: Annotated[
        str | None,
        typer.Option(help="the end user's organisation, as events and the integration show it (default: the tenant)"),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print {id, environment_id} as one JSON object")] = False,
) -> None:
    """Connect a RECRU tenant: the credentials are checked with a real login before anything is saved."""
    environment = _environment_name(environment, json_output)
    if organization is not None and len(organization) > ORGANIZATION_NAME_MAX:
        _fail(f"--organization: at most {ORGANIZATION_NAME_MAX} characters", json_output, "INPUT_INVALID")
    if tool != "recruhr":
        _fail(f"unknown tool {tool!r}: only 'recruhr' (RECRU) is supported", json_output, "INPUT_INVALID")
    credentials = _credentials(login, password, json_output)
    tenant_url = _checked_login(tenant_url, credentials, json_output, normalise=True)
    settings = get_settings()
    with _store(settings).begin() as conn:
        check_key_opens_store(conn, settings.encryption_key)  # else only this key could read what it stores
        environment_id = ensure_environment(conn, environment)
        integration_id = create_integration(
            conn,
            settings.encryption_key,
            environment_id=environment_id,
            tenant_url=tenant_url,
            credentials=credentials,
            sync_only_created_applications=sync_only_created,
            end_user_organization_name=(organization or "").strip() or urlsplit(tenant_url).netloc,
        )
        notify.integration_created(conn, integration_id)
    if json_output:
        print(json.dumps({"id": integration_id, "environment_id": environment_id}))
    else:
        err.print(f"integration [bold]{integration_id}[/bold] created in environment {environment!r}")


@integration_app.command("relink")
def integration_relink(
    integration_id: Annotated[str, typer.Argument(help="the integration, e.g. recruhr:...")],
    login: Annotated[str, typer.Option(help="login (e-mail) of the RECRU API user")],
    password: Annotated[str | None, typer.Option(help="its password (asked for on the terminal if not given)")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print {id, status, sync_id} as one JSON object")] = False,
) -> None:
    """Replace an integration's RECRU credentials (its API user or password changed): checked with a real login on
    its tenant first; its data, ids and settings stay, and a sync is queued to catch up."""
    from atsbridge.sync.reconnect import IntegrationGone, reconnect

    settings = get_settings()
    engine = _store(settings)
    with engine.connect() as conn:
        found = load_integration(conn, integration_id)
    if found is None:
        _fail(f"no integration {integration_id}", json_output, "INTEGRATION_NOT_FOUND")
    credentials = _credentials(login, password, json_output)
    _checked_login(found.tenant_url, credentials, json_output, normalise=False)
    try:
        with engine.begin() as conn:
            check_key_opens_store(conn, settings.encryption_key)  # else only this key could read what it stores
            queued = reconnect(conn, settings.encryption_key, integration_id, credentials)
            now = load_integration(conn, integration_id)
    except IntegrationGone:
        _fail(f"no integration {integration_id} (deleted meanwhile)", json_output, "INTEGRATION_NOT_FOUND")
    assert now is not None
    sync_id = None if queued is None else queued[0]  # run by `serve`'s scheduler or a worker at its next look
    if json_output:
        print(json.dumps({"id": integration_id, "status": now.state, "sync_id": sync_id}))
    else:
        queued_text = "" if queued is None else f"; {queued[1]} sync {sync_id} queued"
        err.print(f"integration [bold]{integration_id}[/bold] reconnected: {now.state}{queued_text}")


class SyncRefused(Exception):
    """The sync cannot start now: ``code`` says why (another process runs one, the integration is disabled)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def run_sync(engine: Engine, settings: Settings, integration_id: str, sync_type: str, show: bool) -> SyncResult:
    """Run the sync; SIGTERM (as SIGINT) cancels it, so its run is recorded CANCELLED, not left RUNNING."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
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


@app.command()
def sync(
    integration_id: Annotated[str, typer.Argument(help="the integration, e.g. recruhr:...")],
    full: Annotated[bool, typer.Option("--full/--delta", help="FULL (default) or DELTA run")] = True,
    json_output: Annotated[bool, typer.Option("--json", help="print the run's state and counts as JSON")] = False,
) -> None:
    """Run one sync of an integration now, with a progress bar per model."""
    settings = get_settings()
    engine = _store(settings)
    try:
        result = asyncio.run(run_sync(engine, settings, integration_id, FULL if full else DELTA, not json_output))
    except LookupError:
        _fail(f"no integration {integration_id}", json_output, "INTEGRATION_NOT_FOUND")
    except SyncRefused as refused:
        _fail(str(refused), json_output, refused.code)
    except (asyncio.CancelledError, KeyboardInterrupt):
        _fail("the sync was stopped; its run is recorded as CANCELLED", json_output, "SYNC_CANCELLED")
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
            reasons = "; ".join(e["message"] for e in result.errors if e.get("level", "error") == "error")
            err.print(f"[red]error:[/red] sync {result.sync_id} {result.state}: {escape(reasons)}", highlight=False)
        raise typer.Exit(1)


def _fail_at_top(message: str, code: str) -> NoReturn:
    """``_fail`` outside a command: ``--json`` is looked for on the command line."""
    _tell_error(message, "--json" in sys.argv[1:], code)
    raise SystemExit(1)


def _undecodable_argument() -> str | None:
    """The first command-line argument that is not UTF-8 text (Python keeps its bytes as lone surrogates, which
    no store, log or RECRU call can take), shown with those bytes escaped."""
    for argument in sys.argv[1:]:
        if any("\udc80" <= char <= "\udcff" for char in argument):
            return argument.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None


def main() -> None:
    """The ``atsbridge`` command: ``app``, with a configuration or key problem told in one line, not a traceback."""
    from cryptography.exceptions import InvalidTag
    from pydantic import ValidationError
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from atsbridge.config import SecretKeyUnreadable
    from atsbridge.store.credentials import CredentialsUnreadable

    undecodable = _undecodable_argument()
    if undecodable is not None:
        _fail_at_top(f"the argument '{undecodable}' is not UTF-8 text", "INPUT_INVALID")
    try:
        app()
    except (ArgumentError, DBAPIError) as unusable:
        reason = str(getattr(unusable, "orig", None) or unusable).strip().splitlines()[0]
        _fail_at_top(f"the store (ATSBRIDGE_DATABASE_URL, or the data dir's SQLite file): {reason}", "STORE_UNUSABLE")
    except OSError as failed:  # a data dir that cannot be made or written, a port that cannot be bound
        _fail_at_top(str(failed), "OS_ERROR")
    except ValidationError as invalid:
        problems = "; ".join(f"ATSBRIDGE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in invalid.errors())
        _fail_at_top(f"configuration: {problems}", "CONFIGURATION_INVALID")
    except (CredentialsUnreadable, StoreTooNew) as unusable_store:
        _fail_at_top(str(unusable_store), "STORE_UNUSABLE")
    except SecretKeyUnreadable as unreadable:
        _fail_at_top(str(unreadable), "SECRET_UNREADABLE")
    except InvalidTag:  # another stored secret (an environment's webhook secret)
        _fail_at_top(
            "a stored secret cannot be decrypted: the secret key (ATSBRIDGE_SECRET_KEY, or secret.key in the data "
            "dir) is not the one it was saved with",
            "SECRET_UNREADABLE",
        )


if __name__ == "__main__":
    main()
