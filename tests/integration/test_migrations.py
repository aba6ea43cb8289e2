"""Upgrading a store that holds data: what a migration must carry over, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from atsbridge.connectors.recru.mapping import map_application, map_candidate
from atsbridge.store import writer
from atsbridge.store.db import migrate
from atsbridge.store.tables import environments, tracked_applications, tracked_candidates
from atsbridge.unified.ids import ModelName, model_id
from integration.test_store_writer import INTEGRATION, add_integration, application, at, jobseeker, mapped, records
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


def store_tracked_applications(store: Engine) -> None:
    """Jobseekers 7 and 8 with applications 100 and 101, and 100 and 102 (not stored) tracked."""
    with store.begin() as conn:
        add_integration(conn, INTEGRATION)
        candidates = records(mapped(map_candidate, [jobseeker(7), jobseeker(8)]))
        writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, candidates, now=at(0))
        applications = records(mapped(map_application, [application(100, 7, 10), application(101, 8, 10)]))
        writer.upsert(conn, ModelName.APPLICATIONS, INTEGRATION, applications, now=at(0))
        for remote_id in ("100", "102"):
            values = {"integration_id": INTEGRATION, "remote_id": remote_id, "created_at": at(0)}
            conn.execute(insert(tracked_applications).values(**values))


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_tracked_applications_are_given_the_candidate_their_stored_record_names(backend: str, tmp_path: Path) -> None:
    """Each tracked application now keeps the jobseeker it was created for; those tracked before take the one their
    stored record names (none where the store holds no record of it yet: the next sync reads it)."""
    with fresh_store(backend, tmp_path, revision="0018") as store:
        store_tracked_applications(store)
        migrate(store)
        with store.connect() as conn:
            query = select(tracked_applications.c.remote_id, tracked_applications.c.candidate_remote_id)
            candidate_of = dict(conn.execute(query).all())
    assert candidate_of == {"100": "7", "102": None}


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_the_candidates_stored_tracked_applications_name_are_kept_served(backend: str, tmp_path: Path) -> None:
    """Every candidate a tracked application was stored with stays served; those tracked before start with the
    candidates their stored records name (none for an untracked application, nor one not stored yet)."""
    with fresh_store(backend, tmp_path, revision="0019") as store:
        store_tracked_applications(store)
        migrate(store)
        with store.connect() as conn:
            kept = conn.execute(select(tracked_candidates.c.integration_id, tracked_candidates.c.candidate_id)).all()
    assert kept == [(INTEGRATION, model_id(INTEGRATION, ModelName.CANDIDATES, "7"))]
