"""The store's schema: one table per unified model and join, plus the tables that run the service.

Model tables (``ats_users`` … ``ats_applications``) share one set of bookkeeping columns around the unified fields:

- ``id`` (our 24-char id, primary key), ``integration_id`` (→ ``integrations`` ON DELETE CASCADE), ``remote_id``
  (UNIQUE per integration) and ``remote_data`` (the raw payload keyed by RECRU method);
- ``content_hash``: digest of the record as mapped (own unified fields + ``remote_id`` + ``remote_data``);
- ``changed_at``: when our copy of those fields last changed; ``updated_at``: ``changed_at`` or the latest mark of a
  nested change (join rows, related records), whichever is later — what ``updated_after`` filters on;
- ``remote_deleted_at`` (tombstone), ``anonymised_at`` (personal fields cleared), ``last_seen_sync_id`` (the FULL
  sync that last listed the record: deletion detection) and ``created_in_store_at``.

Join tables carry ``id`` (derived from the two linked remote ids), ``integration_id``, the two link columns and
their own fields, plus ``content_hash``, ``changed_at``, ``updated_at``, ``remote_deleted_at`` and
``created_in_store_at``. ``JOINS`` says which link column is the parent (whose ``updated_at`` a join change moves).

Links between model tables (``ats_applications.candidate_id`` …) are plain indexed columns, not foreign keys: RECRU
streams arrive in any order and may reference a record not synced yet (or never, in "sync only created
applications" mode); the reader joins and tolerates a missing record.

``candidate_emails`` holds every candidate's addresses, lower-cased, for the API's `email` filter; triggers on
``ats_candidates`` keep it, not the application (see its definition).

Columns whose ``info`` carries ``ANONYMISE_TO`` hold personal data (unified-api §3: names, e-mails, phones,
location, ``remote_data``; a job's, stage's and tag's name too, as the spec lists names whoever's);
``deletions.anonymise_expired`` replaces them with that value. Timestamps are ``UtcDateTime``: aware UTC in, aware
UTC out, on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from atsbridge.unified.ids import ModelName

ANONYMISE_TO = "anonymise_to"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zones: values are stored as naive UTC text (which also sorts correctly) and given their
    ``UTC`` back when read. Naive values are refused on the way in, so a local time can never slip through.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timestamps as aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_type() -> TypeEngine[Any]:
    """JSON (JSONB on PostgreSQL); Python ``None`` is SQL ``NULL``, not JSON ``null``."""
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _id_column(name: str = "id", **kwargs: Any) -> Column[str]:
    return Column(name, String(64), **kwargs)


def _environment_column(*, index: bool = False) -> Column[str]:
    return Column(
        "environment_id",
        String(64),
        ForeignKey("environments.id", ondelete="CASCADE"),
        nullable=False,
        index=index,
    )


def _integration_column(*, primary_key: bool = False) -> Column[str]:
    return Column(
        "integration_id",
        String(64),
        ForeignKey("integrations.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def _personal(column: Column[Any], anonymise_to: Any = None) -> Column[Any]:
    column.info[ANONYMISE_TO] = anonymise_to
    return column


def _model_table(name: ModelName, *fields: Column[Any], indexes: tuple[Index, ...] = ()) -> Table:
    return Table(
        name.value,
        metadata,
        _id_column(primary_key=True),
        _integration_column(),
        Column("remote_id", String(64), nullable=False),
        *fields,
        _personal(Column("remote_data", json_type())),
        Column("content_hash", String(32), nullable=False),
        Column("changed_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        Column("remote_deleted_at", UtcDateTime()),
        Column("anonymised_at", UtcDateTime()),
        Column("last_seen_sync_id", String(64)),
        Column("created_in_store_at", UtcDateTime(), nullable=False),
        Column("read_at", UtcDateTime()),  # when the copy was asked of RECRU (``writer``: older never over newer)
        UniqueConstraint("integration_id", "remote_id"),
        Index(None, "integration_id", "id"),
        Index(None, "integration_id", "updated_at"),
        *indexes,
    )


def _join_table(name: ModelName, parent: str, child: str, *fields: Column[Any]) -> Table:
    return Table(
        name.value,
        metadata,
        _id_column(primary_key=True),
        _integration_column(),
        Column(parent, String(64), nullable=False, index=True),
        Column(child, String(64), nullable=False, index=True),
        *fields,
        Column("content_hash", String(32), nullable=False),
        Column("changed_at", UtcDateTime(), nullable=False),
        Column("updated_at", UtcDateTime(), nullable=False),
        Column("remote_deleted_at", UtcDateTime()),
        Column("created_in_store_at", UtcDateTime(), nullable=False),
    )


# --- tenancy and operations -------------------------------------------------------------------------------------

environments = Table(
    "environments",
    metadata,
    _id_column(primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("webhook_url", Text),
    Column("webhook_secret_encrypted", LargeBinary),
    Index("uq_environments_name", "name", unique=True),
)

connect_links = Table(
    "connect_links",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    _environment_column(),
    Column("end_user_email", Text, nullable=False),
    Column("end_user_organization_name", Text, nullable=False),
    Column("end_user_origin_id", Text),
    Column("language", String(8), nullable=False),
    Column("link_type", String(16), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime()),
    Column("integration_id", String(64), ForeignKey("integrations.id", ondelete="SET NULL")),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_failed_at", UtcDateTime()),
    Column("last_failure", String(32)),
    Column("check_owner", String(32)),
    Column("check_until", UtcDateTime()),
    Column("relinks", String(64)),  # the integration a reconnection link replaces the credentials of
)

api_keys = Table(
    "api_keys",
    metadata,
    _id_column(primary_key=True),
    _environment_column(index=True),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

integrations = Table(
    "integrations",
    metadata,
    _id_column(primary_key=True),
    _environment_column(index=True),
    Column("tool", String(32), nullable=False),
    Column("tenant_url", Text, nullable=False),
    Column("credentials_encrypted", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("setup_status", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=text("true")),
    Column("sync_only_created_applications", Boolean, nullable=False, server_default=text("true")),
    Column("source_label", Text),
    Column("remote_data_enabled", Boolean, nullable=False, server_default=text("false")),
    Column("end_user_email", Text, nullable=False),
    Column("end_user_organization_name", Text, nullable=False),
    Column("end_user_origin_id", Text),
    Column("delta_watermark", UtcDateTime()),
    # RECRU's clock minus ours, in seconds, when the run whose start is the watermark began (``sync.engine``)
    Column("delta_clock_offset", Float),
    # a digest of each codebook the mappings read, by name, as that run read them (``sync.engine``)
    Column("codebook_digests", json_type()),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

syncs = Table(
    "syncs",
    metadata,
    _id_column(primary_key=True),
    _integration_column(),
    Column("type", String(8), nullable=False),
    Column("state", String(16), nullable=False),
    Column("queued_at", UtcDateTime(), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("ended_at", UtcDateTime()),
    Column("heartbeat_at", UtcDateTime()),
    Column("runner", String(200)),
    Column("server_time_at_start", UtcDateTime()),
    Column("counts", json_type()),
    Column("errors", json_type()),
    Column("timings", json_type()),
    Index(None, "integration_id", "queued_at"),
    Index(
        "uq_syncs_one_active_per_type",
        "integration_id",
        "type",
        unique=True,
        sqlite_where=text("state IN ('QUEUED', 'RUNNING')"),
        postgresql_where=text("state IN ('QUEUED', 'RUNNING')"),
    ),
)

tracked_applications = Table(
    "tracked_applications",
    metadata,
    _integration_column(primary_key=True),
    Column("remote_id", String(64), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # the jobseeker it was created for: served with it, also once RECRU gives the application to another
    Column("candidate_remote_id", String(64)),
)

tracked_candidates = Table(
    "tracked_candidates",
    metadata,
    _integration_column(primary_key=True),
    # our id of a candidate a tracked application was stored with: served for good, also once RECRU gives the
    # application to another jobseeker
    Column("candidate_id", String(64), primary_key=True),
)

pending_applications = Table(
    "pending_applications",
    metadata,
    _integration_column(primary_key=True),
    Column("project_remote_id", String(64), primary_key=True),
    Column("email", Text, primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("application_remote_id", String(64)),
    Column("sending_until", UtcDateTime()),
    # the pair's creates on their way whose action has not learned RECRU's answer yet
    Column("in_flight", Integer, nullable=False, server_default=text("0")),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), ForeignKey("webhook_outbox.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempted_at", UtcDateTime(), nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    _integration_column(),
    Column("key", String(255), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response", json_type()),
    Column("created_at", UtcDateTime(), nullable=False, index=True),
    PrimaryKeyConstraint("integration_id", "key"),
)

action_slots = Table(
    "action_slots",
    metadata,
    _integration_column(),
    Column("id", String(32), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    PrimaryKeyConstraint("integration_id", "id"),
)

webhook_outbox = Table(
    "webhook_outbox",
    metadata,
    _id_column(primary_key=True),
    _environment_column(),
    Column("integration_id", String(64)),
    Column("type", String(64), nullable=False),
    Column("payload", json_type(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("delivered_at", UtcDateTime()),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime()),
    Column("last_error", Text),
    Index(
        "ix_webhook_outbox_pending",
        "next_attempt_at",
        sqlite_where=text("delivered_at IS NULL"),
        postgresql_where=text("delivered_at IS NULL"),
    ),
    Index(None, "environment_id", "created_at"),
)

# --- unified models -----------------------------------------------------------------------------------------------

users = _model_table(
    ModelName.USERS,
    _personal(Column("first_name", Text)),
    _personal(Column("last_name", Text)),
    _personal(Column("email", Text)),
    Column("status", String(16)),
    Column("system_roles", json_type(), nullable=False),
)

jobs = _model_table(
    ModelName.JOBS,
    _personal(Column("name", Text)),
    Column("job_code", Text),
    Column("description", Text),
    Column("employment_type", String(64)),
    Column("status", String(64)),
    Column("visibility", String(64)),
    Column("department", Text),
    Column("experience_level", Text),
    Column("salary_amount", Float),
    Column("salary_currency", String(8)),
    Column("salary_period", String(64)),
    Column("weekly_hours", Float),
    Column("remote_work_status", String(64)),
    _personal(Column("location", json_type())),
    Column("custom_fields", json_type()),
    Column("opened_at", UtcDateTime()),
    Column("closed_at", UtcDateTime()),
    Column("remote_created_at", UtcDateTime()),
    Column("remote_updated_at", UtcDateTime()),
)

application_stages = _model_table(
    ModelName.APPLICATION_STAGES,
    _personal(Column("name", Text)),
    Column("status", String(16)),
    Column("custom_fields", json_type()),
)

tags = _model_table(
    ModelName.TAGS,
    _personal(Column("name", Text)),
)

candidates = _model_table(
    ModelName.CANDIDATES,
    _personal(Column("first_name", Text)),
    _personal(Column("last_name", Text)),
    _personal(Column("company", Text)),
    _personal(Column("title", Text)),
    Column("source", Text),
    _personal(Column("email_addresses", json_type(), nullable=False), anonymise_to=[]),
    _personal(Column("phone_numbers", json_type(), nullable=False), anonymise_to=[]),
    _personal(Column("location", json_type())),
    Column("custom_fields", json_type()),
    Column("remote_created_at", UtcDateTime()),
    Column("remote_updated_at", UtcDateTime()),
)

# Every address of every candidate, lower-cased, for the API's `email` filter. Kept by database triggers on
# ``ats_candidates`` (``store.email_index_sql``; on SQLite they call our ``atsbridge_lower``), never written by the
# application. A SQLite migration that rebuilds ``ats_candidates`` (batch mode) drops those triggers: it must
# create them again.
candidate_emails = Table(
    "candidate_emails",
    metadata,
    Column("email", Text, nullable=False),
    Column("candidate_id", String(64), nullable=False),
    PrimaryKeyConstraint("email", "candidate_id"),
    sqlite_with_rowid=False,
)

applications = _model_table(
    ModelName.APPLICATIONS,
    Column("job_id", String(64)),
    Column("candidate_id", String(64)),
    Column("current_stage_id", String(64)),
    Column("outcome", String(16)),
    Column("rejection_reason_name", Text),
    Column("rejected_at", UtcDateTime()),
    Column("custom_fields", json_type()),
    Column("remote_created_at", UtcDateTime()),
    Column("remote_updated_at", UtcDateTime()),
    indexes=(
        Index(None, "candidate_id"),
        Index(None, "job_id"),
        Index(None, "current_stage_id"),
    ),
)

candidates_tags = _join_table(ModelName.CANDIDATES_TAGS, "candidate_id", "tag_id")

jobs_application_stages = _join_table(
    ModelName.JOBS_APPLICATION_STAGES,
    "job_id",
    "stage_id",
    Column("index", Integer, nullable=False),
)
# The reader finds an application's stage index by (job, stage); without it SQLite takes the stage_id index.
Index(None, jobs_application_stages.c.job_id, jobs_application_stages.c.stage_id)

jobs_users = _join_table(
    ModelName.JOBS_USERS,
    "job_id",
    "user_id",
    Column("hiring_team_roles", json_type(), nullable=False),
    Column("job_roles", json_type(), nullable=False),
)


@dataclass(frozen=True)
class JoinSpec:
    """How a join table links two models: ``parent_column`` → ``parent``, ``child_column`` → ``child``."""

    table: Table
    parent: ModelName
    parent_column: str
    child: ModelName
    child_column: str

    @property
    def name(self) -> ModelName:
        """The join model this table stores."""
        return ModelName(self.table.name)


MODEL_TABLES: dict[ModelName, Table] = {
    ModelName.USERS: users,
    ModelName.JOBS: jobs,
    ModelName.APPLICATION_STAGES: application_stages,
    ModelName.TAGS: tags,
    ModelName.CANDIDATES: candidates,
    ModelName.APPLICATIONS: applications,
}

JOINS: dict[ModelName, JoinSpec] = {
    ModelName.CANDIDATES_TAGS: JoinSpec(
        candidates_tags, ModelName.CANDIDATES, "candidate_id", ModelName.TAGS, "tag_id"
    ),
    ModelName.JOBS_APPLICATION_STAGES: JoinSpec(
        jobs_application_stages, ModelName.JOBS, "job_id", ModelName.APPLICATION_STAGES, "stage_id"
    ),
    ModelName.JOBS_USERS: JoinSpec(jobs_users, ModelName.JOBS, "job_id", ModelName.USERS, "user_id"),
}

BOOKKEEPING_COLUMNS = frozenset(
    {
        "integration_id",
        "content_hash",
        "changed_at",
        "updated_at",
        "remote_deleted_at",
        "anonymised_at",
        "last_seen_sync_id",
        "created_in_store_at",
        "read_at",
    }
)


def record_columns(table: Table) -> list[str]:
    """The columns a mapped record fills (``id``, ``remote_id``, unified fields, ``remote_data``), in table order."""
    return [column.name for column in table.columns if column.name not in BOOKKEEPING_COLUMNS]


def table_of(model: ModelName) -> Table:
    """The table that stores ``model`` (a model or a join)."""
    return MODEL_TABLES[model] if model in MODEL_TABLES else JOINS[model].table
