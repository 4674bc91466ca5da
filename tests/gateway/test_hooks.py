"""`/hooks/{token}` end to end: stored events, answers, idempotency, held events, samples, redaction."""

from __future__ import annotations

import asyncio
import gzip
import uuid
from types import SimpleNamespace

import pytest
from arq.connections import ArqRedis
from bpmlink_gateway import ratelimit
from bpmlink_gateway.service import TARGET_CACHE_SECONDS
from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import Bundle, BundleStatus, EventState, OperationStatus
from bpmlink.events import PROCESS_EVENT, process_job_id
from bpmlink.kit.settings import Settings
from bpmlink.webhooks import hash_webhook_token, new_webhook_token, webhook_url
from tests.fixtures.app import make_settings

from .conftest import GatewayClient, MakeBundle, running_gateway
from .support import bundle_row, events_of, operations_of

FORM = "application/x-www-form-urlencoded"


def assert_error(response: object, status: int, code: str) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


async def test_json_post_is_stored_queued_and_answered_202(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle()
    response = await hook.post(f"/hooks/{token}?utm=ads", json={"name": "Ann", "email": "ann@example.com"})
    assert response.status_code == 202
    event_id = uuid.UUID(response.json()["event_id"])
    [event] = await events_of(sm, bundle_id)
    assert event.id == event_id
    assert event.origin == "webhook"
    assert event.item == {"utm": "ads", "name": "Ann", "email": "ann@example.com"}
    assert event.body == b'{"name":"Ann","email":"ann@example.com"}'
    assert event.request is not None
    assert event.request["method"] == "POST"
    assert event.request["query"] == "utm=ads"
    [operation] = await operations_of(sm, bundle_id)
    assert (operation.event_id, operation.status) == (event_id, OperationStatus.queued)
    await hook.gateway.handoff.flush()  # the hand-off runs right after the 202
    jobs = await queue.queued_jobs()
    expected = [(PROCESS_EVENT, (str(event_id),), process_job_id(event_id))]
    assert [(j.function, tuple(j.args), j.job_id) for j in jobs] == expected
    # The handed-over event is marked `queued` in a batch, off the request path.
    await hook.gateway.handoff.flush()
    [event] = await events_of(sm, bundle_id)
    assert event.state == EventState.queued
    assert event.enqueued_at is not None


@pytest.mark.parametrize("method", ["GET", "PUT"])
async def test_get_and_put_are_accepted(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], method: str
) -> None:
    bundle_id, token = await make_bundle()
    response = await hook.request(method, f"/hooks/{token}", params={"name": "Ann", "tags[]": ["a", "b"]})
    assert response.status_code == 202
    [event] = await events_of(sm, bundle_id)
    assert event.item == {"name": "Ann", "tags": ["a", "b"]}
    assert event.request is not None
    assert event.request["method"] == method


