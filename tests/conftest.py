"""Fixtures shared by every test suite.

``engine``: a freshly migrated store, once on SQLite (a file in the test's tmp dir) and once on PostgreSQL (a
uniquely named schema in database ``test`` on 127.0.0.1:5432, dropped afterwards, so runs are repeatable and
parallel-safe). The PostgreSQL variant carries the ``postgres`` marker; override the server with
``ATSBRIDGE_TEST_POSTGRES_URL``. ``support.store.fresh_store`` makes the same stores for wider-scoped fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from support.store import BACKEND_PARAMS, fresh_store


@pytest.fixture(params=BACKEND_PARAMS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    with fresh_store(request.param, tmp_path) as store:
        yield store
