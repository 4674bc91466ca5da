"""The event store: the only writer of event + operation rows, and the hand-off to the worker pool.

Every source stores an event together with its operation (status `queued`, or `held` while the
bundle does not run: `is_held`, the one rule, also spelled in SQL by `held_sql`) in one
transaction, commits, and only then enqueues `event.process` with a deterministic job id, so a
resend of the same id while it waits or runs is a no-op. The sweeper re-enqueues events whose
enqueue never happened (Redis down at the time, or a gateway killed after its 202).

Entry points, each one statement for any number of events (the webhook's and the poll's hot paths):
- `event_row` + `store_events_now`: over asyncpg, autocommitted on a pool (the gateway's group
  commit) or in the transaction of a session's connection (`store_events`: imports, in bulk);
- `polled_statement` + `page_args`: a poll's or backfill's page with the source requests that
  fetched it, in one statement with the cursor's move (`bpmlink_worker.polling.statements`).
A request that becomes several items (source apps) is several rows of one call.
Jobs go to Redis with one script call (`enqueue_events`).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import BundleStatus, EventState, OperationStatus
from bpmlink.kit.queue import Job, enqueue_jobs
from bpmlink.search_terms import search_terms

PROCESS_EVENT = "event.process"

log = logging.getLogger("bpmlink.events")


def process_job_id(event_id: uuid.UUID, suffix: str = "") -> str:
    """`event:<id>`; a replay adds a suffix, since arq keeps a finished job's id for a while."""
    return f"event:{event_id}{':' + suffix if suffix else ''}"


class EventBundle(Protocol):
    """What storing an event reads of its bundle: a `Bundle` row, or the gateway's cached copy."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def workspace_id(self) -> uuid.UUID: ...
    @property
    def status(self) -> str: ...
    @property
    def config_version(self) -> int: ...


# The bundle statuses whose events are processed; under any other an event is stored `held`, for the
# user to process or discard when the bundle starts again (stopping a bundle never drops a lead).
_PROCESSING = (BundleStatus.running, BundleStatus.waiting)


def is_held(bundle_status: str) -> bool:
    return bundle_status not in _PROCESSING


def held_sql(status: str) -> str:
    """`is_held` in SQL, for a statement that reads the bundle's status itself (`status`: its column)."""
    spelled = ", ".join(f"'{s}'" for s in _PROCESSING)
    return f"{status} NOT IN ({spelled})"


@dataclass(frozen=True)
class StoredEvent:
    id: uuid.UUID
    created: bool  # False for a resend: its idempotency key was seen before
    held: bool


# The operation is inserted only when the event was (ON CONFLICT: a resend inserts neither).
_STORE = text(
    """
    WITH inserted AS (
        INSERT INTO events (id, workspace_id, bundle_id, origin, state, idempotency_key, source_item_key,
                            request, body, item)
        VALUES (CAST(:id AS uuid), CAST(:workspace_id AS uuid), CAST(:bundle_id AS uuid), :origin, :state,
                :idempotency_key, :source_item_key, CAST(:request AS jsonb), CAST(:body AS bytea),
                CAST(:item AS jsonb))
        ON CONFLICT DO NOTHING
        RETURNING id
    ), operation AS (
        INSERT INTO operations (id, workspace_id, bundle_id, event_id, config_version, status, attempts,
                                source_data, search_terms, finished_at)
        SELECT CAST(:operation_id AS uuid), CAST(:workspace_id AS uuid), CAST(:bundle_id AS uuid), inserted.id,
               CAST(:config_version AS integer), CAST(:operation_status AS text), 0, CAST(:item AS jsonb),
               CAST(:search_terms AS text[]), CASE WHEN CAST(:operation_status AS text) = 'test' THEN now() END
        FROM inserted
    )
    SELECT id FROM inserted
    """
)
# A new statement (new snapshot) so a conflicting row committed meanwhile is seen: the event a resend repeats.
_EXISTING = text(
    "SELECT id FROM events WHERE bundle_id = CAST(:bundle_id AS uuid) AND idempotency_key = :idempotency_key"
)


