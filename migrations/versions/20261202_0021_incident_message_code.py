"""an incident's message as a code with params beside its English text (`message_code`,
`message_params`), so e-mails speak each recipient's language and webhooks carry the code

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("message_code", sa.String(64), nullable=True))
    op.add_column("incidents", sa.Column("message_params", JSONB, nullable=True))


def downgrade() -> None:
    op.drop_column("incidents", "message_params")
    op.drop_column("incidents", "message_code")
