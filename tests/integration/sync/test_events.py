"""The events a sync emits: data-changed only for models that really changed, sync-finished every time, and the
integration's state change when its first sync completes; each valid for the kombo SDK's webhook models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kombo.models import (
    DataChangedWebhookPayloadData,
    IntegrationStateChangedWebhookPayloadData,
    SyncFinishedWebhookPayloadData,
)
from sqlalchemy import Engine, select

from atsbridge.store import tables
from atsbridge.store.integrations import Integration, load_integration, set_integration_fields
from atsbridge.store.syncs import STALE_AFTER
from atsbridge.sync.engine import SyncRun
from atsbridge.sync.runner import record_login_verdict
from atsbridge.sync.scheduler import fail_stale_runs, keep_house
from atsbridge.unified.ids import ModelName
from atsbridge.unified.models import at_api_precision
from integration.sync.conftest import Sync, kill_full_run_once_listing
from support.recru import Recru


def events(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    outbox = tables.webhook_outbox
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.type, outbox.c.payload).order_by(outbox.c.created_at, outbox.c.id))
        return [(row.type, row.payload) for row in rows]


def test_a_sync_reports_what_changed_and_that_it_finished(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    first = sync("FULL")
    emitted = events(engine)
    assert [kind for kind, _ in emitted] == ["integration-state-changed", "data-changed", "sync-finished"]
    state, changed, finished = (payload for _, payload in emitted)
    IntegrationStateChangedWebhookPayloadData.model_validate(state)
    assert (state["setup_status"], state["state"]) == ("COMPLETED", "ACTIVE")
    DataChangedWebhookPayloadData.model_validate(changed)
    assert {m["name"] for m in changed["changed_models"]} >= {"ats_candidates", "ats_jobs", "ats_join_candidates_tags"}
    SyncFinishedWebhookPayloadData.model_validate(finished)
    assert (finished["sync_id"], finished["sync_state"]) == (first.sync_id, "SUCCEEDED")
    with engine.connect() as conn:
        run = conn.execute(select(tables.syncs).where(tables.syncs.c.id == first.sync_id)).one()
    told = {key: datetime.fromisoformat(finished[f"sync_{key}"]) for key in ("started_at", "ended_at")}
    assert told == {key: at_api_precision(getattr(run, key)) for key in told}  # the times the syncs list shows

    sync("FULL")  # nothing changed: no data-changed, only sync-finished
    assert [kind for kind, _ in events(engine)[3:]] == ["sync-finished"]

    tag = recru.all("tags")[0]
    jobseeker = next(j for j in recru.all("jobseekers") if tag["id"] not in j["tagIds"])
    recru.call("JobseekerService.addTag", {"jobseekerId": jobseeker["id"], "tagId": tag["id"]})
    sync("DELTA")
    kinds = events(engine)[4:]
    assert [kind for kind, _ in kinds] == ["data-changed", "sync-finished"]
    # every model updated_after now returns records of: the candidate and its tag link; not its applications, which
    # nest the candidate without its tags or RECRU's updatedAt
    assert any(a["jobseekerId"] == jobseeker["id"] for a in recru.all("applications"))
    assert {m["name"] for m in kinds[0][1]["changed_models"]} == {"ats_candidates", "ats_join_candidates_tags"}


def test_a_deletion_names_every_model_it_cascades_to(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    sync("FULL")
    jobseeker = next(j for j in recru.all("jobseekers") if j["tagIds"])
    recru.delete("jobseekers", jobseeker["id"])
    result = sync("FULL")
    assert result.counts["ats_candidates"]["deleted"] == 1
    changed = [payload for kind, payload in events(engine) if kind == "data-changed"][-1]
    assert {m["name"] for m in changed["changed_models"]} == {
        "ats_candidates",
        "ats_applications",
        "ats_join_candidates_tags",
    }


def test_personal_data_cleared_fourteen_days_after_a_deletion_is_told(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """Anonymising moves the records under ``updated_after``: a client that keeps their names learns to clear them."""
    sync("FULL")
    jobseeker_id = recru.all("applications")[0]["jobseekerId"]
    recru.delete("jobseekers", jobseeker_id)
    sync("FULL")
    told = len(events(engine))
    with engine.begin() as conn:
        keep_house(conn, datetime.now(UTC) + timedelta(days=13))
    assert events(engine)[told:] == []
    with engine.begin() as conn:
        keep_house(conn, datetime.now(UTC) + timedelta(days=15))
    emitted = events(engine)[told:]
    assert [kind for kind, _ in emitted] == ["data-changed"]
    assert {m["name"] for m in emitted[0][1]["changed_models"]} == {"ats_candidates", "ats_applications"}
    assert emitted[0][1]["integration_id"] == integration.id


def test_personal_data_cleared_of_records_not_served_is_no_news(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """With "sync only created applications" on, a candidate and applications stored from a time the integration
    served everything are not served: clearing them changes nothing a client can read."""
    sync("FULL")
    recru.delete("jobseekers", recru.all("applications")[0]["jobseekerId"])
    sync("FULL")
    with engine.begin() as conn:
        set_integration_fields(conn, integration.id, sync_only_created_applications=True)
    told = len(events(engine))
    with engine.begin() as conn:
        keep_house(conn, datetime.now(UTC) + timedelta(days=15))
    assert events(engine)[told:] == []


def test_a_disabled_integrations_login_verdict_is_kept_without_an_event(
    engine: Engine, integration: Integration
) -> None:
    """Disabled, it is INACTIVE whatever its login: a run ending meanwhile (cancelled for the disabling) changes
    nothing a client sees, so no integration-state-changed; enabled again, it shows what its login does."""
    with engine.begin() as conn:
        set_integration_fields(conn, integration.id, status="INVALID", enabled=False)
    told = len(events(engine))
    record_login_verdict(engine, integration, True)
    assert events(engine)[told:] == []
    with engine.connect() as conn:
        assert load_integration(conn, integration.id).status == "ACTIVE"  # type: ignore[union-attr]


def test_a_first_sync_tells_of_data_only_once_it_succeeds_and_then_of_all_of_it(
    engine: Engine, integration: Integration, sync: Sync
) -> None:
    """Nothing is readable before the first sync succeeds (409 SETUP_SYNC_PENDING); when it does, everything is,
    what a killed first run wrote included."""
    kill_full_run_once_listing(engine, integration, ModelName.CANDIDATES)  # users, jobs, stages, tags written
    assert [kind for kind, _ in events(engine)] == ["sync-finished"]  # CANCELLED; no data-changed

    assert sync("DELTA").state == "SUCCEEDED"  # without a watermark: a FULL run, which finds the jobs unchanged
    changed = next(payload for kind, payload in events(engine) if kind == "data-changed")
    assert {m["name"] for m in changed["changed_models"]} >= {
        "ats_users", "ats_jobs", "ats_application_stages", "ats_tags", "ats_candidates", "ats_applications",
    }  # fmt: skip


class _Killed(BaseException):
    """The process running a sync dies (SIGKILL) once its writes are committed, before it records its end."""


def test_a_run_whose_process_died_tells_what_it_committed_when_it_is_failed(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its batches stay, and ``updated_after`` serves them: the ``data-changed`` it never sent comes with the
    ``sync-finished`` FAILED of whoever gives it up for dead (a webhook client heard nothing of the change)."""
    sync("FULL")
    jobseeker = recru.all("jobseekers")[0]
    recru.patch("jobseekers", jobseeker["id"], lastName="Zabitý")

    def killed(self: SyncRun, *args: Any) -> None:
        raise _Killed

    monkeypatch.setattr(SyncRun, "_finish", killed)
    with pytest.raises(_Killed):
        sync("DELTA")
    monkeypatch.undo()
    told_before = len(events(engine))
    with engine.begin() as conn:
        fail_stale_runs(conn, integration.id, datetime.now(UTC) + STALE_AFTER + timedelta(seconds=1))
    told = events(engine)[told_before:]
    assert [kind for kind, _ in told] == ["data-changed", "sync-finished"]
    assert {m["name"] for m in told[0][1]["changed_models"]} >= {"ats_candidates"}
    assert told[1][1]["sync_state"] == "FAILED"
