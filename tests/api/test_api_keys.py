"""API keys: shown once, used without CSRF, revoked, walled per workspace, last use kept to the minute."""

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bpmlink.db.models import ApiKey
from tests.fixtures.accounts import api_key_client, login, make_workspace


async def test_api_key_is_shown_once_and_works_without_csrf(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    async with await api_key_client(app, owner, sessionmaker) as script:
        me = await script.get("/api/v1/auth/me")
        assert me.status_code == 200 and me.json()["user"]["email"] == owner.email
        assert (await script.post("/api/v1/api-keys", json={"name": "second"})).status_code == 201
    await login(client, owner)
    listed = (await client.get("/api/v1/api-keys")).json()["items"]
    assert {k["name"] for k in listed} == {"script", "second"}
    assert all("key" not in k and "key_hash" not in k for k in listed)


async def test_revoked_api_key_is_refused(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    async with await api_key_client(app, owner, sessionmaker) as script:
        await login(client, owner)
        key_id = (await client.get("/api/v1/api-keys")).json()["items"][0]["id"]
        assert (await client.delete(f"/api/v1/api-keys/{key_id}")).status_code == 204
        response = await script.get("/api/v1/auth/me")
        assert response.status_code == 401
        assert "revoked" in response.json()["error"]["message"]


async def test_foreign_api_key_id_answers_404_and_is_not_listed(client, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    b = await make_workspace(sessionmaker, "B")
    await login(client, b)
    b_key = (await client.post("/api/v1/api-keys", json={"name": "b-key"})).json()["id"]
    client.cookies.clear()
    await login(client, a)
    assert (await client.delete(f"/api/v1/api-keys/{b_key}")).status_code == 404
    assert (await client.get("/api/v1/api-keys")).json()["items"] == []
    members = (await client.get("/api/v1/users")).json()["items"]
    assert [m["email"] for m in members] == [a.email]
    assert (await client.patch(f"/api/v1/users/{b.user_id}", json={"role": "viewer"})).status_code == 404


async def test_api_key_last_used_is_kept_to_the_minute_without_a_write_per_request(app, client, sessionmaker):
    owner = await make_workspace(sessionmaker)

    async def last_used() -> datetime | None:
        async with sessionmaker() as session:
            return await session.scalar(select(ApiKey.last_used_at).where(ApiKey.name == "script"))

    async with await api_key_client(app, owner, sessionmaker) as script:
        assert (await script.get("/api/v1/auth/me")).status_code == 200
        first = await last_used()
        assert first is not None
        assert (await script.get("/api/v1/auth/me")).status_code == 200
        assert await last_used() == first  # a second read a moment later writes nothing
        async with sessionmaker() as session:
            await session.execute(
                update(ApiKey).where(ApiKey.name == "script").values(last_used_at=first - timedelta(minutes=2))
            )
            await session.commit()
        assert (await script.get("/api/v1/auth/me")).status_code == 200
        refreshed = await last_used()
        assert refreshed is not None and refreshed > first - timedelta(minutes=1)
