"""a bundle's own webhook request limit (requests per minute; null: the setting's default)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 04:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("bundles", sa.Column("webhook_rate_per_minute", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_bundles_webhook_rate"), "bundles", "webhook_rate_per_minute between 60 and 600000"
    )


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.drop_constraint(op.f("ck_bundles_webhook_rate"), "bundles", type_="check")
    op.drop_column("bundles", "webhook_rate_per_minute")
