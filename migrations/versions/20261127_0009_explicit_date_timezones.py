"""date conversions saved without a time zone say UTC explicitly

Since 0008 a bundle saved through the api gets the saving user's profile time zone in every
`date` conversion that names none. Bundles saved before meant UTC by leaving it out; writing
UTC into them keeps what they do when someone edits them next.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 23:20:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _explicit(step: Any) -> tuple[Any, bool]:
    if step == "date":  # the shorthand of a step with no options
        return {"name": "date", "timezone": "UTC"}, True
    if isinstance(step, dict) and step.get("name") == "date" and not step.get("timezone"):
        return {**step, "timezone": "UTC"}, True
    return step, False


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, config FROM bundles WHERE config::text LIKE '%date%'")).all()
    for bundle_id, config in rows:
        changed = False
        for rule in config.get("mapping") or []:
            if isinstance(rule, dict) and isinstance(rule.get("convert"), list):
                steps = [_explicit(step) for step in rule["convert"]]
                if any(hit for _, hit in steps):
                    rule["convert"] = [step for step, _ in steps]
                    changed = True
        if changed:
            conn.execute(
                sa.text("UPDATE bundles SET config = CAST(:config AS jsonb) WHERE id = :id"),
                {"config": json.dumps(config), "id": bundle_id},
            )


def downgrade() -> None:
    # An explicit UTC is what the missing zone meant: nothing to undo.
    pass
