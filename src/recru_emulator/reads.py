"""Read methods: the four paginated entity lists with their filters, ``get``s, and the unpaginated lists (§3-§5)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from recru_emulator import params as p
from recru_emulator.clock import format_ts
from recru_emulator.errors import not_found
from recru_emulator.state import EntityTable, Tenant
from recru_emulator.tenant_data import CODEBOOK_NAMES, Record

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200
PROJECT_STATUSES = ("draft", "open", "on_hold", "closed", "archived")
FINISHED_PROJECT_STATUSES = frozenset({"closed", "archived"})  # they carry closedAt
APPLICATION_STATUSES = ("active", "hired", "rejected", "withdrawn")

Params = dict[str, Any]
Filter = Callable[[Record], bool]


class ListQuery:
    """The common list params (page, perPage, updatedSince) plus the method's own filters."""

    def __init__(self, params: Params, ch: p.Checker) -> None:
        self.page = p.integer(params, "page", ch, minimum=1) or 1
        per_page = p.integer(params, "perPage", ch, minimum=1)
        if per_page is not None and per_page > MAX_PER_PAGE:
            ch.fail("perPage", "out_of_range")
        self.per_page = per_page or DEFAULT_PER_PAGE
        since = p.moment(params, "updatedSince", ch)
        if since is not None and since.microsecond:
            # updatedAt has whole seconds, so `>= 10:00:00.5` means `>= 10:00:01`.
            since = since.replace(microsecond=0) + timedelta(seconds=1)
        self.since = None if since is None else format_ts(since)
        self.filters: list[Filter] = []
        self.candidates: Iterable[Record] | None = None

    def run(self, table: EntityTable) -> dict[str, Any]:
        offset = (self.page - 1) * self.per_page
        if self.candidates is None and not self.filters:
            total = table.count_since(self.since)
            items = table.page(self.since, offset, self.per_page)
        else:
            matches = [r for r in self._rows(table) if all(f(r) for f in self.filters)]
            total = len(matches)
            items = matches[offset : offset + self.per_page]
        return {
            "items": items,
            "page": self.page,
            "perPage": self.per_page,
            "total": total,
            "hasMore": offset + len(items) < total,
        }

    def _rows(self, table: EntityTable) -> Iterable[Record]:
        if self.candidates is None:
            return table.ordered(self.since)
        if self.since is None:
            return sorted(self.candidates, key=lambda r: r["id"])
        since = self.since
        return sorted((r for r in self.candidates if r["updatedAt"] >= since), key=lambda r: (r["updatedAt"], r["id"]))


def _get(table: EntityTable, params: Params) -> Record:
    ch = p.Checker()
    record_id = p.integer(params, "id", ch, required=True)
    ch.done()
    assert record_id is not None
    record = table.get(record_id)
    if record is None:
        raise not_found(table.entity, record_id)
    return record


def list_users(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    query = ListQuery(params, ch)
    active = p.boolean(params, "active", ch)
    ch.done()
    if active is not None:
        query.filters.append(lambda r: r["active"] is active)
    return query.run(tenant.users)


def list_projects(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    query = ListQuery(params, ch)
    status = p.enum(params, "status", PROJECT_STATUSES, ch)
    ch.done()
    if status is not None:
        query.filters.append(lambda r: r["status"] == status)
    return query.run(tenant.projects)


def list_jobseekers(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    query = ListQuery(params, ch)
    email = p.text(params, "email", ch, max_length=254)
    ch.done()
    if params.get("email") is not None:
        # An exact filter: a blank address is one no jobseeker has, not an absent filter, nor is one given with
        # blanks around it (RECRU stores addresses trimmed).
        exact = email is not None and email == params["email"]
        ids = tenant.jobseekers_with_email(email) if exact and email is not None else set()
        query.candidates = [tenant.jobseekers.records[i] for i in ids]
    return query.run(tenant.jobseekers)


def list_applications(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    query = ListQuery(params, ch)
    project_id = p.integer(params, "projectId", ch)
    jobseeker_id = p.integer(params, "jobseekerId", ch)
    status = p.enum(params, "status", APPLICATION_STATUSES, ch)
    ch.done()
    if jobseeker_id is not None:
        ids = tenant.applications_of.get(jobseeker_id, {}).values()
        query.candidates = [tenant.applications.records[i] for i in ids]
    if project_id is not None:
        query.filters.append(lambda r: r["projectId"] == project_id)
    if status is not None:
        query.filters.append(lambda r: r["status"] == status)
    return query.run(tenant.applications)


def get_user(tenant: Tenant, params: Params) -> Record:
    return _get(tenant.users, params)


def get_project(tenant: Tenant, params: Params) -> Record:
    return _get(tenant.projects, params)


def get_jobseeker(tenant: Tenant, params: Params) -> Record:
    return _get(tenant.jobseekers, params)


def get_application(tenant: Tenant, params: Params) -> Record:
    return _get(tenant.applications, params)


def list_stages(tenant: Tenant, params: Params) -> dict[str, Any]:
    return {"items": list(tenant.stages.records.values())}


def list_tags(tenant: Tenant, params: Params) -> dict[str, Any]:
    return {"items": list(tenant.tags.records.values())}


def get_codebook(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    name = p.enum(params, "name", CODEBOOK_NAMES, ch, required=True)
    ch.done()
    if name == "countries":
        return {"items": list(tenant.countries.values())}
    assert name is not None
    return {"items": list(tenant.codebooks[name].records.values())}


def list_attachments(tenant: Tenant, params: Params) -> dict[str, Any]:
    ch = p.Checker()
    jobseeker_id = p.integer(params, "jobseekerId", ch, required=True)
    application_id = p.integer(params, "applicationId", ch)
    ch.done()
    assert jobseeker_id is not None
    if jobseeker_id not in tenant.jobseekers.records:
        raise not_found("jobseeker", jobseeker_id)
    if application_id is not None and application_id not in tenant.applications.records:
        raise not_found("application", application_id)
    records = (tenant.attachments.records[i] for i in tenant.attachments_of.get(jobseeker_id, []))
    return {
        "items": [r for r in records if application_id is None or r["applicationId"] == application_id],
    }


def download_attachment(tenant: Tenant, params: Params) -> dict[str, Any]:
    attachment = _get(tenant.attachments, params)
    data = tenant.attachment_data.get(attachment["id"], b"")
    return {
        "fileName": attachment["fileName"],
        "contentType": attachment["contentType"],
        "data": base64.b64encode(data).decode("ascii"),
    }


def ping(tenant: Tenant, params: Params) -> dict[str, Any]:
    return {"pong": True, "serverTime": tenant.now_ts()}
