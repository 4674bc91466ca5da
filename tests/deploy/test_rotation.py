"""Secret key rotation: a new BPMLINK_SECRET_KEY with the old one kept for decryption, then `bpmlink rotate-secrets`.

Secrets are written through the api under key A; the processes then restart (here: a new SecretBox)
with key B and A as previous, and must still read them; after `rotate-secrets` (run as the real command,
in a subprocess) key B alone reads them. The api never shows a secret under any of these keys.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bpmlink.db.models import Bundle, Connection
from bpmlink.kit.logs import ContextFilter, JsonFormatter, RedactingFilter, known_secrets
from bpmlink.kit.security import SecretBox
from bpmlink.kit.settings import Settings
from bpmlink.webhooks import decrypt_webhook_secret
from tests.fixtures.app import TEST_SECRET_KEY, make_settings
from tests.fixtures.pipeline import bundle_body
from tests.gateway.conftest import running_gateway

KEY_A = TEST_SECRET_KEY
KEY_B = "the-new-secret-key-for-rotation-0123456789-xyz"
HOOK_SECRET = "hook-secret-value-42"
PASSWORD = "R0tation-pass-xyz-42"  # the sandbox's default password equals its user name: too common to search for


@pytest.fixture
async def connection_id(client: httpx.AsyncClient, owner: Any, sandbox: Any) -> str:
    sandbox.add_user("rotation.user", PASSWORD)
    body = {
        "app": "bpmonline",
        "name": "Sandbox",
        "params": {"domain": sandbox.base_url, "auth": "forms", "username": "rotation.user"},
        "secrets": {"password": PASSWORD},
    }
    response = await client.post("/api/v1/connections", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _settings(base: Settings, key: str, previous: str = "") -> Settings:
    return make_settings(
        base.database_url, base.redis_url, BPMLINK_SECRET_KEY=key, BPMLINK_SECRET_KEY_PREVIOUS=previous
    )


def _rotate(base: Settings, key: str, previous: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BPMLINK_ENV": "test",
        "DATABASE_URL": base.database_url,
        "REDIS_URL": base.redis_url,
        "BPMLINK_SECRET_KEY": key,
        "BPMLINK_SECRET_KEY_PREVIOUS": previous,
    }
    return subprocess.run(
        [sys.executable, "-m", "bpmlink.cli", "rotate-secrets", "--batch-size", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _stored(sessionmaker: Any, connection_id: str, bundle_id: str) -> tuple[bytes, bytes]:
    async with sessionmaker() as session:
        secrets = await session.scalar(
            select(Connection.secrets_encrypted).where(Connection.id == uuid.UUID(connection_id))
        )
        hook = await session.scalar(select(Bundle.webhook_secret_encrypted).where(Bundle.id == uuid.UUID(bundle_id)))
    assert secrets and hook
    return secrets, hook


async def _assert_api_shows_no_secret(
    client: httpx.AsyncClient, connection_id: str, bundle_id: str, sandbox: Any
) -> None:
    for path in (
        "/api/v1/connections",
        f"/api/v1/connections/{connection_id}",
        "/api/v1/bundles",
        f"/api/v1/bundles/{bundle_id}",
    ):
        response = await client.get(path)
        assert response.status_code == 200, response.text
        for secret in (PASSWORD, HOOK_SECRET, KEY_A, KEY_B):
            assert secret not in response.text, (path, secret)
    assert (await client.get(f"/api/v1/connections/{connection_id}")).json()["secrets_set"] == ["password"]


async def test_rotation_from_key_a_to_key_b(
    app: Any, client: httpx.AsyncClient, sessionmaker: Any, settings: Settings, connection_id: str, sandbox: Any
) -> None:
    body = bundle_body(connection_id, webhook_secret=HOOK_SECRET)
    body["source"]["config"] = {"verification": "header_secret", "signature_header": "X-Hook-Key"}
    created = await client.post("/api/v1/bundles", json=body)
    assert created.status_code == 201, created.text
    bundle_id, token = created.json()["id"], created.json()["webhook_url"].rsplit("/", 1)[1]
    assert (await client.post(f"/api/v1/bundles/{bundle_id}/start")).status_code == 200
    secrets_a, hook_a = await _stored(sessionmaker, connection_id, bundle_id)
    await _assert_api_shows_no_secret(client, connection_id, bundle_id, sandbox)

    # A restart with key B alone cannot read what A wrote (nothing silently decrypts with the wrong key) …
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox(_settings(settings, KEY_B)).decrypt(secrets_a)
    # … so a gateway started with B alone refuses the signed webhook (fails closed) and logs why, naming the bundle.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(known_secrets(_settings(settings, KEY_B, KEY_A))))
    logging.getLogger("bpmlink.gateway").addHandler(handler)
    try:
        async with running_gateway(_settings(settings, KEY_B)) as gateway:
            refused = await gateway.post(f"/hooks/{token}", json={"a": 1}, headers={"X-Hook-Key": HOOK_SECRET})
    finally:
        logging.getLogger("bpmlink.gateway").removeHandler(handler)
    assert refused.status_code == 401
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any("cannot be decrypted" in line["message"] and line["bundle_id"] == bundle_id for line in logged), logged
    assert all(secret not in stream.getvalue() for secret in (HOOK_SECRET, KEY_A, KEY_B, token))
    # … with A kept as previous it can: the api tests the connection (a real login) and the gateway verifies.
    both = _settings(settings, KEY_B, f"  {KEY_A} ,unused-old-key-0123456789")
    assert both.fernet_keys()[0] == _settings(settings, KEY_B).fernet_key() and len(both.fernet_keys()) == 3
    app.app.state.secret_box = SecretBox(both)
    tested = await client.post(f"/api/v1/connections/{connection_id}/test")
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text
    await _assert_api_shows_no_secret(client, connection_id, bundle_id, sandbox)
    async with running_gateway(both) as gateway:
        ok = await gateway.post(f"/hooks/{token}", json={"email": "a@b.c"}, headers={"X-Hook-Key": HOOK_SECRET})
        assert ok.status_code == 202, ok.text
        bad = await gateway.post(f"/hooks/{token}", json={"email": "a@b.c"}, headers={"X-Hook-Key": "wrong-one"})
        assert bad.status_code == 401

    # A cached bpm'online session (encrypted under A) is dropped by the rotation.
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    try:
        await redis.set(f"bpmlink:bpmonline:session:{connection_id}:fingerprint", b"ciphertext-under-key-a")
        rotated = _rotate(settings, KEY_B, KEY_A)
        assert rotated.returncode == 0, rotated.stderr
        assert "connections.secrets_encrypted: 1 re-encrypted, 0 already current, 0 unreadable" in rotated.stdout
        assert "bundles.webhook_secret_encrypted: 1 re-encrypted" in rotated.stdout
        assert await redis.keys("bpmlink:bpmonline:session:*") == []
    finally:
        await redis.aclose()
    for secret in (PASSWORD, HOOK_SECRET, KEY_A, KEY_B):
        assert secret not in rotated.stdout + rotated.stderr

    # Now B alone reads everything, A alone reads nothing; a second run changes nothing.
    secrets_b, hook_b = await _stored(sessionmaker, connection_id, bundle_id)
    assert secrets_b != secrets_a and hook_b != hook_a
    only_b = SecretBox(_settings(settings, KEY_B))
    assert only_b.decrypt(secrets_b) == {"password": PASSWORD}
    assert decrypt_webhook_secret(only_b, hook_b) == HOOK_SECRET
    with pytest.raises(ValueError):
        SecretBox(_settings(settings, KEY_A)).decrypt(secrets_b)
    again = _rotate(settings, KEY_B, KEY_A)
    assert again.returncode == 0 and "connections.secrets_encrypted: 0 re-encrypted, 1 already current" in again.stdout
    assert await _stored(sessionmaker, connection_id, bundle_id) == (secrets_b, hook_b)

    app.app.state.secret_box = only_b
    tested = await client.post(f"/api/v1/connections/{connection_id}/test")
    assert tested.status_code == 200 and tested.json()["ok"] is True, tested.text
    await _assert_api_shows_no_secret(client, connection_id, bundle_id, sandbox)
    async with running_gateway(_settings(settings, KEY_B)) as gateway:
        ok = await gateway.post(f"/hooks/{token}", json={"email": "a@b.c"}, headers={"X-Hook-Key": HOOK_SECRET})
        assert ok.status_code == 202, ok.text


async def test_rotation_reports_secrets_no_key_reads(
    app: Any, client: httpx.AsyncClient, sessionmaker: Any, settings: Settings, connection_id: str
) -> None:
    # Written under A, rotated with B and no previous key: unreadable, left as it is, and the exit code says so.
    async with sessionmaker() as session:
        before = await session.scalar(select(Connection.secrets_encrypted))
    result = _rotate(settings, KEY_B)
    assert result.returncode == 1
    assert "connections.secrets_encrypted: 0 re-encrypted, 0 already current, 1 unreadable" in result.stdout
    async with sessionmaker() as session:
        assert await session.scalar(select(Connection.secrets_encrypted)) == before
