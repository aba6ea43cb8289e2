"""`atsbridge demo` end to end: it comes up with a synced integration, and the examples it prints run as printed, in
the shell it was started from (the Python one with the venv's interpreter, which has the `kombo` SDK)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.emulator_process import free_port

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_output(tmp_path: Path) -> Iterator[str]:
    """What a running demo printed up to its examples' end (started from the repository, as `make demo` is)."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ATSBRIDGE_")}
    command = [
        sys.executable, "-m", "atsbridge.cli", "demo", "--port", str(free_port()),
        "--emulator-port", str(free_port()), "--size", "30", "--data-dir", str(tmp_path / "demo"),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=inherited, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    printed: list[str] = []
    try:
        for line in process.stdout:
            printed.append(line)
            if line == '"\n':  # the end of the Python example, the last one
                break
        yield "".join(printed)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_demo_prints_examples_that_run_as_printed(demo_output: str) -> None:
    curl = re.search(r"^  (curl .*?'\n)", demo_output, re.MULTILINE | re.DOTALL)
    python = re.search(r'^  (\S+ -c "\n.*?\n")', demo_output, re.MULTILINE | re.DOTALL)
    assert curl and python, demo_output
    assert not python.group(1).startswith("python "), "plain `python` is not the venv's outside an activated shell"
    read = subprocess.run(["bash", "-c", curl.group(1)], cwd=REPO, capture_output=True, text=True, timeout=60)
    answer = json.loads(read.stdout)
    assert answer["status"] == "success" and len(answer["data"]["results"]) == 2
    outside_the_venv = {**os.environ, "PATH": "/usr/bin:/bin"}
    listed = subprocess.run(
        ["bash", "-c", python.group(1)], cwd=REPO, env=outside_the_venv, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("[") and len(eval(listed.stdout)) == 5  # a list of job names


def test_a_demo_stopped_in_its_first_sync_says_so_and_fails_leaving_no_emulator(tmp_path: Path) -> None:
    """Ctrl-C in the first sync ended the demo with exit 0, a traceback and nothing said: a script took it for a
    success. It fails with one line, the run recorded CANCELLED, and its emulator stopped with it."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ATSBRIDGE_")}
    emulator_port, data_dir = free_port(), tmp_path / "demo"
    command = [
        sys.executable, "-m", "atsbridge.cli", "demo", "--port", str(free_port()),
        "--emulator-port", str(emulator_port), "--size", "20000", "--data-dir", str(data_dir),
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=inherited, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if b"first sync:" in line:  # the run has begun
                break
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    told = stderr.decode()
    assert process.returncode == 1, told
    assert "Traceback" not in told
    assert told.strip() == (
        "error: the demo was stopped before its first sync ended (a sync begun is recorded CANCELLED); its store is "
        "recreated at the next start"
    )
    with sqlite3.connect(data_dir / "atsbridge.sqlite3") as store:
        assert ("FULL", "CANCELLED") in store.execute("SELECT type, state FROM syncs").fetchall()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{emulator_port}/__emulator__/counters", timeout=5)
