"""One workspace's hostile bundle in a batch: its events end alone, the other workspace's are created."""

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from bpmlink_worker.process import process_event, process_events
from sqlalchemy import update

from bpmlink.db.models import BundleVersion, OperationStatus
from bpmlink.mapping import quarantine
from tests.fixtures.accounts import login, make_workspace
from tests.fixtures.pipeline import make_bundle, operation_of, post_event, sandbox_rows

# The assessment's webhook: a filter whose pattern backtracks exponentially on a long value.
CATASTROPHIC = {"join": "and", "conditions": [{"field": "text", "op": "matches", "value": r"^(a+)+$"}]}
HOSTILE_ITEM = {"text": "a" * 50_000 + "!", "first_name": "X", "email": "x@hostile.example"}
LOOPS = "{% for i in range(10000) %}{% for j in range(10000) %}{{ '' }}{% endfor %}{% endfor %}"


@pytest.fixture
async def other_client(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client of another workspace, with its own sandbox connection."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:  # type: ignore[arg-type]
        yield c


async def _hostile_bundle(other_client, sessionmaker, sandbox, filter_: dict) -> dict:
    await login(other_client, await make_workspace(sessionmaker, "Hostile"))
    body = {
        "app": "bpmonline",
        "name": "Sandbox",
        "params": {"domain": sandbox.base_url, "auth": "forms", "username": sandbox.username},
        "secrets": {"password": sandbox.password},
    }
    connection = await other_client.post("/api/v1/connections", json=body)
    assert connection.status_code == 201, connection.text
    return await make_bundle(other_client, connection.json()["id"], filter=filter_)


async def _run_one_batch(ctx, events: list[uuid.UUID]) -> list[object]:
    return await asyncio.gather(*(process_event(ctx, str(e)) for e in events), return_exceptions=True)


def _ordinary(i: int) -> dict[str, str]:
    return {"first_name": "Ann", "last_name": f"N{i}", "email": f"ann.{i}@neighbour.example"}


async def test_a_catastrophic_filter_ends_its_own_events_and_not_the_neighbours(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, other_client
):
    neighbour = await make_bundle(client, connection_id)
    hostile = await _hostile_bundle(other_client, sessionmaker, sandbox, CATASTROPHIC)
    ordinary = [await post_event(sessionmaker, neighbour["id"], _ordinary(i)) for i in range(5)]
    bad = [await post_event(sessionmaker, hostile["id"], HOSTILE_ITEM) for _ in range(3)]

    results = await _run_one_batch(worker_ctx, [bad[0], *ordinary[:3], bad[1], *ordinary[3:], bad[2]])

    assert results == ["filtered", "created", "created", "created", "filtered", "created", "created", "filtered"]
    for i in range(5):
        assert len(sandbox_rows(sandbox, "Contact", f"Email eq 'ann.{i}@neighbour.example'")) == 1
    for event_id in bad:
        op = await operation_of(sessionmaker, event_id)
        assert op.status == OperationStatus.filtered and op.error.startswith("text matches")


async def test_an_error_in_one_events_filter_fails_that_operation_alone(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, other_client
):
    """A pattern saved before RE2 (a lookahead) raises at run: its operations fail with the reason."""
    neighbour = await make_bundle(client, connection_id)
    hostile = await _hostile_bundle(other_client, sessionmaker, sandbox, {"conditions": []})
    old_filter = {"join": "and", "conditions": [{"field": "text", "op": "matches", "value": "(?=a)a"}]}
    async with sessionmaker() as session:
        version = await session.scalar(
            update(BundleVersion)
            .where(BundleVersion.bundle_id == uuid.UUID(hostile["id"]))
            .values(config=BundleVersion.config.op("||")({"filter": old_filter}))
            .returning(BundleVersion.version)
        )
        await session.commit()
    assert version is not None
    ordinary = [await post_event(sessionmaker, neighbour["id"], _ordinary(i)) for i in range(3)]
    bad = await post_event(sessionmaker, hostile["id"], {"text": "aaa", "email": "y@hostile.example"})

    results = await _run_one_batch(worker_ctx, [*ordinary[:2], bad, ordinary[2]])

    assert results == ["created", "created", "failed", "created"]
    op = await operation_of(sessionmaker, bad)
    assert op.status == OperationStatus.failed and op.finished_at is not None
    assert op.error.startswith("text: the regular expression '(?=a)a' is not supported")
    for event_id in ordinary:
        assert (await operation_of(sessionmaker, event_id)).status == OperationStatus.created


async def _looping_bundle(other_client, sessionmaker, sandbox) -> dict:
    """The other workspace's bundle whose template loops until its event's budget stops it."""
    hostile = await _hostile_bundle(other_client, sessionmaker, sandbox, {"conditions": []})
    async with sessionmaker() as session:  # the template a save would refuse, in its one step
        version = await session.get(BundleVersion, (uuid.UUID(hostile["id"]), hostile["config_version"]))
        config = copy.deepcopy(version.config)
        config["steps"][0]["mapping"] = [{"target": "Name", "template": LOOPS}]
        version.config = config
        await session.commit()
    return hostile


async def test_a_slow_bundle_of_the_batch_does_not_hold_the_others_writes(
    client, owner, connection_id, sandbox, sessionmaker, worker_ctx, other_client
):
    """The hostile template spends its event's whole budget: the neighbours' records and history are
    written meanwhile, and the hostile operation then fails naming the field."""
    neighbour = await make_bundle(client, connection_id)
    hostile = await _looping_bundle(other_client, sessionmaker, sandbox)
    ordinary = [await post_event(sessionmaker, neighbour["id"], _ordinary(i)) for i in range(3)]
    bad = await post_event(sessionmaker, hostile["id"], HOSTILE_ITEM)

    jobs = asyncio.ensure_future(_run_one_batch(worker_ctx, [bad, *ordinary]))
    neighbours_written = False
    while not jobs.done() and not neighbours_written:
        statuses = [(await operation_of(sessionmaker, e)).status for e in ordinary]
        neighbours_written = statuses == [OperationStatus.created] * 3
    assert neighbours_written and not jobs.done()  # written while the hostile run still ran
    assert (await operation_of(sessionmaker, bad)).status == OperationStatus.processing

    results = await jobs
    assert results == ["failed", "created", "created", "created"]
    op = await operation_of(sessionmaker, bad)
    assert op.error == "Name: the filter, mapping and templates took longer than 1 s for this event"


async def test_a_quarantined_workspaces_events_do_not_hold_their_batch(
    client, owner, connection_id, sandbox, sessionmaker, worker, worker_ctx, other_client
):
    """Its code spent a whole budget: from then on a batch hands that workspace's runs to their jobs at
    once, so even a batch of its events alone ends while their code still runs (its slot free for the
    others), and the neighbour's events in the next batch are written meanwhile."""
    neighbour = await make_bundle(client, connection_id)
    hostile = await _looping_bundle(other_client, sessionmaker, sandbox)
    first, second = [await post_event(sessionmaker, hostile["id"], HOSTILE_ITEM) for _ in range(2)]
    assert await process_event(worker_ctx, str(first)) == "failed"  # its budget spent: quarantined

    [run] = await process_events(worker, [(second, 1)])
    assert run is not None and quarantine.is_quarantined(run.workspace_id)
    assert run.late is not None and not run.late.done()  # the batch did not wait
    ordinary = [await post_event(sessionmaker, neighbour["id"], _ordinary(i)) for i in range(2)]
    assert await _run_one_batch(worker_ctx, ordinary) == ["created", "created"]
    assert not run.late.done()  # the neighbours' batch ran to its end while the hostile code still ran

    await run.late
    assert run.status == OperationStatus.failed and run.error.endswith("took longer than 1 s for this event")
