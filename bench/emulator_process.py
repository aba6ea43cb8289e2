"""Start the RECRU emulator in its own process for a benchmark and wait until it serves."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_emulator(
    size: int, *, rate_limit: str = "off", seed: int = 1
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """(process, {url, login, password}) of a fresh emulator with a seeded tenant."""
    command = [sys.executable, "-m", "recru_emulator", "--port", str(free_port()), "--seed", str(seed)]
    process = subprocess.Popen(
        [*command, "--size", str(size), "--rate-limit", rate_limit, "--json"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    tenant: dict[str, str] = json.loads(process.stdout.readline())
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{tenant['url']}/__emulator__/counters").status_code == 200:
                return process, tenant
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the emulator did not start")
