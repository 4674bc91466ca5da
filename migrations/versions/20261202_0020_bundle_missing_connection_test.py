"""a bundle's required fields left unmapped at its last save (`missing`: it may be saved, not
started), and a connection's last test (`last_test`: ok, stage, code, message, at)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 04:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bundles", sa.Column("missing", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.add_column("connections", sa.Column("last_test", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("connections", "last_test")
    op.drop_column("bundles", "missing")
