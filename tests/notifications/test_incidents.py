import uuid

from bpmlink_worker.incidents import check_failures
from bpmlink_worker.main import build_worker
from bpmlink_worker.process import process_event

from tests.fixtures.pipeline import make_bundle, post_event


async def _notify_to(client, receiver_url, **extra):
    body = {"notifications": {"emails": ["ops@example.com"], "webhook_url": receiver_url, **extra}}
    response = await client.patch("/api/v1/workspace", json=body)
    assert response.status_code == 200, response.text


async def _drain(settings):
    worker = build_worker(settings, burst=True, poll_delay=0.05, cron_jobs=[])
    await worker.main()
    await worker.close()


async def test_bundle_error_sends_one_email_and_one_post(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, settings, inbox, received, receiver_server
):
    await _notify_to(client, receiver_server[0])
    bundle = await make_bundle(client, connection_id)
    await client.patch(f"/api/v1/connections/{connection_id}", json={"secrets": {"password": "wrong-now"}})
    sandbox.expire_sessions()
    events = [
        await post_event(sessionmaker, bundle["id"], {"first_name": "A", "email": f"{i}@x.com"}) for i in range(3)
    ]
    for event_id in events:
        assert await process_event(worker_ctx, str(event_id)) == "failed"
    await _drain(settings)
    await _drain(settings)  # a second pass sends nothing more
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "ops@example.com" and bundle["name"] in message["Subject"]
    assert "stopped" in message.get_content()
    assert len(received) == 1
    assert received[0]["kind"] == "bundle_error" and received[0]["bundle"]["id"] == bundle["id"]
    assert received[0]["text"].startswith("bpmlink:")


async def test_failures_over_the_hourly_threshold_notify_once(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, settings, inbox, received, receiver_server
):
    await _notify_to(client, receiver_server[0], failures_per_hour=2)
    mapping = [{"target": "Name", "source": "name"}, {"target": "AccountId", "constant": str(uuid.uuid4())}]
    bundle = await make_bundle(client, connection_id, mapping=mapping, dedup={"mode": "always_create"})
    for i in range(3):
        event_id = await post_event(sessionmaker, bundle["id"], {"name": f"n{i}"})
        assert await process_event(worker_ctx, str(event_id)) == "failed"
    assert await check_failures(worker_ctx) == 1
    assert await check_failures(worker_ctx) == 0  # the same hour: the same incident
    await _drain(settings)
    assert [r["kind"] for r in received] == ["failures"]
    assert "3 operations" in received[0]["message"]
    assert len(inbox.messages) == 1


async def test_only_the_owner_configures_notifications_and_bad_values_are_named(client, owner):
    response = await client.patch("/api/v1/workspace", json={"notifications": {"emails": ["not-an-email"]}})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"].startswith("notifications.emails")
    current = (await client.get("/api/v1/workspace")).json()
    assert current["notifications"]["emails"] == []


async def test_delivery_jobs_are_queued_under_one_id(worker):
    from bpmlink_worker.incidents import request_delivery

    async with worker.transaction() as tx:
        request_delivery(tx, 12345)
        request_delivery(tx, 12345)
        assert await worker.queue.queued_jobs() == []  # sent after the commit
    jobs = [j for j in await worker.queue.queued_jobs() if j.function == "incident.deliver"]
    assert len(jobs) == 1
