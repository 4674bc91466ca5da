"""profile locale set: whether a user's language and time zone were ever set (chosen in the profile or
taken from the browser at the first login); until then they are placeholders the first login replaces.
A profile that already differs from the old defaults ('en', 'UTC') was chosen by someone: it counts as set.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language_set", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("timezone_set", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE users SET language_set = language <> 'en', timezone_set = timezone <> 'UTC'")


def downgrade() -> None:
    op.drop_column("users", "timezone_set")
    op.drop_column("users", "language_set")