def _positional(statement: Any) -> tuple[str, tuple[str, ...]]:
    """The statement in asyncpg's $n form and its parameter names in order, for the raw driver."""
    compiled = statement.compile(dialect=asyncpg_dialect.dialect())
    return str(compiled), tuple(compiled.positiontup or ())


_STORE_RAW = _positional(_STORE)
_EXISTING_RAW = _positional(_EXISTING)


_ids: deque[uuid.UUID] = deque()
os.register_at_fork(after_in_child=_ids.clear)  # a forked child must not hand out its parent's ids


def new_id() -> uuid.UUID:
    """uuid.uuid4(), with the randomness read from os.urandom 4 KiB at a time: one getrandom call per id was
    5% of the gateway's CPU. deque.popleft/extend are atomic, so threads may share the pool."""
    while True:
        try:
            return _ids.popleft()
        except IndexError:
            random = os.urandom(16 * 256)
            _ids.extend(uuid.UUID(bytes=random[i : i + 16], version=4) for i in range(0, len(random), 16))


@dataclass(frozen=True)
class EventRow:
    """One event and its operation, ready to be stored with others in one statement (`store_events_now`)."""

    params: dict[str, Any]
    held: bool


def event_row(
    bundle: EventBundle,
    *,
    origin: str,
    item: dict[str, Any],
    request: dict[str, Any] | None = None,
    body: bytes | None = None,
    idempotency_key: str | None = None,
    source_item_key: str | None = None,
    test: bool = False,
) -> EventRow:
    """`test`: a request that only checks the URL, stored `done` with an operation `test` (final: never
    queued, whatever the bundle's status)."""
    held = not test and is_held(bundle.status)
    state, status = (EventState.held, OperationStatus.held) if held else (EventState.pending, OperationStatus.queued)
    if test:
        state, status = EventState.done, OperationStatus.test
    params = {
        "id": new_id(),
        "operation_id": new_id(),
        "workspace_id": bundle.workspace_id,
        "bundle_id": bundle.id,
        "origin": origin,
        "state": str(state),
        "operation_status": str(status),
        "config_version": bundle.config_version,
        "idempotency_key": idempotency_key,
        "source_item_key": source_item_key,
        "request": None if request is None else json.dumps(request),
        "body": body,
        "item": json.dumps(item),
        "search_terms": search_terms(item),
    }
    return EventRow(params, held)


# Many events and their operations in one statement, hence one transaction and one commit (the gateway's
# group commit; an import's batch). An operation is inserted only for an event that was (ON CONFLICT: a
# resend inserts neither, also when its first delivery is in the same statement). Search terms travel as
# one JSON array per row: unnest cannot take an array of arrays of different lengths.
_STORE_MANY = """
WITH rows AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                         $8::integer[], $9::text[], $10::text[], $11::bytea[], $12::text[], $13::text[],
                         $14::text[])
        AS r(id, operation_id, workspace_id, bundle_id, origin, state, operation_status, config_version,
             idempotency_key, request, body, item, source_item_key, search_terms)
), inserted AS (
    INSERT INTO events (id, workspace_id, bundle_id, origin, state, idempotency_key, source_item_key, request,
                        body, item)
    SELECT id, workspace_id, bundle_id, origin, state, idempotency_key, source_item_key, request::jsonb, body,
           item::jsonb
    FROM rows
    ON CONFLICT DO NOTHING
    RETURNING id
), operation AS (
    INSERT INTO operations (id, workspace_id, bundle_id, event_id, config_version, status, attempts,
                            source_data, search_terms, finished_at)
    SELECT r.operation_id, r.workspace_id, r.bundle_id, r.id, r.config_version, r.operation_status, 0,
           r.item::jsonb, ARRAY(SELECT jsonb_array_elements_text(r.search_terms::jsonb)),
           CASE WHEN r.operation_status = 'test' THEN now() END
    FROM rows r JOIN inserted USING (id)
)
SELECT id FROM inserted
"""
# A second statement (new snapshot): the events that resends conflicted with, committed by now.
_EXISTING_MANY = """
SELECT k.n, e.id
FROM unnest($1::uuid[], $2::text[], $3::integer[]) AS k(bundle_id, idempotency_key, n)
JOIN events e ON e.bundle_id = k.bundle_id AND e.idempotency_key = k.idempotency_key
"""
_COLUMNS = (
    "id",
    "operation_id",
    "workspace_id",
    "bundle_id",
    "origin",
    "state",
    "operation_status",
    "config_version",
    "idempotency_key",
    "request",
    "body",
    "item",
    "source_item_key",
)


