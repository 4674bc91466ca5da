"""Tenants are walled (invariant 6) and secrets stay secret (invariant 5), checked by brute force.

- Workspace A's API key is sent to every route of the OpenAPI document that takes an id, with workspace
  B's ids filled in (new routes are covered as they appear): nothing answers 2xx, ids answer 404 in the
  error shape, and B's resources are unchanged afterwards.
- A full run in B (connection with a unique password, test, discovery, bundle, preview, an event processed,
  a failed login on a wrong password) is recorded: every API response, every log record at DEBUG and every
  history row are searched for the password and the API key by value.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import httpx
import pytest
from bpmlink_worker.process import process_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.fixtures.accounts import api_key_client, login, make_workspace
from tests.fixtures.pipeline import make_bundle, post_event

FOREIGN = "00000000-0000-4000-8000-000000000000"


async def _workspace_b(client: httpx.AsyncClient, sm: async_sessionmaker[AsyncSession], sandbox: Any,
                       worker_ctx: dict[str, Any], password: str) -> dict[str, str]:
    """B's resources through its own session: connection, bundle, key, an operation; returns the ids."""
    owner = await make_workspace(sm, "B")
    await login(client, owner)
    sandbox.add_user(f"sec-{password[-6:]}", password)
    body = {"app": "bpmonline", "name": "B CRM",
            "params": {"domain": sandbox.base_url, "auth": "forms", "username": f"sec-{password[-6:]}"},
            "secrets": {"password": password}}
    connection = await client.post("/api/v1/connections", json=body)
    assert connection.status_code == 201, connection.text
    cid = connection.json()["id"]
    assert (await client.post(f"/api/v1/connections/{cid}/test")).json()["ok"] is True
    assert (await client.get(f"/api/v1/connections/{cid}/entities/Contact")).status_code == 200
    bundle = await make_bundle(client, cid, name="B leads")
    event_id = await post_event(sm, bundle["id"], {"first_name": "Bea", "last_name": "B", "email": "bea@example.com"})
    assert await process_event(worker_ctx, str(event_id)) == "created"
    ops = (await client.get(f"/api/v1/bundles/{bundle['id']}/operations")).json()["items"]
    key = await client.post("/api/v1/api-keys", json={"name": "B script"})
    invitation = await client.post("/api/v1/invitations", json={"email": f"b-{uuid.uuid4().hex[:6]}@example.com"})
    users = (await client.get("/api/v1/users")).json()
    user_items = users["items"] if isinstance(users, dict) else users
    return {"connection_id": cid, "bundle_id": bundle["id"], "operation_id": ops[0]["id"],
            "key_id": key.json()["id"], "user_id": str(user_items[0]["id"]), "entity": "Contact",
            "import_id": FOREIGN, "owner_email": owner.email, "invitation_id": invitation.json()["id"]}


