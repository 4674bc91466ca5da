"""operations parked after their fast tries, and each workspace's slow retry schedule

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("retry_schedule", JSONB(), nullable=True))
    op.add_column("operations", sa.Column("parked_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("operations", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_operations_parked_due",
        "operations",
        ["next_attempt_at"],
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_operations_parked_due", table_name="operations")
    op.drop_column("operations", "next_attempt_at")
    op.drop_column("operations", "parked_at")
    op.drop_column("workspaces", "retry_schedule")
