"""What a create writes as the candidate's source (the integration's label, or the request's ``source`` by name, id
or unified key; never over an existing candidate's own) and as its GDPR consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from atsbridge.store import tables
from atsbridge.store.integrations import load_integration
from integration.actions.conftest import SOURCE_IS_DEPRECATED, ActionWorld, candidate, refusal

pytestmark = SOURCE_IS_DEPRECATED


def answer(world: ActionWorld, **body: Any) -> Any:
    """A create-application answer (data and warnings), for a new candidate on an open job."""
    return world.kombo().ats.create_application(
        job_id=f"remote:{world.open_job()['id']}", candidate=body.pop("candidate", candidate()), **body
    )


def create(world: ActionWorld, **body: Any) -> Any:
    """A create-application answer's data, for a new candidate on an open job."""
    return answer(world, **body).data


def warnings_of(answered: Any) -> list[str]:
    return [warning.message for warning in answered.warnings]


def jobseeker_of(world: ActionWorld, data: Any) -> dict[str, Any]:
    jobseeker: dict[str, Any] = world.recru.call("JobseekerService.get", {"id": int(data.candidate.remote_id)})
    return jobseeker


def test_by_default_the_source_is_the_integrations_label(world: ActionWorld) -> None:
    label = world.integration.environment_name
    data = create(world)
    assert jobseeker_of(world, data)["source"]["name"] == label
    assert data.candidate.source == label


@pytest.mark.parametrize(
    ("blank", "named"),
    [
        ({"name": ""}, "source.name was"),
        ({"name": "   "}, "source.name was"),
        ({"unified_key": " "}, "source.unified_key was"),
        ({"name": "", "unified_key": "\t"}, "source.name and source.unified_key were"),
        ({"id": " "}, "source.id was"),
        ({"name": "\u200b \ufeff"}, "source.name was"),  # shows nothing
    ],
    ids=["empty", "spaces", "key", "both", "id", "invisible"],
)
def test_a_blank_source_name_writes_the_label_with_a_warning(
    world: ActionWorld, blank: dict[str, str], named: str
) -> None:
    label = world.integration.environment_name
    answered = answer(world, source=blank)
    assert jobseeker_of(world, answered.data)["source"]["name"] == label
    assert f"{named} blank: the integration's source label was written instead." in warnings_of(answered)


def test_a_default_label_longer_than_recru_takes_is_cut_to_its_limit(world: ActionWorld) -> None:
    # by default the label is the environment's name, which has no limit; RECRU's source names have 100 characters
    environments = tables.environments
    name = world.integration.environment_name
    long_name = "Kariérní portál " + "x" * 150
    with world.engine.begin() as conn:
        conn.execute(update(environments).where(environments.c.name == name).values(name=long_name))
    try:
        with world.engine.connect() as conn:
            shown = load_integration(conn, world.integration.id)  # what `integration settings` and the API show
        data = create(world)
    finally:
        with world.engine.begin() as conn:
            conn.execute(update(environments).where(environments.c.name == long_name).values(name=name))
    assert jobseeker_of(world, data)["source"]["name"] == long_name[:100]
    assert shown is not None and shown.source_label == long_name[:100]


def test_a_source_name_recru_lacks_is_created_in_its_codebook(world: ActionWorld) -> None:
    name = f"Veletrh práce {datetime.now(UTC):%H%M%S%f}"
    assert name not in {e["name"] for e in world.recru.codebook("jobseekerSources").values()}
    data = create(world, source={"name": name})
    entries = [e for e in world.recru.codebook("jobseekerSources").values() if e["name"] == name]
    assert len(entries) == 1
    assert jobseeker_of(world, data)["source"] == {"id": entries[0]["id"], "name": name}
    assert data.candidate.source == name


