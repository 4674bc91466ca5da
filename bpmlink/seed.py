"""The demo workspace: the admin from the environment and a connection to the sandbox."""

from __future__ import annotations

from bpmlink import accounts
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.settings import get_settings


async def seed_demo() -> None:
    settings = get_settings()
    engine = create_engine(settings, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            await accounts.ensure_admin(session, settings.admin_email, settings.admin_password)
            await session.commit()
    finally:
        await engine.dispose()
