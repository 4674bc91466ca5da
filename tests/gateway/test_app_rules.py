"""Catalog apps through `/hooks/{token}` by their rules: Tilda (the first real entry), and test-only entries
for handshakes, test requests and answers. A test request is answered as the sender needs, kept as the
sample and in history as `test`, and never queued."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import BundleStatus, EventState, OperationStatus

from .conftest import GatewayClient, MakeBundle
from .support import bundle_row, events_of, operations_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SUBMISSION = "Name=%D0%90%D0%BD%D0%BD%D0%B0&Phone=%2B79123456789&tranid=1111111%3A6161583731&formid=form1"


async def tilda(make_bundle: MakeBundle, **kwargs: object) -> tuple[object, str]:
    return await make_bundle(source_app="tilda", trigger_key="form_submission", **kwargs)


async def test_tilda_test_request_is_answered_ok_kept_as_the_sample_and_never_queued(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await tilda(make_bundle)
    response = await hook.post(f"/hooks/{token}", content=b"test=test", headers=FORM)
    assert (response.status_code, response.text) == (200, "ok")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    [event] = await events_of(sm, bundle_id)
    [operation] = await operations_of(sm, bundle_id)
    assert (event.state, event.item) == (EventState.done, {"test": "test"})
    assert (operation.status, operation.event_id) == (OperationStatus.test, event.id)
    assert operation.finished_at is not None
    assert (await bundle_row(sm, bundle_id)).sample == {"test": "test"}
    await hook.gateway.handoff.flush()
    assert await queue.queued_jobs() == []


async def test_a_test_request_replaces_no_sample_and_ends_no_wait_for_one(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await tilda(make_bundle, sample={"Name": "kept"})
    assert (await hook.post(f"/hooks/{token}", content=b"test=test", headers=FORM)).status_code == 200
    assert (await bundle_row(sm, bundle_id)).sample == {"Name": "kept"}
    # While the wizard waits for a sample, a test is shown as received and the wait goes on: the real
    # request that follows is the sample (a test's `test=test` is nothing to map from).
    waiting_id, waiting = await tilda(make_bundle, capture_sample=True)
    assert (await hook.post(f"/hooks/{waiting}", content=b"test=test", headers=FORM)).status_code == 200
    bundle = await bundle_row(sm, waiting_id)
    assert (bundle.sample, bundle.capture_sample) == (None, True)
    assert (await hook.post(f"/hooks/{waiting}", content=SUBMISSION.encode(), headers=FORM)).status_code == 200
    bundle = await bundle_row(sm, waiting_id)
    assert (bundle.sample["tranid"], bundle.capture_sample) == (parse_qs(SUBMISSION)["tranid"][0], False)


async def test_tilda_submission_is_stored_queued_and_a_resend_of_its_tranid_stores_nothing(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await tilda(make_bundle)
    first = await hook.post(f"/hooks/{token}", content=SUBMISSION.encode(), headers=FORM)
    again = await hook.post(f"/hooks/{token}", content=SUBMISSION.encode(), headers=FORM)
    assert (first.status_code, first.text, again.status_code, again.text) == (200, "ok", 200, "ok")
    [event] = await events_of(sm, bundle_id)
    assert (event.item["Name"], event.idempotency_key) == ("Анна", "1111111:6161583731")
    [operation] = await operations_of(sm, bundle_id)
    assert operation.status == OperationStatus.queued
    await hook.gateway.handoff.flush()
    assert len(await queue.queued_jobs()) == 1


async def test_tilda_to_a_stopped_bundle_is_held_and_still_answered_ok(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await tilda(make_bundle, status=BundleStatus.stopped)
    response = await hook.post(f"/hooks/{token}", content=SUBMISSION.encode(), headers=FORM)
    assert (response.status_code, response.text) == (200, "ok")
    [operation] = await operations_of(sm, bundle_id)
    assert operation.status == OperationStatus.held


async def test_tilda_takes_only_post_405_in_the_error_shape(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await tilda(make_bundle)
    response = await hook.get(f"/hooks/{token}?Name=Ann")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("method_not_allowed", {"method": "GET", "allowed": ["POST"]})
    assert await events_of(sm, bundle_id) == []


async def test_tilda_api_key_header_applies_once_the_user_sets_a_secret(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    open_id, open_token = await tilda(make_bundle)  # no secret: the URL is the secret (optional verification)
    assert (await hook.post(f"/hooks/{open_token}", content=SUBMISSION.encode(), headers=FORM)).status_code == 200
    keyed_id, keyed = await tilda(make_bundle, trigger={"api_key_header": "X-Tilda-Key"}, secret="k-123")
    for headers in ({}, {"X-Tilda-Key": "wrong"}, {"X-Other": "k-123"}):
        refused = await hook.post(f"/hooks/{keyed}", content=SUBMISSION.encode(), headers={**FORM, **headers})
        assert refused.status_code == 401, headers
        assert refused.json()["error"]["code"] == "unauthorized"
    assert await events_of(sm, keyed_id) == []
    # Tilda does not sign its test request: it passes without the key.
    assert (await hook.post(f"/hooks/{keyed}", content=b"test=test", headers=FORM)).status_code == 200
    ok = await hook.post(f"/hooks/{keyed}", content=SUBMISSION.encode(), headers={**FORM, "X-Tilda-Key": "k-123"})
    assert ok.status_code == 200
    stored = await events_of(sm, keyed_id)
    assert len(stored) == 2
    assert all("x-tilda-key" not in e.request["headers"] for e in stored)  # the secret's header is not kept


@pytest.mark.usefixtures("test_apps")
async def test_a_confirmation_is_answered_with_the_configured_string_once_its_secret_holds(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(
        source_app="test_handshake", trigger_key="event", trigger={"confirmation": "a1b2c3"}, secret="vk-secret"
    )
    for body in ({"type": "confirmation"}, {"type": "confirmation", "secret": "wrong"}):
        refused = await hook.post(f"/hooks/{token}", json=body)
        assert refused.status_code == 401
        assert refused.json()["error"]["details"]["reason"] in ("secret_missing", "secret_mismatch")
    assert await events_of(sm, bundle_id) == []
    confirmed = await hook.post(f"/hooks/{token}", json={"type": "confirmation", "secret": "vk-secret"})
    assert (confirmed.status_code, confirmed.text) == (200, "a1b2c3")
    [operation] = await operations_of(sm, bundle_id)
    assert operation.status == OperationStatus.test
    ok = await hook.post(f"/hooks/{token}", json={"type": "message_new", "secret": "vk-secret", "event_id": "e1"})
    assert (ok.status_code, ok.text) == (200, "ok")


@pytest.mark.usefixtures("test_apps")
async def test_a_get_challenge_is_echoed_only_with_the_right_verify_token(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await make_bundle(
        source_app="test_handshake", trigger_key="event", trigger={"verify_token": "vt-9"}, secret="s"
    )
    url = f"/hooks/{token}?hub.mode=subscribe&hub.challenge=1158201444"
    for suffix in ("", "&hub.verify_token=wrong", "&hub.verify_token="):
        refused = await hook.get(url + suffix)
        assert refused.status_code == 401, suffix
    assert await events_of(sm, bundle_id) == []
    echoed = await hook.get(url + "&hub.verify_token=vt-9")
    assert (echoed.status_code, echoed.text) == (200, "1158201444")
    [operation] = await operations_of(sm, bundle_id)
    assert operation.status == OperationStatus.test
    [event] = await events_of(sm, bundle_id)  # the verify token is not kept where history shows it
    assert event.item["hub.verify_token"] == "***" and "vt-9" not in event.request["query"]


@pytest.mark.usefixtures("test_apps")
async def test_an_empty_answer_has_no_body(hook: GatewayClient, make_bundle: MakeBundle) -> None:
    _, token = await make_bundle(source_app="test_handshake", trigger_key="event")
    response = await hook.post(f"/hooks/{token}", json={"ping": "1"})
    assert (response.status_code, response.content) == (204, b"")
