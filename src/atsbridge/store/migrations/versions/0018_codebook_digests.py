"""The DELTA watermark's run also keeps a digest of each codebook the mappings name entries from
(``integrations.codebook_digests``): a later DELTA lists whole the streams whose codebooks changed since (a renamed
department changes jobs RECRU does not stamp as changed).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json_type = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
    op.add_column("integrations", sa.Column("codebook_digests", json_type, nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE integrations DROP COLUMN codebook_digests")