def test_a_known_source_name_or_unified_key_is_matched_without_a_new_entry(world: ActionWorld) -> None:
    entries = list(world.recru.codebook("jobseekerSources").values())
    first, second = entries[0], entries[1]
    by_name = create(world, source={"name": f"  {first['name'].upper()} "})
    by_key = create(world, source={"unified_key": second["name"].lower()})
    assert len(world.recru.codebook("jobseekerSources")) == len(entries)
    assert jobseeker_of(world, by_name)["source"] == {"id": first["id"], "name": first["name"]}
    assert jobseeker_of(world, by_key)["source"] == {"id": second["id"], "name": second["name"]}


def test_a_source_id_is_used_as_it_is(world: ActionWorld) -> None:
    entry = list(world.recru.codebook("jobseekerSources").values())[2]
    answered = answer(world, source={"id": str(entry["id"]), "name": "ignored when an id is given"})
    assert jobseeker_of(world, answered.data)["source"] == {"id": entry["id"], "name": entry["name"]}
    assert warnings_of(answered) == ["source.name was not written: source.id was given and wins."]


def test_a_source_name_wins_over_a_differing_unified_key_with_a_warning(world: ActionWorld) -> None:
    entry = list(world.recru.codebook("jobseekerSources").values())[3]
    answered = answer(world, source={"name": entry["name"], "unified_key": "LinkedIn Jobs"})
    assert jobseeker_of(world, answered.data)["source"] == {"id": entry["id"], "name": entry["name"]}
    assert warnings_of(answered) == ["source.unified_key was not written: source.name was given and wins."]
    same = answer(world, source={"name": entry["name"], "unified_key": f" {entry['name'].upper()}"})
    assert warnings_of(same) == []


@pytest.mark.parametrize("source_id", ["987654", "not-a-number"])
def test_an_unknown_source_id_is_400_and_creates_nothing(world: ActionWorld, source_id: str) -> None:
    before = world.recru_totals()
    status, code, message = refusal(lambda: create(world, source={"id": source_id}))
    assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
    assert "source.id" in message
    assert world.recru_totals() == before


@pytest.mark.parametrize("source_id", ["987654", "99999999999999999999999"])
def test_an_unknown_source_id_is_named_as_it_was_given(world: ActionWorld, source_id: str) -> None:
    _, _, message = refusal(lambda: create(world, source={"id": source_id}))
    assert message == f"source.id: RECRU has no source with id {source_id}."


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"source": {"id": "\u0661"}}, "source.id"),  # an Arabic-Indic one: a digit to Python, no RECRU id
        ({"gdpr_consent": {"given": "yes", "expires_at": "2099-01-01T00:00:00Z"}}, "given"),
        ({"gdpr_consent": {"given": 1, "expires_at": "2099-01-01T00:00:00Z"}}, "given"),
        ({"candidate": candidate(salary_expectations={"amount": "10", "period": "YEAR"})}, "amount"),
        ({"candidate": candidate(availability_date=12345)}, "availability_date"),  # not seconds since 1970
        ({"candidate": candidate(availability_date="12345")}, "availability_date"),
        ({"gdpr_consent": {"given": True, "expires_at": 4102444800}}, "expires_at"),
        ({"source": {"name": "Job\nfair"}}, "source.name"),  # a RECRU codebook entry with a line break
        ({"source": {"unified_key": "a\tb"}}, "source.unified_key"),
        ({"candidate": candidate(phone_number="\x1b")}, "phone_number"),
    ],
    ids=[
        "non-ascii digit id",
        "consent yes",
        "consent 1",
        "amount as text",
        "date a number",
        "date digits",
        "expiry a number",
        "source name with a line break",
        "unified key with a tab",
        "phone number an escape",
    ],
)
def test_values_of_the_wrong_kind_are_400_and_create_nothing(
    world: ActionWorld, body: dict[str, Any], named: str
) -> None:
    before = world.recru_totals()
    answer = world.send(
        "POST", f"/ats/jobs/remote:{world.open_job()['id']}/applications", {"candidate": candidate(), **body}
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "PLATFORM.INPUT_INVALID"), answer.text
    assert named in answer.json()["error"]["message"]
    assert world.recru_totals() == before


