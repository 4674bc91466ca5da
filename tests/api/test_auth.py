from bpmlink.db.models import Role
from tests.fixtures.accounts import PASSWORD, add_member, login, make_workspace


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
    assert response.json() == {
        "error": {
            "code": "unauthorized",
            "message": "wrong email or password",
            "message_code": "wrong_email_or_password",
            "params": {},
            "text": "wrong email or password",
            "remote": None,
            "details": None,
        }
    }


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
