"""Environments and integrations in the store: creating them, reading one back with its decrypted credentials,
and the tracked set of "sync only created applications"."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Row,
    Select,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from atsbridge.connectors.recru.write_params import SOURCE_NAME_MAX
from atsbridge.store.credentials import (
    CredentialsUnreadable,
    RecruCredentials,
    decrypt_credentials,
    encrypt_credentials,
    unseal,
)
from atsbridge.store.db import savepoint
from atsbridge.store.key_lists import chunks, in_keys, key_list
from atsbridge.store.tables import (
    api_keys,
    applications,
    candidates,
    environments,
    integrations,
    tracked_applications,
    tracked_candidates,
    webhook_outbox,
)
from atsbridge.unified.ids import BASE58_ALPHABET, ID_LENGTH, ModelName, new_integration_id

DEFAULT_ENVIRONMENT = "default"
INTEGRATION_ID = "integration_id"
"""The bound parameter that holds the integration's id in ``tracked_conditions`` and the API reader's statements
(see ``reader.Reader.execute``)."""


@dataclass(frozen=True)
class Integration:
    id: str
    environment_id: str
    environment_name: str
    tool: str
    tenant_url: str
    status: str
    setup_status: str
    enabled: bool
    sync_only_created_applications: bool
    source_label: str
    remote_data_enabled: bool
    delta_watermark: datetime | None
    delta_clock_offset: float | None
    """RECRU's clock minus ours (seconds) when the run whose start is ``delta_watermark`` began."""
    codebook_digests: dict[str, str] | None
    """The codebooks as that run read them (``Codebooks.digests``)."""
    end_user_email: str
    end_user_organization_name: str
    end_user_origin_id: str | None
    created_at: datetime
    credentials_digest: str
    """Changes whenever the credentials are replaced: a RECRU client made with the older ones is stale."""

    @property
    def state(self) -> str:
        """What the API, its events and the CLI show: INACTIVE while disabled, else ACTIVE or INVALID."""
        return self.status if self.enabled else "INACTIVE"


def new_id() -> str:
    return "".join(secrets.choice(BASE58_ALPHABET) for _ in range(ID_LENGTH))


def find_environment(conn: Connection, name: str) -> str | None:
    """The id of the environment called ``name``, if there is one; names are compared trimmed (the CLI trims what
    it is given; a store may hold a name an older version kept padded), the one named exactly so first."""
    query = (
        select(environments.c.id)
        .where(func.trim(environments.c.name) == name.strip())
        .order_by(environments.c.name != name, environments.c.name)
    )
    found = conn.execute(query).scalar()
    return None if found is None else str(found)


def ensure_environment(conn: Connection, name: str = DEFAULT_ENVIRONMENT) -> str:
    """The id of the environment called ``name``, created if there is none (one per name, also when two processes
    create it at once: the second finds the first's)."""
    found = find_environment(conn, name)
    if found is not None:
        return found
    environment_id = new_id()
    try:
        with savepoint(conn):
            conn.execute(insert(environments).values(id=environment_id, name=name, created_at=datetime.now(UTC)))
    except IntegrityError:  # made meanwhile (names are unique)
        made = find_environment(conn, name)
        assert made is not None
        return made
    return environment_id


@dataclass(frozen=True)
class ListedEnvironment:
    id: str
    name: str
    created_at: datetime
    api_keys: int
    integrations: int


def list_environments(conn: Connection) -> list[ListedEnvironment]:
    """Every environment, by name: its id, when it was made, and how many API keys and integrations it holds."""
    keys = select(func.count()).where(api_keys.c.environment_id == environments.c.id).scalar_subquery()
    held = select(func.count()).where(integrations.c.environment_id == environments.c.id).scalar_subquery()
    query = select(environments.c.id, environments.c.name, environments.c.created_at, keys, held).order_by(
        environments.c.name, environments.c.id
    )
    return [ListedEnvironment(*row) for row in conn.execute(query)]


ORGANIZATION_NAME_MAX = 500
"""The longest end user's organisation name an integration takes (the connect link's and the CLI's)."""


