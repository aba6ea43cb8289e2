"""The `atsbridge` command run with a stdout it cannot write: its reader gone (`| head -c 0`), closed from the start
(`>&-`) or a full disk (`> /dev/full`)."""

from __future__ import annotations

import os
import subprocess
import sys


def run_with_unwritable_stdout(
    args: list[str], env: dict[str, str], closed: str = ""
) -> subprocess.CompletedProcess[str]:
    """``atsbridge ARGS`` in ``env``; ``closed``: "" its reader gone, "start" closed from the start, "full" a full
    disk."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    if closed == "full":
        os.close(write_end)
        write_end = os.open("/dev/full", os.O_WRONLY)
    try:
        return subprocess.run(
            [sys.executable, "-m", "atsbridge.cli", *args], env=env, stdout=write_end, stderr=subprocess.PIPE,
            text=True, timeout=120, preexec_fn=(lambda: os.close(1)) if closed == "start" else None,
        )  # fmt: skip
    finally:
        os.close(write_end)
