"""Directories for the store's files (candidates' personal data, the secret key): made readable by their owner
only, every missing parent included (``Path.mkdir(mode, parents=True)`` gives the parents the umask's mode)."""

from __future__ import annotations

import contextlib
from pathlib import Path


def make_private_dir(path: Path) -> None:
    """Make ``path`` and each missing directory above it with mode 0700; nothing if it exists. A file in the way
    raises ``FileExistsError``."""
    missing: list[Path] = []
    directory = path
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made meanwhile (another process), or a file: told below
            directory.mkdir(mode=0o700)
    if not path.is_dir():
        raise FileExistsError(f"{path} is a file, not a directory")
