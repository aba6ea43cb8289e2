"""FULL and DELTA runs against the emulator: parity, nothing written when nothing changed, exact change marks."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from atsbridge.store import tables
from atsbridge.store.integrations import Integration, load_integration
from atsbridge.store.syncs import load_sync
from atsbridge.sync import engine as engine_module
from atsbridge.sync import listing
from atsbridge.sync.engine import ALTERED_ANSWERS
from atsbridge.unified.ids import ModelName
from integration.sync.conftest import Sync, reload
from integration.sync.parity import assert_parity
from support.recru import LIST_METHODS, Recru


def stamps(engine: Engine, table: Any, integration_id: str) -> dict[str, tuple[Any, Any]]:
    """remote_id → (changed_at, updated_at) of every row."""
    with engine.connect() as conn:
        query = select(table.c.remote_id, table.c.changed_at, table.c.updated_at).where(
            table.c.integration_id == integration_id
        )
        return {row.remote_id: (row.changed_at, row.updated_at) for row in conn.execute(query)}


def stored_row(engine: Engine, table: Any, integration_id: str, remote_id: Any, *columns: str) -> Any:
    """The ``columns`` of the integration's stored record of RECRU id ``remote_id``."""
    query = select(*(table.c[column] for column in columns)).where(
        table.c.integration_id == integration_id, table.c.remote_id == str(remote_id)
    )
    with engine.connect() as conn:
        return conn.execute(query).one()