def create_integration(
    conn: Connection,
    key: bytes,
    *,
    environment_id: str,
    tenant_url: str,
    credentials: RecruCredentials,
    sync_only_created_applications: bool = True,
    end_user_email: str = "",
    end_user_organization_name: str = "",
    end_user_origin_id: str | None = None,
) -> str:
    integration_id = new_integration_id()
    now = datetime.now(UTC)
    conn.execute(
        insert(integrations).values(
            id=integration_id,
            environment_id=environment_id,
            tool="recruhr",
            tenant_url=tenant_url.rstrip("/"),
            credentials_encrypted=encrypt_credentials(key, integration_id, credentials),
            status="ACTIVE",
            setup_status="FINAL_SYNC_PENDING",
            enabled=True,
            sync_only_created_applications=sync_only_created_applications,
            source_label=None,
            remote_data_enabled=False,
            end_user_email=end_user_email,
            end_user_organization_name=end_user_organization_name,
            end_user_origin_id=end_user_origin_id,
            created_at=now,
            updated_at=now,
        )
    )
    return integration_id


def load_integration(conn: Connection, integration_id: str, environment_id: str | None = None) -> Integration | None:
    """The integration, or ``None`` if it does not exist (or belongs to another environment than the one given)."""
    if "\x00" in integration_id:  # no id holds one, and PostgreSQL would refuse the query
        return None
    query = _with_environment_name().where(integrations.c.id == integration_id)
    if environment_id is not None:
        query = query.where(integrations.c.environment_id == environment_id)
    row = conn.execute(query).one_or_none()
    return None if row is None else _integration(row)


def list_integrations(conn: Connection, environment_id: str | None = None) -> list[Integration]:
    """Every integration (of one environment, if given), oldest first."""
    query = _with_environment_name().order_by(integrations.c.created_at, integrations.c.id)
    if environment_id is not None:
        query = query.where(integrations.c.environment_id == environment_id)
    return [_integration(row) for row in conn.execute(query)]


def _with_environment_name() -> Select[Any]:
    return select(integrations, environments.c.name.label("environment_name")).join(
        environments, environments.c.id == integrations.c.environment_id
    )


def _integration(row: Row[Any]) -> Integration:
    return Integration(
        id=row.id,
        environment_id=row.environment_id,
        environment_name=row.environment_name,
        tool=row.tool,
        tenant_url=row.tenant_url,
        status=row.status,
        setup_status=row.setup_status,
        enabled=row.enabled,
        sync_only_created_applications=row.sync_only_created_applications,
        source_label=row.source_label or row.environment_name.strip()[:SOURCE_NAME_MAX],  # RECRU's limit
        remote_data_enabled=row.remote_data_enabled,
        delta_watermark=row.delta_watermark,
        delta_clock_offset=row.delta_clock_offset,
        codebook_digests=row.codebook_digests,
        end_user_email=row.end_user_email,
        end_user_organization_name=row.end_user_organization_name,
        end_user_origin_id=row.end_user_origin_id,
        created_at=row.created_at,
        credentials_digest=_digest(row.credentials_encrypted),
    )


def load_credentials(conn: Connection, key: bytes, integration_id: str) -> RecruCredentials:
    return load_credentials_and_digest(conn, key, integration_id)[0]


def load_credentials_and_digest(conn: Connection, key: bytes, integration_id: str) -> tuple[RecruCredentials, str]:
    """The integration's credentials and their ``Integration.credentials_digest``, read together."""
    blob = conn.execute(
        select(integrations.c.credentials_encrypted).where(integrations.c.id == integration_id)
    ).scalar_one()
    return decrypt_credentials(key, integration_id, blob), _digest(blob)


def _digest(credentials_encrypted: bytes) -> str:
    """Changes whenever the credentials are stored again (each encryption takes a fresh nonce)."""
    return hashlib.sha256(credentials_encrypted).hexdigest()


def replace_credentials(conn: Connection, key: bytes, integration_id: str, credentials: RecruCredentials) -> None:
    """Store new credentials for the integration (its reconnection: RECRU's API user, or its password, changed)."""
    conn.execute(
        update(integrations)
        .where(integrations.c.id == integration_id)
        .values(
            credentials_encrypted=encrypt_credentials(key, integration_id, credentials), updated_at=datetime.now(UTC)
        )
    )


