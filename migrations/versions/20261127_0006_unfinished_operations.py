"""partial index for the sweeper: operations not finished for a long time

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 21:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_operations_unfinished",
        "operations",
        ["updated_at"],
        postgresql_where=sa.text("status IN ('queued', 'retrying', 'processing')"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_operations_unfinished",
        table_name="operations",
        postgresql_where=sa.text("status IN ('queued', 'retrying', 'processing')"),
    )
