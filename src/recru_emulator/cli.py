"""Command line of the emulator: ``--port P --seed S --size N [--rate-limit R|off] [--json]``.

It prints the tenant URL, login and password before the server logs anything; with ``--json`` that is one JSON
line, flushed at once, so a test or a script can read it and go.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import uvicorn

from recru_emulator.app import create_app
from recru_emulator.emulator import Emulator
from recru_emulator.ratelimit import DEFAULT_PER_MINUTE


def _rate_limit(value: str) -> int | None:
    if value.lower() == "off":
        return None
    limit = int(value)
    if limit < 1:
        raise argparse.ArgumentTypeError("the rate limit must be a positive number of calls per minute, or off")
    return limit


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="recru_emulator", description="A RECRU tenant in a box.")
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
        "--state-file", type=Path, default=None, help="load the tenant from this file if it exists; save it on exit"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    emulator = Emulator(args.seed, args.size, args.rate_limit, args.state_file)
    url = f"http://{args.host}:{args.port}"
    if args.json:
        print(json.dumps({"url": url, "login": emulator.login, "password": emulator.password}), flush=True)
    else:
        print(
            f"RECRU tenant: {url}\nlogin:        {emulator.login}\npassword:     {emulator.password}",
            flush=True,
        )
    uvicorn.run(create_app(emulator), host=args.host, port=args.port, log_level="warning", access_log=False)
    sys.exit(0)