def test_full_sync_mirrors_the_tenant_field_by_field(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    result = sync("FULL")
    assert result.state == "SUCCEEDED", result.errors
    assert_parity(engine, integration.id, recru)
    assert result.counts[ModelName.CANDIDATES]["created"] == len(recru.all("jobseekers"))
    assert result.counts[ModelName.APPLICATIONS]["created"] == len(recru.all("applications"))
    with engine.connect() as conn:
        row = load_sync(conn, result.sync_id)
        stored = load_integration(conn, integration.id)
    assert row is not None
    assert row.state == "SUCCEEDED"
    assert row.counts == result.counts
    assert row.ended_at is not None
    assert stored is not None
    assert stored.setup_status == "COMPLETED"
    assert stored.delta_watermark is not None


def test_a_first_sync_stamps_records_with_their_own_changes_only(
    engine: Engine, integration: Integration, sync: Sync
) -> None:
    """Nothing is readable before the first sync ends, so nested changes during it move no ``updated_at``."""
    sync("FULL")
    for table in (tables.candidates, tables.applications, tables.jobs):
        assert all(changed == updated for changed, updated in stamps(engine, table, integration.id).values())


def test_a_full_run_without_changes_writes_nothing(engine: Engine, integration: Integration, sync: Sync) -> None:
    sync("FULL")
    before = {name: stamps(engine, table, integration.id) for name, table in tables.MODEL_TABLES.items()}
    result = sync("FULL")
    assert result.state == "SUCCEEDED"
    for model, counts in result.counts.items():
        assert (counts["created"], counts["updated"], counts["deleted"]) == (0, 0, 0), model
    after = {name: stamps(engine, table, integration.id) for name, table in tables.MODEL_TABLES.items()}
    assert after == before


def test_delta_picks_up_creates_updates_and_tag_changes(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    sync("FULL")
    candidates_before = stamps(engine, tables.candidates, integration.id)
    jobs_before = stamps(engine, tables.jobs, integration.id)
    jobseekers = recru.all("jobseekers")
    renamed, tagged, untouched = jobseekers[0], jobseekers[1], jobseekers[2]
    recru.patch("jobseekers", renamed["id"], firstName="Radmila")
    new_tag = next(t["id"] for t in recru.all("tags") if t["id"] not in tagged["tagIds"])
    recru.call("JobseekerService.addTag", {"jobseekerId": tagged["id"], "tagId": new_tag})
    project = next(p for p in recru.all("projects") if p["status"] == "open")
    created = recru.create("jobseekers", firstName="Nový", lastName="Uchazeč")
    application = recru.create("applications", jobseekerId=created["id"], projectId=project["id"])
    new_user = recru.create("users", firstName="Hana", lastName="Horáková", email="hana@example.org")
    recru.patch(
        "projects",
        project["id"],
        hiringTeam=[*project["hiringTeam"], {"userId": new_user["id"], "role": "interviewer"}],
    )

    result = sync("DELTA")
    assert result.state == "SUCCEEDED", result.errors
    assert result.type == "DELTA"
    assert_parity(engine, integration.id, recru)
    candidates_after = stamps(engine, tables.candidates, integration.id)
    jobs_after = stamps(engine, tables.jobs, integration.id)
    renamed_id, tagged_id, untouched_id = (str(j["id"]) for j in (renamed, tagged, untouched))
    # own field changed: changed_at and updated_at move
    assert candidates_after[renamed_id][0] > candidates_before[renamed_id][0]
    # a tag change is nested data: updated_at moves, changed_at does not (unified-api §3)
    assert candidates_after[tagged_id][0] == candidates_before[tagged_id][0]
    assert candidates_after[tagged_id][1] > candidates_before[tagged_id][1]
    # unchanged record: nothing moves
    assert candidates_after[untouched_id] == candidates_before[untouched_id]
    assert str(created["id"]) in candidates_after
    assert jobs_after[str(project["id"])][1] > jobs_before[str(project["id"])][1]  # hiring team: nested data
    assert jobs_after[str(project["id"])][0] == jobs_before[str(project["id"])][0]
    assert result.counts[ModelName.APPLICATIONS]["created"] == 1
    assert str(application["id"]) in stamps(engine, tables.applications, integration.id)
    # a DELTA run reads only what changed (plus the overlap window), not the whole tenant
    assert result.counts[ModelName.CANDIDATES]["unchanged"] < 10


def test_a_renamed_codebook_entry_reaches_every_job_and_application_naming_it_on_the_next_delta(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """Records name departments, locations and rejection reasons by id: renaming one moves no record's `updatedAt`,
    so a DELTA reading only what changed left the old name on every job and application naming it (until a FULL)."""
    sync("FULL")
    projects, applications = recru.all("projects"), recru.all("applications")
    department = next(p["departmentId"] for p in projects if p["departmentId"] is not None)
    location = next(p["locationIds"][0] for p in projects if p["locationIds"])
    reason = next(a["rejectionReasonId"] for a in applications if a["rejectionReasonId"] is not None)
    recru.patch("departments", department, name="Oddělení po reorganizaci")
    recru.patch("locations", location, name="Brno – nová kancelář")
    recru.patch("rejectionReasons", reason, name="Jiný důvod")

    renamed = sync("DELTA")
    assert renamed.state == "SUCCEEDED", renamed.errors
    assert_parity(engine, integration.id, recru)
    naming = [p for p in projects if p["departmentId"] == department or p["locationIds"][:1] == [location]]
    assert renamed.counts[ModelName.JOBS]["updated"] == len(naming)
    assert renamed.counts[ModelName.APPLICATIONS]["updated"] == sum(
        a["rejectionReasonId"] == reason for a in applications
    )
    # the renames are read: the next DELTA lists only what changed again
    again = sync("DELTA")
    assert again.counts[ModelName.JOBS]["unchanged"] + again.counts[ModelName.APPLICATIONS]["unchanged"] < 10


def test_a_delta_reads_the_candidate_an_application_was_given_that_it_did_not_list(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """A jobseeker RECRU stamped before the window (its clock was behind, say), given an application since: the
    DELTA lists the application, not the jobseeker, and served an application whose candidate it did not serve."""
    sync("FULL")
    stamped_long_ago = {"createdAt": "2020-01-01T00:00:00Z", "updatedAt": "2020-01-01T00:00:00Z"}
    unlisted = recru.create("jobseekers", firstName="Zpětně", lastName="Datovaná", **stamped_long_ago)
    application = recru.all("applications")[0]
    recru.patch("applications", application["id"], jobseekerId=unlisted["id"])

    result = sync("DELTA")
    assert result.state == "SUCCEEDED", result.errors
    assert_parity(engine, integration.id, recru)
    assert result.counts[ModelName.CANDIDATES]["created"] == 1


def test_an_application_change_moves_its_candidate_updated_at_only(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    sync("FULL")
    application = next(a for a in recru.all("applications") if a["status"] == "active")
    project = next(p for p in recru.all("projects") if p["id"] == application["projectId"])
    other_stage = next(s for s in project["stageIds"] if s != application["stageId"])
    before = stamps(engine, tables.candidates, integration.id)[str(application["jobseekerId"])]
    recru.patch("applications", application["id"], stageId=other_stage)
    sync("DELTA")
    after = stamps(engine, tables.candidates, integration.id)[str(application["jobseekerId"])]
    assert after[0] == before[0]  # the candidate's own fields did not change
    assert after[1] > before[1]  # but its nested application did
    assert_parity(engine, integration.id, recru)


def full_sync_at(recru: Recru, sync: Sync, frozen_at: str) -> None:
    """RECRU's clock frozen at ``frozen_at`` (its tokens follow that clock: log in again), then a FULL run."""
    recru.control("POST", "/clock", {"freeze": frozen_at})
    recru.token = None
    sync("FULL")


def advance(recru: Recru, seconds: int) -> None:
    recru.control("POST", "/clock", {"advanceSeconds": seconds})


def test_delta_window_comes_from_recru_clock_not_ours(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    # RECRU's clock is years behind ours: a watermark from our clock would skip every later RECRU change.
    full_sync_at(recru, sync, "2021-03-01T08:00:00Z")
    advance(recru, 600)
    jobseeker = recru.all("jobseekers")[5]
    recru.patch("jobseekers", jobseeker["id"], lastName="Dvořáková")
    result = sync("DELTA")
    assert result.counts[ModelName.CANDIDATES]["updated"] == 1
    assert_parity(engine, integration.id, recru)


def test_a_delta_after_recrus_clock_was_set_back_reads_from_recrus_now(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """Changes RECRU stamps after its clock went back (before the last run's start) are not skipped until a FULL."""
    full_sync_at(recru, sync, "2021-03-01T08:00:00Z")
    recru.control("POST", "/clock", {"freeze": "2021-03-01T09:00:00Z"})
    assert sync("DELTA").state == "SUCCEEDED"  # its start is the next watermark: 09:00
    recru.control("POST", "/clock", {"freeze": "2021-03-01T08:10:00Z"})  # set back by 50 minutes
    recru.token = None
    jobseeker = recru.all("jobseekers")[5]
    recru.patch("jobseekers", jobseeker["id"], lastName="Zpětná")
    advance(recru, 15 * 60)  # the next DELTA comes a quarter of an hour later: still before the watermark
    recru.token = None
    result = sync("DELTA")
    assert result.counts[ModelName.CANDIDATES]["updated"] == 1
    assert_parity(engine, integration.id, recru)


def test_a_delta_after_recrus_clock_ran_ahead_at_the_last_start_reads_what_it_stamped_since(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECRU's clock was 10 minutes ahead when the last run began (its start, 08:00, is the watermark) and was put
    right: a change stamped 07:55 lies before the watermark less the overlap, though made after that run. By the
    next DELTA RECRU's clock says 08:20, after the watermark, but it went on 20 minutes where ours went 30."""
    full_sync_at(recru, sync, "2030-03-01T08:00:00Z")  # after every stamp of the generated tenant
    recru.control("POST", "/clock", {"freeze": "2030-03-01T07:55:00Z"})
    recru.token = None
    jobseeker = recru.all("jobseekers")[5]
    recru.patch("jobseekers", jobseeker["id"], lastName="Opravená")
    recru.control("POST", "/clock", {"freeze": "2030-03-01T08:20:00Z"})
    recru.token = None
    monkeypatch.setattr(engine_module, "now", lambda: datetime.now(UTC) + timedelta(minutes=30))

    result = sync("DELTA")

    assert result.state == "SUCCEEDED", result.errors
    assert result.counts[ModelName.CANDIDATES]["updated"] == 1
    assert_parity(engine, integration.id, recru)
    told = [error["message"] for error in result.errors]  # in the run's record: its counts are a FULL's
    assert any("s less than ours since the last run" in m and "this DELTA listed everything" in m for m in told), told


def test_a_delta_ends_at_what_recru_stamped_after_its_start(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recruiters changing records faster than a DELTA pages (each page, six more): the run ends once its
    listing reaches what RECRU stamped after the run began, which the next DELTA reads (it followed them for as
    long as they came: a run of minutes, holding back every other sync of the integration)."""
    monkeypatch.setattr(listing, "PAGE_SIZE", 5)
    full_sync_at(recru, sync, "2030-03-01T08:00:00Z")  # after every stamp of the generated tenant
    jobseekers = recru.all("jobseekers")
    for jobseeker in jobseekers[:12]:
        recru.patch("jobseekers", jobseeker["id"], currentCompany="Před během")
    advance(recru, 5)
    later = iter(jobseekers[12:240])

    def more_changes_each_page_than_a_page_holds(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES:
            advance(recru, 2)
            for jobseeker in itertools.islice(later, 6):
                recru.patch("jobseekers", jobseeker["id"], currentCompany="Během")

    before = list_calls(recru)["JobseekerService.list"]
    result = sync("DELTA", progress=more_changes_each_page_than_a_page_holds)
    assert result.state == "SUCCEEDED", result.errors
    # a look ahead (nothing stamped after its start), the 12 (3 pages of 5), then one page past its start
    assert list_calls(recru)["JobseekerService.list"] - before <= 5
    assert result.counts[ModelName.CANDIDATES]["updated"] >= 12
    result = sync("DELTA")  # what was stamped after the first one's start
    assert result.state == "SUCCEEDED", result.errors
    assert_parity(engine, integration.id, recru)


def test_a_delta_reads_changes_recru_stamped_while_its_clock_was_ahead(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RECRU's clock ahead by an hour, then put right: what it stamped meanwhile sorts after every later change, so
    a DELTA that ended its listing at the first page past its start never read it (until a FULL)."""
    monkeypatch.setattr(listing, "PAGE_SIZE", 5)
    sync("FULL")
    jobseekers = recru.all("jobseekers")
    advance(recru, 3600)
    for jobseeker in jobseekers[:12]:
        recru.patch("jobseekers", jobseeker["id"], currentCompany="Napřed")
    recru.control("POST", "/clock", {"release": True})
    recru.token = None
    for jobseeker in jobseekers[12:24]:
        recru.patch("jobseekers", jobseeker["id"], currentCompany="Teď")

    result = sync("DELTA")

    assert result.state == "SUCCEEDED", result.errors
    assert result.counts[ModelName.CANDIDATES]["updated"] == 24
    assert_parity(engine, integration.id, recru)


def list_calls(recru: Recru) -> Counter[str]:
    return Counter({m: n for m, n in recru.control("GET", "/counters")["calls"].items() if m.endswith(".list")})


def test_pages_are_asked_for_ahead_but_not_past_the_last(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    sizes = {method: len(recru.all(entity)) for entity, method in LIST_METHODS.items()}
    before = list_calls(recru)
    assert sync("FULL").state == "SUCCEEDED"
    full = list_calls(recru) - before
    for method, size in sizes.items():
        assert size > 0
        assert full[method] == math.ceil(size / 200), method  # 200 per page, none asked for past the last page

    recru.patch("jobseekers", recru.all("jobseekers")[0]["id"], currentCompany="Kofola a.s.")
    before = list_calls(recru)
    assert sync("DELTA").state == "SUCCEEDED"
    # one page each, and one call of one record as the run begins: is anything stamped after its start?
    assert {method: (list_calls(recru) - before)[method] for method in sizes} == dict.fromkeys(sizes, 2)


def test_records_changed_while_a_delta_lists_shift_none_out_of_reach(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    full_sync_at(recru, sync, "2030-01-01T00:00:00Z")
    jobseekers = recru.all("jobseekers")
    assert len(jobseekers) > 200  # more than one page
    for jobseeker in jobseekers:  # one second apart: RECRU lists them in this order
        advance(recru, 1)
        recru.patch("jobseekers", jobseeker["id"], currentCompany=f"Firma {jobseeker['id']}")
    advance(recru, 60)
    moved: list[int] = []

    def change_three_of_the_first_page(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES and not moved:  # the first page is read: these move to the listing's end
            advance(recru, 1)
            for jobseeker in jobseekers[:3]:
                recru.patch("jobseekers", jobseeker["id"], currentPosition="Přesunut")
                moved.append(jobseeker["id"])

    result = sync("DELTA", progress=change_three_of_the_first_page)
    assert moved and result.state == "SUCCEEDED", result.errors
    assert_parity(engine, integration.id, recru)  # with offset pages, three records behind them were skipped


def all_changed_in_one_second(recru: Recru, sync: Sync) -> tuple[list[dict[str, Any]], str]:
    """After a FULL sync, every jobseeker changed in RECRU in one second (more than a page of them), then an hour
    passes: (the jobseekers as they were, that second)."""
    full_sync_at(recru, sync, "2030-01-01T00:00:00Z")
    advance(recru, 3600)
    jobseekers = recru.all("jobseekers")
    for jobseeker in jobseekers:
        recru.patch("jobseekers", jobseeker["id"], currentCompany=f"Firma {jobseeker['id']}")
    second: str = recru.call("JobseekerService.get", {"id": jobseekers[0]["id"]})["updatedAt"]
    advance(recru, 3600)
    return jobseekers, second


def next_delta_reads_again(engine: Engine, integration: Integration, recru: Recru, sync: Sync, second: str) -> datetime:
    """The watermark the last DELTA left is ``second``; a minute later the next DELTA runs from it. Returns it."""
    watermark = reload(engine, integration.id).delta_watermark
    assert watermark is not None and watermark.strftime("%Y-%m-%dT%H:%M:%SZ") == second
    advance(recru, 60)
    assert sync("DELTA").state == "SUCCEEDED"
    return watermark


def test_a_delta_that_paged_within_one_second_while_records_changed_reads_that_second_again(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    jobseekers, second = all_changed_in_one_second(recru, sync)
    changed: list[int] = []

    def change_one(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.CANDIDATES and not changed:
            advance(recru, 10)
            recru.patch("jobseekers", jobseekers[0]["id"], currentPosition="Změněno během výpisu")
            changed.append(jobseekers[0]["id"])

    assert sync("DELTA", progress=change_one).state == "SUCCEEDED"
    assert_parity(engine, integration.id, recru)
    watermark = next_delta_reads_again(engine, integration, recru, sync, second)
    # nothing changed since: the watermark moves on
    later = reload(engine, integration.id).delta_watermark
    assert later is not None and later > watermark
    assert_parity(engine, integration.id, recru)


def test_a_delta_that_paged_within_one_second_while_a_listed_record_vanished_reads_that_second_again(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    jobseekers, second = all_changed_in_one_second(recru, sync)
    pages: list[int] = []

    def delete_one_already_listed(model: ModelName, done: int, total: int | None) -> None:
        # the listing's second page is the first one asked of that second, the third the first asked by offset
        if model is ModelName.CANDIDATES:
            pages.append(done)
            if len(pages) == 2:  # every record after it moves one place back: one crosses into the page read
                recru.delete("jobseekers", jobseekers[0]["id"])

    assert sync("DELTA", progress=delete_one_already_listed).state == "SUCCEEDED"
    assert len(pages) > 2
    next_delta_reads_again(engine, integration, recru, sync, second)
    with engine.connect() as conn:
        companies = dict(
            conn.execute(
                select(tables.candidates.c.remote_id, tables.candidates.c.company).where(
                    tables.candidates.c.integration_id == integration.id
                )
            ).all()
        )
    assert {str(j["id"]): f"Firma {j['id']}" for j in jobseekers[1:]}.items() <= companies.items()


def test_nul_characters_recru_holds_are_removed_so_the_sync_goes_on(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    # PostgreSQL cannot store a NUL: kept, one would fail every sync of the integration there
    jobseeker = recru.all("jobseekers")[0]
    recru.patch("jobseekers", jobseeker["id"], currentPosition="Dev\u0000Ops", lastName="Nov\u0000áková")
    result = sync("FULL")
    assert result.state == "SUCCEEDED", result.errors
    row = stored_row(engine, tables.candidates, integration.id, jobseeker["id"], "title", "last_name", "remote_data")
    assert (row.title, row.last_name) == ("DevOps", "Nováková")
    assert row.remote_data["JobseekerService.list"]["currentPosition"] == "DevOps"
    assert [e["message"] for e in result.errors if "NUL characters" in e["message"]] == [ALTERED_ANSWERS]


def test_enum_values_recru_added_pass_through_or_become_null_with_a_warning_and_never_fail_a_sync(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    project = recru.all("projects")[0]
    application = recru.all("applications")[0]
    recru.patch("projects", project["id"], employmentType="seasonal_work", remote="flexible")
    recru.patch("applications", application["id"], status="on_hold")
    result = sync("FULL")
    assert result.state == "SUCCEEDED", result.errors
    job = stored_row(engine, tables.jobs, integration.id, project["id"], "employment_type", "remote_work_status")
    (outcome,) = stored_row(engine, tables.applications, integration.id, application["id"], "outcome")
    assert (job.employment_type, job.remote_work_status) == ("SEASONAL_WORK", "FLEXIBLE")  # open enums
    assert outcome is None  # closed: PENDING, HIRED, DECLINED only
    warned = " ".join(str(error) for error in result.errors)
    assert all(value in warned for value in ("seasonal_work", "flexible", "on_hold")), result.errors


def test_a_number_beyond_a_doubles_range_becomes_null_and_never_fails_a_sync(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """JSON sets numbers no limit: a job's weekly hours of 10^400 held by RECRU failed every listing of its jobs."""
    project = recru.all("projects")[0]
    recru.patch("projects", project["id"], weeklyHours=10**400)
    result = sync("FULL")
    assert result.state == "SUCCEEDED", result.errors
    weekly_hours, remote_data = stored_row(
        engine, tables.jobs, integration.id, project["id"], "weekly_hours", "remote_data"
    )
    assert weekly_hours is None
    assert remote_data["ProjectService.list"]["weeklyHours"] is None
    assert ALTERED_ANSWERS in [e["message"] for e in result.errors]  # told in the run's record, not only the log


def test_email_addresses_recru_holds_invalid_are_left_out_with_a_warning_and_never_fail_a_sync(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """recru-mapping: a user's "email ← email (null if invalid)"; a candidate's invalid ones are left out too."""
    user = next(u for u in recru.all("users") if not u["apiAccess"])
    jobseeker = recru.all("jobseekers")[0]
    recru.patch("users", user["id"], email="kontakt u recepce")
    emails = [
        {"value": "jana@firma.cz", "type": "work", "primary": True},
        {"value": "jana(at)seznam", "type": "private"},
    ]
    recru.patch("jobseekers", jobseeker["id"], emails=emails)
    result = sync("FULL")
    assert result.state == "SUCCEEDED", result.errors
    (email,) = stored_row(engine, tables.users, integration.id, user["id"], "email")
    (addresses,) = stored_row(engine, tables.candidates, integration.id, jobseeker["id"], "email_addresses")
    assert email is None
    assert [a["email_address"] for a in addresses] == ["jana@firma.cz"]
    warned = [str(error["message"]) for error in result.errors]
    assert "ats_users.email: an invalid e-mail address was left out" in warned, warned
    assert "ats_candidates.email_addresses: an invalid e-mail address was left out" in warned, warned
    assert not any("kontakt" in message or "seznam" in message for message in warned)  # addresses never logged


def test_a_tag_made_while_the_candidates_are_listed_is_stored_by_the_same_run(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """RECRU creates a tag and gives it to a jobseeker while a run lists jobseekers (after the tags): the run reads
    the tag at its end, so the candidate it stores is served with it; storing the tag moves the candidate's
    ``updated_at`` past the candidate's own write (it now nests it), not its ``changed_at``."""
    sync("FULL")
    jobseeker = recru.all("jobseekers")[0]
    before = stamps(engine, tables.candidates, integration.id)[str(jobseeker["id"])]
    made: list[int] = []

    def tag_it_once_the_tags_are_listed(model: ModelName, done: int, total: int | None) -> None:
        if model is ModelName.TAGS and not made:
            made.append(recru.create("tags", name="Nový štítek")["id"])
            recru.patch("jobseekers", jobseeker["id"], tagIds=[*jobseeker["tagIds"], made[0]])

    result = sync("DELTA", progress=tag_it_once_the_tags_are_listed)
    assert result.state == "SUCCEEDED"
    assert result.counts[ModelName.TAGS]["created"] == 1
    assert_parity(engine, integration.id, recru)
    after = stamps(engine, tables.candidates, integration.id)[str(jobseeker["id"])]
    assert after[0] == before[0] and after[1] > before[1]  # nested data: updated_at moves, changed_at does not
    assert sync("DELTA").counts[ModelName.TAGS]["created"] == 0


def test_a_job_made_while_the_applications_are_listed_is_stored_by_the_same_run(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """RECRU creates a user, a stage and a project with them, and an application to it, after the run listed the
    users, stages and jobs but before it lists that application (a FULL lists by id: while it lists the
    applications; a DELTA, listing what changed, once it listed the jobs): the run reads the job at its end, and
    then the user and the stage it refers to, so it serves no application of a job it does not serve."""
    sync("FULL")
    jobseeker = recru.all("jobseekers")[0]
    made: dict[str, int] = {}
    listed_before = {"FULL": ModelName.APPLICATIONS, "DELTA": ModelName.JOBS}

    def apply_once_listed(model: ModelName, done: int, total: int | None) -> None:
        if model is listed_before[run] and not made:
            made["user"] = recru.create("users", email=f"late.{run.lower()}@example.org")["id"]
            made["stage"] = recru.create("stages", name="Pozdní fáze")["id"]
            project = recru.create(
                "projects",
                status="open",
                stageIds=[made["stage"]],
                hiringTeam=[{"userId": made["user"], "role": "recruiter"}],
            )
            made["project"] = project["id"]
            application = recru.create("applications", jobseekerId=jobseeker["id"], projectId=project["id"])
            made["application"] = application["id"]

    for run in ("DELTA", "FULL"):
        made.clear()
        result = sync(run, progress=apply_once_listed)
        assert result.state == "SUCCEEDED"
        assert (result.counts[ModelName.JOBS]["created"], result.counts[ModelName.USERS]["created"]) == (1, 1)
        assert result.counts[ModelName.APPLICATION_STAGES]["created"] == 1
        assert str(made["application"]) in stamps(engine, tables.applications, integration.id)
        assert_parity(engine, integration.id, recru)


def test_a_stage_moved_in_a_pipeline_moves_the_jobs_applications_in_it(
    engine: Engine, integration: Integration, recru: Recru, sync: Sync
) -> None:
    """An application nests its current stage with the stage's index in the job's pipeline: moving stages changes
    what the applications in them serve, so ``updated_after`` finds those (their ``changed_at`` stays); a stage
    appended moves no application in another stage."""
    sync("FULL")
    applications = recru.all("applications")
    project = max(recru.all("projects"), key=lambda p: sum(a["projectId"] == p["id"] for a in applications))
    pipeline, reversed_pipeline = project["stageIds"], list(reversed(project["stageIds"]))
    moved = {s for s in pipeline if pipeline.index(s) != reversed_pipeline.index(s)}
    of_moved = {str(a["id"]) for a in applications if a["projectId"] == project["id"] and a["stageId"] in moved}
    assert of_moved
    before = stamps(engine, tables.applications, integration.id)
    recru.patch("projects", project["id"], stageIds=reversed_pipeline)
    assert sync("DELTA").state == "SUCCEEDED"
    after = stamps(engine, tables.applications, integration.id)
    assert {a for a in after if after[a] != before[a]} == of_moved
    assert all(after[a][0] == before[a][0] for a in of_moved)  # own fields unchanged
    appended = recru.create("stages", name="Nová fáze")
    recru.patch("projects", project["id"], stageIds=[*reversed_pipeline, appended["id"]])
    assert sync("DELTA").state == "SUCCEEDED"
    assert stamps(engine, tables.applications, integration.id) == after
    assert_parity(engine, integration.id, recru)
