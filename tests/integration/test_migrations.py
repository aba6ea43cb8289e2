"""Upgrading a store that holds data: what a migration must carry over, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from atsbridge.store.db import migrate
from atsbridge.store.tables import environments
from support.store import BACKEND_PARAMS, fresh_store


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_twin_environments_an_old_race_made_are_kept_under_names_of_their_own(backend: str, tmp_path: Path) -> None:
    with fresh_store(backend, tmp_path, revision="0011") as store:
        with store.begin() as conn:
            for environment_id, hour in (("a-first", 1), ("b-twin", 2), ("c-other", 3)):
                name = "other" if environment_id == "c-other" else "acme"
                created_at = datetime(2026, 1, 1, hour, tzinfo=UTC)
                conn.execute(insert(environments).values(id=environment_id, name=name, created_at=created_at))
        migrate(store)
        with store.connect() as conn:
            names = dict(conn.execute(select(environments.c.id, environments.c.name)).all())
    assert names == {"a-first": "acme", "b-twin": "acme (b-twin)", "c-other": "other"}
