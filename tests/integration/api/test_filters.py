"""Every list filter of unified-api §2 on the synced tenant, through the SDK as a client sends them.

Expected results are computed from RECRU's own records (mapped with the hand-written tables of
``integration.sync.parity``) or, for ``updated_after``, from the stored change marks; never from the API's output.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from kombo import Kombo
from sqlalchemy import select

from atsbridge.store import tables
from atsbridge.unified.ids import ModelName, model_id
from integration.api.conftest import World, walk
from integration.sync.parity import EMPLOYMENT, JOB_STATUS, OUTCOME, upper


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def remote_ids(call: Callable[..., Any], **params: Any) -> set[str]:
    """RECRU ids of every record an SDK list returns (over pages of 20, so the cursor carries the filters)."""
    results, _ = walk(call, page_size=20, **params)
    found = [r.remote_id for r in results]
    assert len(found) == len(set(found)), "a record was listed twice"
    return set(found)


def recru_ids(records: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool] = lambda _: True) -> set[str]:
    return {str(r["id"]) for r in records if keep(r)}


def nontrivial(expected: set[str], everything: set[str]) -> set[str]:
    """``expected``, checked to be a proper, non-empty part of ``everything`` (else the filter proves nothing)."""
    assert expected, "the data gives this filter nothing to match"
    assert expected != everything, "the data gives this filter nothing to exclude"
    return expected


# --- common filters -------------------------------------------------------------------------------------------


def test_ids_and_remote_ids_and_their_conjunction(world: World, sdk: Kombo) -> None:
    jobseekers = world.recru.all("jobseekers")
    a, b, c = (str(j["id"]) for j in jobseekers[10:13])
    ids = {remote: model_id(world.integration_id, ModelName.CANDIDATES, remote) for remote in (a, b, c)}
    unknown = model_id(world.integration_id, ModelName.CANDIDATES, "999999")
    assert remote_ids(sdk.ats.get_candidates, ids=[ids[a], ids[b], unknown]) == {a, b}
    assert remote_ids(sdk.ats.get_candidates, remote_ids=[b, c, "999999"]) == {b, c}
    # different filters AND, values of one filter OR
    assert remote_ids(sdk.ats.get_candidates, ids=[ids[a], ids[b]], remote_ids=[b, c]) == {b}
    # another integration's id of the same RECRU record is not this integration's record
    assert remote_ids(sdk.ats.get_candidates, ids=[model_id("recruhr:other", ModelName.CANDIDATES, a)]) == set()


def stored_updated_at(world: World, model: ModelName) -> dict[str, datetime]:
    table = tables.MODEL_TABLES[model]
    with world.engine.connect() as conn:
        rows = conn.execute(
            select(table.c.remote_id, table.c.updated_at).where(table.c.integration_id == world.integration_id)
        )
        return {row.remote_id: row.updated_at for row in rows}


@pytest.mark.parametrize(
    ("model", "path"), [(ModelName.APPLICATIONS, "/ats/applications"), (ModelName.CANDIDATES, "/ats/candidates")]
)
def test_updated_after_in_every_form(world: World, model: ModelName, path: str) -> None:
    marks = stored_updated_at(world, model)
    moments = sorted(set(marks.values()))
    assert len(moments) > 1, "the FULL sync wrote every record in one instant: nothing to split"
    cut = moments[len(moments) // 2 - 1]
    expected = nontrivial({remote for remote, moment in marks.items() if moment > cut}, set(marks))

    def listed(value: str) -> set[str]:
        return {r["remote_id"] for r in world.walk(path, page_size=50, updated_after=value)}

    assert listed(cut.isoformat()) == expected  # +00:00
    assert listed(cut.strftime("%Y-%m-%dT%H:%M:%S.%fZ")) == expected
    assert listed(cut.strftime("%Y-%m-%dt%H:%M:%S.%fz")) == expected  # RFC 3339 allows lower case
    assert listed(cut.astimezone(timezone(timedelta(hours=2))).isoformat()) == expected
    assert listed(cut.replace(tzinfo=None).isoformat()) == expected  # naive = UTC
    # a date is midnight UTC of that day
    day = cut.date()
    assert listed((day - timedelta(days=1)).isoformat()) == set(marks)
    assert listed((day + timedelta(days=1)).isoformat()) == set()
    # instants beyond the calendar's ends in UTC (the SDK sends datetime.max / min with a time zone so)
    assert listed("9999-12-31T23:00:00-05:00") == set()
    assert listed("0001-01-01T00:00:00+05:00") == set(marks)


def test_updated_after_through_the_sdk(world: World, sdk: Kombo) -> None:
    marks = stored_updated_at(world, ModelName.APPLICATIONS)
    cut = sorted(set(marks.values()))[0]
    expected = nontrivial({remote for remote, moment in marks.items() if moment > cut}, set(marks))
    assert remote_ids(sdk.ats.get_applications, updated_after=cut) == expected
    assert remote_ids(sdk.ats.get_applications, updated_after=cut.replace(tzinfo=None)) == expected


def test_unsupported_filter_matches_nothing_unless_ignored(world: World, sdk: Kombo) -> None:
    projects = world.recru.all("projects")
    assert remote_ids(sdk.ats.get_jobs, post_url="https://jobs.example.org/1") == set()
    assert remote_ids(sdk.ats.get_jobs, post_url="x", ignore_unsupported_filters=True) == recru_ids(projects)
    # ignoring the unsupported filter keeps the supported ones
    open_jobs = nontrivial(recru_ids(projects, lambda p: JOB_STATUS[p["status"]] == "OPEN"), recru_ids(projects))
    assert remote_ids(sdk.ats.get_jobs, post_url="x", statuses=["OPEN"], ignore_unsupported_filters=True) == open_jobs


# --- jobs -----------------------------------------------------------------------------------------------------


def test_jobs_filters(world: World, sdk: Kombo) -> None:
    projects = world.recru.all("projects")
    everything = recru_ids(projects)
    codes = [p["code"] for p in projects if p["code"]][:2]
    assert remote_ids(sdk.ats.get_jobs, job_codes=[*codes, "NO-SUCH-CODE"]) == nontrivial(
        recru_ids(projects, lambda p: p["code"] in codes), everything
    )
    statuses = {JOB_STATUS[p["status"]] for p in projects}
    some = sorted(statuses)[:2]
    assert remote_ids(sdk.ats.get_jobs, statuses=some) == nontrivial(
        recru_ids(projects, lambda p: JOB_STATUS[p["status"]] in some), everything
    )

    def employment(p: dict[str, Any]) -> str | None:
        return EMPLOYMENT.get(p["employmentType"], upper(p["employmentType"]))

    kind = next(employment(p) for p in projects if employment(p))
    assert remote_ids(sdk.ats.get_jobs, employment_types=[kind]) == nontrivial(
        recru_ids(projects, lambda p: employment(p) == kind), everything
    )
    visibility = projects[0]["visibility"].upper()
    assert remote_ids(sdk.ats.get_jobs, visibilities=[visibility, "CONFIDENTIAL"]) == nontrivial(
        recru_ids(projects, lambda p: p["visibility"].upper() in (visibility, "CONFIDENTIAL")), everything
    )
    created = sorted(p["createdAt"] for p in projects)
    cut = created[len(created) // 2]  # on or after: the job created at this very instant is included
    assert remote_ids(sdk.ats.get_jobs, remote_created_after=instant(cut)) == nontrivial(
        recru_ids(projects, lambda p: p["createdAt"] >= cut), everything
    )
    word = projects[0]["name"].split()[0]
    assert remote_ids(sdk.ats.get_jobs, name_contains=word.swapcase()) == nontrivial(
        recru_ids(projects, lambda p: word.lower() in p["name"].lower()), everything
    )
    assert remote_ids(sdk.ats.get_jobs, name_contains="%") == set()  # a LIKE wildcard is a plain character
    # longer than SQLite takes as a LIKE pattern (50,000 bytes): no name holds it
    assert remote_ids(sdk.ats.get_jobs, name_contains="a" * 60_000) == set()


# --- applications ---------------------------------------------------------------------------------------------


def test_applications_filters(world: World, sdk: Kombo) -> None:
    applications = world.recru.all("applications")
    everything = recru_ids(applications)
    project_a, project_b = (p["id"] for p in world.recru.all("projects")[:2])

    def job_id(remote: int) -> str:
        return model_id(world.integration_id, ModelName.JOBS, remote)

    assert remote_ids(sdk.ats.get_applications, outcomes=["HIRED", "DECLINED"]) == nontrivial(
        recru_ids(applications, lambda a: OUTCOME[a["status"]] != "PENDING"), everything
    )
    of_two_jobs = nontrivial(recru_ids(applications, lambda a: a["projectId"] in (project_a, project_b)), everything)
    assert remote_ids(sdk.ats.get_applications, job_ids=[job_id(project_a), job_id(project_b)]) == of_two_jobs
    assert remote_ids(sdk.ats.get_applications, job_remote_ids=[str(project_a), str(project_b)]) == of_two_jobs
    stage = applications[0]["stageId"]
    stage_id = model_id(world.integration_id, ModelName.APPLICATION_STAGES, stage)
    assert remote_ids(sdk.ats.get_applications, current_stage_ids=[stage_id]) == nontrivial(
        recru_ids(applications, lambda a: a["stageId"] == stage), everything
    )
    created = sorted(a["createdAt"] for a in applications)
    cut = created[len(created) // 3]
    assert remote_ids(sdk.ats.get_applications, remote_created_after=instant(cut)) == nontrivial(
        recru_ids(applications, lambda a: a["createdAt"] >= cut), everything
    )
    # filters AND
    assert remote_ids(sdk.ats.get_applications, outcomes=["PENDING"], job_remote_ids=[str(project_a)]) == recru_ids(
        applications, lambda a: a["status"] == "active" and a["projectId"] == project_a
    )


# --- candidates and users -------------------------------------------------------------------------------------


def test_candidates_filters(world: World, sdk: Kombo) -> None:
    jobseekers = world.recru.all("jobseekers")
    everything = recru_ids(jobseekers)
    with_two = next(j for j in jobseekers if len(j["emails"]) > 1)
    secondary = next(e["value"] for e in with_two["emails"] if not e["primary"])
    assert remote_ids(sdk.ats.get_candidates, email=f"  {secondary.upper()} ") == {
        str(j["id"]) for j in jobseekers if secondary.lower() in (e["value"].lower() for e in j["emails"])
    }
    assert remote_ids(sdk.ats.get_candidates, email=secondary[1:]) == set()  # the whole address, not a part

    projects = [p["id"] for p in world.recru.all("projects")[:2]]
    applied = {str(a["jobseekerId"]) for a in world.recru.all("applications") if a["projectId"] in projects}
    job_ids = [model_id(world.integration_id, ModelName.JOBS, p) for p in projects]
    assert remote_ids(sdk.ats.get_candidates, job_ids=job_ids) == nontrivial(applied, everything)

    first_names = [j["firstName"] for j in jobseekers]
    common = max(set(first_names), key=first_names.count)
    assert remote_ids(sdk.ats.get_candidates, first_name=common.upper()) == nontrivial(
        recru_ids(jobseekers, lambda j: j["firstName"].lower() == common.lower()), everything
    )
    assert remote_ids(sdk.ats.get_candidates, first_name=common[:-1]) == recru_ids(
        jobseekers, lambda j: j["firstName"].lower() == common[:-1].lower()
    )
    last_names = [j["lastName"] for j in jobseekers]
    last = max(set(last_names), key=last_names.count)
    assert remote_ids(sdk.ats.get_candidates, last_name=last.swapcase()) == nontrivial(
        recru_ids(jobseekers, lambda j: j["lastName"].lower() == last.lower()), everything
    )
    both = (jobseekers[3]["firstName"], jobseekers[3]["lastName"])
    padded = remote_ids(sdk.ats.get_candidates, first_name=f" {both[0]} ", last_name=f"\t{both[1]} ")
    assert padded == remote_ids(sdk.ats.get_candidates, first_name=both[0], last_name=both[1])  # names are trimmed
    assert remote_ids(sdk.ats.get_candidates, first_name=both[0], last_name=both[1]) == recru_ids(
        jobseekers, lambda j: (j["firstName"].lower(), j["lastName"].lower()) == (both[0].lower(), both[1].lower())
    )


def accented_capital(text: str) -> bool:
    """Whether ``text`` holds a capital letter outside ASCII (SQLite's own ``lower()`` leaves those as they are)."""
    return any(c.isupper() and not c.isascii() for c in text)


def test_name_filters_ignore_the_case_of_every_letter(world: World, sdk: Kombo) -> None:
    jobseekers = world.recru.all("jobseekers")
    last = next(j["lastName"] for j in jobseekers if accented_capital(j["lastName"]))
    expected = recru_ids(jobseekers, lambda j: j["lastName"].lower() == last.lower())
    for given in (last, last.lower(), last.upper()):
        assert remote_ids(sdk.ats.get_candidates, last_name=given) == expected
    first = next(j["firstName"] for j in jobseekers if accented_capital(j["firstName"]))
    assert remote_ids(sdk.ats.get_candidates, first_name=first.lower()) == recru_ids(
        jobseekers, lambda j: j["firstName"].lower() == first.lower()
    )


def test_job_names_contain_words_whatever_the_case_of_their_letters(scratch: World) -> None:
    project = scratch.recru.all("projects")[0]
    scratch.recru.patch("projects", project["id"], name="Účetní – Überblick ŘÍZENÍ")
    scratch.sync("DELTA")
    with scratch.sdk() as sdk:
        for word in ("účetní", "ÚČETNÍ", "überblick", "řízení", "ní – Üb"):
            assert remote_ids(sdk.ats.get_jobs, name_contains=word) == {str(project["id"])}


@pytest.mark.parametrize("blank", [" ", "\t", "\u00a0"], ids=["spaces", "tabs", "no-break spaces"])
def test_a_job_code_with_blanks_around_it_is_found_as_served(scratch: World, blank: str) -> None:
    """RECRU keeps a code as typed; filter values are taken trimmed (of any blank), so the code is compared trimmed
    too."""
    project = scratch.recru.all("projects")[0]
    code = f"{blank * 2}CODE-ü{blank * 2}"
    scratch.recru.patch("projects", project["id"], code=code)
    scratch.sync("DELTA")
    with scratch.sdk() as sdk:
        (job,) = sdk.ats.get_jobs(
            ids=[model_id(scratch.integration.id, ModelName.JOBS, project["id"])]
        ).result.data.results
        assert job.job_code == code
        for given in (code, "CODE-ü"):
            assert remote_ids(sdk.ats.get_jobs, job_codes=[given]) == {str(project["id"])}
        assert remote_ids(sdk.ats.get_jobs, job_codes=["code-ü"]) == set()  # codes are compared exactly otherwise


def test_the_email_filter_ignores_the_case_of_every_letter(scratch: World) -> None:
    jobseeker = scratch.recru.all("jobseekers")[0]
    emails = [{"value": "Ünï.Řezáč@Exämple.DE", "type": "private", "primary": True}, *jobseeker["emails"][1:]]
    scratch.recru.patch("jobseekers", jobseeker["id"], emails=emails)
    scratch.sync("DELTA")
    with scratch.sdk() as sdk:
        for given in ("Ünï.Řezáč@Exämple.DE", "ünï.řezáč@exämple.de", "ÜNÏ.ŘEZÁČ@EXÄMPLE.DE"):
            assert remote_ids(sdk.ats.get_candidates, email=given) == {str(jobseeker["id"])}


def test_users_emails(world: World, sdk: Kombo) -> None:
    users = world.recru.all("users")
    picked = [users[1]["email"].upper(), users[2]["email"].title(), "nobody@example.org"]
    assert remote_ids(sdk.ats.get_users, emails=picked) == {str(users[1]["id"]), str(users[2]["id"])}


def test_filters_hold_across_pages(world: World) -> None:
    applications = world.recru.all("applications")
    expected = recru_ids(applications, lambda a: OUTCOME[a["status"]] == "DECLINED")
    pages = []
    cursor = None
    while True:
        params: dict[str, Any] = {"outcomes": "DECLINED", "page_size": 9}
        data = world.get("/ats/applications", **params, **({"cursor": cursor} if cursor else {})).json()["data"]
        pages.append([r["remote_id"] for r in data["results"]])
        cursor = data["next"]
        if cursor is None:
            break
    assert len(pages) == -(-len(expected) // 9)
    assert all(len(page) == 9 for page in pages[:-1])
    assert [remote for page in pages for remote in page] == sorted(
        (r for r in expected), key=lambda remote: model_id(world.integration_id, ModelName.APPLICATIONS, remote)
    )


def test_date_only_remote_created_after_is_that_day_at_midnight_utc(world: World) -> None:
    applications = world.recru.all("applications")
    day = sorted(a["createdAt"] for a in applications)[len(applications) // 2][:10]
    midnight = datetime.fromisoformat(day).replace(tzinfo=UTC)
    expected = recru_ids(applications, lambda a: instant(a["createdAt"]) >= midnight)
    got = {r["remote_id"] for r in world.walk("/ats/applications", page_size=250, remote_created_after=day)}
    assert got == expected


def test_a_value_with_a_nul_character_matches_nothing(world: World, sdk: Kombo) -> None:
    jobseekers = world.recru.all("jobseekers")
    first, second = str(jobseekers[0]["id"]), str(jobseekers[1]["id"])
    assert remote_ids(sdk.ats.get_candidates, remote_ids=[first, "1\x002", second]) == {first, second}
    assert remote_ids(sdk.ats.get_candidates, remote_ids=["\x00"]) == set()
    assert remote_ids(sdk.ats.get_candidates, first_name="\x00") == set()
    assert remote_ids(sdk.ats.get_candidates, email=jobseekers[0]["emails"][0]["value"] + "\x00") == set()
    assert remote_ids(sdk.ats.get_jobs, name_contains="\x00") == set()


def test_a_filter_given_blank_is_not_given(world: World) -> None:
    every_job = {r["remote_id"] for r in world.walk("/ats/jobs", page_size=250)}
    lists = ("statuses", "employment_types", "visibilities", "job_codes", "ids", "remote_ids")
    given = [(name, blank) for name in (*lists, "name_contains") for blank in ("", " ")]
    for name, blank in [*given, *((name, commas) for name in lists for commas in (",", " , "))]:
        got = {r["remote_id"] for r in world.walk("/ats/jobs", page_size=250, **{name: blank})}
        assert got == every_job, f"{name}={blank!r}"
    every_candidate = {r["remote_id"] for r in world.walk("/ats/candidates", page_size=250)}
    assert {r["remote_id"] for r in world.walk("/ats/candidates", page_size=250, email="")} == every_candidate


def test_a_parameter_given_twice_is_refused_not_half_applied(world: World) -> None:
    answer = world.get("/ats/jobs", statuses=["OPEN", "CLOSED"])
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "PLATFORM.INPUT_INVALID" and "statuses" in error["message"]


def test_a_name_or_address_is_found_as_it_is_stored_whatever_its_letters(scratch: World) -> None:
    # each store lowers a few letters its own way (a final sigma, a dotted capital I): it must agree with itself
    jobseeker = scratch.recru.all("jobseekers")[0]
    address = "ŘÍHA.İlker@Firma.cz"
    scratch.recru.patch("jobseekers", jobseeker["id"], lastName="İlker-ΟΔΟΣ", emails=[{"value": address}])
    project = scratch.recru.all("projects")[0]
    scratch.recru.patch("projects", project["id"], name="Vedoucí ΟΔΟΣ – İlker_100%")
    scratch.sync("DELTA")
    with scratch.sdk() as sdk:
        assert remote_ids(sdk.ats.get_candidates, last_name="İlker-ΟΔΟΣ") == {str(jobseeker["id"])}
        assert remote_ids(sdk.ats.get_candidates, email=address) == {str(jobseeker["id"])}
        for part in ("ΟΔΟΣ – İlker", "r_100%"):
            assert remote_ids(sdk.ats.get_jobs, name_contains=part) == {str(project["id"])}
