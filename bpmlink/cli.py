"""`bpmlink` command: migrate the database, add users, seed the admin, run the dev stack."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink import accounts, audit
from bpmlink.db.models import Bundle, Connection, Membership, Role, Workspace
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.kit import migrate, passwords
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import get_settings, settings_or_exit


async def _add_user(email: str, password: str, role: str, workspace_name: str | None) -> str:
    settings = get_settings()
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            user = await accounts.find_user(session, email)
            if user is None:
                user = await accounts.create_user(session, email, password)
            query = select(Workspace).order_by(Workspace.created_at).limit(1)
            if workspace_name:
                query = select(Workspace).where(Workspace.name == workspace_name).limit(1)
            workspace = await session.scalar(query)
            if workspace is None:
                workspace = await accounts.create_workspace(session, workspace_name or "Default", user)
                await _audit(session, workspace.id, "created", "workspace", workspace.id, workspace.name)
            elif await session.get(Membership, (workspace.id, user.id)) is None:
                session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role(role)))
                await _audit(session, workspace.id, "joined", "member", user.id, user.email, {"role": role})
            await session.commit()
            return f"{email} is {role} in workspace {workspace.name!r}"
    finally:
        await engine.dispose()


async def _audit(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    entity_name: str,
    details: dict[str, Any] | None = None,
) -> None:
    """A change made by the operator at the command line: no user is named."""
    await audit.record(
        session,
        workspace_id=workspace_id,
        user_id=None,
        via="cli",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        entity_name=entity_name,
        details=details,
    )


async def _seed_admin() -> str:
    settings = get_settings()
    if not settings.admin_password:
        raise SystemExit("BPMLINK_ADMIN_PASSWORD is not set")
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            workspace = await accounts.ensure_admin(session, settings.admin_email, settings.admin_password)
            await session.commit()
            return f"admin {settings.admin_email} owns workspace {workspace.name!r}"
    finally:
        await engine.dispose()


SESSION_KEY_PATTERN = "bpmlink:bpmonline:session:*"  # bpmlink.bpmonline.session: Fernet-encrypted cached logins


async def _rotate_column(
    session_maker: async_sessionmaker[AsyncSession], box: SecretBox, column: Any, batch_size: int
) -> dict[str, int]:
    """Re-encrypt one column in id order, a batch a transaction; rows already under the current key are left alone."""
    table = column.class_
    counts = {"rotated": 0, "current": 0, "unreadable": 0}
    last: uuid.UUID | None = None
    while True:
        query = select(table.id, column).where(column.is_not(None)).order_by(table.id).limit(batch_size)
        if last is not None:
            query = query.where(table.id > last)
        async with session_maker() as session:
            rows = (await session.execute(query)).all()
            for row_id, token in rows:
                if box.is_current(token):
                    counts["current"] += 1
                    continue
                try:
                    fresh = box.rotate(token)
                except ValueError:
                    counts["unreadable"] += 1
                    continue
                # Compare-and-set: a concurrent edit through the api (already under the new key) wins.
                result = await session.execute(
                    update(table).where(table.id == row_id, column == token).values({column.key: fresh})
                )
                counts["rotated" if result.rowcount else "current"] += 1  # type: ignore[attr-defined]
            await session.commit()
        if len(rows) < batch_size:
            return counts
        last = rows[-1][0]


async def _rotate_secrets(batch_size: int) -> int:
    """Re-encrypt every stored secret with BPMLINK_SECRET_KEY; drop the cached bpm'online sessions."""
    settings = get_settings()
    box = SecretBox(settings)
    engine = create_engine(settings, pool_size=1)
    unreadable = 0
    try:
        session_maker = create_sessionmaker(engine)
        for label, column in (
            ("connections.secrets_encrypted", Connection.secrets_encrypted),
            ("bundles.webhook_secret_encrypted", Bundle.webhook_secret_encrypted),
            ("bundles.webhook_token_encrypted", Bundle.webhook_token_encrypted),
            ("bundles.config_secrets_encrypted", Bundle.config_secrets_encrypted),
        ):
            counts = await _rotate_column(session_maker, box, column, batch_size)
            unreadable += counts["unreadable"]
            line = f"{label}: {counts['rotated']} re-encrypted, {counts['current']} already current, "
            print(line + f"{counts['unreadable']} unreadable")  # noqa: T201
    finally:
        await engine.dispose()
    # The session cache is encrypted under the old key too; deleting it just means one fresh login per connection.
    dropped = 0
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        try:
            batch: list[bytes] = []
            async for key in redis.scan_iter(match=SESSION_KEY_PATTERN, count=batch_size):
                batch.append(key)
                if len(batch) >= batch_size:
                    dropped += await redis.delete(*batch)
                    batch = []
            if batch:
                dropped += await redis.delete(*batch)
        finally:
            await redis.aclose()
    print(f"bpm'online sessions dropped from Redis: {dropped}")  # noqa: T201
    if unreadable:
        print("some secrets are readable with none of the configured keys: keep the old keys until they are fixed")  # noqa: T201
    return 1 if unreadable else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bpmlink")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database to the newest schema")
    add = sub.add_parser("add-user", help="create a user (or add an existing one) in a workspace")
    add.add_argument("--email", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--role", choices=[r.value for r in Role], default="editor")
    add.add_argument("--workspace", help="workspace name (default: the first one; created if missing)")
    sub.add_parser("seed-admin", help="create the admin from BPMLINK_ADMIN_EMAIL/BPMLINK_ADMIN_PASSWORD")
    sub.add_parser("up", help="run everything locally (what `make up` runs)")
    rotate = sub.add_parser(
        "rotate-secrets",
        help="re-encrypt stored secrets with BPMLINK_SECRET_KEY (old keys in BPMLINK_SECRET_KEY_PREVIOUS)",
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="rows a transaction (default 500)")
    args = parser.parse_args(argv)
    if args.command != "up":
        settings_or_exit()  # a bad value stops here, with a message naming it

    if args.command == "migrate":
        migrate.upgrade(get_settings().database_url)
        print("database is at the newest schema")  # noqa: T201
    elif args.command == "add-user":
        weak = passwords.problem(args.password, args.email)
        if weak:
            sys.exit(f"password refused: {weak}")
        print(asyncio.run(_add_user(args.email, args.password, args.role, args.workspace)))  # noqa: T201
    elif args.command == "seed-admin":
        print(asyncio.run(_seed_admin()))  # noqa: T201
    elif args.command == "rotate-secrets":
        sys.exit(asyncio.run(_rotate_secrets(max(1, args.batch_size))))
    elif args.command == "up":
        from bpmlink.devstack import main as up

        up([])


if __name__ == "__main__":
    main()
