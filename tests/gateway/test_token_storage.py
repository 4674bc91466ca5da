"""Webhook tokens are credentials: the database holds their SHA-256 and the token encrypted, never the token.

Through the api and the gateway together: the bundle read shows the full URL, the gateway takes the
request by the token's hash, no column of the bundle's row contains the token, and regenerating the
token moves the URL (the old one answers 404, the new one 202) with the same storage.
"""

from __future__ import annotations

import hashlib
import uuid

import httpx
from sqlalchemy import text

from bpmlink.kit.settings import Settings
from tests.fixtures.pipeline import make_bundle

from .conftest import running_gateway


async def _stored_row(sessionmaker, bundle_id: str) -> tuple[str, str | None]:
    """The bundle's whole row as text, and its token hash."""
    async with sessionmaker() as session:
        row = (
            await session.execute(
                text("SELECT b::text, b.webhook_token_hash FROM bundles b WHERE id = :id"), {"id": uuid.UUID(bundle_id)}
            )
        ).one()
    return row[0], row[1]


def _token(url: str) -> str:
    return url.rsplit("/hooks/", 1)[1]


async def test_the_url_is_shown_and_served_but_the_token_is_not_stored(
    client: httpx.AsyncClient, owner, connection_id: str, sessionmaker, settings: Settings
) -> None:
    bundle = await make_bundle(client, connection_id)
    token = _token(bundle["webhook_url"])
    row, token_hash = await _stored_row(sessionmaker, bundle["id"])
    assert token not in row
    assert token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()["webhook_url"] == bundle["webhook_url"]
    async with running_gateway(settings) as hook:
        assert (await hook.post(f"/hooks/{token}", json={"email": "a@b.example"})).status_code == 202
        assert (await hook.post(f"/hooks/{token_hash}", json={"email": "a@b.example"})).status_code == 404

    regenerated = (await client.post(f"/api/v1/bundles/{bundle['id']}/regenerate-token")).json()
    new_token = _token(regenerated["webhook_url"])
    assert new_token != token
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()["webhook_url"] == regenerated["webhook_url"]
    row, token_hash = await _stored_row(sessionmaker, bundle["id"])
    assert new_token not in row and token_hash == hashlib.sha256(new_token.encode()).hexdigest()
    async with running_gateway(settings) as hook:
        assert (await hook.post(f"/hooks/{token}", json={"n": 1})).status_code == 404
        assert (await hook.post(f"/hooks/{new_token}", json={"n": 1})).status_code == 202
