"""`atsbridge demo` end to end: it comes up with a synced integration, and the examples it prints run as printed, in
the shell it was started from (the Python one with the venv's interpreter, which has the `kombo` SDK)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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
