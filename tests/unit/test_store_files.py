"""The embedded store's files are readable by their owner only: they hold candidates' personal data."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_dir_and_its_sqlite_files_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "made" / "data"  # its parent is made too: private as well
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("ATSBRIDGE_")}
    created = subprocess.run(
        [sys.executable, "-c", "import os, sys; os.umask(0o022); from atsbridge.cli import main; sys.argv[0] = 'x'; "
         "sys.argv[1:] = ['webhook', 'set', '--url', 'https://hooks.example.com/x', '--json']; main()"],
        env={**inherited, "ATSBRIDGE_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert mode(data_dir) == mode(data_dir.parent) == 0o700
    files = {path.name: mode(path) for path in data_dir.iterdir()}
    assert "atsbridge.sqlite3" in files and "secret.key" in files
    assert set(files.values()) == {0o600}, files
    with sqlite3.connect(data_dir / "atsbridge.sqlite3") as db:  # the store keeps a write-ahead log while open
        db.execute("CREATE TABLE probe (x)")
        assert mode(data_dir / "atsbridge.sqlite3-wal") == 0o600
