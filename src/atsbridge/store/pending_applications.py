"""Creates of applications whose outcome RECRU left unknown: RECRU did not answer (a timeout, a dropped connection)
after the request may have reached it, and looking it up found nothing yet, so the action answered a failure. RECRU
may still store it (a slow tenant finishes the request later). Such a create is remembered by job and e-mail, so
that the application, once RECRU has it, is tracked like any created through us (it would otherwise never be served
in "sync only created applications" mode):

- a retry of the create meets RECRU's "already applied" and adopts the application instead of refusing it;
- every sync looks for the pending ones first (``PENDING_FOR`` at most, then they are forgotten).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from atsbridge.store.tables import pending_applications

PENDING_FOR = timedelta(days=1)


@dataclass(frozen=True)
class PendingApplication:
    project_remote_id: str
    email: str
    created_at: datetime


def _email_key(email: str) -> str:
    return email.strip().lower()


def remember(conn: Connection, integration_id: str, project_remote_id: str, email: str, now: datetime) -> None:
    """A create of an application for ``email`` on the project whose outcome is unknown (once per pair)."""
    key = _email_key(email)
    if not is_pending(conn, integration_id, project_remote_id, key):
        conn.execute(
            insert(pending_applications).values(
                integration_id=integration_id, project_remote_id=project_remote_id, email=key, created_at=now
            )
        )


def is_pending(conn: Connection, integration_id: str, project_remote_id: str, email: str) -> bool:
    return (
        conn.execute(
            select(pending_applications.c.created_at).where(
                pending_applications.c.integration_id == integration_id,
                pending_applications.c.project_remote_id == project_remote_id,
                pending_applications.c.email == _email_key(email),
            )
        ).first()
        is not None
    )


def pending(conn: Connection, integration_id: str) -> list[PendingApplication]:
    rows = conn.execute(
        select(
            pending_applications.c.project_remote_id, pending_applications.c.email, pending_applications.c.created_at
        ).where(pending_applications.c.integration_id == integration_id)
    )
    return [PendingApplication(**row._asdict()) for row in rows]


def forget(conn: Connection, integration_id: str, project_remote_id: str, email: str) -> None:
    conn.execute(
        delete(pending_applications).where(
            pending_applications.c.integration_id == integration_id,
            pending_applications.c.project_remote_id == project_remote_id,
            pending_applications.c.email == _email_key(email),
        )
    )
