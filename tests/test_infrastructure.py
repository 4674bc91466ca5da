import asyncpg
import redis


async def test_postgres_is_real(make_database):
    url = make_database("infra")
    conn = await asyncpg.connect(url)
    try:
        assert (await conn.fetchval("select 40 + 2")) == 42
    finally:
        await conn.close()


def test_redis_is_real(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.set("k", "v")
    assert client.get("k") == b"v"
