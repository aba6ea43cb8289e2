"""Fixtures shared by every test suite.

``engine``: a freshly migrated store, once on SQLite (a file in the test's tmp dir) and once on PostgreSQL (a
uniquely named schema in database ``test`` on 127.0.0.1:5432, dropped afterwards, so runs are repeatable and
parallel-safe). The PostgreSQL variant carries the ``postgres`` marker; override the server with
``ATSBRIDGE_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from atsbridge.store.db import create_engine, migrate, normalise_url

POSTGRES_URL = os.environ.get("ATSBRIDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        store = create_engine(f"sqlite:///{tmp_path / 'atsbridge.sqlite3'}")
        migrate(store)
        yield store
        store.dispose()
        return
    schema = f"test_{uuid.uuid4().hex}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalise_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    store = create_engine(url.render_as_string(hide_password=False))
    try:
        migrate(store)
        yield store
    finally:
        store.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