async def store_events_now(
    db: asyncpg.Pool | asyncpg.Connection, rows: Sequence[EventRow], *, timeout: float | None = None
) -> list[StoredEvent | None]:
    """Store many events with their operations in one statement; results in the order of `rows`.

    On a pool (or a connection outside a transaction) committed when it returns; on a connection in a
    transaction (`store_events`), with it. None for a row that conflicted with an event no longer there
    (deleted between the two statements), or with one of the same source item key: not stored. Rows go in
    ordered by (bundle, idempotency key), so two such statements running at once take the unique index's
    entries in the same order (no deadlock between resends)."""
    if len(rows) == 1:  # the one-row statement costs PostgreSQL less than unnest of one-element arrays
        return [await _store_one(db, rows[0], timeout)]
    order = sorted(
        range(len(rows)), key=lambda i: (rows[i].params["bundle_id"], rows[i].params["idempotency_key"] or "")
    )
    ordered = [rows[i].params for i in order]
    columns = [[p[name] for p in ordered] for name in _COLUMNS]
    columns.append([json.dumps(p["search_terms"]) for p in ordered])
    inserted = {r[0] for r in await db.fetch(_STORE_MANY, *columns, timeout=timeout)}
    results: list[StoredEvent | None] = [
        StoredEvent(row.params["id"], created=True, held=row.held) if row.params["id"] in inserted else None
        for row in rows
    ]
    missing = [i for i, stored in enumerate(results) if stored is None]
    if missing:
        keyed = [i for i in missing if rows[i].params["idempotency_key"] is not None]
        found = await db.fetch(
            _EXISTING_MANY,
            [rows[i].params["bundle_id"] for i in keyed],
            [rows[i].params["idempotency_key"] for i in keyed],
            keyed,
            timeout=timeout,
        )
        for n, event_id in found:
            results[n] = StoredEvent(event_id, created=False, held=rows[n].held)
    return results


async def _store_one(db: asyncpg.Pool | asyncpg.Connection, row: EventRow, timeout: float | None) -> StoredEvent | None:
    params = row.params
    sql, names = _STORE_RAW
    inserted = await db.fetchval(sql, *(params.get(n) for n in names), timeout=timeout)
    if inserted is not None:
        return StoredEvent(inserted, created=True, held=row.held)
    if params["idempotency_key"] is None:
        return None
    sql, names = _EXISTING_RAW
    existing = await db.fetchval(sql, *(params.get(n) for n in names), timeout=timeout)
    return None if existing is None else StoredEvent(existing, created=False, held=row.held)


async def store_events(session: AsyncSession, rows: Sequence[EventRow]) -> list[StoredEvent | None]:
    """`store_events_now` in the session's transaction (the caller commits, then enqueues the new events)."""
    connection = await (await session.connection()).get_raw_connection()
    return await store_events_now(connection.driver_connection, rows)


