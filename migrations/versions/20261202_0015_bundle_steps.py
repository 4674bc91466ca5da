"""bundle steps: a bundle's configuration is a list of steps (round 1's target + mapping + dedup
becomes the step `main`, in place, in every bundle and every saved version), and an operation keeps
what each step did (`step_results`)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TO_STEPS = """
UPDATE {table} SET config = (config - 'target' - 'mapping' - 'dedup') || jsonb_build_object(
    'steps', jsonb_build_array(
        (config -> 'target') || jsonb_build_object(
            'key', 'main',
            'mapping', coalesce(config -> 'mapping', '[]'::jsonb),
            'dedup', coalesce(config -> 'dedup', '{{}}'::jsonb)
        )
    )
)
WHERE config ? 'target' AND NOT config ? 'steps'
"""
# Back to round 1 for the bundles of one create/update step; others cannot be said in it and stay.
_FROM_STEPS = """
UPDATE {table} SET config = (config - 'steps') || jsonb_build_object(
    'target', jsonb_build_object(
        'connection_id', config #> '{{steps,0,connection_id}}',
        'action', coalesce(config #> '{{steps,0,action}}', '"create_record"'::jsonb),
        'entity', config #> '{{steps,0,entity}}'
    ),
    'mapping', coalesce(config #> '{{steps,0,mapping}}', '[]'::jsonb),
    'dedup', coalesce(config #> '{{steps,0,dedup}}', '{{}}'::jsonb)
)
WHERE jsonb_array_length(config -> 'steps') = 1
  AND coalesce(config #>> '{{steps,0,action}}', 'create_record') IN ('create_record', 'update_record')
"""


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("operations", sa.Column("step_results", JSONB(), nullable=True))
    for table in ("bundles", "bundle_versions"):
        op.execute(_TO_STEPS.format(table=table))


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    for table in ("bundles", "bundle_versions"):
        op.execute(_FROM_STEPS.format(table=table))
    op.drop_column("operations", "step_results")
