"""webhook tokens stored as a SHA-256 and encrypted, never in plain text

The gateway looks a request up by `webhook_token_hash`; the api decrypts `webhook_token_encrypted`
to show the bundle's URL. Existing tokens are converted in place, so every URL keeps working:
that needs BPMLINK_SECRET_KEY (as `bpmlink migrate` always has) when any bundle has a token.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:50:00.000000
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _box() -> SecretBox:
    """The settings' key (only when rows need it: an empty database migrates without one)."""
    return SecretBox(Settings())


def upgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("bundles", sa.Column("webhook_token_hash", sa.String(length=64), nullable=True))
    op.add_column("bundles", sa.Column("webhook_token_encrypted", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, webhook_token FROM bundles WHERE webhook_token IS NOT NULL")).all()
    if rows:
        box = _box()
        for bundle_id, token in rows:
            conn.execute(
                sa.text(
                    "UPDATE bundles SET webhook_token_hash = :hash, webhook_token_encrypted = :encrypted"
                    " WHERE id = :id"
                ),
                {
                    "id": bundle_id,
                    "hash": hashlib.sha256(token.encode()).hexdigest(),
                    "encrypted": box.encrypt({"token": token}),
                },
            )
    op.drop_constraint(op.f("uq_bundles_webhook_token"), "bundles", type_="unique")
    op.drop_column("bundles", "webhook_token")
    op.create_unique_constraint(op.f("uq_bundles_webhook_token_hash"), "bundles", ["webhook_token_hash"])


def downgrade() -> None:
    op.execute("SET LOCAL lock_timeout = '5s'")
    op.add_column("bundles", sa.Column("webhook_token", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, webhook_token_encrypted FROM bundles WHERE webhook_token_encrypted IS NOT NULL")
    ).all()
    if rows:
        box = _box()
        for bundle_id, encrypted in rows:
            token = box.decrypt(encrypted)["token"]
            conn.execute(
                sa.text("UPDATE bundles SET webhook_token = :token WHERE id = :id"), {"id": bundle_id, "token": token}
            )
    op.drop_constraint(op.f("uq_bundles_webhook_token_hash"), "bundles", type_="unique")
    op.drop_column("bundles", "webhook_token_encrypted")
    op.drop_column("bundles", "webhook_token_hash")
    op.create_unique_constraint(op.f("uq_bundles_webhook_token"), "bundles", ["webhook_token"])
