"""``atsbridge api-key``: create, list and revoke API keys."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from atsbridge.cli.common import (
    environment_name,
    err,
    existing_environment,
    fail,
    print_table,
    show_before_commit,
    store,
)
from atsbridge.config import get_settings
from atsbridge.store.api_keys import create_api_key, list_api_keys, revoke_api_key
from atsbridge.store.integrations import (
    ensure_environment,
)
from atsbridge.store.reader import ts

api_key_app = typer.Typer(help="Create, list and revoke API keys.", no_args_is_help=True)


@api_key_app.command("create")
def api_key_create(
    environment: Annotated[str, typer.Option(help="environment the key belongs to (created if new)")] = "default",
    json_output: Annotated[bool, typer.Option("--json", help="print {key, environment_id} as one JSON object")] = False,
) -> None:
    """Create an API key; it is shown once and stored only as a hash."""
    environment = environment_name(environment, json_output)
    with store(get_settings()).begin() as conn:
        environment_id = ensure_environment(conn, environment)
        key = create_api_key(conn, environment_id)
        show_before_commit(
            json.dumps({"key": key, "environment_id": environment_id}) if json_output else key, "the new key"
        )
    if not json_output:
        err.print(f"API key for environment {environment!r} ({environment_id}); it is not shown again.")


@api_key_app.command("list")
def api_key_list(
    environment: Annotated[str | None, typer.Option(help="only this environment's keys")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print {api_keys: [...]} as one JSON object")] = False,
) -> None:
    """List the API keys: id, environment, first characters and creation time (the keys themselves are not kept)."""
    with store(get_settings()).connect() as conn:
        environment_id = None if environment is None else existing_environment(conn, environment, json_output)
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
        print_table([heading, *((k.id, k.environment, f"{k.prefix}…", str(ts(k.created_at))) for k in keys)])


@api_key_app.command("revoke")
def api_key_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id, as `atsbridge api-key list` shows it")],
    json_output: Annotated[bool, typer.Option("--json", help="print {id, revoked: true} as one JSON object")] = False,
) -> None:
    """Revoke an API key: requests made with it are refused (401) from now on."""
    with store(get_settings()).begin() as conn:
        if not revoke_api_key(conn, key_id.strip()):
            fail(f"no API key {key_id.strip()!r} (`atsbridge api-key list` shows their ids)", json_output,
                  "API_KEY_NOT_FOUND")  # fmt: skip
    if json_output:
        print(json.dumps({"id": key_id.strip(), "revoked": True}))
    else:
        err.print(f"API key {key_id.strip()} revoked")
