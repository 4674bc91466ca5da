"""The hot path (`HookEndpoint`, taken before FastAPI) answers exactly what the FastAPI route answers.

Each request is sent twice, once through each, on the same running gateway; status, headers (but the
request id) and body must match (the event id of a 202 is compared by shape).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from bpmlink_gateway import ratelimit
from bpmlink_gateway.app import GatewayApp, create_app
from bpmlink_gateway.endpoints import HookEndpoint
from prometheus_client import REGISTRY
from starlette.types import Message

from bpmlink.db.models import BundleStatus
from bpmlink.kit.settings import Settings
from bpmlink.kit.web import BodySizeLimit
from tests.fixtures.app import make_settings

from .conftest import MakeBundle


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[GatewayApp]:
    limited = make_settings(
        settings.database_url, settings.redis_url, BPMLINK_HOOK_RATE_PER_MINUTE=2, BPMLINK_MAX_REQUEST_BYTES=4096
    )
    app = create_app(limited)
    assert isinstance(app, GatewayApp)
    async with app.router.lifespan_context(app):
        yield app


async def both(app: GatewayApp, method: str, url: str, **kwargs: Any) -> tuple[httpx.Response, httpx.Response]:
    transport = httpx.ASGITransport(app=BodySizeLimit(app, app.state.settings.max_request_bytes))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        hot = await client.request(method, url, **kwargs)
        hooks, app.hooks = app.hooks, None  # the FastAPI route
        try:
            routed = await client.request(method, url, **kwargs)
        finally:
            app.hooks = hooks
    return hot, routed


def same(hot: httpx.Response, routed: httpx.Response) -> None:
    assert hot.status_code == routed.status_code, (hot.text, routed.text)

    def headers(r: httpx.Response) -> list[tuple[str, str]]:
        return [(k, v) for k, v in r.headers.multi_items() if k != "x-request-id"]

    assert headers(hot) == headers(routed)
    assert ("x-request-id" in hot.headers) == ("x-request-id" in routed.headers)  # not on the size limit's 413
    if hot.status_code == 202:
        assert set(hot.json()) == set(routed.json()) and "event_id" in hot.json()
        assert len(hot.content) == len(routed.content)
        uuid.UUID(hot.json()["event_id"])
    else:
        assert hot.content == routed.content


async def test_every_answer_matches_the_fastapi_route(
    app: GatewayApp, make_bundle: MakeBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is 2 requests per token and minute: each case has a bundle of its own but the 429 one."""
    # One fixed window for the whole test: a minute that turned between the busy token's requests reset its count.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))

    async def fresh(**kwargs: Any) -> str:
        return (await make_bundle(**kwargs))[1]

    stopped = BundleStatus.stopped
    busy = await fresh()
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("POST", f"/hooks/{busy}", {"json": {"name": "Ann"}}, 202),
        ("PUT", f"/hooks/{await fresh()}?a=1", {"content": b"a=1", "headers": {"Content-Type": "text/csv"}}, 415),
        ("GET", f"/hooks/{await fresh(status=stopped)}?name=Ann", {}, 202),
        ("POST", f"/hooks/{await fresh()}", {"json": {"a": 1}, "headers": {"Idempotency-Key": "k"}}, 202),
        ("POST", "/hooks/" + "x" * 43, {"json": {}}, 404),
        ("POST", "/hooks/not%20a%20token", {"json": {}}, 404),
        ("POST", f"/hooks/{await fresh(deleted=True)}", {"json": {}}, 410),
        ("POST", f"/hooks/{await fresh()}", {"content": b"{no", "headers": {"Content-Type": "application/json"}}, 400),
        ("POST", f"/hooks/{await fresh()}", {"content": b"x", "headers": {"Content-Encoding": "gzip"}}, 415),
        ("POST", f"/hooks/{await fresh()}", {"json": {"a": "x" * 5000}}, 413),
        (
            "POST",
            f"/hooks/{await fresh(trigger={'verification': 'header_secret'}, secret='s3cret')}",
            {"json": {"a": 1}, "headers": {"X-Webhook-Secret": "wrong"}},
            401,
        ),
        ("POST", f"/hooks/{busy}", {"json": {"n": 2}}, 429),  # its third and fourth requests, with Retry-After
        ("DELETE", f"/hooks/{busy}", {}, 405),
        ("POST", f"/hooks/{busy}/", {"json": {}}, 307),
    ]
    for method, url, kwargs, status in cases:
        hot, routed = await both(app, method, url, **kwargs)
        try:
            assert hot.status_code == status
            same(hot, routed)
        except AssertionError as exc:
            raise AssertionError(f"{method} {url} {kwargs}: {exc}") from None


async def test_the_hot_path_keeps_the_route_template_in_the_request_metrics(
    app: GatewayApp, make_bundle: MakeBundle
) -> None:
    _, token = await make_bundle()

    def count() -> float:
        labels = {"service": "gateway", "method": "POST", "route": "/hooks/{token}", "status": "202"}
        return REGISTRY.get_sample_value("bpmlink_http_requests_total", labels) or 0.0

    before = count()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        response = await client.post(f"/hooks/{token}", json={}, headers={"X-Request-ID": "abc-1"})
    assert response.status_code == 202
    assert response.headers["x-request-id"] == "abc-1"
    assert count() == before + 1


async def test_a_sender_gone_before_its_body_is_answered_nothing() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path_params": {"token": "t"}, "headers": []}
    await HookEndpoint(object())(scope, receive, send)
    assert sent == []


@pytest.mark.usefixtures("test_apps")
async def test_every_answer_a_catalog_app_declares_matches_the_fastapi_route(
    app: GatewayApp, make_bundle: MakeBundle
) -> None:
    async def fresh(app_key: str, trigger_key: str = "event", **kwargs: Any) -> str:
        return (await make_bundle(source_app=app_key, trigger_key=trigger_key, **kwargs))[1]

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    tilda = await fresh("tilda", "form_submission")
    handshake = await fresh("test_handshake", trigger={"confirmation": "c0nf", "verify_token": "vt"}, secret="s")
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("POST", f"/hooks/{tilda}", {"content": b"test=test", "headers": form}, 200),
        ("POST", f"/hooks/{await fresh('tilda', 'form_submission')}", {"content": b"tranid=1:2", "headers": form}, 200),
        ("GET", f"/hooks/{await fresh('tilda', 'form_submission')}?Name=Ann", {}, 405),
        ("POST", f"/hooks/{handshake}", {"json": {"type": "confirmation", "secret": "s"}}, 200),
        (
            "GET",
            f"/hooks/{await fresh('test_handshake', trigger={'verify_token': 'vt'})}?hub.mode=subscribe&"
            "hub.challenge=42&hub.verify_token=vt",
            {},
            200,
        ),
        ("POST", f"/hooks/{await fresh('test_handshake')}", {"json": {"ping": 1}}, 204),
        ("POST", f"/hooks/{await fresh('test_split')}", {"json": {"leads": {"add": [{"id": 1}, {"id": 2}]}}}, 202),
        ("POST", f"/hooks/{await fresh('test_split')}", {"json": {"tasks": {"add": [{"id": 1}]}}}, 400),
    ]
    for method, url, kwargs, status in cases:
        hot, routed = await both(app, method, url, **kwargs)
        try:
            assert hot.status_code == status
            same(hot, routed)
        except AssertionError as exc:
            raise AssertionError(f"{method} {url} {kwargs}: {exc}") from None
