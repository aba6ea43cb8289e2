"""Command line of the emulator: ``--port P --seed S --size N [--rate-limit R|off] [--json]``.

It prints the tenant URL, login and password once its port is bound, before the server logs anything; with
``--json`` that is one JSON line, flushed at once, so a test or a script can read it and connect. A bad option is
one ``error:`` line on stderr (exit 2), as every other problem found before serving.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import uvicorn

from recru_emulator.app import create_app
from recru_emulator.emulator import MAX_SIZE, Emulator
from recru_emulator.http_protocol import TransportH11Protocol
from recru_emulator.ratelimit import DEFAULT_PER_MINUTE


def _rate_limit(value: str) -> int | None:
    if value.lower() == "off":
        return None
    if not value.isdecimal() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: a positive whole number of calls per minute, or off")
    return int(value)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        _fail(f"{message} (see --help)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = _Parser(prog="recru_emulator", description="A RECRU tenant in a box.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", type=int, default=1000, help="number of jobseekers; the rest scales from it")
    parser.add_argument(
        "--rate-limit",
        type=_rate_limit,
        default=DEFAULT_PER_MINUTE,
        help="calls per minute per API user, or off",
    )
    parser.add_argument("--json", action="store_true", help="print {url, login, password} as the first line")
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="load the tenant from this file if it exists; save it on exit (a pickle: load only files it saved)",
    )
    return parser.parse_args(argv)


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _ensure_free(host: str, port: int) -> None:
    """Refuse a port that cannot be served on before anything is printed: a script reading the first line then
    knows the emulator is the one answering there. (Probed, then left to uvicorn to bind: serving on a socket
    made here cost every keep-alive request a delayed ACK, ~40 ms.)"""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except (OSError, OverflowError) as error:
            _fail(f"cannot serve on {host}:{port}: {error}")


def _emulator(args: argparse.Namespace) -> Emulator:
    state_file: Path | None = args.state_file
    if state_file is not None and not os.access(state_file.parent.resolve(), os.W_OK):
        _fail(f"--state-file {state_file}: its directory does not exist or cannot be written")
    if state_file is not None and state_file.is_dir():
        _fail(f"--state-file {state_file} is a directory; name a file")
    try:
        return Emulator(args.seed, args.size, args.rate_limit, state_file)
    except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, TypeError, ImportError):
        _fail(f"--state-file {state_file} is not a tenant this emulator saved")
    except OSError as error:
        _fail(f"--state-file {state_file} cannot be read: {error.strerror or error}")


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server that prints ``announcement(port)`` once its port is bound (before that a client is refused):
    the port bound, which ``--port 0`` leaves to the system."""

    def __init__(self, config: uvicorn.Config, announcement: Callable[[int], str]) -> None:
        super().__init__(config)
        self.announcement = announcement

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            bound = [sock.getsockname()[1] for server in self.servers for sock in server.sockets]
            print(self.announcement(bound[0] if bound else self.config.port), flush=True)


STOP_GRACE_SECONDS = 3
"""How long a stopping emulator lets calls in progress finish: a ``slow`` fault may hold one for minutes."""


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not 0 <= args.size <= MAX_SIZE:
        _fail(f"--size must be 0 or more, and at most {MAX_SIZE}")
    emulator = _emulator(args)
    _ensure_free(args.host, args.port)
    if not emulator.api_user_can_log_in():
        print(
            "note: the tenant's API user was deleted, deactivated or lost API access: the login below works after "
            "POST /__emulator__/reset",
            file=sys.stderr,
            flush=True,
        )

    def announcement(port: int) -> str:
        url = f"http://{f'[{args.host}]' if ':' in args.host else args.host}:{port}"
        if args.json:
            return json.dumps({"url": url, "login": emulator.login, "password": emulator.password})
        return f"RECRU tenant: {url}\nlogin:        {emulator.login}\npassword:     {emulator.password}"

    config = uvicorn.Config(
        create_app(emulator),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        http=TransportH11Protocol,
        timeout_graceful_shutdown=STOP_GRACE_SECONDS,
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C (SIGINT) stops it as SIGTERM does: quietly
        _AnnouncingServer(config, announcement).run()
    sys.exit(0)