def check_key_opens_store(conn: Connection, key: bytes) -> None:
    """Raise ``CredentialsUnreadable`` if ``key`` cannot open what is stored sealed (another secret key than the
    store's): what a process with it stored, no other could read. An integration's credentials are looked at, or
    in a store without integrations an environment's webhook secret; a store without either passes."""
    stored = conn.execute(select(integrations.c.id, integrations.c.credentials_encrypted).limit(1)).first()
    if stored is not None:
        decrypt_credentials(key, stored.id, stored.credentials_encrypted)
        return
    secret = conn.execute(
        select(environments.c.id, environments.c.webhook_secret_encrypted)
        .where(environments.c.webhook_secret_encrypted.is_not(None))
        .limit(1)
    ).first()
    if secret is not None:
        try:
            unseal(key, secret.id, secret.webhook_secret_encrypted)
        except InvalidTag:
            raise CredentialsUnreadable("an environment's stored webhook secret") from None


def set_integration_fields(conn: Connection, integration_id: str, **values: object) -> None:
    conn.execute(
        update(integrations).where(integrations.c.id == integration_id).values(**values, updated_at=datetime.now(UTC))
    )


def claim_integration(conn: Connection, integration_id: str) -> bool:
    """Lock the integration's row for the rest of ``conn``'s transaction, before anything of it is read: a write, so
    SQLite takes its write lock and PostgreSQL the row lock (a concurrent claim waits, then finds what the first one
    left). False if the integration is gone."""
    claimed = conn.execute(
        update(integrations).where(integrations.c.id == integration_id).values(updated_at=integrations.c.updated_at)
    )
    return claimed.rowcount == 1


def change_enabled(conn: Connection, integration_id: str, enabled: bool) -> bool:
    """Enable or disable the integration; True if that changed it (of several concurrent changes to one value, only
    one does: the condition is evaluated under the row's lock)."""
    changed = conn.execute(
        update(integrations)
        .where(integrations.c.id == integration_id, integrations.c.enabled.is_not(enabled))
        .values(enabled=enabled, updated_at=datetime.now(UTC))
    )
    return changed.rowcount == 1


@dataclass(frozen=True)
class SettingsApplied:
    opened: bool
    """"Sync only created applications" was turned off on an enabled integration: the caller queues a FULL sync."""
    revealed: list[ModelName]
    """Models with rows served again (their ``updated_at`` moved): the caller sends ``data-changed``."""


def apply_settings(conn: Connection, integration_id: str, **values: object) -> SettingsApplied:
    """Change an integration's settings (``set_integration_fields``). Turning "sync only created applications" off
    serves again the rows it hid (``_reveal_untracked``) and drops the DELTA watermark: the store may hold only the
    tracked records, and a DELTA would fetch only what changed since, so the next sync of either type lists
    everything (a FULL, which the caller queues: it holds the sync machinery, the store does not)."""
    opened, revealed = False, []
    if values.get("sync_only_created_applications") is False:
        was_on, enabled = conn.execute(
            select(integrations.c.sync_only_created_applications, integrations.c.enabled).where(
                integrations.c.id == integration_id
            )
        ).one_or_none() or (False, False)  # deleted meanwhile: nothing to change
        if was_on:
            values = {**values, "delta_watermark": None}
            opened = bool(enabled)
            revealed = _reveal_untracked(conn, integration_id, datetime.now(UTC))
    set_integration_fields(conn, integration_id, **values)
    return SettingsApplied(opened, revealed)


def _reveal_untracked(conn: Connection, integration_id: str, now: datetime) -> list[ModelName]:
    """Move ``updated_at`` of the applications and candidates hidden while only created applications were served
    (stored before, in an earlier sync-all period), deleted ones too, and of the served candidates whose
    ``applications`` gain hidden ones: served again now, they are news to a client that follows ``updated_after``
    (with ``include_deleted``). Returns the models that had such rows."""
    tracked = select(tracked_applications.c.remote_id).where(tracked_applications.c.integration_id == integration_id)

    def candidates_of(applications_: ColumnElement[bool]) -> Select[Any]:
        return select(applications.c.candidate_id).where(
            applications.c.integration_id == integration_id,
            applications_,
            applications.c.candidate_id.is_not(None),  # NOT IN a list holding NULL would match nothing
        )

    untracked = applications.c.remote_id.not_in(tracked)
    hidden = {
        ModelName.APPLICATIONS: update(applications).where(applications.c.integration_id == integration_id, untracked),
        ModelName.CANDIDATES: update(candidates).where(
            candidates.c.integration_id == integration_id,
            or_(~served_candidates(integration_id), candidates.c.id.in_(candidates_of(untracked))),
        ),
    }
    return [model for model, rows in hidden.items() if conn.execute(rows.values(updated_at=now)).rowcount > 0]


