"""The tenant's records in memory, with the indexes that keep every list and look-up fast.

Records are kept in their exact read shape (spec §4), so the API answers them as they are. Private data
(passwords, attachment contents) lives beside them, never inside. Every change goes through ``Tenant`` so the
indexes (id order, ``(updatedAt, id)`` order, e-mails, applications per jobseeker) stay true.
"""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from recru_emulator.clock import TenantClock, format_ts
from recru_emulator.tenant_data import CODEBOOK_NAMES, Record, TenantData

TOKEN_LIFETIME = timedelta(seconds=3600)
EXPIRED = datetime.min.replace(tzinfo=UTC)
"""The expiry of a token the ``tokens/expire`` control ended: before any time the clock can show."""


class EntityTable:
    """Records of one entity by id (ids ascending, never reused) plus a ``(updatedAt, id)`` index, and the ids in
    order, so that a page is found by its offset at once rather than by walking the records before it."""

    def __init__(self, entity: str, timestamped: bool = True) -> None:
        self.entity = entity
        self.timestamped = timestamped
        self.records: dict[int, Record] = {}
        self.ids: list[int] = []
        self.by_updated: list[tuple[str, int]] = []
        self.last_id = 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickled (``--state-file``): the id order is rebuilt, also for files saved before it was kept."""
        self.__dict__.update(state)
        self.ids = sorted(self.records)

    def load(self, records: Iterable[Record]) -> None:
        for record in records:
            self.records[record["id"]] = record
            self.last_id = max(self.last_id, record["id"])
        self.ids = sorted(self.records)
        if self.timestamped:
            self.by_updated = sorted((r["updatedAt"], r["id"]) for r in self.records.values())

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def get(self, record_id: int) -> Record | None:
        return self.records.get(record_id)

    def insert(self, record: Record) -> None:
        self.records[record["id"]] = record
        bisect.insort(self.ids, record["id"])
        if self.timestamped:
            bisect.insort(self.by_updated, (record["updatedAt"], record["id"]))

    def touch(self, record: Record, updated_at: str) -> None:
        """Move a record's ``updatedAt`` (and its place in the index)."""
        if not self.timestamped or record["updatedAt"] == updated_at:
            return
        self._unindex(record)
        record["updatedAt"] = updated_at
        bisect.insort(self.by_updated, (updated_at, record["id"]))

    def remove(self, record_id: int) -> Record | None:
        record = self.records.pop(record_id, None)
        if record is None:
            return None
        del self.ids[bisect.bisect_left(self.ids, record_id)]
        if self.timestamped:
            self._unindex(record)
        return record

    def _unindex(self, record: Record) -> None:
        key = (record["updatedAt"], record["id"])
        position = bisect.bisect_left(self.by_updated, key)
        if position < len(self.by_updated) and self.by_updated[position] == key:
            del self.by_updated[position]

    def ordered(self, updated_since: str | None) -> Iterator[Record]:
        """All records by id, or those with ``updatedAt >= updated_since`` by ``(updatedAt, id)``."""
        if updated_since is None:
            return iter(self.records.values())
        start = bisect.bisect_left(self.by_updated, (updated_since, 0))
        return (self.records[rid] for _, rid in islice(self.by_updated, start, None))

    def page(self, updated_since: str | None, offset: int, count: int) -> list[Record]:
        """``count`` records of ``ordered(updated_since)`` from ``offset`` on."""
        if updated_since is None:
            return [self.records[rid] for rid in self.ids[offset : offset + count]]
        start = bisect.bisect_left(self.by_updated, (updated_since, 0)) + offset
        return [self.records[rid] for _, rid in self.by_updated[start : start + count]]

    def count_since(self, updated_since: str | None) -> int:
        if updated_since is None:
            return len(self.records)
        return len(self.by_updated) - bisect.bisect_left(self.by_updated, (updated_since, 0))


