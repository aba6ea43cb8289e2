"""A list page is read as of one moment: its records and the nested objects other statements read for it agree,
whatever a writer commits in between, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update

from atsbridge.connectors.recru.mapping import map_application, map_candidate
from atsbridge.store import writer
from atsbridge.store.db import snapshot
from atsbridge.store.integrations import load_integration
from atsbridge.store.reader import ListQuery, Reader
from atsbridge.store.tables import candidates
from atsbridge.unified.ids import ModelName
from integration.test_store_writer import INTEGRATION, add_integration, application, at, jobseeker, mapped, records
from support.store import BACKEND_PARAMS, fresh_store


@pytest.mark.parametrize("backend", BACKEND_PARAMS)
def test_a_candidate_renamed_while_its_applications_page_is_read_is_served_as_of_the_pages_moment(
    backend: str, tmp_path: Path
) -> None:
    """Read statement by statement, an application listed before its candidate's deletion was committed came with
    ``candidate: null`` (here: its candidate's name changed between the two reads showed the new one)."""
    with fresh_store(backend, tmp_path) as store:
        with store.begin() as conn:
            add_integration(conn, INTEGRATION)
            writer.upsert(conn, ModelName.CANDIDATES, INTEGRATION, records(mapped(map_candidate, [jobseeker(7)])),
                          now=at(0))  # fmt: skip
            applications = records(mapped(map_application, [application(100, 7, 10)]))
            writer.upsert(conn, ModelName.APPLICATIONS, INTEGRATION, applications, now=at(0))
            integration = load_integration(conn, INTEGRATION)
        assert integration is not None
        renamed: list[bool] = []

        def rename_after_the_first_read(*_: Any) -> None:
            if not renamed:
                renamed.append(True)
                with store.begin() as other:  # another connection: a writer committing meanwhile
                    other.execute(update(candidates).values(first_name="Přejmenovaná"))

        with snapshot(store) as conn:
            event.listen(conn, "after_cursor_execute", rename_after_the_first_read)
            (served,), _ = Reader(conn, integration).page(ModelName.APPLICATIONS, ListQuery())
        assert renamed
        assert served["candidate"]["first_name"] == "Zuzana"
