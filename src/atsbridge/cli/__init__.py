"""The ``atsbridge`` command: demo, emulator, serve, worker, sync, migrate and the admin commands (``app``), run by
``main``, which tells a configuration or store problem in one line instead of a traceback."""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

from atsbridge import __version__
from atsbridge.cli import environments, integrations, keys, processes, webhooks
from atsbridge.cli import sync as sync_command
from atsbridge.cli.common import tell_error
from atsbridge.store.db import StoreTooNew

app = typer.Typer(help="atsbridge: a self-hostable unified ATS API with a RECRU connector.", no_args_is_help=True)
app.command(context_settings={"allow_extra_args": False})(processes.emulator)
for _command in (processes.demo, processes.serve, processes.worker, sync_command.sync):
    app.command()(_command)
app.command("migrate")(processes.migrate_command)
app.add_typer(integrations.integration_app, name="integration")
app.add_typer(environments.env_app, name="env")
app.add_typer(keys.api_key_app, name="api-key")
app.add_typer(webhooks.webhook_app, name="webhook")


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


def _fail_at_top(message: str, code: str) -> NoReturn:
    """``fail`` outside a command: ``--json`` is looked for on the command line."""
    tell_error(message, "--json" in sys.argv[1:], code)
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

    from atsbridge.config import SecretKeyUnreadable, SettingsUnreadable
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
    except SettingsUnreadable as unreadable_settings:
        _fail_at_top(str(unreadable_settings), "CONFIGURATION_INVALID")
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
