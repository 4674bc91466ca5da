from datetime import datetime, timedelta

from sqlalchemy import select, update

from bpmlink.db.models import ApiKey, Role
from tests.fixtures.accounts import PASSWORD, add_member, api_key_client, login, make_workspace


async def test_login_sets_httponly_session_and_readable_csrf_cookie(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    response = await client.post("/api/v1/auth/login", json={"email": owner.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["user"]["email"] == owner.email
    assert response.json()["role"] == "owner"
    cookies = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("bpmlink_session="))
    csrf_cookie = next(c for c in cookies if c.startswith("bpmlink_csrf="))
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie
    assert "HttpOnly" not in csrf_cookie


async def test_wrong_password_answers_401_in_the_error_shape(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    response = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": "nope"})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized", "message": "wrong email or password", "details": None}}


async def test_login_is_rate_limited_after_repeated_failures(client, sessionmaker, settings):
    owner = await make_workspace(sessionmaker)
    for _ in range(settings.login_max_attempts):
        r = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": "guess"})
        assert r.status_code == 401
    blocked = await client.post("/api/v1/auth/login", json={"email": owner.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


async def test_validation_errors_name_the_field(client):
    response = await client.post("/api/v1/auth/login", json={"email": "a@b.c"})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert body["details"][0]["field"] == "password"


async def test_me_requires_login(client):
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_logout_ends_the_session(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_cookie_write_without_csrf_header_is_refused(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    del client.headers["X-CSRF-Token"]
    response = await client.post("/api/v1/api-keys", json={"name": "k"})
    assert response.status_code == 403
    client.headers["X-CSRF-Token"] = "forged"
    assert (await client.post("/api/v1/api-keys", json={"name": "k"})).status_code == 403
    client.headers["X-CSRF-Token"] = client.cookies["bpmlink_csrf"]
    assert (await client.post("/api/v1/api-keys", json={"name": "k"})).status_code == 201


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


async def test_malformed_authorization_header_is_refused(client):
    response = await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


async def test_viewer_can_read_but_not_write(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    viewer = await add_member(sessionmaker, owner.workspace_id, Role.viewer)
    await login(client, viewer)
    assert (await client.get("/api/v1/api-keys")).status_code == 200
    assert (await client.get("/api/v1/users")).status_code == 200
    response = await client.post("/api/v1/api-keys", json={"name": "k"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_only_owner_manages_members_and_last_owner_stays(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    editor = await add_member(sessionmaker, owner.workspace_id, Role.editor)
    await login(client, editor)
    assert (await client.post("/api/v1/invitations", json={"email": "x@example.com"})).status_code == 403
    assert (await client.patch(f"/api/v1/users/{owner.user_id}", json={"role": "viewer"})).status_code == 403
    client.cookies.clear()
    await login(client, owner)
    # Members come through invitations; the old direct creation is gone.
    gone = await client.post("/api/v1/users", json={"email": "new@example.com", "password": "longenough"})
    assert gone.status_code in (404, 405)
    invited = await client.post("/api/v1/invitations", json={"email": "new@example.com", "role": "viewer"})
    assert invited.status_code == 201 and invited.json()["role"] == "viewer"
    demote_self = await client.patch(f"/api/v1/users/{owner.user_id}", json={"role": "editor"})
    assert demote_self.status_code == 409 and demote_self.json()["error"]["code"] == "last_owner"


async def test_request_body_over_the_limit_answers_413(client, settings):
    response = await client.post(
        "/api/v1/auth/login",
        content=b"x" * (settings.max_request_bytes + 1),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_unknown_api_path_answers_404_json(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


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
