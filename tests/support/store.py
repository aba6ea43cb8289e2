"""Fresh, migrated stores for tests: a SQLite file, or a uniquely named schema in PostgreSQL's database ``test``
(dropped afterwards, so runs are repeatable and parallel-safe). ``ATSBRIDGE_TEST_POSTGRES_URL`` overrides the server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from atsbridge.store.db import create_engine, migrate, normalise_url

POSTGRES_URL = os.environ.get("ATSBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKEND_PARAMS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""Parameters of a fixture that runs on both backends (the PostgreSQL one carries the ``postgres`` marker)."""


@contextmanager
def fresh_store(backend: str, directory: Path, revision: str = "head") -> Iterator[Engine]:
    """A store migrated to ``revision`` on ``backend`` (``sqlite``: a file in ``directory``; ``postgres``: a new
    schema)."""
    if backend == "sqlite":
        store = create_engine(f"sqlite:///{directory / 'atsbridge.sqlite3'}")
        try:
            migrate(store, revision)
            yield store
        finally:
            store.dispose()
        return
    schema = f"test_{uuid.uuid4().hex}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalise_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    store = create_engine(url.render_as_string(hide_password=False))
    try:
        migrate(store, revision)
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