def track_application(conn: Connection, integration_id: str, remote_id: str, candidate_remote_id: str) -> None:
    """Track RECRU's application ``remote_id``, created for jobseeker ``candidate_remote_id``."""
    exists = conn.execute(
        select(tracked_applications.c.remote_id).where(
            tracked_applications.c.integration_id == integration_id,
            tracked_applications.c.remote_id == remote_id,
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(tracked_applications).values(
                integration_id=integration_id,
                remote_id=remote_id,
                created_at=datetime.now(UTC),
                candidate_remote_id=candidate_remote_id,
            )
        )


def tracked_application_ids(conn: Connection, integration_id: str) -> list[str]:
    query = (
        select(tracked_applications.c.remote_id)
        .where(tracked_applications.c.integration_id == integration_id)
        .order_by(tracked_applications.c.remote_id)
    )
    return [str(remote_id) for remote_id in conn.execute(query).scalars()]


def undeleted_tracked_application_ids(conn: Connection, integration_id: str) -> list[str]:
    """RECRU ids of the tracked applications not known deleted: RECRU's deletions are for good and its ids never
    reused, so one tombstoned is not asked for again."""
    deleted = select(applications.c.remote_id).where(
        applications.c.integration_id == integration_id, applications.c.remote_deleted_at.is_not(None)
    )
    query = (
        select(tracked_applications.c.remote_id)
        .where(
            tracked_applications.c.integration_id == integration_id, tracked_applications.c.remote_id.not_in(deleted)
        )
        .order_by(tracked_applications.c.remote_id)
    )
    return [str(remote_id) for remote_id in conn.execute(query).scalars()]


def unstored_tracked_application_ids(conn: Connection, integration_id: str) -> list[str]:
    """RECRU ids of tracked applications the store holds no record of (live or deleted)."""
    stored = select(applications.c.remote_id).where(applications.c.integration_id == integration_id)
    query = select(tracked_applications.c.remote_id).where(
        tracked_applications.c.integration_id == integration_id, tracked_applications.c.remote_id.not_in(stored)
    )
    return [str(remote_id) for remote_id in conn.execute(query).scalars()]


def unstored_tracked_candidate_ids(conn: Connection, integration_id: str) -> list[str]:
    """RECRU ids of the jobseekers of stored tracked applications whose candidate the store holds no record of (a
    run failed between storing the application and its candidate), as the applications' RECRU payloads name them,
    and of the jobseekers tracked applications were created for that the store lacks."""
    tracked = select(tracked_applications.c.remote_id).where(tracked_applications.c.integration_id == integration_id)
    stored = select(candidates.c.id).where(candidates.c.integration_id == integration_id)
    created_for = conn.execute(
        select(tracked_applications.c.candidate_remote_id).where(
            tracked_applications.c.integration_id == integration_id,
            tracked_applications.c.candidate_remote_id.not_in(
                select(candidates.c.remote_id).where(candidates.c.integration_id == integration_id)
            ),
        )
    ).scalars()
    payloads = conn.execute(
        select(applications.c.remote_data).where(
            applications.c.integration_id == integration_id,
            applications.c.remote_id.in_(tracked),
            applications.c.candidate_id.not_in(stored),
        )
    ).scalars()
    jobseekers = ((data or {}).get("ApplicationService.list", {}).get("jobseekerId") for data in payloads)
    return sorted({str(jobseeker) for jobseeker in jobseekers if isinstance(jobseeker, int)} | set(created_for))


def tracked_candidate_ids(conn: Connection, integration_id: str) -> list[str]:
    """RECRU ids of the live stored candidates served with the tracked applications (``served_candidates``)."""
    query = select(candidates.c.remote_id).where(
        candidates.c.integration_id == integration_id,
        served_candidates(integration_id),
        candidates.c.remote_deleted_at.is_(None),
    )
    return [str(remote_id) for remote_id in conn.execute(query).scalars()]


def served_candidates(integration_id: str | BindParameter[str]) -> ColumnElement[bool]:
    """The candidates served with the tracked applications: those the applications' stored records name (those
    applications deleted included), those they were created for, and those they were stored with before
    (``remember_holders``): RECRU may since have given one to another jobseeker, and the candidates it held are no
    less served, with the applications they hold (none, maybe), so that a client learns of the change."""
    tracked = tracked_applications.c.integration_id == integration_id
    of_tracked = select(applications.c.candidate_id).where(
        applications.c.integration_id == integration_id,
        applications.c.remote_id.in_(select(tracked_applications.c.remote_id).where(tracked)),
        applications.c.candidate_id.is_not(None),  # NOT IN a list holding NULL would match nothing
    )
    created_for = select(tracked_applications.c.candidate_remote_id).where(
        tracked, tracked_applications.c.candidate_remote_id.is_not(None)
    )
    held = select(tracked_candidates.c.candidate_id).where(tracked_candidates.c.integration_id == integration_id)
    return or_(candidates.c.id.in_(of_tracked), candidates.c.remote_id.in_(created_for), candidates.c.id.in_(held))


def remember_holders(conn: Connection, integration_id: str, written: Iterable[Mapping[str, Any]]) -> None:
    """Keep the candidates that the tracked ones of these applications, as just stored, name as served for good
    (``tracked_candidates``): one RECRU later takes the application away from stays served."""
    holder_of = {row["remote_id"]: row["candidate_id"] for row in written if row["candidate_id"] is not None}
    query = _tracked_among(conn.dialect.name)
    tracked = [
        remote_id
        for chunk in chunks(holder_of)
        for remote_id in conn.execute(query, {INTEGRATION_ID: integration_id, "ids": key_list(conn, chunk)}).scalars()
    ]
    if tracked:
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        holders = sorted({holder_of[remote_id] for remote_id in tracked})
        rows = [{"integration_id": integration_id, "candidate_id": candidate_id} for candidate_id in holders]
        conn.execute(dialect_insert(tracked_candidates).on_conflict_do_nothing(), rows)


@functools.cache
def _tracked_among(dialect: str) -> Select[tuple[str]]:
    """The tracked applications among the RECRU ids bound to ``ids``."""
    return select(tracked_applications.c.remote_id).where(
        tracked_applications.c.integration_id == bindparam(INTEGRATION_ID),
        in_keys(tracked_applications.c.remote_id, "ids", dialect),
    )


def delete_integration(conn: Connection, integration_id: str) -> None:
    """The integration, its credentials, records, joins, syncs, tracked set and keys (ON DELETE CASCADE), and its
    webhook events that are over (delivered or given up), with their attempts (they name its end user). Those still
    to be sent are kept, unlinked from it, as ``integration-deleted`` is enqueued: each event is delivered at least
    once."""
    of_it = webhook_outbox.c.integration_id == integration_id
    pending = webhook_outbox.c.delivered_at.is_(None) & webhook_outbox.c.next_attempt_at.is_not(None)
    conn.execute(update(webhook_outbox).where(of_it, pending).values(integration_id=None))
    conn.execute(delete(webhook_outbox).where(of_it))
    conn.execute(delete(integrations).where(integrations.c.id == integration_id))


def tracked_conditions(model: ModelName) -> list[ColumnElement[bool]]:
    """What limits ``model`` to the tracked applications and their candidates ("sync only created applications");
    nothing for other models."""
    tracked = select(tracked_applications.c.remote_id).where(
        tracked_applications.c.integration_id == bindparam(INTEGRATION_ID)
    )
    if model is ModelName.APPLICATIONS:
        return [applications.c.remote_id.in_(tracked)]
    if model is ModelName.CANDIDATES:
        return [served_candidates(bindparam(INTEGRATION_ID))]
    return []
