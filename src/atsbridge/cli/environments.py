"""``atsbridge env``: create and list environments (each holds its own API keys, integrations and webhook)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from atsbridge.cli.common import environment_name, err, print_table, show_before_commit, store
from atsbridge.config import get_settings
from atsbridge.store.integrations import ensure_environment, find_environment, list_environments
from atsbridge.store.reader import ts

env_app = typer.Typer(help="Create and list environments.", no_args_is_help=True)


@env_app.command("create")
def env_create(
    name: Annotated[str, typer.Argument(help="the environment's name (trimmed)")],
    json_output: Annotated[bool, typer.Option("--json", help="print {id, name, created} as one JSON object")] = False,
) -> None:
    """Create an environment (`api-key create --environment NAME` also creates one it does not find); one that
    exists already is left as it is and its id printed."""
    name = environment_name(name, json_output, "NAME")
    with store(get_settings()).begin() as conn:
        existed = find_environment(conn, name) is not None
        environment_id = ensure_environment(conn, name)
        shown = json.dumps({"id": environment_id, "name": name, "created": not existed})
        show_before_commit(shown if json_output else environment_id, "the environment's id")
    if not json_output:
        err.print(f"environment {name!r} {'exists already' if existed else 'created'} ({environment_id})")


@env_app.command("list")
def env_list(
    json_output: Annotated[bool, typer.Option("--json", help="print {environments: [...]} as one JSON object")] = False,
) -> None:
    """List the environments: id, name, API keys, integrations and creation time."""
    with store(get_settings()).connect() as conn:
        listed = list_environments(conn)
    if json_output:
        shown = [
            {"id": e.id, "name": e.name, "api_keys": e.api_keys, "integrations": e.integrations,
             "created_at": ts(e.created_at)}
            for e in listed
        ]  # fmt: skip
        print(json.dumps({"environments": shown}))
    elif not listed:
        err.print("no environments yet: `atsbridge env create NAME` (or `atsbridge api-key create`) makes one")
    else:
        heading = ("id", "name", "api keys", "integrations", "created")
        rows = ((e.id, e.name, str(e.api_keys), str(e.integrations), str(ts(e.created_at))) for e in listed)
        print_table([heading, *rows])
