"""``atsbridge integration``: connect a RECRU tenant (after a real login), list, reconnect, change settings."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from atsbridge.cli.common import (
    environment_name,
    err,
    existing_environment,
    fail,
    print_table,
    refuse_control_characters,
    show_before_commit,
    store,
)
from atsbridge.config import get_settings
from atsbridge.connectors.recru import credentials as recru_credentials
from atsbridge.connectors.recru.guide import problem_message
from atsbridge.connectors.recru.write_params import SOURCE_NAME_MAX
from atsbridge.store.credentials import RecruCredentials
from atsbridge.store.integrations import (
    ORGANIZATION_NAME_MAX,
    apply_settings,
    check_key_opens_store,
    create_integration,
    ensure_environment,
    list_integrations,
    load_integration,
)
from atsbridge.store.reader import ts
from atsbridge.store.syncs import FULL, latest_syncs
from atsbridge.sync.scheduler import queue_sync
from atsbridge.unified.inputs import is_blank
from atsbridge.webhooks import notify

integration_app = typer.Typer(help="Connect and inspect integrations.", no_args_is_help=True)


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
        if is_blank(label) or len(label) > SOURCE_NAME_MAX:
            fail(
                f"--source-label must show 1 to {SOURCE_NAME_MAX} characters (RECRU's limit)",
                json_output,
                "INPUT_INVALID",
            )
        refuse_control_characters(label, "--source-label", json_output)
        changes["source_label"] = label
    if remote_data is not None:
        changes["remote_data_enabled"] = remote_data
    with store(get_settings()).begin() as conn:
        if load_integration(conn, integration_id) is None:
            fail(f"no integration {integration_id}", json_output, "INTEGRATION_NOT_FOUND")
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
    with store(get_settings()).connect() as conn:
        environment_id = None if environment is None else existing_environment(conn, environment, json_output)
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
    print_table(table)


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
    environment = environment_name(environment, json_output)
    organization = "" if is_blank(organization or "") else (organization or "").strip()  # blank: the tenant
    if len(organization) > ORGANIZATION_NAME_MAX:
        fail(f"--organization: at most {ORGANIZATION_NAME_MAX} characters", json_output, "INPUT_INVALID")
    refuse_control_characters(organization, "--organization", json_output)
    if tool != "recruhr":
        fail(f"unknown tool {tool!r}: only 'recruhr' (RECRU) is supported", json_output, "INPUT_INVALID")
    credentials = _credentials(login, password, json_output)
    tenant_url = _checked_login(tenant_url, credentials, json_output, normalise=True)
    settings = get_settings()
    with store(settings).begin() as conn:
        check_key_opens_store(conn, settings.encryption_key)  # else only this key could read what it stores
        environment_id = ensure_environment(conn, environment)
        integration_id = create_integration(
            conn,
            settings.encryption_key,
            environment_id=environment_id,
            tenant_url=tenant_url,
            credentials=credentials,
            sync_only_created_applications=sync_only_created,
            end_user_organization_name=organization or urlsplit(tenant_url).netloc,
        )
        notify.integration_created(conn, integration_id)
        # the id alone on stdout, as `api-key create` prints its key: `ID=$(atsbridge integration create …)`
        shown = {"id": integration_id, "environment_id": environment_id}
        show_before_commit(json.dumps(shown) if json_output else integration_id, "the new integration's id")
    if not json_output:
        err.print(f"integration created in environment {environment!r}")


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
    engine = store(settings)
    with engine.connect() as conn:
        found = load_integration(conn, integration_id)
    if found is None:
        fail(f"no integration {integration_id}", json_output, "INTEGRATION_NOT_FOUND")
    credentials = _credentials(login, password, json_output)
    _checked_login(found.tenant_url, credentials, json_output, normalise=False)
    try:
        with engine.begin() as conn:
            check_key_opens_store(conn, settings.encryption_key)  # else only this key could read what it stores
            queued = reconnect(conn, settings.encryption_key, integration_id, credentials)
            now = load_integration(conn, integration_id)
    except IntegrationGone:
        fail(f"no integration {integration_id} (deleted meanwhile)", json_output, "INTEGRATION_NOT_FOUND")
    assert now is not None
    sync_id = None if queued is None else queued[0]  # run by `serve`'s scheduler or a worker at its next look
    if json_output:
        print(json.dumps({"id": integration_id, "status": now.state, "sync_id": sync_id}))
    else:
        queued_text = "" if queued is None else f"; {queued[1]} sync {sync_id} queued"
        err.print(f"integration [bold]{integration_id}[/bold] reconnected: {now.state}{queued_text}")


def _credentials(login: str, password: str | None, json_output: bool) -> RecruCredentials:
    """The login with ``--password``, or the password typed at the prompt (or piped in)."""
    if password is None:
        password = _read_password()
    if password is None:
        fail("no password: give --password, type it at the prompt or pipe it in", json_output, "INPUT_INVALID")
    return RecruCredentials(login, password)


def _checked_login(tenant_url: str, credentials: RecruCredentials, json_output: bool, *, normalise: bool) -> str:
    """The tenant's URL (``normalise``: taken as typed, any address), once RECRU accepted a real login there; else
    one error line, what RECRU or the address refused."""
    try:
        if normalise:
            tenant_url = recru_credentials.tenant_url(tenant_url, allow_custom=True)
        asyncio.run(recru_credentials.check_credentials(tenant_url, credentials))
    except recru_credentials.CredentialsRefused as refused:
        fail(problem_message(refused.problem, tenant_url, on_page=False), json_output, refused.problem.value)
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