def polled_statement(state: str) -> str:
    """A page of polled items as events with their operations, and the page's fetch requests as each new
    operation's attempt-0 steps, only if `state` (a CTE of one row: the bundle's status, workspace_id and
    config_version) has a row — it may move the poll's cursor in the same statement. $1 is the bundle id,
    $2…$18 `page_args`. An item seen before conflicts on the unique (bundle_id, source_item_key) and
    inserts nothing. One statement: all of it or none. Returns `bundle_status` and the `created` event ids."""
    held = held_sql("s.status")
    return f"""
    WITH state AS ({state}),
    input AS (
        SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
            WITH ORDINALITY AS i(id, operation_id, key, item, terms, n)
    ),
    inserted AS (
        INSERT INTO events (id, workspace_id, bundle_id, origin, state, source_item_key, item)
        SELECT i.id, s.workspace_id, $1, $7,
               CASE WHEN {held} THEN '{EventState.held}' ELSE '{EventState.pending}' END, i.key, i.item::jsonb
        FROM input i CROSS JOIN state s
        ORDER BY i.n
        ON CONFLICT DO NOTHING
        RETURNING id
    ),
    ops AS (
        INSERT INTO operations (id, workspace_id, bundle_id, event_id, config_version, status, attempts,
                                source_data, search_terms)
        SELECT i.operation_id, s.workspace_id, $1, i.id, s.config_version,
               CASE WHEN {held} THEN '{OperationStatus.held}' ELSE '{OperationStatus.queued}' END, 0, i.item::jsonb,
               ARRAY(SELECT jsonb_array_elements_text(i.terms::jsonb))
        FROM inserted JOIN input i ON i.id = inserted.id CROSS JOIN state s
        RETURNING id, event_id
    ),
    steps AS (
        INSERT INTO steps (operation_id, attempt, position, system, method, url, request_headers, request_body,
                           status, response_body, duration_ms, error, started_at)
        SELECT ops.id, 0, st.position, st.system, st.method, st.url, st.headers::jsonb, st.request_body,
               st.status, st.response_body, st.duration_ms, st.error, st.started_at
        FROM ops CROSS JOIN unnest($8::int[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                                   $14::int[], $15::text[], $16::int[], $17::text[], $18::timestamptz[])
            AS st(position, system, method, url, headers, request_body, status, response_body, duration_ms,
                  error, started_at)
    )
    SELECT (SELECT status FROM state) AS bundle_status, array(SELECT event_id FROM ops) AS created"""  # noqa: S608 - a fixed CTE


def page_args(items: Sequence[tuple[str, dict[str, Any]]], recorder: StepRecorder, origin: str) -> list[Any]:
    """$2…$18 of `polled_statement`: the page's (key, item) pairs (the first of each key) and the requests
    that fetched them, as arrays."""
    ids: list[uuid.UUID] = []
    op_ids: list[uuid.UUID] = []
    keys: list[str] = []
    values: list[str] = []
    terms: list[str] = []
    seen: set[str] = set()
    for key, item in items:
        if key in seen:
            continue  # the same item twice in one page: the first is stored, as one by one
        seen.add(key)
        ids.append(new_id())
        op_ids.append(new_id())
        keys.append(key)
        values.append(json.dumps(item))
        terms.append(json.dumps(search_terms(item)))
    steps = recorder.steps
    return [
        ids,
        op_ids,
        keys,
        values,
        terms,
        origin,
        list(range(len(steps))),
        [s.system[:32] for s in steps],
        [s.method[:10] for s in steps],
        [s.url for s in steps],
        [None if s.request_headers is None else json.dumps(s.request_headers) for s in steps],
        [s.request_body for s in steps],
        [s.status for s in steps],
        [s.response_body for s in steps],
        [int(s.duration_ms) for s in steps],
        [s.error for s in steps],
        [s.started_at for s in steps],
    ]


async def enqueue_events(
    pool: ArqRedis, event_ids: Sequence[uuid.UUID], *, job_suffix: str = "", defer_seconds: float | None = None
) -> int:
    """Queue processing of many events in one round trip; returns how many were not queued already."""
    run_at_ms = int((time.time() + (defer_seconds or 0)) * 1000)
    jobs = [
        Job(PROCESS_EVENT, (str(event_id),), process_job_id(event_id, job_suffix), run_at_ms) for event_id in event_ids
    ]
    return await enqueue_jobs(pool, jobs)


async def enqueue_committed(pool: ArqRedis, event_ids: Sequence[uuid.UUID]) -> None:
    """Queue events right after their commit; when Redis fails they stay `pending` for the sweeper."""
    try:
        await enqueue_events(pool, event_ids)
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("%d events committed but not queued; the sweeper will queue them: %s", len(event_ids), exc)


async def enqueue_event(
    pool: ArqRedis, event_id: uuid.UUID, *, job_suffix: str = "", defer_seconds: float | None = None
) -> None:
    """Queue processing of one event; a second enqueue of a waiting or running job is a no-op."""
    await enqueue_events(pool, [event_id], job_suffix=job_suffix, defer_seconds=defer_seconds)
