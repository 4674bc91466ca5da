"""The wizard's traps, through the API: a bundle with a required field unmapped is saved as an
incomplete draft and refused at start naming the step and the field; a polling source's connection
test really asks the source (never "working" without a check), and its result stays on the
connection."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from tests.api.step_bodies import contact_step, steps_body
from tests.fixtures.pipeline import bundle_body

EMAIL_ONLY = [{"target": "Email", "source": "email"}]


async def test_a_bundle_without_its_required_name_saves_incomplete_and_is_refused_at_start(
    client, owner, connection_id
):
    body = steps_body([contact_step(connection_id, mapping=EMAIL_ONLY)])
    saved = await client.post("/api/v1/bundles", json=body)
    assert saved.status_code == 201, saved.text
    bundle = saved.json()
    assert bundle["incomplete"] is True
    assert bundle["missing"] == [{"step": "contact", "field": "Name"}]
    assert [r["target"] for r in bundle["steps"][0]["mapping"]] == ["Email"]  # no placeholder rule

    refused = await client.post(f"/api/v1/bundles/{bundle['id']}/start", headers={"Accept-Language": "ru"})
    assert refused.status_code == 422, refused.text
    (detail,) = refused.json()["error"]["details"]
    assert detail["code"] == "step_fields_unmapped" and detail["field"] == "steps.0.mapping"
    assert detail["params"] == {"step": "Контакт", "fields": "Name", "count": 1}
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()["status"] == "stopped"

    mapped = steps_body([contact_step(connection_id, mapping=[*EMAIL_ONLY, {"target": "Name", "source": "name"}])])
    fixed = (await client.put(f"/api/v1/bundles/{bundle['id']}", json=mapped)).json()
    assert fixed["incomplete"] is False and fixed["missing"] == []
    started = await client.post(f"/api/v1/bundles/{bundle['id']}/start")
    assert started.status_code == 200 and started.json()["status"] == "waiting"


async def test_a_complete_bundle_is_not_incomplete(client, owner, connection_id):
    bundle = (await client.post("/api/v1/bundles", json=bundle_body(connection_id))).json()
    assert bundle["incomplete"] is False and bundle["missing"] == []


async def _test(client, body: dict) -> tuple[dict, dict]:
    cid = (await client.post("/api/v1/connections", json=body)).json()["id"]
    result = (await client.post(f"/api/v1/connections/{cid}/test")).json()
    listed = {c["id"]: c for c in (await client.get("/api/v1/connections")).json()["items"]}
    return result, listed[cid]


async def test_an_http_api_connection_is_tested_by_a_request_to_its_base_url(client, owner, sandbox):
    body = {"app": "http_polling", "name": "API", "params": {"base_url": sandbox.base_url, "auth": "none"}}
    result, listed = await _test(client, body)
    assert result["ok"] is True and result["code"] == "url_answered", result
    assert listed["last_test"]["ok"] is True and listed["last_test"]["at"]

    closed = {**body, "params": {"base_url": "http://127.0.0.1:9/api", "auth": "none"}}  # discard port: nothing listens
    result, listed = await _test(client, closed)
    assert result["ok"] is False and result["code"] == "probe_connect_failed", result
    assert listed["last_test"]["ok"] is False and listed["last_test"]["code"] == "probe_connect_failed"


async def test_a_sql_connection_is_tested_by_select_1_and_a_wrong_password_fails(client, owner):
    dsn = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    body = {"app": "sql_polling", "name": "DB", "params": {}, "secrets": {"dsn": dsn}}
    result, listed = await _test(client, body)
    assert result["ok"] is True and result["code"] == "sql_answered", result
    parts = urlsplit(dsn)
    wrong = urlunsplit(parts._replace(netloc=f"nobody:wrong@{parts.hostname}:{parts.port or 5432}"))
    result, listed = await _test(client, {**body, "secrets": {"dsn": wrong}})
    assert result["ok"] is False and result["code"] == "probe_connect_failed", result
    assert listed["last_test"]["ok"] is False


async def test_a_mysql_connection_is_not_called_working_unchecked(client, owner):
    body = {"app": "sql_polling", "name": "My", "params": {}, "secrets": {"dsn": "mysql://u:p@127.0.0.1:9/app"}}
    result, _ = await _test(client, body)
    assert result["ok"] is False and result["stage"] == "unchecked"
    assert result["code"] == "connection_checked_at_first_poll"
