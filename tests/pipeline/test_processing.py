import asyncio
import uuid
from contextlib import AsyncExitStack

import pytest
from arq import Retry
from bpmlink_api.history import service as history_service
from bpmlink_worker.main import build_worker
from bpmlink_worker.process import MAX_TRIES, process_event

from bpmlink.db.models import OperationStatus
from bpmlink.kit.queue import create_arq_pool
from bpmlink.pipeline.push import record_id_for
from tests.fixtures.pipeline import job_ctx, make_bundle, operation_of, post_event, sandbox_rows, worker_process

ANNA = {"first_name": "Анна", "last_name": "O'Brien", "email": "Anna@Example.com", "phone": "+7 912 345-67-89"}


async def test_event_creates_a_contact_with_mapped_values_and_steps(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    assert await process_event(worker_ctx, str(event_id)) == "created"
    rows = sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")
    assert len(rows) == 1
    assert rows[0]["Name"] == "Анна O'Brien" and rows[0]["MobilePhone"] == "+79123456789"
    assert rows[0]["Id"] == str(record_id_for(event_id))

    op = await operation_of(sessionmaker, event_id)
    detail = (await client.get(f"/api/v1/operations/{op.id}")).json()
    assert detail["status"] == "created" and detail["record_id"] == rows[0]["Id"]
    assert detail["mapped_data"]["Email"] == "anna@example.com"
    assert detail["source_data"] == ANNA
    methods = [(s["method"], s["status"]) for s in detail["steps"]]
    assert ("POST", 201) in methods
    text = str(detail["steps"])
    assert sandbox.password not in text and "BPMCSRF=" not in text and ".ASPXAUTH=" not in text
    history = (await client.get(f"/api/v1/bundles/{bundle['id']}/operations")).json()["items"]
    assert [o["id"] for o in history] == [str(op.id)]


async def test_same_email_updates_and_respects_fill_if_empty(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    first = await post_event(sessionmaker, bundle["id"], ANNA)
    await process_event(worker_ctx, str(first))
    again = dict(ANNA, last_name="Smith", phone="+7 900 000-00-00")
    second = await post_event(sessionmaker, bundle["id"], again)
    assert await process_event(worker_ctx, str(second)) == "updated"
    rows = sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")
    assert len(rows) == 1
    assert rows[0]["Name"] == "Анна Smith"  # overwrite
    assert rows[0]["MobilePhone"] == "+79123456789"  # fill_if_empty kept the first phone
    third = await post_event(sessionmaker, bundle["id"], again)
    assert await process_event(worker_ctx, str(third)) == "unchanged"


async def test_skip_if_found_and_update_only(client, owner, connection_id, sandbox, sessionmaker, worker_ctx):
    skip = await make_bundle(client, connection_id, dedup={"mode": "skip_if_found", "match_fields": ["Email"]})
    first = await post_event(sessionmaker, skip["id"], ANNA)
    await process_event(worker_ctx, str(first))
    second = await post_event(sessionmaker, skip["id"], dict(ANNA, last_name="X"))
    assert await process_event(worker_ctx, str(second)) == "skipped_duplicate"
    only = await make_bundle(
        client, connection_id, name="upd", dedup={"mode": "update_only", "match_fields": ["Email"]}
    )
    missing = await post_event(sessionmaker, only["id"], dict(ANNA, email="nobody@example.com"))
    assert await process_event(worker_ctx, str(missing)) == "not_found"
    assert sandbox_rows(sandbox, "Contact", "Email eq 'nobody@example.com'") == []


async def test_filtered_item_sends_nothing(client, owner, connection_id, sandbox, sessionmaker, worker_ctx):
    flt = {"join": "and", "conditions": [{"field": "email", "op": "ends_with", "value": "@corp.com"}]}
    bundle = await make_bundle(client, connection_id, filter=flt)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    sandbox.reset_counts()
    assert await process_event(worker_ctx, str(event_id)) == "filtered"
    assert sandbox.counts()["total"] == 0
    op = await operation_of(sessionmaker, event_id)
    assert "email" in op.error


async def test_write_then_fail_is_retried_without_a_second_record(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    """Invariant 2: bpm'online wrote the row but answered 500; the retry must not create another."""
    bundle = await make_bundle(client, connection_id, dedup={"mode": "always_create"})
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    sandbox.set_faults(write_then_fail=True)
    with pytest.raises(Retry):
        await process_event(worker_ctx, str(event_id))
    assert (await operation_of(sessionmaker, event_id)).status == OperationStatus.retrying
    sandbox.clear_faults()
    worker_ctx["job_try"] = 2
    assert await process_event(worker_ctx, str(event_id)) == "created"
    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")) == 1


async def test_worker_dying_after_the_push_leaves_one_record(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    """Invariant 2: the job ran up to the POST and died before writing history; the rerun converges."""
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    http = sandbox.login()
    body = {"Id": str(record_id_for(event_id)), "Name": "Анна O'Brien", "Email": "anna@example.com"}
    assert http.post("/0/odata/Contact", json=body).status_code == 201  # what the dead worker managed to do
    http.close()
    assert await process_event(worker_ctx, str(event_id)) == "created"
    assert await process_event(worker_ctx, str(event_id)) == "nothing to do"  # a duplicate delivery
    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")) == 1


async def test_concurrent_events_with_one_match_key_make_one_record(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, settings
):
    """Invariant 3: two workers process two events with the same email at once."""
    bundle = await make_bundle(client, connection_id)
    events = [await post_event(sessionmaker, bundle["id"], dict(ANNA, last_name=f"N{i}")) for i in range(4)]
    sandbox.set_faults(latency_ms=150)  # widen the window between search and create
    # Each "worker" has its own context, as separate processes would; only Redis and PostgreSQL are shared.
    async with AsyncExitStack() as stack:
        contexts = [job_ctx(await stack.enter_async_context(worker_process(settings))) for _ in events]
        results = await asyncio.gather(*(process_event(ctx, str(e)) for ctx, e in zip(contexts, events, strict=True)))
    sandbox.clear_faults()
    assert sorted(results).count("created") == 1
    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'anna@example.com'")) == 1


async def test_validation_error_fails_with_bpmonlines_message_and_replay_works(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    mapping = [{"target": "Name", "source": "name"}, {"target": "AccountId", "constant": str(uuid.uuid4())}]
    bundle = await make_bundle(client, connection_id, mapping=mapping, dedup={"mode": "always_create"})
    event_id = await post_event(sessionmaker, bundle["id"], {"name": "Orphan"})
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    op = await operation_of(sessionmaker, event_id)
    assert "foreign key" in op.error.lower()
    fixed = [{"target": "Name", "source": "name"}]
    body = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    body["mapping"] = fixed
    put = {k: body[k] for k in ("name", "source", "target", "mapping", "dedup")}
    assert (await client.put(f"/api/v1/bundles/{bundle['id']}", json=put)).json()["config_version"] == 2
    replay = await client.post(f"/api/v1/operations/{op.id}/replay")
    assert replay.status_code == 200 and replay.json()["status"] == "queued"
    assert replay.json()["config_version"] == 2
    assert await process_event(worker_ctx, str(event_id)) == "created"
    assert len(sandbox_rows(sandbox, "Contact", "Name eq 'Orphan'")) == 1


async def test_transient_errors_retry_then_park(client, owner, connection_id, sandbox, sessionmaker, worker_ctx):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    sandbox.set_faults(unavailable_rate=1.0, unavailable_retry_after=7, fault_scope="data")
    with pytest.raises(Retry) as retry:
        await process_event(worker_ctx, str(event_id))
    assert retry.value.defer_score >= 7000  # Retry-After honoured (milliseconds)
    worker_ctx["job_try"] = MAX_TRIES
    assert await process_event(worker_ctx, str(event_id)) == "retrying"  # parked: test_parking.py
    op = await operation_of(sessionmaker, event_id)
    assert op.attempts == 2 and op.next_attempt_at is not None


async def test_expired_session_logs_in_again_once(client, owner, connection_id, sandbox, sessionmaker, worker_ctx):
    bundle = await make_bundle(client, connection_id)
    first = await post_event(sessionmaker, bundle["id"], ANNA)
    await process_event(worker_ctx, str(first))
    sandbox.expire_sessions()
    second = await post_event(sessionmaker, bundle["id"], dict(ANNA, email="b@example.com"))
    assert await process_event(worker_ctx, str(second)) == "created"


async def test_wrong_password_stops_the_bundle_with_a_reason(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    await client.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"password": "no-longer-valid"}})
    sandbox.expire_sessions()  # the live session would otherwise still be used
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    assert await process_event(worker_ctx, str(event_id)) == "failed"
    after = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    assert after["status"] == "error" and after["status_reason"]


async def test_held_events_are_processed_or_discarded_on_start(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, settings
):
    bundle = await make_bundle(client, connection_id, start=False)
    held = [await post_event(sessionmaker, bundle["id"], dict(ANNA, email=f"h{i}@example.com")) for i in range(2)]
    assert (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()["held_count"] == 2
    assert await process_event(worker_ctx, str(held[0])) == "nothing to do"  # held: not processed
    started = await client.post(f"/api/v1/bundles/{bundle['id']}/start", json={"held": "process"})
    assert started.json()["held_count"] == 0
    pool = await create_arq_pool(settings)
    queued = {j.args[0] for j in await pool.queued_jobs()}
    await pool.aclose()
    assert {str(e) for e in held} <= queued  # enqueued after the commit
    worker = build_worker(settings, burst=True, poll_delay=0.05, cron_jobs=[])
    await worker.main()
    await worker.close()
    for event_id in held:
        assert (await operation_of(sessionmaker, event_id)).status == OperationStatus.created


async def test_discarding_held_events_sends_nothing(client, owner, connection_id, sandbox, sessionmaker):
    bundle = await make_bundle(client, connection_id, start=False)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    await client.post(f"/api/v1/bundles/{bundle['id']}/start", json={"held": "discard"})
    op = await operation_of(sessionmaker, event_id)
    assert op.status == OperationStatus.filtered and "discarded" in op.error


async def test_fifty_events_with_one_email_through_four_workers_make_one_contact(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, settings
):
    bundle = await make_bundle(client, connection_id)
    events = [
        await post_event(sessionmaker, bundle["id"], dict(ANNA, last_name=f"N{i}", email="Same@Example.com"))
        for i in range(50)
    ]

    async def one_worker(share):
        async with worker_process(settings) as context:
            return [await process_event(job_ctx(context), str(e)) for e in share]

    results = await asyncio.gather(*(one_worker(events[i::4]) for i in range(4)))
    flat = [r for share in results for r in share]
    assert flat.count("created") == 1
    assert set(flat) <= {"created", "updated", "unchanged"}
    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'same@example.com'")) == 1


async def test_email_matches_whatever_its_case_and_empty_values_never_match(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    http = sandbox.login()
    http.post("/0/odata/Contact", json={"Name": "Old", "Email": "MiXeD@Example.com"})
    http.post("/0/odata/Contact", json={"Name": "No email 1"})
    http.close()
    mapping = [{"target": "Name", "source": "name"}, {"target": "Email", "source": "email"}]
    bundle = await make_bundle(
        client, connection_id, mapping=mapping, dedup={"mode": "skip_if_found", "match_fields": ["Email"]}
    )
    found = await post_event(sessionmaker, bundle["id"], {"name": "New", "email": "mixed@example.COM"})
    assert await process_event(worker_ctx, str(found)) == "skipped_duplicate"
    empty = await post_event(sessionmaker, bundle["id"], {"name": "No email 2", "email": ""})
    assert await process_event(worker_ctx, str(empty)) == "created"  # "" found nothing, so a new contact


async def test_several_matches_use_the_most_recently_modified_and_say_how_many(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    http = sandbox.login()
    for name in ("First", "Second", "Third"):
        http.post("/0/odata/Contact", json={"Name": name, "Email": "dup@example.com"})
    http.close()
    mapping = [{"target": "Name", "source": "name"}, {"target": "Email", "source": "email"}]
    bundle = await make_bundle(
        client, connection_id, mapping=mapping, dedup={"mode": "skip_if_found", "match_fields": ["Email"]}
    )
    event_id = await post_event(sessionmaker, bundle["id"], {"name": "X", "email": "dup@example.com"})
    assert await process_event(worker_ctx, str(event_id)) == "skipped_duplicate"
    op = await operation_of(sessionmaker, event_id)
    third = sandbox_rows(sandbox, "Contact", "Name eq 'Third'")[0]
    assert str(op.record_id) == third["Id"]
    assert op.error.startswith("3 records match")


async def test_an_edit_applies_to_events_processed_after_the_save(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)  # stored under version 1
    body = (await client.get(f"/api/v1/bundles/{bundle['id']}")).json()
    body["mapping"] = [{"target": "Name", "constant": "Edited"}, {"target": "Email", "source": "email"}]
    body["dedup"] = {"mode": "always_create"}
    put = {k: body[k] for k in ("name", "source", "target", "mapping", "dedup")}
    assert (await client.put(f"/api/v1/bundles/{bundle['id']}", json=put)).json()["config_version"] == 2
    assert await process_event(worker_ctx, str(event_id)) == "created"
    op = await operation_of(sessionmaker, event_id)
    assert op.config_version == 2 and op.mapped_data["Name"] == "Edited"


async def test_history_is_searchable_by_email_phone_and_record_id(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    anna = await post_event(sessionmaker, bundle["id"], ANNA)
    other = await post_event(sessionmaker, bundle["id"], dict(ANNA, email="other@example.com", phone=""))
    for event_id in (anna, other):
        await process_event(worker_ctx, str(event_id))
    url = f"/api/v1/bundles/{bundle['id']}/operations"
    op = await operation_of(sessionmaker, anna)
    for q in ("ANNA@example.com", "+79123456789", str(op.record_id)):
        items = (await client.get(url, params={"q": q})).json()["items"]
        assert [i["id"] for i in items] == [str(op.id)], q
    assert (await client.get(url, params={"q": "nobody@example.com"})).json()["items"] == []
    failed = (await client.get(url, params={"status": ["failed"]})).json()["items"]
    assert failed == []


async def test_events_of_a_deleted_bundle_fail_without_sending(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    event_id = await post_event(sessionmaker, bundle["id"], ANNA)
    assert (await client.delete(f"/api/v1/bundles/{bundle['id']}")).status_code == 204
    sandbox.reset_counts()
    assert await process_event(worker_ctx, str(event_id)) == "nothing to do"
    op = await operation_of(sessionmaker, event_id)
    assert op.status == OperationStatus.failed and op.error == "the bundle was deleted"
    assert sandbox.counts()["total"] == 0


@pytest.mark.parametrize("candidates", [10_000, 1], ids=["rare value: GIN matches sorted", "common value: index walk"])
async def test_history_search_pages_newest_first_whether_the_value_is_rare_or_common(
    client, owner, connection_id, sessionmaker, monkeypatch, candidates
):
    monkeypatch.setattr(history_service, "SEARCH_CANDIDATES", candidates)
    bundle = await make_bundle(client, connection_id)
    same = [await post_event(sessionmaker, bundle["id"], dict(ANNA, email="same@example.com")) for _ in range(3)]
    await post_event(sessionmaker, bundle["id"], dict(ANNA, email="other@example.com"))
    url = f"/api/v1/bundles/{bundle['id']}/operations"
    first = (await client.get(url, params={"q": "same@example.com", "limit": 2})).json()
    second = (
        await client.get(url, params={"q": "same@example.com", "limit": 2, "cursor": first["next_cursor"]})
    ).json()
    assert second["next_cursor"] is None
    events = [i["event_id"] for i in first["items"] + second["items"]]
    assert events == [str(e) for e in reversed(same)]
