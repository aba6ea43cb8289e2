"""The ``atsbridge`` command: demo, emulator and (as later work lands) serve, sync and admin commands."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

app = typer.Typer(help="atsbridge: a self-hostable unified ATS API with a RECRU connector.", no_args_is_help=True)


def _run_emulator(args: list[str]) -> None:
    """Replace this process with the bundled RECRU emulator (a separate package, started as its own program)."""
    os.execv(sys.executable, [sys.executable, "-m", "recru_emulator", *args])


@app.command(context_settings={"allow_extra_args": False})
def emulator(
    port: Annotated[int, typer.Option(help="TCP port to serve on")] = 8765,
    seed: Annotated[int, typer.Option(help="the same seed and size give the same tenant")] = 1,
    size: Annotated[int, typer.Option(help="number of jobseekers; other counts scale from it")] = 1000,
    rate_limit: Annotated[str, typer.Option(help="calls per minute per API user, or 'off'")] = "120",
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    json_output: Annotated[bool, typer.Option("--json", help="first stdout line: {url, login, password}")] = False,
) -> None:
    """Start the bundled RECRU emulator with a seeded tenant."""
    args = ["--host", host, "--port", str(port), "--seed", str(seed), "--size", str(size), "--rate-limit", rate_limit]
    _run_emulator([*args, "--json"] if json_output else args)


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="port of the RECRU emulator")] = 8765,
    size: Annotated[int, typer.Option(help="jobseekers in the seeded tenant")] = 1000,
) -> None:
    """Start the demo: for now the RECRU emulator with a seeded tenant (sync, API and connect page come next)."""
    _run_emulator(["--port", str(port), "--seed", "1", "--size", str(size)])


if __name__ == "__main__":
    app()
