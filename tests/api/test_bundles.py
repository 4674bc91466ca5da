from bpmlink.db.models import Role
from tests.fixtures.accounts import add_member, login, make_workspace
from tests.fixtures.pipeline import bundle_body, make_bundle


async def test_create_bundle_answers_status_version_and_webhook_url(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id, start=False)
    assert bundle["status"] == "stopped"
    assert bundle["config_version"] == 1
    assert bundle["webhook_url"].startswith("http") and "/hooks/" in bundle["webhook_url"]
    assert bundle["mapping"][0]["target"] == "Name"
    started = (await client.post(f"/api/v1/bundles/{bundle['id']}/start")).json()
    assert started["status"] == "waiting"
    stopped = (await client.post(f"/api/v1/bundles/{bundle['id']}/stop")).json()
    assert stopped["status"] == "stopped"
    listed = (await client.get("/api/v1/bundles")).json()["items"]
    assert [b["id"] for b in listed] == [bundle["id"]]


async def test_validation_names_each_bad_field(client, owner, connection_id):
    body = bundle_body(
        connection_id,
        mapping=[
            {"target": "Emial", "source": "email"},
            {"target": "MobilePhone", "source": "phone"},
        ],
        dedup={"mode": "update_if_found", "match_fields": ["Phone"]},
    )
    response = await client.post("/api/v1/bundles", json=body)
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    # a round-1 body is the step `main`: its problems are named in the step (steps.0); the unmapped
    # required Name does not refuse a save (the bundle is saved incomplete, refused at start)
    assert {d["field"] for d in details} == {"steps.0.mapping.Emial", "steps.0.dedup.Phone"}
    codes = {d["field"]: (d["code"], d["loc"]) for d in details if d["field"] != "steps.0.dedup.Phone"}
    assert codes == {"steps.0.mapping.Emial": ("field_unknown", ["body", "steps", 0, "mapping", "Emial"])}


async def test_source_and_entity_must_exist(client, owner, connection_id):
    bad_trigger = bundle_body(connection_id, source={"app": "webhook", "trigger": "nope"})
    response = await client.post("/api/v1/bundles", json=bad_trigger)
    assert response.json()["error"]["details"][0]["field"] == "source.trigger"
    bad_entity = bundle_body(connection_id, target={"connection_id": connection_id, "entity": "Nope"})
    response = await client.post("/api/v1/bundles", json=bad_entity)
    assert response.json()["error"]["details"][0]["field"] == "steps.0.entity"
    assert response.json()["error"]["details"][0]["code"] == "entity_unknown"


async def test_editing_creates_a_new_config_version(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id)
    body = bundle_body(connection_id, name="Renamed")
    updated = (await client.put(f"/api/v1/bundles/{bundle['id']}", json=body)).json()
    assert updated["config_version"] == 2 and updated["name"] == "Renamed"
    same = (await client.put(f"/api/v1/bundles/{bundle['id']}", json=body)).json()
    assert same["config_version"] == 2  # nothing changed, no new version


async def test_preview_maps_the_sample_without_sending(client, owner, connection_id, sandbox):
    bundle = await make_bundle(client, connection_id, start=False)
    sample = {"first_name": "Анна", "last_name": "O'Brien", "email": " Anna@Example.COM ", "phone": "8 (912) 345-67-89"}
    assert (await client.post(f"/api/v1/bundles/{bundle['id']}/sample", json={"item": sample})).status_code == 200
    fields = (await client.get(f"/api/v1/bundles/{bundle['id']}/sample")).json()["fields"]
    assert {"path": "email", "value": " Anna@Example.COM "} in fields
    sandbox.reset_counts()
    preview = (await client.post(f"/api/v1/bundles/{bundle['id']}/preview")).json()
    assert preview["values"] == {"Name": "Анна O'Brien", "Email": "anna@example.com", "MobilePhone": "+79123456789"}
    assert preview["errors"] == []
    writes = {k: v for k, v in sandbox.counts()["requests"].items() if k.split()[0] in ("POST", "PATCH", "DELETE")}
    assert all("Login" in k for k in writes), writes


async def test_bundles_are_walled_between_workspaces(client, owner, connection_id, sessionmaker):
    bundle = await make_bundle(client, connection_id)
    other = await make_workspace(sessionmaker, "Other")
    client.cookies.clear()
    await login(client, other)
    assert (await client.get("/api/v1/bundles")).json()["items"] == []
    bid = bundle["id"]
    for method, path in [
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/start"),
        ("POST", "/stop"),
        ("GET", "/sample"),
        ("POST", "/preview"),
        ("GET", "/operations"),
        ("POST", "/operations/replay"),
    ]:
        response = await client.request(method, f"/api/v1/bundles/{bid}{path}")
        assert response.status_code == 404, (method, path)
    # and a bundle of B cannot point at A's connection
    response = await client.post("/api/v1/bundles", json=bundle_body(connection_id))
    detail = response.json()["error"]["details"][0]
    assert (detail["field"], detail["code"]) == ("steps.0.connection_id", "connection_unknown")


async def test_viewer_reads_bundles_but_cannot_start_them(client, owner, connection_id, sessionmaker):
    bundle = await make_bundle(client, connection_id, start=False)
    viewer = await add_member(sessionmaker, owner.workspace_id, Role.viewer)
    client.cookies.clear()
    await login(client, viewer)
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).status_code == 200
    assert (await client.post(f"/api/v1/bundles/{bundle['id']}/start")).status_code == 403


async def test_deleted_bundle_disappears_from_the_list(client, owner, connection_id):
    bundle = await make_bundle(client, connection_id)
    assert (await client.delete(f"/api/v1/bundles/{bundle['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).status_code == 404
    assert (await client.get("/api/v1/bundles")).json()["items"] == []
    assert (await client.delete(f"/api/v1/connections/{connection_id}")).status_code == 204


async def test_preview_tries_an_unsaved_mapping_without_saving_it(client, owner, connection_id, sandbox):
    bundle = await make_bundle(client, connection_id, start=False)
    sample = {"first_name": "Ann", "last_name": "Lee", "email": "ANN@example.com", "phone": ""}
    draft = [{"target": "Name", "constant": "Draft"}, {"target": "Email", "source": "email", "convert": ["lower"]}]
    preview = await client.post(f"/api/v1/bundles/{bundle['id']}/preview", json={"item": sample, "mapping": draft})
    assert preview.json()["values"] == {"Name": "Draft", "Email": "ann@example.com"}
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()["config_version"] == 1
    bad = await client.post(
        f"/api/v1/bundles/{bundle['id']}/preview", json={"item": sample, "mapping": [{"target": "Nope", "source": "x"}]}
    )
    assert bad.json()["errors"][0]["field"] == "Nope"
