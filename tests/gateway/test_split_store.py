"""A request that becomes several items: every item one event and operation, all committed by one statement
before the answer, a resend stores nothing for any of them, and a huge split is refused whole."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
from arq.connections import ArqRedis
from bpmlink_gateway.committer import GroupCommitter
from bpmlink_gateway.service import MAX_ITEMS_BYTES
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.db.models import OperationStatus
from bpmlink.events import event_row
from bpmlink.intake.split import MAX_ITEMS

from .conftest import GatewayClient, MakeBundle
from .support import events_of, operations_of

pytestmark = pytest.mark.usefixtures("test_apps")

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
AMO = (
    b"account[subdomain]=acme&account[id]=77"
    b"&leads[add][0][id]=1&leads[add][0][name]=First&leads[add][1][id]=2&leads[add][1][name]=Second"
    b"&contacts[update][0][id]=9&contacts[update][0][name]=Ann&tasks[add][0][id]=5"
)


async def split_bundle(make_bundle: MakeBundle, **kwargs: object) -> tuple[object, str]:
    return await make_bundle(source_app="test_split", trigger_key="event", **kwargs)


async def test_one_request_becomes_one_event_per_element_all_queued(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession], queue: ArqRedis
) -> None:
    bundle_id, token = await split_bundle(make_bundle)
    response = await hook.post(f"/hooks/{token}", content=AMO, headers=FORM)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["event_id"] == body["event_ids"][0] and len(body["event_ids"]) == 3
    events = {str(e.id): e for e in await events_of(sm, bundle_id)}
    assert list(events) and set(events) == set(body["event_ids"])
    items = [events[i].item for i in body["event_ids"]]
    assert [(i["name"], i["_split"]["entity"], i["account"]["subdomain"]) for i in items] == [
        ("First", "leads", "acme"),
        ("Second", "leads", "acme"),
        ("Ann", "contacts", "acme"),
    ]
    keys = [events[i].idempotency_key for i in body["event_ids"]]
    assert keys == ["77:leads:add:1", "77:leads:add:2", "77:contacts:update:9"]
    first, *others = (events[i] for i in body["event_ids"])
    assert first.body == AMO and all(e.body is None for e in others)  # the raw request is kept once
    assert [e.request["item"] for e in others] == [{"index": 1, "count": 3}, {"index": 2, "count": 3}]
    assert {o.status for o in await operations_of(sm, bundle_id)} == {OperationStatus.queued}
    await hook.gateway.handoff.flush()
    assert len(await queue.queued_jobs()) == 3


async def test_a_resend_returns_the_first_events_and_stores_nothing(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await split_bundle(make_bundle)
    first = await hook.post(f"/hooks/{token}", content=AMO, headers=FORM)
    again = await hook.post(f"/hooks/{token}", content=AMO, headers=FORM)
    assert again.status_code == 202
    assert again.json() == first.json()
    assert len(await events_of(sm, bundle_id)) == 3
    assert len(await operations_of(sm, bundle_id)) == 3


async def test_a_request_with_nothing_to_split_is_400_and_stores_nothing(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await split_bundle(make_bundle)
    response = await hook.post(f"/hooks/{token}", content=b"account[id]=77&tasks[add][0][id]=5", headers=FORM)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("nothing_to_split", {"path": "{entity:leads|contacts}.{action}.*"})
    assert await events_of(sm, bundle_id) == []


async def test_a_test_request_is_never_split(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await split_bundle(make_bundle)
    response = await hook.post(f"/hooks/{token}", content=b"webhook_id=5", headers=FORM)
    assert response.status_code == 202, response.text
    assert set(response.json()) == {"event_id"}
    [operation] = await operations_of(sm, bundle_id)
    assert (operation.status, operation.source_data) == (OperationStatus.test, {"webhook_id": "5"})
    # the same field beside others is no ping: split as usual, and here there is nothing to split
    assert (await hook.post(f"/hooks/{token}", content=b"webhook_id=5&x=1", headers=FORM)).status_code == 400


async def test_thousands_of_items_are_refused_whole_413_too_many_items(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    bundle_id, token = await split_bundle(make_bundle)
    leads = [{"id": n} for n in range(3000)]
    response = await hook.post(f"/hooks/{token}", json={"account": {"id": 1}, "leads": {"add": leads}})
    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("too_many_items", {"limit": MAX_ITEMS})
    assert await events_of(sm, bundle_id) == []
    at_limit = await hook.post(f"/hooks/{token}", json={"account": {"id": 1}, "leads": {"add": leads[:MAX_ITEMS]}})
    assert at_limit.status_code == 202
    assert len(at_limit.json()["event_ids"]) == MAX_ITEMS
    assert len(await events_of(sm, bundle_id)) == MAX_ITEMS


async def test_an_envelope_copied_into_hundreds_of_items_is_refused_413_items_too_large(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    """A 60 KB `account` kept beside each of 400 leads would be 24 MB of events from one small request."""
    bundle_id, token = await split_bundle(make_bundle)
    body = {"account": {"id": 1, "blob": "x" * 60_000}, "leads": {"add": [{"id": n} for n in range(400)]}}
    response = await hook.post(f"/hooks/{token}", json=body)
    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("items_too_large", {"items": 400, "limit_bytes": MAX_ITEMS_BYTES})
    assert await events_of(sm, bundle_id) == []


async def test_a_requests_rows_are_never_split_across_group_statements(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    """Requests sent at once share statements; one of 300 rows (over the batch size) still goes in one."""
    bundle_id, token = await split_bundle(make_bundle)
    committer = hook.gateway.committer
    before = committer.batches
    big = {"account": {"id": 2}, "leads": {"add": [{"id": n} for n in range(300)]}}
    small = [{"account": {"id": 3}, "leads": {"add": [{"id": n}, {"id": n + 1000}]}} for n in range(20)]
    responses = await asyncio.gather(
        *(hook.post(f"/hooks/{token}", json=body) for body in [*small[:10], big, *small[10:]])
    )
    assert [r.status_code for r in responses] == [202] * 21
    assert len(await events_of(sm, bundle_id)) == 340
    assert committer.batches - before < 21  # some requests shared a statement


async def test_the_committer_fails_a_request_whole_when_one_of_its_rows_is_refused(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    """A row PostgreSQL refuses (a NUL in a text column) fails its whole request, and only that one."""
    bundle_id, token = await split_bundle(make_bundle)
    target = await hook.gateway._target(token)
    assert target is not None
    good = [event_row(target, origin="webhook", item={"n": n}, idempotency_key=f"g{n}") for n in range(3)]
    bad = [
        event_row(target, origin="webhook", item={"n": 10}, idempotency_key="b0"),
        event_row(target, origin="webhook", item={"n": 11}, idempotency_key="b1\x00"),
    ]
    committer = hook.gateway.committer
    before = committer.batches
    results = await asyncio.gather(committer.store_request(good), committer.store_request(bad), return_exceptions=True)
    assert committer.batches - before == 3  # one statement for both, then one per request
    assert not isinstance(results[0], BaseException) and len(results[0]) == 3
    assert isinstance(results[1], Exception)
    assert sorted(e.item["n"] for e in await events_of(sm, bundle_id)) == [0, 1, 2]


async def test_a_header_idempotency_key_of_a_split_request_keys_each_item_apart(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    """Without its own ids (no account id), each item keyed by the header and its index."""
    bundle_id, token = await split_bundle(make_bundle)
    body = urlencode({"leads[add][0][id]": "1", "leads[add][1][id]": "2"}).encode()
    headers = {**FORM, "Idempotency-Key": "delivery-1"}
    first = await hook.post(f"/hooks/{token}", content=body, headers=headers)
    again = await hook.post(f"/hooks/{token}", content=body, headers=headers)
    assert first.json() == again.json()
    assert sorted(e.idempotency_key for e in await events_of(sm, bundle_id)) == ["delivery-1#0", "delivery-1#1"]


async def test_a_request_bigger_than_a_batch_is_still_one_statement_all_or_nothing(
    hook: GatewayClient, make_bundle: MakeBundle, sm: async_sessionmaker[AsyncSession]
) -> None:
    """Batches of two rows; a request of three whose last row PostgreSQL refuses stores none of them."""
    bundle_id, token = await split_bundle(make_bundle)
    target = await hook.gateway._target(token)
    assert target is not None
    committer = GroupCommitter(hook.gateway.db, max_batch=2)
    rows = [event_row(target, origin="webhook", item={"n": n}, idempotency_key=f"k{n}") for n in range(2)]
    rows.append(event_row(target, origin="webhook", item={"n": 2}, idempotency_key="k2\x00"))
    with pytest.raises(Exception, match="0x00"):
        await committer.store_request(rows)
    assert committer.batches == 1
    assert await events_of(sm, bundle_id) == []
    stored = await committer.store_request(rows[:2] + [event_row(target, origin="webhook", item={"n": 3})])
    assert len(stored) == 3 and committer.batches == 2