@dataclass
class Token:
    user_id: int
    expires_at: datetime


class Tenant:
    """One RECRU tenant: entity tables, codebooks, private data, tokens and the clock."""

    origin: tuple[int, int] | None = None  # (seed, size) it was generated from (None: saved by an older emulator)
    api_credentials: tuple[str, str] | None = None  # the API user's login and password, kept for a reset

    def __init__(self, data: TenantData, clock: TenantClock | None = None) -> None:
        self.clock = clock or TenantClock()
        self.users = EntityTable("user")
        self.projects = EntityTable("project")
        self.stages = EntityTable("stage", timestamped=False)
        self.tags = EntityTable("tag", timestamped=False)
        self.jobseekers = EntityTable("jobseeker")
        self.applications = EntityTable("application")
        self.attachments = EntityTable("attachment", timestamped=False)
        self.codebooks: dict[str, EntityTable] = {
            name: EntityTable(name, timestamped=False) for name in CODEBOOK_NAMES if name != "countries"
        }
        self.countries: dict[str, Record] = {}
        self.passwords: dict[int, str | None] = {}
        self.attachment_data: dict[int, bytes] = {}
        self.tokens: dict[str, Token] = {}
        self.emails: dict[str, set[int]] = {}
        self.applications_of: dict[int, dict[int, int]] = {}
        self.attachments_of: dict[int, list[int]] = {}
        self._load(data)

    def _load(self, data: TenantData) -> None:
        for user in data.users:
            self.passwords[user["id"]] = user.pop("password", None)
        for attachment in data.attachments:
            self.attachment_data[attachment["id"]] = attachment.pop("data", b"")
        self.users.load(data.users)
        self.projects.load(data.projects)
        self.stages.load(data.stages)
        self.tags.load(data.tags)
        self.jobseekers.load(data.jobseekers)
        self.applications.load(data.applications)
        self.attachments.load(data.attachments)
        for name, table in self.codebooks.items():
            table.load(data.codebooks.get(name, []))
        self.countries = {entry["id"]: entry for entry in data.codebooks.get("countries", [])}
        for jobseeker in data.jobseekers:
            self.index_emails(jobseeker)
        for application in data.applications:
            self.applications_of.setdefault(application["jobseekerId"], {})[application["projectId"]] = application[
                "id"
            ]
        for attachment in data.attachments:
            self.attachments_of.setdefault(attachment["jobseekerId"], []).append(attachment["id"])

    # --- e-mail index -------------------------------------------------------------------------------------

    def index_emails(self, jobseeker: Record) -> None:
        for email in jobseeker["emails"]:
            self.emails.setdefault(email["value"].lower(), set()).add(jobseeker["id"])

    def unindex_emails(self, jobseeker: Record) -> None:
        for email in jobseeker["emails"]:
            owners = self.emails.get(email["value"].lower())
            if owners is not None:
                owners.discard(jobseeker["id"])
                if not owners:
                    del self.emails[email["value"].lower()]

    def jobseekers_with_email(self, email: str) -> set[int]:
        return self.emails.get(email.strip().lower(), set())

    # --- changes that keep indexes and timestamps right ----------------------------------------------------

    def now_ts(self) -> str:
        return self.clock.now_ts()

    def touch(self, table: EntityTable, record: Record) -> None:
        table.touch(record, self.now_ts())

    def add_jobseeker(self, record: Record) -> None:
        self.jobseekers.insert(record)
        self.index_emails(record)

    def add_application(self, record: Record) -> None:
        self.applications.insert(record)
        self.applications_of.setdefault(record["jobseekerId"], {})[record["projectId"]] = record["id"]

    def add_attachment(self, record: Record, data: bytes) -> None:
        self.attachments.insert(record)
        self.attachment_data[record["id"]] = data
        self.attachments_of.setdefault(record["jobseekerId"], []).append(record["id"])

    def delete_application(self, application_id: int) -> Record | None:
        application = self.applications.remove(application_id)
        if application is None:
            return None
        per_jobseeker = self.applications_of.get(application["jobseekerId"], {})
        per_jobseeker.pop(application["projectId"], None)
        for attachment_id in self.attachments_of.get(application["jobseekerId"], []):
            attachment = self.attachments.records[attachment_id]
            if attachment["applicationId"] == application_id:
                attachment["applicationId"] = None
        return application

    def delete_jobseeker(self, jobseeker_id: int) -> Record | None:
        jobseeker = self.jobseekers.remove(jobseeker_id)
        if jobseeker is None:
            return None
        self.unindex_emails(jobseeker)
        for application_id in list(self.applications_of.pop(jobseeker_id, {}).values()):
            self.applications.remove(application_id)
        for attachment_id in self.attachments_of.pop(jobseeker_id, []):
            self.attachments.remove(attachment_id)
            self.attachment_data.pop(attachment_id, None)
        return jobseeker

    def delete_project(self, project_id: int) -> Record | None:
        project = self.projects.remove(project_id)
        if project is None:
            return None
        doomed = [a["id"] for a in self.applications.records.values() if a["projectId"] == project_id]
        for application_id in doomed:
            self.delete_application(application_id)
        return project

    def delete_tag(self, tag_id: int) -> Record | None:
        tag = self.tags.remove(tag_id)
        if tag is None:
            return None
        for jobseeker in list(self.jobseekers.records.values()):
            if tag_id in jobseeker["tagIds"]:
                jobseeker["tagIds"] = [t for t in jobseeker["tagIds"] if t != tag_id]
                self.touch(self.jobseekers, jobseeker)
        return tag

    def rename_source(self, source_id: int, name: str) -> None:
        """Every jobseeker holding the source shows its new name, and moves, as a cascade does."""
        for jobseeker in list(self.jobseekers.records.values()):
            source = jobseeker["source"]
            if source is not None and source["id"] == source_id and source["name"] != name:
                jobseeker["source"] = {"id": source_id, "name": name}
                self.touch(self.jobseekers, jobseeker)

    def delete_user(self, user_id: int) -> Record | None:
        user = self.users.remove(user_id)
        if user is None:
            return None
        self.passwords.pop(user_id, None)
        self.revoke_tokens(user_id)
        for jobseeker in list(self.jobseekers.records.values()):
            if jobseeker["ownerUserId"] == user_id:
                jobseeker["ownerUserId"] = None
                self.touch(self.jobseekers, jobseeker)
        for project in list(self.projects.records.values()):
            if any(member["userId"] == user_id for member in project["hiringTeam"]):
                project["hiringTeam"] = [m for m in project["hiringTeam"] if m["userId"] != user_id]
                self.touch(self.projects, project)
        return user

    def stage_in_use(self, stage_id: int) -> bool:
        return any(stage_id in p["stageIds"] for p in self.projects.records.values()) or any(
            a["stageId"] == stage_id for a in self.applications.records.values()
        )

    # --- tokens ---------------------------------------------------------------------------------------------

    def issue_token(self, user_id: int) -> tuple[str, str]:
        token = secrets.token_urlsafe(32)
        expires_at = self.clock.now() + TOKEN_LIFETIME
        self.tokens[token] = Token(user_id, expires_at)
        return token, format_ts(expires_at)

    def expire_tokens(self) -> None:
        """Every token expires for good: moving the clock back later does not bring one back."""
        for token in self.tokens.values():
            token.expires_at = EXPIRED

    def revoke_tokens(self, user_id: int) -> None:
        for token in [t for t, entry in self.tokens.items() if entry.user_id == user_id]:
            del self.tokens[token]

    def user_by_login(self, login: str) -> Record | None:
        wanted = login.strip().lower()
        return next((u for u in self.users.records.values() if u["email"].lower() == wanted), None)
