"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}

revision: str = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}
branch_labels: str | Sequence[str] | None = ${repr(branch_labels)}
depends_on: str | Sequence[str] | None = ${repr(depends_on)}


def upgrade() -> None:
    # Fail fast instead of queueing behind a long lock on a busy table (every statement after us would wait
    # too); env.py sets the same for the whole run. Raise it here for a migration that must wait longer.
    op.execute("SET LOCAL lock_timeout = '5s'")
% if upgrades:
    ${upgrades}
% endif


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
% if downgrades:
    ${downgrades}
% endif
