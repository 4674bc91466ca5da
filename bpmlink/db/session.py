"""Engine and session factories. The boundary (request, job) owns the transaction."""

from __future__ import annotations

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from bpmlink.kit.settings import Settings


def create_engine(settings: Settings, *, pool_size: int = 10) -> AsyncEngine:
    if not settings.database_url:
        raise RuntimeError("DATABASE_URL is not set")
    return create_async_engine(
        settings.async_database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "bpmlink"}},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def driver_url(settings: Settings) -> str:
    """DATABASE_URL for asyncpg itself (no SQLAlchemy dialect in the scheme)."""
    return settings.async_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def rollback_if_open(conn: asyncpg.Connection) -> None:
    """The `reset` of a raw asyncpg pool whose users change no session state (gateway, polls).

    asyncpg's default reset costs a round trip per release (RESET ALL, UNLISTEN …); only a
    transaction left open by a cancelled statement needs undoing."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")
