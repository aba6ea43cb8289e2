"""A RECRU emulator in its own process, as the tests start it: ``python -m recru_emulator --port P ARGS``."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

CTL = "/__emulator__"


@dataclass
class EmulatorProcess:
    proc: subprocess.Popen[bytes]
    first_line: str
    url: str
    login: str
    password: str
    stderr: Any

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.stderr.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_emulator(
    *args: str, port: int | None = None, timeout: float = 60, module: tuple[str, ...] = ("recru_emulator",)
) -> EmulatorProcess:
    """Start ``python -m recru_emulator --port P ARGS`` (or another ``module`` command that starts it, such as
    ``atsbridge.cli emulator``), read the first stdout line, wait until it serves."""
    port = port or free_port()
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [sys.executable, "-m", *module, "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    lines: queue.Queue[bytes] = queue.Queue()

    def drain() -> None:  # keep reading so that the server never blocks on a full pipe
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()

    def fail(why: str) -> None:
        proc.kill()
        proc.wait()
        stderr.seek(0)
        pytest.fail(f"emulator {args}: {why}\nstderr:\n{stderr.read().decode(errors='replace')[-3000:]}")

    try:
        first = lines.get(timeout=timeout).decode()
    except queue.Empty:
        fail("no first stdout line")
    try:
        info = json.loads(first)
    except ValueError:
        info = {"url": f"http://127.0.0.1:{port}", "login": None, "password": None}
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            fail(f"exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{CTL}/counters", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            fail("not ready in time")
        time.sleep(0.1)
    return EmulatorProcess(proc, first, info.get("url"), info.get("login"), info.get("password"), stderr)
