"""Creates of applications whose outcome may be unknown. A create is remembered by job and e-mail right before it is
sent to RECRU, until the end of the action sending it (``sending_until``), and settled (forgotten) once the action
learns its outcome. What stays is a create RECRU may still store: it did not answer (a timeout, a dropped
connection) and looking it up found nothing yet (or could not look), or the action was cut off while the create was
on its way (its deadline; its process killed). Such a create is pending for ``PENDING_FOR``, so that the
application, once RECRU has it, is tracked like any created through us (it would otherwise never be served in
"sync only created applications" mode):

- every sync looks for the pending ones RECRU has not shown yet, and tracks one it finds (``found``);
- a retry of the create meets RECRU's "already applied" and adopts the application instead of refusing it, whether
  a sync found it first or not; the create is then settled (``forget``).

A create still being sent is not pending: a sync or another request finding an application for the pair meanwhile
cannot tell whether it is this create's. Identical creates sent at once share the pair's row (``sending``), which
counts them (``in_flight``): it stays remembered as being sent until the last of their actions ends, unless one of
them settles it (stored the application) or each learned RECRU's answer (``answered``: refused, nothing made; the
pair is then settled: an application RECRU holds for it is not ours, made by another integration on the tenant, say);
only the first takes an application found after its own answer was lost for its own, and only while it is ``alone``.

Another integration connected to the same tenant may create the same application: one it tracks (``taken_elsewhere``)
is never taken for a create through this one (RECRU holds one application per jobseeker and project, so this one's
create did not make it): a sync settles the pending create instead of tracking it, a retry is a plain 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from atsbridge.store.db import savepoint
from atsbridge.store.tables import integrations, pending_applications, tracked_applications

PENDING_FOR = timedelta(days=1)
_table = pending_applications


@dataclass(frozen=True)
class PendingApplication:
    """A create whose outcome was unknown; ``application_remote_id``: RECRU's application, once a sync found it."""

    project_remote_id: str
    email: str
    created_at: datetime
    application_remote_id: str | None


def _email_key(email: str) -> str:
    return email.strip().lower()


def _this(integration_id: str, project_remote_id: str, email: str) -> list[ColumnElement[bool]]:
    return [
        _table.c.integration_id == integration_id,
        _table.c.project_remote_id == project_remote_id,
        _table.c.email == _email_key(email),
    ]


def sending(
    conn: Connection, integration_id: str, project_remote_id: str, email: str, now: datetime, until: datetime
) -> bool:
    """A create of an application for ``email`` on the project is about to be sent by an action that ends by
    ``until``. True if this remembered it, as the first of the pair on its way (a row older than ``PENDING_FOR``,
    not yet cleared, is taken over); False if another create of the pair is pending or on its way: this one joins
    it, keeping the pair remembered as being sent until its own action's end too (``alone`` then says no to the
    first)."""
    values = {"integration_id": integration_id, "project_remote_id": project_remote_id, "email": _email_key(email)}
    try:
        with savepoint(conn):
            conn.execute(insert(_table).values(**values, created_at=now, sending_until=until, in_flight=1))
    except IntegrityError:
        this = _this(integration_id, project_remote_id, email)
        stale = update(_table).where(*this, _table.c.created_at <= now - PENDING_FOR)
        taken_over = stale.values(created_at=now, sending_until=until, application_remote_id=None, in_flight=1)
        if conn.execute(taken_over).rowcount:
            return True
        conn.execute(update(_table).where(*this).values(in_flight=_table.c.in_flight + 1))
        joined = update(_table).where(*this, _table.c.sending_until.is_not(None), _table.c.sending_until < until)
        conn.execute(joined.values(sending_until=until))
        return False
    return True


def alone(conn: Connection, integration_id: str, project_remote_id: str, email: str, until: datetime) -> bool:
    """Whether the first create of the pair on its way (its action ending by ``until``) is still the only one: no
    identical create joined it (``sending``), none settled the pair (stored it) and none left its outcome unknown."""
    query = select(_table.c.sending_until).where(*_this(integration_id, project_remote_id, email))
    row = conn.execute(query).first()
    return row is not None and row.sending_until is not None and row.sending_until <= until


