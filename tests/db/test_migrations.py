import asyncio
import concurrent.futures

import asyncpg

from bpmlink import migrate
from bpmlink.db.models import Base


def _tables(url: str) -> set[str]:
    async def fetch() -> set[str]:
        conn = await asyncpg.connect(url)
        try:
            rows = await conn.fetch("select tablename from pg_tables where schemaname = 'public'")
            return {r["tablename"] for r in rows}
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, fetch()).result()


def _in_thread(fn, *args):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


def test_migrations_upgrade_from_empty_and_downgrade_to_empty(make_database):
    url = make_database("migrations")
    assert _tables(url) == set()
    _in_thread(migrate.upgrade, url)
    assert _tables(url) == set(Base.metadata.tables) | {"alembic_version"}
    _in_thread(migrate.downgrade, url)
    assert _tables(url) == {"alembic_version"}
    _in_thread(migrate.upgrade, url)  # and up again: the downgrade left nothing behind
    assert set(Base.metadata.tables) <= _tables(url)


async def test_models_and_migrations_agree(make_database):
    """Autogenerate finds nothing to do after upgrade: the models are what the migrations build."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    url = make_database("drift")
    _in_thread(migrate.upgrade, url)
    engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    finally:
        await engine.dispose()
    assert diff == []
