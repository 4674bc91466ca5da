"""Per-bundle verification: a shared secret header or an HMAC-SHA256 of the body; a failure stores nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .conftest import GatewayClient, MakeBundle
from .support import bundle_row, events_of

SECRET = "whsec-0123456789abcdef"
HMAC_TRIGGER = {"verification": "hmac_sha256", "signature_header": "X-Signature"}


def sign(body: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


async def test_header_secret_accepts_the_right_secret_and_refuses_others(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(
        trigger={"verification": "header_secret", "signature_header": "X-Webhook-Secret"}, secret=SECRET
    )
    ok = await hook.post(f"/hooks/{token}", json={"a": 1}, headers={"X-Webhook-Secret": SECRET})
    assert ok.status_code == 202
    for headers in ({"X-Webhook-Secret": SECRET + "x"}, {"X-Webhook-Secret": ""}, {}, {"X-Other": SECRET}):
        response = await hook.post(f"/hooks/{token}", json={"a": 2}, headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["code"] == "unauthorized"
    assert [str(e.id) for e in await events_of(sm, bundle_id)] == [ok.json()["event_id"]]


@pytest.mark.parametrize(
    "encode",
    [
        lambda digest: digest.hex(),
        lambda digest: digest.hex().upper(),
        lambda digest: "sha256=" + digest.hex(),
        lambda digest: base64.b64encode(digest).decode(),
    ],
    ids=["hex", "HEX", "sha256=hex", "base64"],
)
async def test_hmac_signature_of_the_raw_body_is_accepted_in_every_common_encoding(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], encode: object
) -> None:
    bundle_id, token = await make_bundle(trigger=HMAC_TRIGGER, secret=SECRET)
    body = json.dumps({"name": "Иван", "amount": 10}).encode()
    signature = encode(sign(body))  # type: ignore[operator]
    response = await hook.post(
        f"/hooks/{token}", content=body, headers={"Content-Type": "application/json", "X-Signature": signature}
    )
    assert response.status_code == 202, response.text
    [event] = await events_of(sm, bundle_id)
    assert event.body == body


async def test_hmac_refuses_a_forged_body_a_wrong_key_and_a_missing_signature(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(trigger=HMAC_TRIGGER, secret=SECRET)
    body = b'{"amount": 10}'
    forged = b'{"amount": 10000}'
    cases = [
        (forged, sign(body).hex()),  # a valid signature of another body
        (body, sign(body, "other-secret").hex()),
        (body, "sha256=nothex"),
        (body, ""),
    ]
    for content, signature in cases:
        headers = {"Content-Type": "application/json", "X-Signature": signature}
        response = await hook.post(f"/hooks/{token}", content=content, headers=headers)
        assert response.status_code == 401, (content, signature)
        assert response.json()["error"]["code"] == "unauthorized"
    assert await events_of(sm, bundle_id) == []


async def test_verification_configured_without_a_secret_fails_closed(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(trigger=HMAC_TRIGGER, secret=None)
    body = b"{}"
    response = await hook.post(
        f"/hooks/{token}", content=body, headers={"Content-Type": "application/json", "X-Signature": sign(body).hex()}
    )
    assert response.status_code == 401
    assert await events_of(sm, bundle_id) == []


async def test_secret_is_encrypted_at_rest(make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]) -> None:
    bundle_id, _ = await make_bundle(trigger=HMAC_TRIGGER, secret=SECRET)
    stored = (await bundle_row(sm, bundle_id)).webhook_secret_encrypted
    assert stored is not None and SECRET.encode() not in stored