async def test_windows_1251_form_post_is_stored_as_unicode(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle()
    body = "name=Иван&fields[city]=Москва".encode("cp1251").replace(b" ", b"+")
    response = await hook.post(
        f"/hooks/{token}", content=body, headers={"Content-Type": f"{FORM}; charset=windows-1251"}
    )
    assert response.status_code == 202
    [event] = await events_of(sm, bundle_id)
    assert event.item == {"name": "Иван", "fields": {"city": "Москва"}}
    assert event.body == body


async def test_form_multipart_and_xml_bodies_are_stored(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle()
    form = await hook.post(f"/hooks/{token}", data={"name": "Ann", "phone": ["1", "2"]})
    files = await hook.post(
        f"/hooks/{token}", data={"items[0][sku]": "A1"}, files={"cv": ("cv.txt", b"hello", "text/plain")}
    )
    xml = await hook.post(
        f"/hooks/{token}",
        content=b'<lead id="7"><name>Ann</name><tag>a</tag><tag>b</tag></lead>',
        headers={"Content-Type": "application/xml"},
    )
    assert [r.status_code for r in (form, files, xml)] == [202, 202, 202]
    items = {str(e.id): e.item for e in await events_of(sm, bundle_id)}
    assert items[form.json()["event_id"]] == {"name": "Ann", "phone": ["1", "2"]}
    assert items[files.json()["event_id"]] == {
        "items": [{"sku": "A1"}],
        "cv": {"filename": "cv.txt", "content_type": "text/plain", "size": 5},
    }
    assert items[xml.json()["event_id"]] == {"@id": "7", "name": "Ann", "tag": ["a", "b"]}


async def test_unknown_token_is_404(hook: GatewayClient, make_bundle: MakeBundle) -> None:
    await make_bundle()
    assert_error(await hook.post("/hooks/" + "x" * 43, json={}), 404, "not_found")
    assert_error(await hook.post("/hooks/not%20a%20token", json={}), 404, "not_found")


async def test_token_of_a_polling_bundle_is_404(hook: GatewayClient, make_bundle: MakeBundle) -> None:
    _, token = await make_bundle(source_app="http_polling", status=BundleStatus.running)
    assert_error(await hook.post(f"/hooks/{token}", json={}), 404, "not_found")


async def test_deleted_bundle_is_410_and_stores_nothing(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(deleted=True)
    assert_error(await hook.post(f"/hooks/{token}", json={"a": 1}), 410, "gone")
    assert await events_of(sm, bundle_id) == []


async def test_body_over_the_limit_is_413(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle()
    small = make_settings(settings.database_url, settings.redis_url, BPMLINK_MAX_REQUEST_BYTES=2048)
    async with running_gateway(small) as hook:
        assert_error(await hook.post(f"/hooks/{token}", json={"a": "x" * 3000}), 413, "payload_too_large")

        async def chunks():  # no Content-Length: the limit counts the bytes as they arrive
            for _ in range(5):
                yield b"a" * 1000

        response = await hook.post(f"/hooks/{token}", content=chunks(), headers={"Content-Type": FORM})
        assert_error(response, 413, "payload_too_large")
        assert (await hook.post(f"/hooks/{token}", json={"a": "x" * 1000})).status_code == 202
    assert len(await events_of(sm, bundle_id)) == 1


async def test_unsupported_media_type_is_415_with_the_reason(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle()
    response = await hook.post(f"/hooks/{token}", content=b"a,b\n1,2", headers={"Content-Type": "text/csv"})
    error = assert_error(response, 415, "unsupported_media_type")
    assert "text/csv" in error["message"]
    assert await events_of(sm, bundle_id) == []


async def test_compressed_body_is_415_with_the_reason(hook: GatewayClient, make_bundle: MakeBundle) -> None:
    _, token = await make_bundle()
    response = await hook.post(
        f"/hooks/{token}",
        content=gzip.compress(b'{"a": 1}'),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert "gzip" in assert_error(response, 415, "unsupported_media_type")["message"]


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        ("application/json", b'{"name": ', "invalid JSON"),
        ("application/xml", b"<lead><name>Ann</lead>", "invalid XML"),
        ("application/xml", b'<!DOCTYPE x [<!ENTITY e "b">]><x>&e;</x>', "DTD"),
        ("multipart/form-data", b"--x\r\n", "boundary"),
    ],
)
async def test_unparseable_body_is_400_with_the_reason(
    hook: GatewayClient,
    make_bundle: MakeBundle,
    sm: async_sessionmaker[AsyncSession],
    content_type: str,
    body: bytes,
    reason: str,
) -> None:
    bundle_id, token = await make_bundle()
    response = await hook.post(f"/hooks/{token}", content=body, headers={"Content-Type": content_type})
    error = assert_error(response, 400, "bad_request")
    assert reason in error["message"]
    assert await events_of(sm, bundle_id) == []


async def test_over_the_token_rate_is_429_with_retry_after(
    settings: Settings, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))  # one window throughout
    bundle_id, token = await make_bundle()
    _, other_token = await make_bundle()
    limited = make_settings(settings.database_url, settings.redis_url, BPMLINK_HOOK_RATE_PER_MINUTE=3)
    async with running_gateway(limited) as hook:
        answers = [(await hook.post(f"/hooks/{token}", json={"n": n})).status_code for n in range(3)]
        assert answers == [202, 202, 202]
        response = await hook.post(f"/hooks/{token}", json={"n": 4})
        assert_error(response, 429, "rate_limited")
        assert response.headers["Retry-After"] == "30"  # to the window's end
        # The limit is per token.
        assert (await hook.post(f"/hooks/{other_token}", json={})).status_code == 202
    assert len(await events_of(sm, bundle_id)) == 3


async def test_idempotency_key_header_resend_returns_the_first_event(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle()
    first = await hook.post(f"/hooks/{token}", json={"n": 1}, headers={"Idempotency-Key": "order-42"})
    again = await hook.post(f"/hooks/{token}", json={"n": 2}, headers={"Idempotency-Key": "order-42"})
    other = await hook.post(f"/hooks/{token}", json={"n": 3}, headers={"Idempotency-Key": "order-43"})
    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 202)
    assert again.json() == first.json()
    assert other.json() != first.json()
    events = await events_of(sm, bundle_id)
    assert sorted(str(e.idempotency_key) for e in events) == ["order-42", "order-43"]
    assert len(await operations_of(sm, bundle_id)) == 2
    await hook.gateway.handoff.flush()  # the hand-off runs right after the 202
    assert len(await queue.queued_jobs()) == 2


async def test_idempotency_field_from_the_trigger_config(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(trigger={"idempotency_field": "lead.id"})
    first = await hook.post(f"/hooks/{token}", json={"lead": {"id": 1001}, "name": "Ann"})
    again = await hook.post(f"/hooks/{token}", data={"lead[id]": "1001", "name": "Ann (again)"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    [event] = await events_of(sm, bundle_id)
    assert (event.idempotency_key, event.item["name"]) == ("1001", "Ann")
    # Without the field a request is simply a new event.
    assert (await hook.post(f"/hooks/{token}", json={"name": "Bob"})).json() != first.json()


@pytest.mark.parametrize("status", [BundleStatus.stopped, BundleStatus.error])
async def test_request_to_a_stopped_bundle_is_stored_held_and_not_queued(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis, status: str
) -> None:
    bundle_id, token = await make_bundle(status=status)
    response = await hook.post(f"/hooks/{token}", json={"name": "Ann"})
    assert response.status_code == 202
    [event] = await events_of(sm, bundle_id)
    assert event.state == EventState.held
    [operation] = await operations_of(sm, bundle_id)
    assert operation.status == OperationStatus.held
    assert await queue.queued_jobs() == []


async def test_stored_headers_leave_out_cookies_authorization_and_secrets(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(
        trigger={"verification": "header_secret", "signature_header": "X-Hook-Key"}, secret="s3cret-value"
    )
    response = await hook.post(
        f"/hooks/{token}",
        json={"a": 1},
        headers={
            "Cookie": "session=abc",
            "Authorization": "Bearer top-secret",
            "X-Hook-Key": "s3cret-value",
            "X-Hub-Signature-256": "sha256=00",
            "X-Api-Key": "k",
            "User-Agent": "crm-form/1.0",
            "X-Request-Id": "r-1",
        },
    )
    assert response.status_code == 202
    [event] = await events_of(sm, bundle_id)
    assert event.request is not None
    headers = event.request["headers"]
    assert headers["user-agent"] == "crm-form/1.0"
    assert headers["x-request-id"] == "r-1"
    assert headers["content-type"] == "application/json"
    for name in ("cookie", "authorization", "x-hook-key", "x-hub-signature-256", "x-api-key"):
        assert name not in headers
    assert "s3cret-value" not in str(event.request) and "top-secret" not in str(event.request)
    assert token not in str(event.request)


async def test_capture_mode_keeps_the_next_request_as_the_sample_and_does_not_process_it(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await make_bundle(capture_sample=True, status=BundleStatus.stopped)
    sample = await hook.post(f"/hooks/{token}", data={"name": "Ann", "fields[email]": "ann@example.com"})
    assert sample.status_code == 202
    bundle = await bundle_row(sm, bundle_id)
    assert bundle.capture_sample is False
    assert bundle.sample == {"name": "Ann", "fields": {"email": "ann@example.com"}}
    [event] = await events_of(sm, bundle_id)
    assert (str(event.id), event.state) == (sample.json()["event_id"], EventState.sample)
    assert await operations_of(sm, bundle_id) == []
    assert await queue.queued_jobs() == []
    # Capture is one-shot: the next request is an ordinary (here: held) event.
    after = await hook.post(f"/hooks/{token}", json={"name": "Bob"})
    assert after.status_code == 202
    states = {str(e.id): e.state for e in await events_of(sm, bundle_id)}
    assert states[after.json()["event_id"]] == EventState.held
    assert (await bundle_row(sm, bundle_id)).sample == {"name": "Ann", "fields": {"email": "ann@example.com"}}


async def test_capture_on_a_running_bundle_processes_the_request_and_copies_it_as_the_sample(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    # The wizard arms capture on a bundle without a sample; started so, its first lead must still be pushed.
    bundle_id, token = await make_bundle(capture_sample=True, status=BundleStatus.waiting)
    response = await hook.post(f"/hooks/{token}", json={"name": "Ann", "email": "ann@example.com"})
    assert response.status_code == 202
    [event] = await events_of(sm, bundle_id)
    assert str(event.id) == response.json()["event_id"]
    assert event.state in (EventState.pending, EventState.queued)
    [operation] = await operations_of(sm, bundle_id)
    assert operation.status == OperationStatus.queued
    bundle = await bundle_row(sm, bundle_id)
    assert (bundle.capture_sample, bundle.sample) == (False, {"name": "Ann", "email": "ann@example.com"})


def test_webhook_url_uses_the_public_gateway_url(settings: Settings) -> None:
    public = make_settings(
        settings.database_url, settings.redis_url, BPMLINK_PUBLIC_GATEWAY_URL="https://hooks.example.com/"
    )
    assert webhook_url(public, "tok") == "https://hooks.example.com/hooks/tok"
    assert webhook_url(settings, "tok") == f"http://{settings.host}:{settings.gateway_port}/hooks/tok"


async def test_stop_regenerate_and_delete_show_within_the_lookup_cache_ttl(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle()
    assert (await hook.post(f"/hooks/{token}", json={"n": 1})).status_code == 202

    async def change(**values: object) -> None:
        async with sm() as session:
            await session.execute(update(Bundle).where(Bundle.id == bundle_id).values(**values))
            await session.commit()
        await asyncio.sleep(TARGET_CACHE_SECONDS + 0.05)

    await change(status=BundleStatus.stopped)
    held = await hook.post(f"/hooks/{token}", json={"n": 2})
    states = {str(e.id): e.state for e in await events_of(sm, bundle_id)}
    assert states[held.json()["event_id"]] == EventState.held

    new_token = new_webhook_token()
    await change(webhook_token_hash=hash_webhook_token(new_token), status=BundleStatus.waiting)
    assert_error(await hook.post(f"/hooks/{token}", json={"n": 3}), 404, "not_found")
    assert (await hook.post(f"/hooks/{new_token}", json={"n": 3})).status_code == 202

    await change(deleted_at=func.now())
    assert_error(await hook.post(f"/hooks/{new_token}", json={"n": 4}), 410, "gone")
