"""Field-by-field parity of the store with the emulator's tenant.

The expected unified values are derived here from the RECRU records with the tables of recru-mapping.md, written
out by hand for the tests (not imported from the connector), so a mapping mistake shows up as a difference.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from atsbridge.store import tables
from support.recru import Recru

EMPLOYMENT = {"full_time": "FULL_TIME", "part_time": "PART_TIME", "mini_job": "PART_TIME",
              "working_student": "PART_TIME", "internship": "INTERNSHIP", "apprenticeship": "INTERNSHIP",
              "temporary": "SEASONAL", "freelance": "CONTRACT"}  # fmt: skip
JOB_STATUS = {"draft": "DRAFT", "open": "OPEN", "on_hold": "CLOSED", "closed": "CLOSED", "archived": "ARCHIVED"}
OUTCOME = {"active": "PENDING", "hired": "HIRED", "rejected": "DECLINED", "withdrawn": "DECLINED"}
ROLES = {"admin": "ADMIN", "recruiter": "RECRUITER", "hiring_manager": "HIRING_MANAGER", "interviewer": "INTERVIEWER"}


def ts(value: str | None) -> str | None:
    return None if value is None else value.replace("Z", "+00:00")


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def upper(value: str | None) -> str | None:
    return None if value is None else value.upper()


def primary_first(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["primary"]] + [e for e in entries if not e["primary"]]


def expected_user(u: dict[str, Any]) -> dict[str, Any]:
    return {"first_name": u["firstName"], "last_name": u["lastName"], "email": u["email"],
            "status": "ACTIVE" if u["active"] else "INACTIVE", "roles": [ROLES[u["role"]]]}  # fmt: skip


def stored_user(r: Any) -> dict[str, Any]:
    return {"first_name": r.first_name, "last_name": r.last_name, "email": r.email, "status": r.status,
            "roles": [role["unified_type"] for role in r.system_roles]}  # fmt: skip


def expected_job(p: dict[str, Any], departments: dict[Any, Any], locations: dict[Any, Any]) -> dict[str, Any]:
    salary = p["salary"] or {}
    location = locations[p["locationIds"][0]] if p["locationIds"] else None
    return {
        "name": p["name"], "job_code": p["code"], "description": p["description"],
        "employment_type": EMPLOYMENT.get(p["employmentType"], upper(p["employmentType"])),
        "status": JOB_STATUS[p["status"]], "visibility": p["visibility"].upper(),
        "department": departments[p["departmentId"]]["name"] if p["departmentId"] else None,
        "experience_level": p["experienceLevel"], "salary_amount": salary.get("amount"),
        "salary_currency": salary.get("currency"), "salary_period": upper(salary.get("period")),
        "weekly_hours": p["weeklyHours"], "remote_work_status": upper(p["remote"]),
        "location_city": location["city"] if location else None,
        "opened_at": ts(p["openedAt"]), "closed_at": ts(p["closedAt"]),
        "remote_created_at": ts(p["createdAt"]), "remote_updated_at": ts(p["updatedAt"]),
        "stages": [str(s) for s in p["stageIds"]],
        "team": sorted((str(m["userId"]), ROLES[m["role"]]) for m in p["hiringTeam"]),
    }  # fmt: skip


def stored_job(r: Any, stages: list[str], team: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": r.name, "job_code": r.job_code, "description": r.description, "employment_type": r.employment_type,
        "status": r.status, "visibility": r.visibility, "department": r.department,
        "experience_level": r.experience_level, "salary_amount": r.salary_amount,
        "salary_currency": r.salary_currency, "salary_period": r.salary_period, "weekly_hours": r.weekly_hours,
        "remote_work_status": r.remote_work_status, "location_city": (r.location or {}).get("city"),
        "opened_at": iso(r.opened_at), "closed_at": iso(r.closed_at),
        "remote_created_at": iso(r.remote_created_at), "remote_updated_at": iso(r.remote_updated_at),
        "stages": stages, "team": sorted(team),
    }  # fmt: skip


def expected_candidate(j: dict[str, Any]) -> dict[str, Any]:
    address = j["address"] or {}
    return {
        "first_name": j["firstName"], "last_name": j["lastName"], "company": j["currentCompany"],
        "title": j["currentPosition"], "source": (j["source"] or {}).get("name"),
        "emails": [(e["value"], e["type"].upper()) for e in primary_first(j["emails"])],
        "phones": [(p["value"], p["type"].upper()) for p in primary_first(j["phones"])],
        "city": address.get("city"), "country": address.get("countryCode"), "street_1": address.get("street"),
        "zip_code": address.get("postalCode"), "state": address.get("region"),
        "remote_created_at": ts(j["createdAt"]), "remote_updated_at": ts(j["updatedAt"]),
        "tags": sorted(str(t) for t in j["tagIds"]),
    }  # fmt: skip


def stored_candidate(r: Any, tags: list[str]) -> dict[str, Any]:
    location = r.location or {}
    return {
        "first_name": r.first_name, "last_name": r.last_name, "company": r.company, "title": r.title,
        "source": r.source, "emails": [(e["email_address"], e["type"]) for e in r.email_addresses],
        "phones": [(p["phone_number"], p["type"]) for p in r.phone_numbers],
        "city": location.get("city"), "country": location.get("country"), "street_1": location.get("street_1"),
        "zip_code": location.get("zip_code"), "state": location.get("state"),
        "remote_created_at": iso(r.remote_created_at), "remote_updated_at": iso(r.remote_updated_at),
        "tags": sorted(tags),
    }  # fmt: skip


def expected_application(a: dict[str, Any], reasons: dict[Any, Any]) -> dict[str, Any]:
    return {
        "job": str(a["projectId"]), "candidate": str(a["jobseekerId"]), "stage": str(a["stageId"]),
        "outcome": OUTCOME[a["status"]],
        "rejection_reason_name": reasons[a["rejectionReasonId"]]["name"] if a["rejectionReasonId"] else None,
        "remote_created_at": ts(a["createdAt"]), "remote_updated_at": ts(a["updatedAt"]),
    }  # fmt: skip


def live(engine: Engine, table: Any, integration_id: str) -> list[Any]:
    with engine.connect() as conn:
        query = select(table).where(table.c.integration_id == integration_id, table.c.remote_deleted_at.is_(None))
        return list(conn.execute(query))


def remote_ids_by_id(engine: Engine, table: Any, integration_id: str) -> dict[str, str]:
    with engine.connect() as conn:
        query = select(table.c.id, table.c.remote_id).where(table.c.integration_id == integration_id)
        return {row.id: row.remote_id for row in conn.execute(query)}


def assert_parity(engine: Engine, integration_id: str, recru: Recru) -> None:
    """Every live record of the store equals its RECRU record, and every RECRU record is live in the store."""
    remote = {
        name: remote_ids_by_id(engine, table, integration_id)
        for name, table in (("users", tables.users), ("stages", tables.application_stages),
                            ("tags", tables.tags), ("jobs", tables.jobs), ("candidates", tables.candidates))
    }  # fmt: skip

    users = {r.remote_id: stored_user(r) for r in live(engine, tables.users, integration_id)}
    assert users == {str(u["id"]): expected_user(u) for u in recru.all("users")}

    stages = {r.remote_id: (r.name, r.status) for r in live(engine, tables.application_stages, integration_id)}
    expected_stages = {str(s["id"]): (s["name"], "ACTIVE" if s["active"] else "INACTIVE") for s in recru.all("stages")}
    assert stages == expected_stages

    tags = {r.remote_id: r.name for r in live(engine, tables.tags, integration_id)}
    assert tags == {str(t["id"]): t["name"] for t in recru.all("tags")}

    pipeline: dict[str, list[tuple[int, str]]] = {}
    for row in live(engine, tables.jobs_application_stages, integration_id):
        pipeline.setdefault(row.job_id, []).append((row.index, remote["stages"][row.stage_id]))
    team: dict[str, list[tuple[str, str]]] = {}
    for row in live(engine, tables.jobs_users, integration_id):
        for role in row.hiring_team_roles:
            team.setdefault(row.job_id, []).append((remote["users"][row.user_id], role))
    jobs = {
        r.remote_id: stored_job(r, [s for _, s in sorted(pipeline.get(r.id, []))], team.get(r.id, []))
        for r in live(engine, tables.jobs, integration_id)
    }
    departments, locations = recru.codebook("departments"), recru.codebook("locations")
    assert jobs == {str(p["id"]): expected_job(p, departments, locations) for p in recru.all("projects")}

    candidate_tags: dict[str, list[str]] = {}
    for row in live(engine, tables.candidates_tags, integration_id):
        candidate_tags.setdefault(row.candidate_id, []).append(remote["tags"][row.tag_id])
    candidates = {
        r.remote_id: stored_candidate(r, candidate_tags.get(r.id, []))
        for r in live(engine, tables.candidates, integration_id)
    }
    assert candidates == {str(j["id"]): expected_candidate(j) for j in recru.all("jobseekers")}

    reasons = recru.codebook("rejectionReasons")
    applications = {
        r.remote_id: {
            "job": remote["jobs"].get(r.job_id),
            "candidate": remote["candidates"].get(r.candidate_id),
            "stage": remote["stages"].get(r.current_stage_id),
            "outcome": r.outcome,
            "rejection_reason_name": r.rejection_reason_name,
            "remote_created_at": iso(r.remote_created_at),
            "remote_updated_at": iso(r.remote_updated_at),
        }
        for r in live(engine, tables.applications, integration_id)
    }
    assert applications == {str(a["id"]): expected_application(a, reasons) for a in recru.all("applications")}
