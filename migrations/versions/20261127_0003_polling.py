"""polling: consecutive failures and backfill progress on poll_states

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 20:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('poll_states', sa.Column('failures', sa.SmallInteger(), server_default='0', nullable=False))
    op.add_column('poll_states', sa.Column('backfill', postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column('poll_states', 'backfill')
    op.drop_column('poll_states', 'failures')
