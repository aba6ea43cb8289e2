"""Directories for the store's files (candidates' personal data, the secret key): made readable by their owner
only, every missing parent included (``Path.mkdir(mode, parents=True)`` gives the parents the umask's mode)."""

from __future__ import annotations

from pathlib import Path


def make_private_dir(path: Path) -> None:
    """Make ``path`` and each missing directory above it with mode 0700; nothing if it exists. A file in the way
    raises ``FileExistsError``."""
    missing: list[Path] = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=0o700)
        except FileExistsError:
            if not directory.is_dir():
                raise
    if not (missing[0] if missing else path).is_dir():
        raise FileExistsError(f"{missing[0] if missing else path} is a file, not a directory")
