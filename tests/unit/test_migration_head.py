"""``migrate`` skips Alembic for a store at ``head_revision``: it must be the head Alembic itself finds."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from atsbridge.store.db import MIGRATIONS_DIR, head_revision


def test_head_revision_is_alembics_head() -> None:
    assert head_revision() == ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
