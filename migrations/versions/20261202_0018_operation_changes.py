"""operation changes: what an update changed, `{column: [old, new]}` (the operation's first step
that changed a record; each step's own in its `step_results` entry)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 04:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("operations", sa.Column("changes", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("operations", "changes")
