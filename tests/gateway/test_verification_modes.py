"""Every verification mode through the real gateway, with hostile input: for each, the right value is
accepted and a wrong and a missing one are refused 401 with nothing stored. The universal webhook offers
every mode; test-only catalog entries add what only a catalog rule declares (a prefix, a fixed encoding,
built-in networks, a tolerance)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from bpmlink_gateway.app import create_app
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.kit.net import behind_proxies
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import BodySizeLimit
from tests.fixtures.app import make_settings

from .conftest import GatewayClient, MakeBundle
from .support import events_of, operations_of

SECRET = "whsec-0123456789abcdef"
BODY = json.dumps({"name": "Иван", "amount": 10}).encode()
JSON = {"Content-Type": "application/json"}


def digest(body: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def stamped(body: bytes, at: float, secret: str = SECRET) -> str:
    t = str(int(at))
    return f"t={t},v1={hmac.new(secret.encode(), t.encode() + b'.' + body, hashlib.sha256).hexdigest()}"


async def refused_all(
    hook: GatewayClient,
    url: str,
    attempts: list[dict[str, object]],
    sm: async_sessionmaker[AsyncSession],
    bundle_id: uuid.UUID,
) -> list[str]:
    reasons = []
    for attempt in attempts:
        response = await hook.post(url, **attempt)  # type: ignore[arg-type]
        assert response.status_code == 401, (attempt, response.text)
        error = response.json()["error"]
        assert error["code"] == "unauthorized" and error["message"].startswith("request verification failed")
        reasons.append(error["details"]["reason"])
    assert await events_of(sm, bundle_id) == []
    return reasons


async def test_timestamped_hmac_accepts_a_fresh_signature_and_refuses_replays_forgeries_and_absence(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    trigger = {"verification": "timestamped_hmac", "signature_header": "Calendly-Webhook-Signature"}
    bundle_id, token = await make_bundle(trigger=trigger, secret=SECRET)
    url, now = f"/hooks/{token}", time.time()
    header = "Calendly-Webhook-Signature"
    reasons = await refused_all(
        hook,
        url,
        [
            {"content": BODY, "headers": {**JSON, header: stamped(BODY, now - 3600)}},  # a replay an hour later
            {"content": BODY, "headers": {**JSON, header: stamped(BODY, now + 3600)}},  # from the future
            {"content": b'{"amount": 10000}', "headers": {**JSON, header: stamped(BODY, now)}},
            {"content": BODY, "headers": {**JSON, header: stamped(BODY, now, "other-secret")}},
            {"content": BODY, "headers": {**JSON, header: f"v1={digest(BODY).hex()}"}},  # no timestamp
            {"content": BODY, "headers": JSON},
        ],
        sm,
        bundle_id,
    )
    assert reasons == [
        "timestamp_out_of_tolerance",
        "timestamp_out_of_tolerance",
        "signature_mismatch",
        "signature_mismatch",
        "signature_malformed",
        "signature_missing",
    ]
    ok = await hook.post(url, content=BODY, headers={**JSON, header: stamped(BODY, now)})
    assert ok.status_code == 202, ok.text


@pytest.mark.usefixtures("test_apps")
async def test_timestamped_hmac_takes_any_of_several_signatures_within_its_tolerance(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(source_app="test_stamped", trigger_key="event", secret=SECRET)
    url, now = f"/hooks/{token}", time.time()
    # t=…,v1=old,v1=new,v1=older: the right one neither first nor last
    rotated = ",".join(
        [stamped(BODY, now, "old"), stamped(BODY, now).split(",")[1], stamped(BODY, now, "older").split(",")[1]]
    )
    assert (await hook.post(url, content=BODY, headers={**JSON, "Stripe-Signature": rotated})).status_code == 202
    late = stamped(BODY, now - 90)  # the app's tolerance is 60 s
    [reason] = await refused_all(
        hook, url, [{"content": BODY, "headers": {**JSON, "Stripe-Signature": late}}], sm, uuid.uuid4()
    )
    assert reason == "timestamp_out_of_tolerance"
    assert len(await events_of(sm, bundle_id)) == 1


@pytest.mark.usefixtures("test_apps")
async def test_hmac_with_a_declared_prefix_and_encoding_refuses_the_others(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(source_app="test_signed", trigger_key="event", secret=SECRET)
    url, header = f"/hooks/{token}", "X-Hub-Signature-256"
    await refused_all(
        hook,
        url,
        [
            {"content": BODY, "headers": {**JSON, header: digest(BODY).hex()}},  # no prefix
            {"content": BODY, "headers": {**JSON, header: "sha256=" + base64.b64encode(digest(BODY)).decode()}},
            {"content": BODY, "headers": {**JSON, header: "sha256=" + digest(BODY, "x").hex()}},
            {"content": BODY, "headers": {**JSON, "X-Signature": "sha256=" + digest(BODY).hex()}},
        ],
        sm,
        bundle_id,
    )
    ok = await hook.post(url, content=BODY, headers={**JSON, header: "SHA256=" + digest(BODY).hex().upper()})
    assert ok.status_code == 202, ok.text


async def test_body_secret_compares_the_field_of_the_parsed_body(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    trigger = {"verification": "body_secret", "secret_path": "auth.application_token"}
    bundle_id, token = await make_bundle(trigger=trigger, secret=SECRET)
    url, form = f"/hooks/{token}", {"Content-Type": "application/x-www-form-urlencoded"}
    reasons = await refused_all(
        hook,
        url,
        [
            {"content": b"event=ONCRMLEADADD&auth[application_token]=wrong", "headers": form},
            {"content": b"event=ONCRMLEADADD&auth[domain]=x.bitrix24.ru", "headers": form},
            {"content": b"event=ONCRMLEADADD&auth[application_token][0]=" + SECRET.encode(), "headers": form},
        ],
        sm,
        bundle_id,
    )
    assert reasons == ["secret_mismatch", "secret_missing", "secret_missing"]
    ok = await hook.post(url, content=b"event=ONCRMLEADADD&auth[application_token]=" + SECRET.encode(), headers=form)
    assert ok.status_code == 202
    [event] = await events_of(sm, bundle_id)
    assert event.item == {"event": "ONCRMLEADADD", "auth": {"application_token": "***"}}  # history never shows it
    [operation] = await operations_of(sm, bundle_id)
    assert SECRET not in json.dumps(operation.source_data)


async def test_query_token_compares_the_query_parameter(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(trigger={"verification": "query_token", "query_param": "key"}, secret=SECRET)
    reasons = await refused_all(
        hook,
        f"/hooks/{token}",
        [
            {"params": {"key": "wrong"}, "json": {"a": 1}},
            {"json": {"a": 1}},
            {"json": {"key": SECRET}},  # a body field of the name is not the query parameter
        ],
        sm,
        bundle_id,
    )
    assert reasons == ["secret_mismatch", "secret_missing", "secret_missing"]
    wrong = await hook.post(f"/hooks/{token}", params={"key": "wrong"}, json={})
    assert wrong.json()["error"]["details"] == {"reason": "secret_mismatch", "where": "query", "name": "key"}
    assert (await hook.post(f"/hooks/{token}", params={"key": SECRET, "b": "2"}, json={"a": 1})).status_code == 202
    [event] = await events_of(sm, bundle_id)
    assert event.item == {"key": "***", "b": "2", "a": 1}
    assert event.request["query"] == "key=***&b=2"


async def test_a_mode_that_needs_a_secret_refuses_everything_while_none_is_set(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    for mode in ("header_secret", "hmac_sha256", "timestamped_hmac", "body_secret", "query_token"):
        bundle_id, token = await make_bundle(trigger={"verification": mode})
        [reason] = await refused_all(hook, f"/hooks/{token}", [{"json": {"secret": ""}}], sm, bundle_id)
        assert reason == "secret_not_set", mode


@asynccontextmanager
async def gateway_seen_from(settings: Settings, peer: str) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as uvicorn serves it (X-Forwarded-For believed only from BPMLINK_TRUSTED_PROXIES: the same
    ProxyHeadersMiddleware), for a request whose TCP peer is `peer`."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        served = behind_proxies(BodySizeLimit(app, settings.max_request_bytes), settings)
        transport = httpx.ASGITransport(app=served, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            yield client


@pytest.fixture
def proxied(settings: Settings) -> Settings:
    return make_settings(settings.database_url, settings.redis_url, BPMLINK_TRUSTED_PROXIES="10.9.0.0/16")


YANDEX = "2a02:6b8:c0e:500:1:45:d181:d00b"


@pytest.mark.usefixtures("test_apps")
async def test_address_takes_the_apps_ipv6_networks_and_the_users_own(
    proxied: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(
        source_app="test_addressed", trigger_key="event", trigger={"extra": "203.0.113.0/24\n2001:db8::/32"}
    )
    url = f"/hooks/{token}"
    for peer in (YANDEX, "203.0.113.7", "::ffff:203.0.113.8", "2001:db8::1"):
        async with gateway_seen_from(proxied, peer) as client:
            response = await client.post(url, json={"peer": peer})
            assert response.status_code == 202, (peer, response.text)
    for peer in ("198.51.100.1", "2a02:6b9::1", "2001:db9::1"):
        async with gateway_seen_from(proxied, peer) as client:
            response = await client.post(url, json={"peer": peer})
            assert response.status_code == 401, peer
            assert response.json()["error"]["details"] == {"reason": "address_not_allowed", "address": peer}
    assert sorted(e.item["peer"] for e in await events_of(sm, bundle_id)) == sorted(
        [YANDEX, "203.0.113.7", "::ffff:203.0.113.8", "2001:db8::1"]
    )


@pytest.mark.usefixtures("test_apps")
async def test_address_believes_x_forwarded_for_only_from_a_trusted_proxy(
    proxied: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(source_app="test_addressed", trigger_key="event")
    forged = {"X-Forwarded-For": YANDEX}
    async with gateway_seen_from(proxied, "198.51.100.1") as client:  # an untrusted peer claims Yandex's address
        response = await client.post(f"/hooks/{token}", json={"via": "forged"}, headers=forged)
    assert response.status_code == 401
    assert response.json()["error"]["details"]["address"] == "198.51.100.1"
    async with gateway_seen_from(proxied, "10.9.0.5") as client:  # the deployment's proxy says who sent it
        response = await client.post(f"/hooks/{token}", json={"via": "proxy"}, headers=forged)
        assert response.status_code == 202, response.text
        direct = await client.post(f"/hooks/{token}", json={"via": "proxy alone"})
        assert direct.status_code == 401  # the proxy's own address is not the sender's network
    assert [e.item["via"] for e in await events_of(sm, bundle_id)] == ["proxy"]


async def test_address_without_any_network_refuses_everything(
    proxied: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(trigger={"verification": "address"})
    async with gateway_seen_from(proxied, YANDEX) as client:
        response = await client.post(f"/hooks/{token}", json={})
    assert response.status_code == 401
    assert response.json()["error"]["details"]["reason"] == "networks_not_set"
    assert await events_of(sm, bundle_id) == []


async def test_a_stored_config_naming_an_unknown_mode_refuses_every_request(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    """The API refuses such a config (422); one written before, or by hand, fails closed rather than open."""
    bundle_id, token = await make_bundle(trigger={"verification": "md5"}, secret=SECRET)
    [reason] = await refused_all(hook, f"/hooks/{token}", [{"json": {"a": 1}}], sm, bundle_id)
    assert reason == "verification_unknown"
