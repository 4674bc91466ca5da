import asyncio
import concurrent.futures
import json

import asyncpg

from bpmlink.db.models import Base
from bpmlink.kit import migrate


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


def test_0009_writes_utc_into_date_conversions_saved_without_a_zone(make_database):
    """Before 0008 a missing zone meant UTC; 0009 says so, and leaves an explicit zone alone."""
    url = make_database("zones")
    _in_thread(migrate.upgrade, url, "0008")
    config = {
        "mapping": [
            {"target": "Name", "source": "name", "convert": ["trim"]},
            {"target": "BirthDate", "source": "born", "convert": ["date"]},
            {"target": "MeetingDate", "source": "at", "convert": [{"name": "date", "format": "%d.%m.%Y %H:%M"}]},
            {"target": "DueDate", "source": "due", "convert": [{"name": "date", "timezone": "Asia/Tokyo"}]},
        ]
    }

    async def run(statement: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(statement, *args)
        finally:
            await conn.close()

    workspace = "00000000-0000-0000-0000-000000000001"
    bundle = "00000000-0000-0000-0000-000000000002"
    _in_thread(asyncio.run, run("INSERT INTO workspaces (id, name) VALUES ($1, 'w')", workspace))
    _in_thread(
        asyncio.run,
        run(
            "INSERT INTO bundles (id, workspace_id, name, status, config, config_version, source_app, capture_sample)"
            " VALUES ($1, $2, 'b', 'stopped', $3::jsonb, 1, 'webhook', false)",
            bundle,
            workspace,
            json.dumps(config),
        ),
    )
    _in_thread(migrate.upgrade, url)
    [row] = _in_thread(asyncio.run, run("SELECT config FROM bundles WHERE id = $1", bundle))
    converts = [rule["convert"] for rule in json.loads(row["config"])["mapping"]]
    assert converts == [
        ["trim"],
        [{"name": "date", "timezone": "UTC"}],
        [{"name": "date", "format": "%d.%m.%Y %H:%M", "timezone": "UTC"}],
        [{"name": "date", "timezone": "Asia/Tokyo"}],
    ]


def test_0011_replaces_plain_webhook_tokens_by_their_hash_and_the_token_encrypted(make_database, monkeypatch):
    """Existing URLs keep working after the upgrade (same token), and the plain column is gone."""
    import hashlib

    from bpmlink.kit.security import SecretBox
    from bpmlink.kit.settings import Settings

    key = "migration-test-secret-key-0123456789abcdef"
    monkeypatch.setenv("BPMLINK_SECRET_KEY", key)
    url = make_database("tokens")
    _in_thread(migrate.upgrade, url, "0009")

    async def run(statement: str, *args: object) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(statement, *args)
        finally:
            await conn.close()

    workspace, bundle, token = "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002", "t" * 43
    _in_thread(asyncio.run, run("INSERT INTO workspaces (id, name) VALUES ($1, 'w')", workspace))
    _in_thread(
        asyncio.run,
        run(
            "INSERT INTO bundles (id, workspace_id, name, status, config, config_version, source_app, capture_sample,"
            " webhook_token) VALUES ($1, $2, 'b', 'waiting', '{}'::jsonb, 1, 'webhook', false, $3)",
            bundle,
            workspace,
            token,
        ),
    )
    _in_thread(migrate.upgrade, url)
    [row] = _in_thread(asyncio.run, run("SELECT b::text AS whole, b.* FROM bundles b WHERE id = $1", bundle))
    assert token not in row["whole"] and "webhook_token" not in dict(row)
    assert row["webhook_token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    box = SecretBox(Settings(BPMLINK_SECRET_KEY=key))
    assert box.decrypt(row["webhook_token_encrypted"]) == {"token": token}
    _in_thread(migrate.downgrade, url, "0010")  # and back: the plain token again
    [row] = _in_thread(asyncio.run, run("SELECT webhook_token FROM bundles WHERE id = $1", bundle))
    assert row["webhook_token"] == token
