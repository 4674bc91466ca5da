"""The request's transaction is committed before its response is sent (`Depends(_session, scope="function")`
in bpmlink_api/deps.py), so a client that reads right after an answer finds what it was told is saved.

Through the ASGI test transport a response returns only after the dependencies' teardown, so no test
there can tell. Against the real api process it can: a deferred trigger makes the COMMIT of a new
browser session slow, and the test reads the row from its own connection the moment the login answer
arrives. Committed first, the row is there; committed after the response, it is still waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.kit.security import hash_token
from tests.fixtures.accounts import PASSWORD, make_workspace
from tests.reliability.conftest import Service, service_env, services  # noqa: F401 - fixtures used below

# Half a second at COMMIT: far longer than a read takes, so a commit after the response cannot hide.
SLOW_COMMIT = """
CREATE FUNCTION test_slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_sleep(0.5); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER test_slow_commit AFTER INSERT ON user_sessions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_slow_commit();
"""
DROP = "DROP TRIGGER IF EXISTS test_slow_commit ON user_sessions; DROP FUNCTION IF EXISTS test_slow_commit();"


@pytest.fixture
async def reader(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of the test's own, with new sessions slow to commit while it is open."""
    conn = await asyncpg.connect(db_url)
    await conn.execute(SLOW_COMMIT)
    try:
        yield conn
    finally:
        await conn.execute(DROP)
        await conn.close()


async def test_a_login_is_committed_before_its_answer_arrives(
    sessionmaker: async_sessionmaker[AsyncSession],
    service_env: dict[str, str],  # noqa: F811
    services: Callable[..., Service],  # noqa: F811
    reader: asyncpg.Connection,
) -> None:
    owner = await make_workspace(sessionmaker, "Commit")
    api = services("bpmlink_api", service_env, "BPMLINK_API_PORT")
    await api.wait_ready()
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
        response = await http.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
        stored = await reader.fetchval(
            "SELECT count(*) FROM user_sessions WHERE token_hash = $1", hash_token(response.cookies["bpmlink_session"])
        )
    assert response.status_code == 200, response.text
    assert stored == 1, "the login answered before its session was committed"
