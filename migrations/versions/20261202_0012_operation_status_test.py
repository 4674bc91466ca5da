"""operation status `test` (a source app's request that only checks the URL), and a check constraint on
operations.status naming every status

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "'held','queued','processing','retrying','created','updated','unchanged','skipped_duplicate',"
    "'not_found','filtered','failed'"
)


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # NOT VALID, then VALIDATE: the table is not locked against writes while its rows are checked.
    op.execute(
        f"ALTER TABLE operations ADD CONSTRAINT ck_operations_status CHECK (status in ({_STATUSES},'test')) NOT VALID"
    )
    op.execute("ALTER TABLE operations VALIDATE CONSTRAINT ck_operations_status")


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    # Kept, as what they are closest to before `test`: recorded, nothing sent.
    op.execute("UPDATE operations SET status = 'filtered', error = 'a test request' WHERE status = 'test'")
    op.drop_constraint(op.f("ck_operations_status"), "operations", type_="check")
