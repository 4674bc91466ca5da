import json

import pytest

from bpmlink.db.models import Role
from tests.fixtures.accounts import add_member, login, make_workspace

SECRET = "s3cr3t-Pa$$word-never-shown"


def bpm_body(domain: str, **params) -> dict:
    return {
        "app": "bpmonline",
        "name": "Main CRM",
        "params": {"domain": domain, "auth": "forms", "username": "Supervisor", **params},
        "secrets": {"password": SECRET},
    }


async def test_create_read_update_delete_with_write_only_secrets(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    created = await client.post("/api/v1/connections", json=bpm_body("crm.example.com/0/"))
    assert created.status_code == 201, created.text
    conn = created.json()
    assert conn["params"]["domain"] == "https://crm.example.com/0"
    assert conn["params"]["odata_version"] == 4 and conn["params"]["path_prefix"] == "/0"
    assert conn["secrets_set"] == ["password"]
    cid = conn["id"]

    renamed = await client.patch(f"/api/v1/connections/{cid}", json={"name": "Renamed"})
    assert renamed.json()["name"] == "Renamed" and renamed.json()["secrets_set"] == ["password"]
    listed = await client.get("/api/v1/connections")
    assert [c["name"] for c in listed.json()["items"]] == ["Renamed"]
    for response in (created, renamed, listed, await client.get(f"/api/v1/connections/{cid}")):
        assert SECRET not in response.text
    assert (await client.delete(f"/api/v1/connections/{cid}")).status_code == 204
    assert (await client.get(f"/api/v1/connections/{cid}")).status_code == 404


async def test_secrets_are_encrypted_at_rest(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    await client.post("/api/v1/connections", json=bpm_body("https://crm.example.com"))
    from tests.fixtures.app import execute

    rows = await execute(sessionmaker, "select params::text, secrets_encrypted from connections")
    params_text, encrypted = rows[0]
    assert SECRET not in params_text
    assert SECRET.encode() not in bytes(encrypted)


async def test_validation_names_every_bad_field(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    body = {"app": "bpmonline", "name": "x", "params": {"domain": "ftp://x", "auth": "kerberos", "password": "p"}}
    response = await client.post("/api/v1/connections", json=body)
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["details"]}
    assert {"params.domain", "params.auth", "params.password"} <= fields
    missing = await client.post(
        "/api/v1/connections",
        json={"app": "bpmonline", "name": "x", "params": {"domain": "https://x.example.com", "username": "u"}},
    )
    assert [d["field"] for d in missing.json()["error"]["details"]] == ["secrets.password"]
    unknown_app = await client.post("/api/v1/connections", json={"app": "nope", "name": "x"})
    assert unknown_app.json()["error"]["details"][0]["field"] == "app"


async def test_clearing_a_required_secret_is_refused(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    cid = (await client.post("/api/v1/connections", json=bpm_body("https://crm.example.com"))).json()["id"]
    response = await client.patch(f"/api/v1/connections/{cid}", json={"secrets": {"password": None}})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "secrets.password"


async def test_connections_are_walled_between_workspaces(client, sessionmaker):
    a = await make_workspace(sessionmaker, "A")
    b = await make_workspace(sessionmaker, "B")
    await login(client, b)
    b_id = (await client.post("/api/v1/connections", json=bpm_body("https://b.example.com"))).json()["id"]
    client.cookies.clear()
    await login(client, a)
    assert (await client.get("/api/v1/connections")).json()["items"] == []
    for method, path in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/test"),
        ("GET", "/entities"),
        ("GET", "/entities/Contact"),
    ]:
        kwargs = {"json": {"name": "stolen"}} if method == "PATCH" else {}
        response = await client.request(method, f"/api/v1/connections/{b_id}{path}", **kwargs)
        assert response.status_code == 404, (method, path, response.status_code)


async def test_viewer_cannot_create_or_test(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    viewer = await add_member(sessionmaker, owner.workspace_id, Role.viewer)
    await login(client, viewer)
    assert (await client.post("/api/v1/connections", json=bpm_body("https://x.example.com"))).status_code == 403


async def test_list_pages_with_a_cursor(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    for i in range(5):
        body = bpm_body(f"https://c{i}.example.com")
        body["name"] = f"c{i}"
        await client.post("/api/v1/connections", json=body)
    first = (await client.get("/api/v1/connections?limit=2")).json()
    second = (await client.get(f"/api/v1/connections?limit=2&cursor={first['next_cursor']}")).json()
    third = (await client.get(f"/api/v1/connections?limit=2&cursor={second['next_cursor']}")).json()
    names = [c["name"] for c in first["items"] + second["items"] + third["items"]]
    assert names == ["c4", "c3", "c2", "c1", "c0"]
    assert third["next_cursor"] is None
    assert (await client.get("/api/v1/connections?cursor=garbage")).status_code == 422


async def test_catalog_lists_apps_with_their_fields(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    apps = {a["key"]: a for a in (await client.get("/api/v1/apps")).json()["items"]}
    assert {"bpmonline", "webhook", "http_polling"} <= set(apps)
    bpm_fields = {f["name"]: f for f in apps["bpmonline"]["connection_fields"]}
    assert bpm_fields["domain"]["label"]["ru"] == "Домен"
    assert bpm_fields["password"]["secret"] is True
    assert "create_record" in {a["key"] for a in apps["bpmonline"]["actions"]}


# --- against the sandbox -------------------------------------------------------------------


async def test_sandbox_connection_tests_ok_and_lists_contact_fields(client, sessionmaker, sandbox):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    body = bpm_body(sandbox.base_url)
    body["secrets"] = {"password": sandbox.password}
    cid = (await client.post("/api/v1/connections", json=body)).json()["id"]
    result = await client.post(f"/api/v1/connections/{cid}/test")
    assert result.status_code == 200
    assert result.json()["ok"] is True, result.json()
    entities = {e["name"] for e in (await client.get(f"/api/v1/connections/{cid}/entities")).json()["items"]}
    assert {"Contact", "Account", "Lead"} <= entities
    contact = (await client.get(f"/api/v1/connections/{cid}/entities/Contact")).json()
    fields = {f["name"]: f for f in contact["fields"]}
    assert fields["Name"]["required"] is True
    assert fields["Email"]["type"] == "Edm.String"
    assert fields["AccountId"]["lookup_entity"] == "Account"
    assert fields["CreatedOn"]["read_only"] is True
    assert (await client.get(f"/api/v1/connections/{cid}/entities/Nope")).status_code == 404


async def test_wrong_password_is_reported_in_words(client, sessionmaker, sandbox):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    body = bpm_body(sandbox.base_url)
    body["secrets"] = {"password": "Zebra-Quartz-91"}
    cid = (await client.post("/api/v1/connections", json=body)).json()["id"]
    result = (await client.post(f"/api/v1/connections/{cid}/test")).json()
    assert result["ok"] is False
    assert result["stage"] == "login"
    assert "password" in result["message"].lower()
    assert "Zebra-Quartz-91" not in json.dumps(result)  # the secret itself is never echoed


async def test_a_private_address_is_refused_when_not_allow_listed(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    cid = (await client.post("/api/v1/connections", json=bpm_body("http://10.1.2.3:8080"))).json()["id"]
    result = (await client.post(f"/api/v1/connections/{cid}/test")).json()
    assert result["ok"] is False
    assert result["stage"] == "address"


async def test_an_empty_path_prefix_is_kept_for_dotnet_core_hosts(client, sessionmaker):
    owner = await make_workspace(sessionmaker)
    await login(client, owner)
    created = await client.post("/api/v1/connections", json=bpm_body("https://core.example.com", path_prefix=""))
    assert created.json()["params"]["path_prefix"] == ""


@pytest.mark.parametrize("domain", ["http://0177.0.0.1:9102", "http://[::1/"])
async def test_a_domain_the_client_cannot_request_is_422_on_the_field(client, sessionmaker, domain):
    await login(client, await make_workspace(sessionmaker))
    refused = await client.post("/api/v1/connections", json=bpm_body(domain))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "params.domain"


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("postgresql://u:p@db1:5432,db2:5432/app", "give one host in the connection string"),
        ("postgresql://u:p@db:port/app", "the port in the connection string is not a number"),
        ("oracle://u:p@db/app", "the connection string must start with postgresql://, mysql:// or mariadb://"),
    ],
)
async def test_a_connection_string_that_cannot_be_used_is_422_on_the_secret(client, sessionmaker, dsn, message):
    await login(client, await make_workspace(sessionmaker))
    body = {"app": "sql_polling", "name": "Shop DB", "params": {}, "secrets": {"dsn": dsn}}
    refused = await client.post("/api/v1/connections", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"] == [{"field": "secrets.dsn", "message": message, "code": "bad_dsn"}]
    created = await client.post("/api/v1/connections", json={**body, "secrets": {"dsn": "postgresql://u:p@db/app"}})
    assert created.status_code == 201, created.text
    patched = await client.patch(f"/api/v1/connections/{created.json()['id']}", json={"secrets": {"dsn": dsn}})
    assert patched.status_code == 422 and patched.json()["error"]["details"][0]["field"] == "secrets.dsn"