async def test_a_key_of_workspace_a_reaches_nothing_of_workspace_b(
    app: Any, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], sandbox: Any,
    worker_ctx: dict[str, Any],
) -> None:
    b = await _workspace_b(client, sessionmaker, sandbox, worker_ctx, f"B-pass-{uuid.uuid4().hex}")
    b_snapshot = {path: (await client.get(path)).json() for path in
                  (f"/api/v1/bundles/{b['bundle_id']}", f"/api/v1/connections/{b['connection_id']}")}
    a_owner = await make_workspace(sessionmaker, "A")
    spec = (await client.get("/api/openapi.json")).json()
    checked = 0
    async with await api_key_client(app, a_owner, sessionmaker) as a:
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                names = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
                # A link token (invitation, reset) is a capability for a public page, not a workspace's id.
                if not names or names == ["token"]:
                    continue
                missing = [n for n in names if n not in b]
                assert not missing, f"{method.upper()} {path}: no B value for {missing} — extend the test"
                url = path.format(**{n: b[n] for n in names})
                kwargs: dict[str, Any] = {"json": {}} if "requestBody" in op else {}
                response = await a.request(method.upper(), url, **kwargs)
                checked += 1
                where = f"{method.upper()} {path} → {response.status_code} {response.text[:200]}"
                assert response.status_code < 500, where
                assert not 200 <= response.status_code < 300, where
                # A body that fails validation may answer 400/422 before the lookup; an id answers 404.
                assert response.status_code in ((400, 404, 422) if kwargs else (404,)), where
                assert "error" in response.json(), where
                # ...and exactly as for an id that exists nowhere: no oracle for B's ids.
                unknown = path.format(**{n: (b[n] if n == "entity" else FOREIGN) for n in names})
                assert (await a.request(method.upper(), unknown, **kwargs)).status_code == response.status_code, where
        # Lists and stats of A show nothing of B, even when B's id is passed as a filter.
        # Each id of B that some list could carry: a key entry has its id and name, never a bundle's.
        foreign = [b[n] for n in ("bundle_id", "connection_id", "owner_email", "key_id", "user_id", "invitation_id")]
        lists = ("/api/v1/bundles", "/api/v1/connections", "/api/v1/api-keys", "/api/v1/users", "/api/v1/invitations")
        for path in lists:
            listed = (await a.get(path)).text
            assert [value for value in foreign if value in listed] == [], path
        stats = await a.get("/api/v1/stats", params={"bundle_id": b["bundle_id"]})
        assert stats.status_code in (200, 404)
        if stats.status_code == 200:
            assert not stats.json()["items"], stats.text
    assert checked >= 20, f"only {checked} routes with ids in the OpenAPI document?"
    for path, before in b_snapshot.items():  # B's resources survived every write A attempted
        after = (await client.get(path)).json()
        assert after == before


async def test_secrets_are_absent_from_responses_logs_and_history(
    app: Any, client: httpx.AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], sandbox: Any,
    worker_ctx: dict[str, Any], caplog: pytest.LogCaptureFixture,
) -> None:
    password = f"Zq-{uuid.uuid4().hex}"
    bodies: list[str] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        bodies.append(f"{response.headers}\n{response.text}")

    client.event_hooks["response"].append(keep)
    caplog.set_level(logging.DEBUG)
    b = await _workspace_b(client, sessionmaker, sandbox, worker_ctx, password)
    key = (await client.post("/api/v1/api-keys", json={"name": "once"})).json()["key"]
    # The password changes on the bpm'online side: a failed login and a failed operation are recorded too.
    connection = f"/api/v1/connections/{b['connection_id']}"
    bad = await client.patch(connection, json={"secrets": {"password": password[::-1]}})
    assert bad.status_code == 200, bad.text
    await client.post(f"/api/v1/connections/{b['connection_id']}/test")
    await client.patch(f"/api/v1/connections/{b['connection_id']}", json={"secrets": {"password": password}})
    event_id = await post_event(sessionmaker, b["bundle_id"], {"first_name": "S", "last_name": "S",
                                                              "email": "s@example.com", "note": "hello"})
    await process_event(worker_ctx, str(event_id))
    for path in (f"/api/v1/connections/{b['connection_id']}", f"/api/v1/bundles/{b['bundle_id']}/operations",
                 f"/api/v1/operations/{b['operation_id']}", "/api/v1/connections", "/api/v1/api-keys"):
        assert (await client.get(path)).status_code == 200

    async with sessionmaker() as session:
        rows = (await session.execute(text(
            "SELECT row_to_json(s)::text FROM steps s UNION ALL SELECT row_to_json(o)::text FROM operations o "
            "UNION ALL SELECT row_to_json(e)::text FROM events e "
            "UNION ALL SELECT params::text || secret_names::text FROM connections"))).scalars().all()
    logs = "\n".join(f"{r.getMessage()} {r.args!r} {getattr(r, '__dict__', {})!r}" for r in caplog.records)
    assert len(bodies) > 10 and len(rows) > 3 and logs
    # The key is shown exactly once: in the answer that created it.
    assert sum(key in body for body in bodies) == 1
    for secret in (password, password[::-1]):
        assert not [body for body in bodies if secret in body], "a response carries the password"
        assert secret not in logs, "a log record carries the password"
        assert not [row for row in rows if secret in row], "history or connection rows carry the password"
    assert key not in logs and not [row for row in rows if key in row]
    assert json.dumps(password)[1:-1] not in logs  # nor its JSON-escaped form