def answered(conn: Connection, integration_id: str, project_remote_id: str, email: str) -> None:
    """RECRU answered a create of the pair on its way through us with a refusal (nothing made): the pair is
    settled once every create of it on its way has been answered so, unless one left its outcome unknown
    (``unknown``: pending). One whose action never learns the answer (its process killed) keeps it remembered until
    its action's end, then pending."""
    this = _this(integration_id, project_remote_id, email)
    conn.execute(update(_table).where(*this, _table.c.in_flight > 0).values(in_flight=_table.c.in_flight - 1))
    conn.execute(delete(_table).where(*this, _table.c.in_flight == 0, _table.c.sending_until.is_not(None)))


def unknown(conn: Connection, integration_id: str, project_remote_id: str, email: str, now: datetime) -> None:
    """The create's outcome is unknown: pending from now on (remembered now if it was not)."""
    values = {"integration_id": integration_id, "project_remote_id": project_remote_id, "email": _email_key(email)}
    try:
        with savepoint(conn):
            conn.execute(insert(_table).values(**values, created_at=now))
    except IntegrityError:
        conn.execute(update(_table).where(*_this(integration_id, project_remote_id, email)).values(sending_until=None))


def _not_being_sent(now: datetime) -> ColumnElement[bool]:
    return or_(_table.c.sending_until.is_(None), _table.c.sending_until < now)


def adoptable_from(
    conn: Connection, integration_id: str, project_remote_id: str, email: str, now: datetime
) -> datetime | None:
    """When a retry of this create could adopt the pair's application: ``now`` if a create of the pair through us
    is pending, or once the one being sent has ended its action; ``None`` if none is remembered (within
    ``PENDING_FOR``)."""
    query = select(_table.c.sending_until).where(
        *_this(integration_id, project_remote_id, email), _table.c.created_at > now - PENDING_FOR
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    return now if row.sending_until is None else max(now, row.sending_until)


def is_pending(conn: Connection, integration_id: str, project_remote_id: str, email: str, now: datetime) -> bool:
    """Whether a create of this pair through us had its outcome unknown within ``PENDING_FOR`` (not settled yet)."""
    query = select(_table.c.created_at).where(
        *_this(integration_id, project_remote_id, email), _table.c.created_at > now - PENDING_FOR, _not_being_sent(now)
    )
    return conn.execute(query).first() is not None


def claim(conn: Connection, integration_id: str, project_remote_id: str, email: str, now: datetime) -> bool:
    """Settle a pending create for a retry that adopts its application; True for the one retry that did (of several
    at once, the others answer "already applied": one application is answered once)."""
    claimed = conn.execute(
        delete(_table).where(
            *_this(integration_id, project_remote_id, email),
            _table.c.created_at > now - PENDING_FOR,
            _not_being_sent(now),
        )
    )
    return claimed.rowcount == 1


def taken_elsewhere(conn: Connection, integration_id: str, application_remote_id: str) -> bool:
    """Whether RECRU's application is tracked by another integration connected to the same tenant (same tool and
    tenant address): that one created it, so no create of the pair through ``integration_id`` did."""
    this = integrations.alias("this")
    same_tenant = (
        select(integrations.c.id)
        .join(this, (this.c.tool == integrations.c.tool) & (this.c.tenant_url == integrations.c.tenant_url))
        .where(this.c.id == integration_id, integrations.c.id != integration_id)
    )
    query = select(tracked_applications.c.remote_id).where(
        tracked_applications.c.integration_id.in_(same_tenant),
        tracked_applications.c.remote_id == application_remote_id,
    )
    return conn.execute(query.limit(1)).first() is not None


def pending(conn: Connection, integration_id: str, now: datetime) -> list[PendingApplication]:
    """The integration's creates whose outcome was unknown, not settled yet (nor being sent)."""
    columns = (_table.c.project_remote_id, _table.c.email, _table.c.created_at, _table.c.application_remote_id)
    rows = conn.execute(select(*columns).where(_table.c.integration_id == integration_id, _not_being_sent(now)))
    return [PendingApplication(**row._asdict()) for row in rows]


def found(conn: Connection, integration_id: str, waiting: PendingApplication, application_remote_id: str) -> None:
    """A sync found the application RECRU stored for ``waiting``; the create stays pending for a retry to adopt."""
    conn.execute(
        update(_table)
        .where(*_this(integration_id, waiting.project_remote_id, waiting.email))
        .values(application_remote_id=application_remote_id)
    )


def forget(conn: Connection, integration_id: str, project_remote_id: str, email: str) -> None:
    """The create is settled: its action learned the outcome, a retry adopted it, or it was pending for longer than
    ``PENDING_FOR``."""
    conn.execute(delete(_table).where(*_this(integration_id, project_remote_id, email)))
