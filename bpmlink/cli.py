"""`bpmlink` command: migrate the database, add users, seed the admin, run the dev stack."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bpmlink import accounts, migrate
from bpmlink.db.models import Membership, Role, Workspace
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.settings import get_settings, settings_or_exit


async def _add_user(email: str, password: str, role: str, workspace_name: str | None) -> str:
    settings = get_settings()
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            user = await accounts.find_user(session, email)
            if user is None:
                user = await accounts.create_user(session, email, password)
            from sqlalchemy import select

            query = select(Workspace).order_by(Workspace.created_at).limit(1)
            if workspace_name:
                query = select(Workspace).where(Workspace.name == workspace_name).limit(1)
            workspace = await session.scalar(query)
            if workspace is None:
                workspace = await accounts.create_workspace(session, workspace_name or "Default", user)
            elif await session.get(Membership, (workspace.id, user.id)) is None:
                session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role(role)))
            await session.commit()
            return f"{email} is {role} in workspace {workspace.name!r}"
    finally:
        await engine.dispose()


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
    args = parser.parse_args(argv)
    if args.command != "up":
        settings_or_exit()  # a bad value stops here, with a message naming it

    if args.command == "migrate":
        migrate.upgrade(get_settings().database_url)
        print("database is at the newest schema")  # noqa: T201
    elif args.command == "add-user":
        if len(args.password) < 8:
            sys.exit("the password needs at least 8 characters")
        print(asyncio.run(_add_user(args.email, args.password, args.role, args.workspace)))  # noqa: T201
    elif args.command == "seed-admin":
        print(asyncio.run(_seed_admin()))  # noqa: T201
    elif args.command == "up":
        from bpmlink.devstack import main as up

        up([])
if __name__ == "__main__":
    main()
