"""What every command of the ``atsbridge`` command shares: the store, errors told in one line (and as JSON with
``--json``), environment names, plain tables."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import unicodedata
from collections.abc import Sequence
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Connection, Engine

from atsbridge.config import Settings
from atsbridge.store.db import create_engine, migrate
from atsbridge.store.integrations import check_key_opens_store, find_environment
from atsbridge.unified.inputs import holds_control_characters

err = Console(stderr=True, soft_wrap=True)  # an error is one line, however narrow the terminal


def store(settings: Settings) -> Engine:
    """The store at ``ATSBRIDGE_DATABASE_URL`` (default: SQLite under ``ATSBRIDGE_DATA_DIR``), migrated."""
    engine = create_engine(settings.resolved_database_url)
    migrate(engine)
    return engine


def check_key(engine: Engine, settings: Settings) -> None:
    """For a long-running process: refused (``CredentialsUnreadable``) if its secret key cannot open the credentials
    stored already, rather than failing every sync, action and connect-flow save it would take on."""
    with engine.connect() as conn:
        check_key_opens_store(conn, settings.encryption_key)


def emit(text: str) -> None:
    """``text`` on stdout, now; ``OSError`` when it cannot be written: stdout closed, whoever read it gone (`| head`,
    ``BrokenPipeError``), a full disk. A command whose output is shown once (a new key, a new id) writes it before
    its transaction commits, so that what could not be shown is not made either."""
    if sys.stdout is None:  # started with stdout closed: print would drop the text without a word
        raise BrokenPipeError("stdout is closed")
    try:
        print(text, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so exiting flushes nothing more there
        raise


def show_before_commit(text: str, what: str) -> None:
    """``text`` on stdout (``emit``), written inside the transaction that makes ``what`` it shows (a new key, an id,
    a secret): if stdout cannot be written the command ends there (``OUTPUT_CLOSED``) and the transaction rolls
    back, so what could not be shown is not made."""
    try:
        emit(text)
    except OSError:
        fail(
            f"stdout cannot be written (closed or full), so {what} could not be shown: nothing was made",
            False,
            "OUTPUT_CLOSED",
        )


def tell_error(message: str, json_output: bool, code: str) -> None:
    """One line on stderr; with ``--json``, also the error object on stdout."""
    if json_output:
        with contextlib.suppress(OSError):  # stdout closed, its reader gone, a full disk: stderr still tells it
            emit(json.dumps({"error": {"code": code, "message": message}}))
    err.print(f"[red]error:[/red] {escape(one_line(message))}", highlight=False)


def one_line(text: str) -> str:
    """``text`` with its line breaks, other controls and invisible formatting characters written as escapes: an
    argument quoted in a message (an id given with a line break) cannot make another line that looks like ours."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode() for char in text)


def fail(message: str, json_output: bool, code: str) -> NoReturn:
    tell_error(message, json_output, code)
    raise typer.Exit(1)


def log_to_stderr() -> None:
    """Log lines (each sync run's, warnings) on stderr, without a line per RECRU call or webhook POST."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def environment_name(given: str, json_output: bool, option: str = "--environment") -> str:
    """An environment's name as given in ``option``: trimmed (" acme " is acme, not another environment) and
    composed (NFC: "Café" typed either way is one name); blank, or holding control characters (a tab, an escape
    sequence: they would garble every listing of it), is refused."""
    name = unicodedata.normalize("NFC", given.strip())
    if not name:
        fail(f"{option} must name an environment", json_output, "INPUT_INVALID")
    refuse_control_characters(name, option, json_output)
    return name


def refuse_control_characters(value: str, option: str, json_output: bool) -> None:
    """End the command if ``value`` (a name shown in listings and events) holds control characters."""
    if holds_control_characters(value):
        fail(f"{option} must not hold control characters (tabs, line breaks, escapes)", json_output, "INPUT_INVALID")


def existing_environment(conn: Connection, name: str, json_output: bool) -> str:
    """The id of the environment called ``name``; an unknown one ends the command (``ENVIRONMENT_NOT_FOUND``)."""
    environment_id = find_environment(conn, name)
    if environment_id is None:
        fail(f"no environment {name!r}", json_output, "ENVIRONMENT_NOT_FOUND")
    return environment_id


def print_table(table: Sequence[Sequence[str]]) -> None:
    """Plain aligned columns, never wrapped: ids and URLs stay whole for copying and grep."""
    widths = [max(len(line[column]) for line in table) for column in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
