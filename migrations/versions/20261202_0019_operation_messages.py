"""operation messages: an operation keeps its error as a message code + params (`message`:
{code, params, text, remote}) beside the English `error`, so history renders it in the reader's
language; older operations have none and show their `error`

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 04:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("operations", sa.Column("message", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("operations", "message")
