"""Events processed together: one claim, `$batch` requests, and still an end of its own for each."""

import asyncio
import uuid

import pytest
from arq import Retry
from bpmlink_worker.batcher import Batcher
from bpmlink_worker.jobs import CONTEXT_KEY
from bpmlink_worker.process import process_event

from bpmlink.mapping.dedup import DedupPolicy, match_keys
from bpmlink.pipeline import push as push_module
from bpmlink.pipeline.push import LOCK_TTL, _lock_name
from tests.fixtures.pipeline import make_bundle, operation_of, post_event, sandbox_rows


def person(i: int, **kw: str) -> dict[str, str]:
    return {"first_name": "Lea", "last_name": f"B{i}", "email": f"lea.{i}@batch.example", **kw}


async def run_together(ctx, events: list[uuid.UUID]) -> list[object]:
    """As arq runs jobs: started in one loop turn, each awaiting its own end."""
    return await asyncio.gather(*(process_event(ctx, str(e)) for e in events), return_exceptions=True)


async def test_a_batch_of_events_uses_two_batch_requests_and_ends_each_operation(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    http = sandbox.login()  # one Contact exists already: its event becomes an update
    existing = {"Id": str(uuid.uuid4()), "Name": "Old name", "Email": "lea.3@batch.example"}
    assert http.post("/0/odata/Contact", json=existing).status_code == 201
    http.close()
    events = [
        await post_event(sessionmaker, bundle["id"], person(i, phone="+7 912 000-00-0" + str(i))) for i in range(8)
    ]
    await process_event(worker_ctx, str(await post_event(sessionmaker, bundle["id"], person(99))))  # warm: login
    sandbox.reset_counts()

    results = await run_together(worker_ctx, events)

    assert sorted(results) == sorted(["created"] * 7 + ["updated"])
    requests = sandbox.counts()["requests"]
    top_level = {k: n for k, n in requests.items() if not k.endswith(".batch_op")}
    assert top_level == {"POST odata4.batch": 2}  # searches, then writes: not 16 requests
    assert requests["GET odata4.batch_op"] == 8 and requests["POST odata4.batch_op"] == 7
    assert requests["PATCH odata4.batch_op"] == 1
    for i in range(8):
        assert len(sandbox_rows(sandbox, "Contact", f"Email eq 'lea.{i}@batch.example'")) == 1
    updated = sandbox_rows(sandbox, "Contact", "Email eq 'lea.3@batch.example'")[0]
    assert updated["Id"] == existing["Id"] and updated["MobilePhone"] == "+79120000003"

    # Each operation's history shows its own part of each $batch, with its own answer.
    op = await operation_of(sessionmaker, events[5])
    detail = (await client.get(f"/api/v1/operations/{op.id}")).json()
    parts = [(s["method"], s["status"]) for s in detail["steps"]]
    assert parts == [("GET", 200), ("POST", 201)]
    assert "lea.5%40batch.example" in detail["steps"][0]["url"] or "lea.5@batch.example" in detail["steps"][0]["url"]
    assert "lea.5@batch.example" in detail["steps"][1]["request_body"]
    assert "$batch" in detail["steps"][1]["request_headers"]["x-bpmlink-batch"]
    assert "lea.4@" not in str(detail["steps"])  # nothing of the other events


async def test_one_refused_event_fails_alone_and_the_rest_are_created(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    mapping = [{"target": "Name", "source": "name"}, {"target": "AccountId", "source": "account"}]
    bundle = await make_bundle(client, connection_id, mapping=mapping, dedup={"mode": "always_create"})
    good = [await post_event(sessionmaker, bundle["id"], {"name": f"Fine {i}"}) for i in range(3)]
    bad = await post_event(sessionmaker, bundle["id"], {"name": "Orphan", "account": str(uuid.uuid4())})

    results = await run_together(worker_ctx, [*good, bad])

    assert results == ["created", "created", "created", "failed"]
    assert "foreign key" in (await operation_of(sessionmaker, bad)).error.lower()
    for i in range(3):
        assert len(sandbox_rows(sandbox, "Contact", f"Name eq 'Fine {i}'")) == 1
    assert sandbox_rows(sandbox, "Contact", "Name eq 'Orphan'") == []


async def test_the_same_match_key_twice_in_a_batch_makes_one_record(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    twins = [
        await post_event(sessionmaker, bundle["id"], person(1, last_name=name)) for name in ("First", "Second", "Third")
    ]
    results = await run_together(worker_ctx, twins)
    assert results.count("created") == 1 and len(results) == 3
    assert set(results) <= {"created", "updated", "unchanged"}
    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'lea.1@batch.example'")) == 1


async def test_a_key_locked_elsewhere_waits_for_the_lock(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    """Another worker holds the key: the event waits for it, then finds that worker's record."""
    bundle = await make_bundle(client, connection_id)
    event = await post_event(sessionmaker, bundle["id"], person(7))
    other = await post_event(sessionmaker, bundle["id"], person(8))
    [key] = match_keys(DedupPolicy(mode="update_if_found", match_fields=["Email"]), {"Email": "lea.7@batch.example"})
    lock = worker_ctx[CONTEXT_KEY].redis.lock(_lock_name(uuid.UUID(bundle["id"]), key), timeout=LOCK_TTL)
    assert await lock.acquire()
    waiting, free = (asyncio.ensure_future(process_event(worker_ctx, str(e))) for e in (event, other))
    assert await asyncio.wait_for(free, 30) == "created"  # its batch did not wait for the held key
    assert (await operation_of(sessionmaker, other)).status == "created"  # and its history is written
    await asyncio.sleep(0.3)
    assert not waiting.done()
    http = sandbox.login()  # what the other worker creates while it holds the key
    assert http.post("/0/odata/Contact", json={"Name": "Lea", "Email": "lea.7@batch.example"}).status_code == 201
    http.close()
    await lock.release()
    assert await asyncio.wait_for(waiting, 30) == "updated"  # that record, not a second one
    assert len(sandbox_rows(sandbox, "Contact", "Email eq 'lea.7@batch.example'")) == 1


async def test_a_failed_batch_request_retries_every_event_of_it(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx
):
    bundle = await make_bundle(client, connection_id)
    events = [await post_event(sessionmaker, bundle["id"], person(i)) for i in range(3)]
    await process_event(worker_ctx, str(await post_event(sessionmaker, bundle["id"], person(99))))  # warm: login
    sandbox.set_faults(unavailable_rate=1.0, unavailable_retry_after=5, fault_scope="data")
    try:
        results = await run_together(worker_ctx, events)
    finally:
        sandbox.clear_faults()
    assert all(isinstance(r, Retry) and r.defer_score >= 5000 for r in results)
    for e in events:
        op = await operation_of(sessionmaker, e)
        assert op.status == "retrying" and "will retry" in op.error
    assert await run_together(worker_ctx, events) == ["created"] * 3


class Gated:
    """A batch function that records each batch it is given and holds it until `release` is set."""

    def __init__(self, times: int = 1) -> None:
        self.started: list[list[int]] = []
        self.release = asyncio.Event()
        self.times = times

    async def __call__(self, items: list[int]) -> list[int]:
        self.started.append(items)
        await self.release.wait()
        return [i * self.times for i in items]


async def test_batcher_groups_calls_made_together_and_runs_a_lone_call_at_once() -> None:
    run = Gated(times=10)
    batcher: Batcher[int, int] = Batcher(run, max_size=3, max_running=1)
    run.release.set()
    assert await batcher.submit(1) == 10
    run.release.clear()
    first = asyncio.ensure_future(batcher.submit(2))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(3, 8)]  # wait while one batch runs
    await asyncio.sleep(0.01)
    run.release.set()
    assert await first == 20 and [await r for r in rest] == [30, 40, 50, 60, 70]
    assert run.started == [[1], [2], [3, 4, 5], [6, 7]]


async def test_batcher_gives_a_batch_error_to_each_caller_and_survives_a_cancelled_one() -> None:
    async def run(items: list[int]) -> list[int]:
        await asyncio.sleep(0.01)
        if 0 in items:
            raise RuntimeError("batch failed")
        return items

    batcher: Batcher[int, int] = Batcher(run, max_size=10, max_running=2)
    failing = [asyncio.ensure_future(batcher.submit(i)) for i in (0, 1)]
    for f in failing:
        with pytest.raises(RuntimeError, match="batch failed"):
            await f
    gone = asyncio.ensure_future(batcher.submit(5))
    kept = asyncio.ensure_future(batcher.submit(6))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == 6
    await batcher.aclose()


async def test_batcher_starts_a_second_batch_early_when_a_full_one_waits() -> None:
    run = Gated()
    started, release = run.started, run.release
    batcher: Batcher[int, int] = Batcher(run, max_size=2, max_running=2, overlap_after=60)
    calls = [asyncio.ensure_future(batcher.submit(1))]
    await asyncio.sleep(0.01)
    calls.append(asyncio.ensure_future(batcher.submit(2)))
    await asyncio.sleep(0.01)
    assert started == [[1]]  # one waiting call: it waits for the running batch
    calls.append(asyncio.ensure_future(batcher.submit(3)))
    await asyncio.sleep(0.01)
    assert started == [[1], [2, 3]]  # a full batch waits: it runs alongside
    calls.append(asyncio.ensure_future(batcher.submit(4)))
    calls.append(asyncio.ensure_future(batcher.submit(5)))
    await asyncio.sleep(0.01)
    assert started == [[1], [2, 3]]  # max_running reached
    release.set()
    assert [await c for c in calls] == [1, 2, 3, 4, 5]
    assert started == [[1], [2, 3], [4, 5]]


async def test_key_locks_are_renewed_while_held_and_released_after(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, monkeypatch
):
    """A short lock life frees a dead worker's keys soon; a live holder keeps renewing them."""
    monkeypatch.setattr(push_module, "LOCK_TTL", 1)
    bundle = await make_bundle(client, connection_id)
    events = [await post_event(sessionmaker, bundle["id"], person(i)) for i in (20, 21)]
    await process_event(worker_ctx, str(await post_event(sessionmaker, bundle["id"], person(99))))  # warm: login
    names = [_lock_name(uuid.UUID(bundle["id"]), (("Email", f"lea.{i}@batch.example"),)) for i in (20, 21)]
    sandbox.set_faults(latency_ms=1200)
    try:
        jobs = asyncio.ensure_future(run_together(worker_ctx, events))
        await asyncio.sleep(1.6)  # past the lock's 1 s life, while the searches are still in flight
        assert await worker_ctx[CONTEXT_KEY].redis.exists(*names) == 2
        assert await asyncio.wait_for(jobs, 30) == ["created", "created"]
    finally:
        sandbox.clear_faults()
    assert await worker_ctx[CONTEXT_KEY].redis.exists(*names) == 0


async def test_an_odata3_connection_pushes_a_batch_one_request_per_event(
    client, owner, sandbox, sessionmaker, worker_ctx
):
    """OData 3 has no JSON $batch: the same searches and writes go one by one, each in its event's history."""
    body = {
        "app": "bpmonline",
        "name": "Sandbox OData 3",
        "params": {"domain": sandbox.base_url, "auth": "forms", "username": sandbox.username, "odata_version": 3},
        "secrets": {"password": sandbox.password},
    }
    created = await client.post("/api/v1/connections", json=body)
    assert created.status_code == 201, created.text
    bundle = await make_bundle(client, str(created.json()["id"]))
    events = [await post_event(sessionmaker, bundle["id"], person(i)) for i in (30, 31, 32)]
    assert await run_together(worker_ctx, events) == ["created"] * 3
    assert sandbox.counts()["requests"].get("POST odata3.batch", 0) == 0
    for i, event in zip((30, 31, 32), events, strict=True):
        assert len(sandbox_rows(sandbox, "Contact", f"Email eq 'lea.{i}@batch.example'")) == 1
        op = await operation_of(sessionmaker, event)
        steps = (await client.get(f"/api/v1/operations/{op.id}")).json()["steps"]
        own = [s for s in steps if "EntityDataService.svc/ContactCollection" in s["url"]]
        assert [(s["method"], s["status"]) for s in own] == [("GET", 200), ("POST", 201)]
        assert f"lea.{i}@" in own[1]["request_body"]
        assert not any(f"lea.{j}" in str(own) for j in (30, 31, 32) if j != i)  # nothing of the others


async def test_batcher_overlaps_a_batch_that_runs_long() -> None:
    """A batch still running after overlap_after is waiting on I/O: the next one need not wait for it."""
    run = Gated()
    started, release = run.started, run.release
    batcher: Batcher[int, int] = Batcher(run, max_size=10, max_running=2, overlap_after=0.05)
    calls = [asyncio.ensure_future(batcher.submit(1))]
    await asyncio.sleep(0.01)
    calls += [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3)]
    await asyncio.sleep(0.01)
    assert started == [[1]]  # the running batch is young: the others wait to fill the next one
    await asyncio.sleep(0.1)
    assert started == [[1], [2, 3]]
    release.set()
    assert [await c for c in calls] == [1, 2, 3]


async def test_batcher_lets_batches_grow_while_a_rate_limit_waits() -> None:
    """Held (a connection's rate window is what waits): no batch alongside before `held_overlap_after`
    unless a held-size batch waits, and the next batch takes up to `held_size`."""
    run = Gated()
    started, release = run.started, run.release
    limited = {"now": False}
    batcher: Batcher[int, int] = Batcher(
        run, max_size=2, max_running=2, overlap_after=0, held=lambda: limited["now"], held_size=4,
        held_overlap_after=60,
    )
    calls = [asyncio.ensure_future(batcher.submit(1))]
    await asyncio.sleep(0.01)
    limited["now"] = True
    calls += [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0.01)
    assert started == [[1]]  # not held, [2, 3] would have started alongside at once (overlap_after 0)
    calls.append(asyncio.ensure_future(batcher.submit(5)))
    await asyncio.sleep(0.01)
    assert started == [[1], [2, 3, 4, 5]]  # a held-size batch waits: it runs alongside, all four
    release.set()
    assert [await c for c in calls] == [1, 2, 3, 4, 5]