@pytest.mark.parametrize("explicit", [False, True], ids=["label", "explicit"])
def test_an_existing_candidate_without_a_source_keeps_none(world: ActionWorld, explicit: bool) -> None:
    existing = world.existing_jobseeker(source=None)
    sources = world.recru.codebook("jobseekerSources")
    extra = {"source": {"name": "Nový zdroj, nezapsaný"}} if explicit else {}
    answered = answer(world, candidate=candidate(email_address=existing["emails"][0]["value"]), **extra)
    told = "source was not written: the candidate already existed in RECRU, and an existing candidate's source is "
    assert any(w.startswith(told) for w in warnings_of(answered)) == explicit
    data = answered.data
    assert data.candidate.remote_id == str(existing["id"])
    assert jobseeker_of(world, data)["source"] is None
    assert data.candidate.source is None
    assert world.recru.codebook("jobseekerSources") == sources


def future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_given_consent_with_a_future_expiry_is_written_to_recru(world: ActionWorld) -> None:
    expires = future(400)
    data = create(world, gdpr_consent={"given": True, "expires_at": expires})
    consent = jobseeker_of(world, data)["gdprConsent"]
    assert (consent["given"], consent["expiresAt"]) == (True, expires[:10])
    assert consent["givenAt"] is not None


def test_a_refused_consent_is_written_as_not_given(world: ActionWorld) -> None:
    data = create(world, gdpr_consent={"given": False})
    assert jobseeker_of(world, data)["gdprConsent"] == {"given": False, "givenAt": None, "expiresAt": None}
    answered = answer(world, gdpr_consent={"given": False, "expires_at": future(30)})
    assert jobseeker_of(world, answered.data)["gdprConsent"] == {"given": False, "givenAt": None, "expiresAt": None}
    assert warnings_of(answered) == ["gdpr_consent.expires_at was not written: consent was not given."]


def test_dates_given_in_any_offset_are_their_utc_dates(world: ActionWorld) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    today = tomorrow - timedelta(days=1)
    # today 23:59:59 at UTC-05:00 is tomorrow 04:59:59 UTC: a future date
    late = create(world, gdpr_consent={"given": True, "expires_at": f"{today}T23:59:59-05:00"})
    assert jobseeker_of(world, late)["gdprConsent"]["expiresAt"] == tomorrow.isoformat()
    # tomorrow 01:59:59 at UTC+02:00 is today 23:59:59 UTC: not a future date
    early = {"given": True, "expires_at": f"{tomorrow}T01:59:59+02:00"}
    assert refusal(lambda: create(world, gdpr_consent=early))[:2] == (400, "PLATFORM.INPUT_INVALID")
    available = create(world, candidate=candidate(availability_date="2030-01-01T23:30:00-05:00"))
    assert jobseeker_of(world, available)["availableFrom"] == "2030-01-02"


@pytest.mark.parametrize("expires_at", [future(-30), future(0), None], ids=["past", "today", "missing"])
def test_a_given_consent_without_a_future_expiry_is_400_and_creates_nothing(
    world: ActionWorld, expires_at: str | None
) -> None:
    consent: dict[str, Any] = {"given": True, **({"expires_at": expires_at} if expires_at else {})}
    before, create_calls = world.recru_totals(), world.calls("ApplicationService.create")
    status, code, message = refusal(lambda: create(world, gdpr_consent=consent))
    assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
    assert "gdpr_consent.expires_at" in message
    assert world.recru_totals() == before
    assert world.calls("ApplicationService.create") == create_calls


def test_an_expiry_without_saying_whether_consent_was_given_is_400_and_creates_nothing(world: ActionWorld) -> None:
    before = world.recru_totals()
    status, code, message = refusal(lambda: create(world, gdpr_consent={"expires_at": future(30)}))
    assert (status, code) == (400, "PLATFORM.INPUT_INVALID")
    assert "gdpr_consent.given" in message  # consent is never assumed
    assert world.recru_totals() == before
