"""Storing inbound events and handing them to the worker pool — one place for both.

Every source (webhook, poll, backfill, import) stores an event together with its
operation (status `queued`, or `held` when the bundle is stopped) in one transaction,
commits, and only then enqueues `event.process` with a deterministic job id, so a
resend of the same id while it waits or runs is a no-op. The sweeper re-enqueues events
whose enqueue never happened (Redis down at the time, or a gateway killed after its 202).

Both steps are single round trips because they sit on the webhook's hot path: the event
and its operation go in with one statement (a data-modifying CTE), and any number of jobs
go to Redis with one script call.
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

from bpmlink.db.models import BundleStatus, EventState, OperationStatus
from bpmlink.redis import Job, enqueue_jobs
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


@dataclass(frozen=True)
class StoredEvent:
    id: uuid.UUID
    created: bool  # False when the idempotency key / source item key was seen before
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
                                source_data, search_terms)
        SELECT CAST(:operation_id AS uuid), CAST(:workspace_id AS uuid), CAST(:bundle_id AS uuid), inserted.id,
               CAST(:config_version AS integer), :operation_status, 0, CAST(:item AS jsonb),
               CAST(:search_terms AS text[])
        FROM inserted
    )
    SELECT id FROM inserted
    """
)
# A new statement (new snapshot) so a conflicting row committed meanwhile is seen.
_EXISTING = text(
    """
    SELECT id FROM events
    WHERE bundle_id = CAST(:bundle_id AS uuid)
      AND ((CAST(:idempotency_key AS varchar) IS NOT NULL AND idempotency_key = :idempotency_key)
           OR (CAST(:idempotency_key AS varchar) IS NULL AND source_item_key = :source_item_key))
    """
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


def _store_params(
    bundle: EventBundle,
    *,
    origin: str,
    item: dict[str, Any],
    request: dict[str, Any] | None,
    body: bytes | None,
    idempotency_key: str | None,
    source_item_key: str | None,
) -> tuple[dict[str, Any], bool]:
    held = bundle.status not in (BundleStatus.running, BundleStatus.waiting)
    params = {
        "id": new_id(),
        "operation_id": new_id(),
        "workspace_id": bundle.workspace_id,
        "bundle_id": bundle.id,
        "origin": origin,
        "state": str(EventState.held if held else EventState.pending),
        "operation_status": str(OperationStatus.held if held else OperationStatus.queued),
        "config_version": bundle.config_version,
        "idempotency_key": idempotency_key,
        "source_item_key": source_item_key,
        "request": None if request is None else json.dumps(request),
        "body": body,
        "item": json.dumps(item),
        "search_terms": search_terms(item),
    }
    return params, held


async def store_event(
    session: AsyncSession,
    bundle: EventBundle,
    *,
    origin: str,
    item: dict[str, Any],
    request: dict[str, Any] | None = None,
    body: bytes | None = None,
    idempotency_key: str | None = None,
    source_item_key: str | None = None,
) -> StoredEvent:
    """Insert the event and its operation in the session's transaction (the caller commits, then enqueues)."""
    params, held = _store_params(
        bundle,
        origin=origin,
        item=item,
        request=request,
        body=body,
        idempotency_key=idempotency_key,
        source_item_key=source_item_key,
    )
    inserted = await session.scalar(_STORE, params)
    if inserted is not None:
        return StoredEvent(inserted, created=True, held=held)
    existing = await session.scalar(_EXISTING, params)
    assert existing is not None, "conflict without a matching event"
    return StoredEvent(existing, created=False, held=held)


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
) -> EventRow:
    params, held = _store_params(
        bundle,
        origin=origin,
        item=item,
        request=request,
        body=body,
        idempotency_key=idempotency_key,
        source_item_key=None,
    )
    return EventRow(params, held)


# Many events and their operations in one statement, hence one transaction and one commit (the gateway's
# group commit). An operation is inserted only for an event that was (ON CONFLICT: a resend inserts neither,
# also when its first delivery is in the same statement). Search terms travel as one JSON array per row:
# unnest cannot take an array of arrays of different lengths.
_STORE_MANY = """
WITH rows AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                         $8::integer[], $9::text[], $10::text[], $11::bytea[], $12::text[], $13::text[])
        AS r(id, operation_id, workspace_id, bundle_id, origin, state, operation_status, config_version,
             idempotency_key, request, body, item, search_terms)
), inserted AS (
    INSERT INTO events (id, workspace_id, bundle_id, origin, state, idempotency_key, request, body, item)
    SELECT id, workspace_id, bundle_id, origin, state, idempotency_key, request::jsonb, body, item::jsonb
    FROM rows
    ON CONFLICT DO NOTHING
    RETURNING id
), operation AS (
    INSERT INTO operations (id, workspace_id, bundle_id, event_id, config_version, status, attempts,
                            source_data, search_terms)
    SELECT r.operation_id, r.workspace_id, r.bundle_id, r.id, r.config_version, r.operation_status, 0,
           r.item::jsonb, ARRAY(SELECT jsonb_array_elements_text(r.search_terms::jsonb))
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
)


async def store_events_now(
    db: asyncpg.Pool | asyncpg.Connection, rows: Sequence[EventRow], *, timeout: float | None = None
) -> list[StoredEvent | None]:
    """Store many events with their operations in one autocommitted statement; results in the order of `rows`.

    Committed when it returns. None for a row that conflicted with an event no longer there (deleted between
    the two statements): not stored, the caller may try it again. Rows go in ordered by (bundle, idempotency
    key), so two such statements running at once take the unique index's entries in the same order (no
    deadlock between resends)."""
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
