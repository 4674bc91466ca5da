"""gateway: encrypted webhook verification secret on bundles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 19:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('bundles', sa.Column('webhook_secret_encrypted', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column('bundles', 'webhook_secret_encrypted')
