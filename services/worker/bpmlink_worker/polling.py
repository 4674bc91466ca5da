"""Polling: the scheduler cron, the `poll.run` job and the `poll.backfill` job.

Scheduler (`poll.schedule`, every 10 seconds). One statement claims every running bundle whose
`next_due_at` falls within the next minute, through the partial index `ix_poll_states_due`,
with `FOR UPDATE SKIP LOCKED` (two schedulers never claim one row) and a lease
(`lease_until`: a bundle whose poll is queued or running is not claimed again until the poll
releases it, or the lease runs out because its worker died). The same statement sets the next
due time: the start of the run's minute + the interval + a per-bundle offset in [0, 60 s)
derived from the bundle id. The claims due in the same second are queued together as one
`poll.run` job (up to `POLL_BATCH`, run concurrently by it) deferred to that second, so 10,000
bundles due "on the minute" are spread over that minute by arq's queue instead of firing in the
same second, a bundle keeps its second from run to run (no drift), and arq's cost per job (several
Redis round trips) is shared by the polls of a second.

`poll.run`, for each of its bundles. Read the bundle, its poll state and its source connection
(one statement); fetch a page after the stored cursor; in one statement store each item as an
event (the unique `(bundle_id, source_item_key)` stores an item seen twice once) and advance
the cursor, after checking it is still the one the page was fetched after (a concurrent poll
or a retried job cannot move it twice); then enqueue the new events (an enqueue that fails
leaves them `pending` for the sweeper). The statements run on a raw asyncpg pool (see `_db`).
Follow pages until caught up, at most `MAX_PAGES` per run; a run that stops at the bound sets
`next_due_at = now()` so the next tick continues.

Steps. A poll is not an operation, so its requests are stored with the operations they
produced: each new event's operation gets the page's fetch request(s) as attempt 0 (before
the pipeline's attempt 1…). A failed fetch produces no operation: its message, code and the
failing request line are kept in `poll_states.last_error` (shown with the bundle), transient
failures are retried at the next interval, and `STOP_AFTER` permanent failures in a row put
the bundle in `error` with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from arq import Retry, cron
from arq import func as job_function
from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy import URL, event, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bpmlink import audit, metrics
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import Bundle, BundleStatus, EventState, OperationStatus, PollState
from bpmlink.db.session import rollback_if_open
from bpmlink.events import enqueue_committed
from bpmlink.logging import bind_log_context
from bpmlink.redis import Job, enqueue_jobs
from bpmlink.redis import arq_queue as queue_over
from bpmlink.search_terms import search_terms
from bpmlink.security import SecretBox
from bpmlink.sources import (
    BACKFILL_JOB,
    POLL_JOB,
    Cursor,
    FetchEnv,
    Page,
    PermanentSourceError,
    Source,
    SourceConnection,
    SourceError,
    TransientSourceError,
    backfill_job_id,
    get_source,
    load_source,
    trigger_config,
)
from bpmlink.sources.http_polling import HttpPollingSource

log = logging.getLogger("bpmlink.worker.polling")

PAGE_SIZE = 100
MAX_PAGES = 10  # per poll run: a large backlog is worked through over several runs
BACKFILL_PAGES_PER_JOB = 200  # then the backfill re-queues itself, so no job runs for hours
# The cron runs every 10 seconds and claims what falls due within the next minute. A bundle's next
# poll can be claimed only once its current poll ended (the lease): with one tick a minute, the polls
# due in the tick's first seconds waited for the tick itself (12 s at 10,000 bundles); six ticks a
# minute claim each poll ~50 s before it is due, ~1/6 of them each time.
CLAIM_AHEAD = timedelta(seconds=60)
SCHEDULE_SECONDS = {0, 10, 20, 30, 40, 50}
LEASE = timedelta(minutes=10)  # longer than RUN_TIMEOUT: a lease never ends while its poll still runs
RUN_TIMEOUT = 300
CLAIM_BATCH = 5000
POLL_BATCH = 20  # polls due in the same second per `poll.run` job, run concurrently by it
STOP_AFTER = 3  # permanent failures in a row before the bundle is put in `error`
STEP_BODY_LIMIT = 4096  # the page's answer is stored once per new event: keep it short

_CLAIM = text(
    """
    WITH due AS (
        SELECT p.bundle_id, greatest(p.next_due_at, :now) AS run_at
        FROM poll_states p JOIN bundles b ON b.id = p.bundle_id
        WHERE p.next_due_at IS NOT NULL AND p.next_due_at <= :horizon
          AND (p.lease_until IS NULL OR p.lease_until < :now)
          AND b.status = 'running' AND b.deleted_at IS NULL
        ORDER BY p.next_due_at
        LIMIT :limit
        FOR UPDATE OF p SKIP LOCKED
    )
    UPDATE poll_states p
    SET lease_until = due.run_at + :lease,
        next_due_at = date_trunc('minute', due.run_at)
            + make_interval(mins => p.interval_minutes)
            + make_interval(secs => mod(('x' || left(md5(p.bundle_id::text), 8))::bit(32)::bigint, 60000) / 1000.0)
    FROM due
    WHERE p.bundle_id = due.bundle_id
    RETURNING p.bundle_id, due.run_at
    """
)


@dataclass(frozen=True)
class Claim:
    bundle_id: uuid.UUID
    run_at: datetime


def poll_job_id(bundle_ids: Sequence[uuid.UUID], run_at: datetime) -> str:
    """One job per set of claims and due second: re-sending the same claims is a no-op in arq."""
    if len(bundle_ids) == 1:
        return f"poll:{bundle_ids[0]}:{int(run_at.timestamp())}"
    digest = hashlib.sha256(",".join(sorted(map(str, bundle_ids))).encode()).hexdigest()[:24]
    return f"polls:{int(run_at.timestamp())}:{digest}"


def poll_jobs(claims: Sequence[Claim], batch: int = POLL_BATCH) -> list[Job]:
    """The claims as `poll.run` jobs: those due in the same second together, up to `batch` per job, each
    job deferred to its first claim's due time. A job costs arq several Redis round trips however short
    its poll; at 10,000 bundles a minute, one job per poll was a third of the workers' CPU."""
    jobs: list[Job] = []
    ordered = sorted(claims, key=lambda c: c.run_at)
    start = 0
    while start < len(ordered):
        second = int(ordered[start].run_at.timestamp())
        end = start + 1
        while end < len(ordered) and end - start < batch and int(ordered[end].run_at.timestamp()) == second:
            end += 1
        group = ordered[start:end]
        ids = [c.bundle_id for c in group]
        jobs.append(
            Job(
                POLL_JOB,
                tuple(map(str, ids)),
                poll_job_id(ids, group[0].run_at),
                int(group[0].run_at.timestamp() * 1000),
            )
        )
        start = end
    return jobs


async def claim_due(
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    now: datetime | None = None,
    ahead: timedelta = CLAIM_AHEAD,
    limit: int = CLAIM_BATCH,
    lease: timedelta = LEASE,
) -> list[Claim]:
    """Claim up to `limit` due polls in one statement and commit; each row goes to one caller."""
    now = now or datetime.now(UTC)
    async with sessionmaker() as session:
        rows = (
            await session.execute(_CLAIM, {"now": now, "horizon": now + ahead, "limit": limit, "lease": lease})
        ).all()
        await session.commit()
    return [Claim(bundle_id=r[0], run_at=r[1]) for r in rows]


def arq_queue(ctx: dict[str, Any]) -> ArqRedis:
    """arq's own pool (ctx["arq"]); the startup replaces ctx["redis"] with a plain client."""
    for key in ("arq", "redis"):
        if isinstance(ctx.get(key), ArqRedis):
            return ctx[key]
    queue = ctx.get("poll_queue")
    if queue is None:
        queue = ctx["poll_queue"] = queue_over(ctx["redis"].connection_pool)
    return queue


async def schedule_polls(ctx: dict[str, Any]) -> int:
    """The cron job: claim due polls in bounded batches and queue them, a job per second's claims."""
    sessionmaker: async_sessionmaker[AsyncSession] = ctx["sessionmaker"]
    queue = arq_queue(ctx)
    queued = 0
    for _ in range(20):
        claims = await claim_due(sessionmaker)
        jobs = poll_jobs(claims)
        try:
            await enqueue_jobs(queue, jobs)
        except (RedisError, OSError) as exc:
            # The claims stay leased; when the leases run out the bundles are claimed again.
            log.warning("could not queue %d polls: %s", len(claims), exc)
            return queued
        queued += len(claims)
        if len(claims) < CLAIM_BATCH:
            break
    if queued:
        log.info("scheduler queued %d polls", queued)
    return queued


SCHEDULE_CRON = cron(
    schedule_polls, name="poll.schedule", second=SCHEDULE_SECONDS, unique=True, run_at_startup=True, timeout=55
)


# -- running a poll --------------------------------------------------------------------


@dataclass
class PollDeps:
    """What a poll needs; built from the arq ctx, or by tests.

    `db`: an asyncpg pool for the poll's statements. Without one, a pool shared by the process is
    made on first use for the sessionmaker's database (and terminated when its engine is disposed).
    """

    sessionmaker: async_sessionmaker[AsyncSession]
    queue: ArqRedis
    box: SecretBox
    env: FetchEnv
    http: httpx.AsyncClient | None = None
    db: asyncpg.Pool | None = None


def deps_from_ctx(ctx: dict[str, Any]) -> PollDeps:
    env = FetchEnv(settings=ctx["settings"], redis=ctx["redis"], bpm_clients=ctx.get("bpm_clients"))
    # One guarded client per worker process (made at start-up): TLS contexts per poll would cost CPU.
    return PollDeps(ctx["sessionmaker"], arq_queue(ctx), ctx["secret_box"], env, ctx["source_http"], ctx.get("pg"))


# A poll is a few statements on a raw asyncpg pool, not ORM sessions: SQLAlchemy's pool checks every
# connection it hands out (BEGIN, a ping, ROLLBACK: three round trips) and the ORM loads whole rows, which
# together were most of a poll's CPU. The pool is per (event loop, database) and per process.
_POOLS: dict[tuple[int, str], asyncio.Task[asyncpg.Pool]] = {}
_URLS: dict[int, tuple[URL, str]] = {}  # the engine's URL for asyncpg, by engine
POOL_SIZE = 10  # polls hold a connection for one statement at a time, never while the source answers


async def _db(deps: PollDeps) -> asyncpg.Pool:
    if deps.db is not None:
        return deps.db
    engine: AsyncEngine = deps.sessionmaker.kw["bind"]
    known = _URLS.get(id(engine))
    if known is None or known[0] is not engine.url:
        known = _URLS[id(engine)] = (engine.url, engine.url.set(drivername="postgresql").render_as_string(False))
    url = known[1]
    key = (id(asyncio.get_running_loop()), url)
    task = _POOLS.get(key)
    if task is None or (task.done() and (task.exception() is not None or task.result().is_closing())):
        task = _POOLS[key] = asyncio.ensure_future(_open_pool(url, engine, key))
    try:
        return await asyncio.shield(task)
    except Exception:
        if _POOLS.get(key) is task:
            del _POOLS[key]
        raise


async def _open_pool(url: str, engine: AsyncEngine, key: tuple[int, str]) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=POOL_SIZE,
        server_settings={"application_name": "bpmlink-polling"},
        reset=rollback_if_open,
    )

    def disposed(_engine: object) -> None:  # the worker's shutdown disposes its engine: close ours with it
        if _POOLS.get(key) is not None and _POOLS[key].done() and not _POOLS[key].cancelled():
            _POOLS.pop(key)
        pool.terminate()

    event.listen(engine.sync_engine, "engine_disposed", disposed, once=True)
    return pool


# What a poll reads: its bundle, state and source connection, for all of a job's polls in one
# statement (as `bundle_id, known version` pairs). The trigger's
# configuration only when the version cached here is not the current one (a saved version never
# changes); JSON comes back as text, so an unchanged connection costs no parsing (see _connection).
_LOAD = """
    SELECT p.bundle_id, b.status, b.deleted_at IS NOT NULL AS deleted, b.workspace_id, b.config_version,
           b.source_app, b.source_connection_id,
           CASE WHEN b.config_version = k.known THEN NULL
                ELSE coalesce((b.config -> 'source')::text, '{}') END AS source,
           p.cursor::text AS cursor,
           c.id AS connection_id, c.app AS connection_app, c.params::text AS params, c.secrets_encrypted
    FROM unnest($1::uuid[], $2::int[]) AS k(bundle_id, known)
    JOIN poll_states p ON p.bundle_id = k.bundle_id
    JOIN bundles b ON b.id = p.bundle_id
    LEFT JOIN connections c ON c.id = b.source_connection_id AND c.workspace_id = b.workspace_id
"""


# The cursor moves only if it is still the one the page was fetched after (a concurrent poll or a
# retried job cannot move it twice; an UPDATE re-checks its condition on a row changed meanwhile).
# A stored cursor may be SQL NULL or JSON null: both are "from the beginning".
def _moved(before: str, after: str, more: str) -> str:
    return f"""
    UPDATE poll_states p
    SET cursor = {after}::jsonb, last_polled_at = now(), last_error = NULL, failures = 0,
        lease_until = CASE WHEN {more}::boolean THEN p.lease_until END
    FROM bundles b
    WHERE p.bundle_id = $1 AND b.id = p.bundle_id
      AND coalesce(p.cursor, 'null'::jsonb) = coalesce({before}::jsonb, 'null'::jsonb)
    RETURNING b.status, b.workspace_id, b.config_version"""  # noqa: S608 - placeholders only


# A page without items: the cursor and the poll's bookkeeping, one autocommitted statement.
_ADVANCE = _moved("$2", "$3", "$4")


def _store_items(state: str) -> str:
    """Each new item as an event with its operation (`held` when the bundle is not running) and the
    page's fetch as the operation's attempt-0 steps, only if `state` (a CTE giving the bundle's status,
    workspace and version) has a row. An item seen before conflicts on the unique (bundle_id,
    source_item_key) and inserts nothing. One statement: all of it or none."""
    return f"""
    WITH state AS ({state}),
    input AS (
        SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[])
            WITH ORDINALITY AS i(id, operation_id, key, item, terms, n)
    ),
    inserted AS (
        INSERT INTO events (id, workspace_id, bundle_id, origin, state, source_item_key, item)
        SELECT i.id, s.workspace_id, $1, $7,
               CASE WHEN s.status IN ('running', 'waiting') THEN 'pending' ELSE 'held' END, i.key, i.item::jsonb
        FROM input i CROSS JOIN state s
        ORDER BY i.n
        ON CONFLICT DO NOTHING
        RETURNING id
    ),
    ops AS (
        INSERT INTO operations (id, workspace_id, bundle_id, event_id, config_version, status, attempts,
                                source_data, search_terms)
        SELECT i.operation_id, s.workspace_id, $1, i.id, s.config_version,
               CASE WHEN s.status IN ('running', 'waiting') THEN 'queued' ELSE 'held' END, 0, i.item::jsonb,
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


# A poll's page with items: its cursor moves and the items are stored together.
_STORE_POLLED = _store_items(_moved("$19", "$20", "$21"))
# A backfill's page: its progress is written in the same transaction, under a lock on its row.
_STORE_BACKFILLED = _store_items("SELECT status, workspace_id, config_version FROM bundles WHERE id = $1")
_LOCK_BACKFILL = "SELECT backfill::text FROM poll_states WHERE bundle_id = $1 FOR UPDATE"
_SAVE_BACKFILL = "UPDATE poll_states SET backfill = $2::jsonb WHERE bundle_id = $1"
# The statuses written above, spelled as the enums spell them.
assert [EventState.pending, EventState.held, OperationStatus.queued, OperationStatus.held] == [
    "pending",
    "held",
    "queued",
    "held",
]
assert [BundleStatus.running, BundleStatus.waiting] == ["running", "waiting"]
# The end of a run that did not catch up (or found its bundle gone): the lease ends; a run stopped at
# MAX_PAGES makes the bundle due now, so the next tick continues (unless it was stopped meanwhile).
_RELEASE = """
    UPDATE poll_states SET lease_until = NULL,
        next_due_at = CASE WHEN $2::boolean AND next_due_at IS NOT NULL THEN now() ELSE next_due_at END
    WHERE bundle_id = $1
"""


@dataclass
class PollResult:
    status: str  # caught_up | more | not_running | stopped | failed | raced
    pages: int = 0
    found: int = 0
    stored: int = 0
    error: str | None = None
    event_ids: list[uuid.UUID] = field(default_factory=list)


async def _fetch(
    deps: PollDeps,
    source: Source,
    conn: SourceConnection,
    config: dict[str, Any],
    cursor: Cursor | None,
    limit: int,
    recorder: StepRecorder,
) -> Page:
    try:
        if isinstance(source, HttpPollingSource):
            return await source.fetch(conn, config, cursor, limit, recorder, deps.env, http=deps.http)
        return await source.fetch(conn, config, cursor, limit, recorder, deps.env)
    except SourceError:
        raise
    except Exception as exc:
        # A bug or an unforeseen answer: keep it visible on the bundle and try again next time.
        log.exception("a %s source failed unexpectedly", conn.app)
        raise TransientSourceError(
            f"unexpected error: {type(exc).__name__}: {exc}", code="internal", steps=recorder.steps
        ) from exc


# Trigger configurations by bundle: (version, config). A saved version never changes.
_TRIGGERS: dict[uuid.UUID, tuple[int, dict[str, Any]]] = {}
# Decrypted connections by their stored form: an unchanged connection is neither parsed nor decrypted again.
_CONNECTIONS: dict[tuple[Any, ...], tuple[SecretBox, SourceConnection]] = {}
_CACHE_MAX = 20_000


def _trigger(
    bundle_id: uuid.UUID, version: int, source_json: str | None, cached: tuple[int, dict[str, Any]] | None
) -> dict[str, Any]:
    if source_json is None and cached is not None and cached[0] == version:
        return cached[1]
    source = json.loads(source_json or "{}")
    source = source if isinstance(source, dict) else {}
    config = {**(source.get("config") or {}), "trigger": source.get("trigger")}  # as sources.trigger_config
    if len(_TRIGGERS) >= _CACHE_MAX:
        _TRIGGERS.clear()
    _TRIGGERS[bundle_id] = (version, config)
    return config


def _connection(box: SecretBox, row: asyncpg.Record) -> tuple[Source, SourceConnection]:
    """The bundle's source and its decrypted connection, as `sources.load_source` (same errors)."""
    app = row["source_app"]
    source = get_source(app)
    if source is None:
        raise PermanentSourceError(f"{app!r} is not a polling source", code="not_polling")
    if row["source_connection_id"] is None:
        raise PermanentSourceError("the bundle has no source connection", code="no_connection")
    if row["connection_id"] is None or row["connection_app"] != app:
        raise PermanentSourceError("the bundle's source connection was deleted", code="no_connection")
    key = (row["connection_id"], app, row["params"], row["secrets_encrypted"], id(box))
    hit = _CONNECTIONS.get(key)
    if hit is not None and hit[0] is box:
        return source, hit[1]
    try:
        secrets = box.decrypt(row["secrets_encrypted"])
    except ValueError as exc:
        raise PermanentSourceError(str(exc), code="secrets") from exc
    conn = SourceConnection(id=str(row["connection_id"]), app=app, params=json.loads(row["params"]), secrets=secrets)
    if len(_CONNECTIONS) >= _CACHE_MAX:
        _CONNECTIONS.clear()
    _CONNECTIONS[key] = (box, conn)
    return source, conn


def _page_args(page: Page, recorder: StepRecorder, origin: str) -> list[Any]:
    """$2…$18 of _store_items: the page's items (the first of each key) and its steps, as arrays."""
    ids: list[uuid.UUID] = []
    op_ids: list[uuid.UUID] = []
    keys: list[str] = []
    items: list[str] = []
    terms: list[str] = []
    seen: set[str] = set()
    for key, item in page.items:
        if key in seen:
            continue  # the same item twice in one page: the first is stored, as one by one
        seen.add(key)
        ids.append(uuid.uuid4())
        op_ids.append(uuid.uuid4())
        keys.append(key)
        items.append(json.dumps(item))
        terms.append(json.dumps(search_terms(item)))
    steps = recorder.steps
    return [
        ids,
        op_ids,
        keys,
        items,
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


async def _store_page(
    db: asyncpg.Pool | asyncpg.Connection, bundle_id: uuid.UUID, before: str | None, page: Page, recorder: StepRecorder
) -> tuple[str | None, str, list[uuid.UUID]]:
    """Move a poll's cursor from `before` (JSON) and store the page's new items, in one statement.

    Returns the bundle's status (None: the cursor had moved meanwhile and nothing was written),
    the cursor written (JSON) and the events created."""
    after = json.dumps(page.next_cursor)
    if not page.items:
        row = await db.fetchrow(_ADVANCE, bundle_id, before, after, page.more)
        return (None if row is None else row["status"]), after, []
    row = await db.fetchrow(_STORE_POLLED, bundle_id, *_page_args(page, recorder, "poll"), before, after, page.more)
    assert row is not None
    return row["bundle_status"], after, list(row["created"])


def _describe(exc: SourceError) -> str:
    text_ = f"[{exc.code}] {exc.message}"
    if exc.steps:
        s = exc.steps[-1]
        answer = f"HTTP {s.status}" if s.status is not None else "no answer"
        text_ += f" — {s.method} {s.url} → {answer}"
    return text_[:2000]


async def _record_failure(deps: PollDeps, bundle_id: uuid.UUID, exc: SourceError) -> None:
    async with deps.sessionmaker() as session:
        failures = await session.scalar(
            update(PollState)
            .where(PollState.bundle_id == bundle_id)
            .values(last_error=_describe(exc), failures=PollState.failures + 1, lease_until=None)
            .returning(PollState.failures)
        )
        if not exc.transient and failures is not None and failures >= STOP_AFTER:
            reason = f"polling failed {failures} times: {exc.message}"[:2000]
            stopped = await session.execute(
                update(Bundle)
                .where(Bundle.id == bundle_id, Bundle.status == BundleStatus.running)
                .values(status=BundleStatus.error, status_reason=reason)
                .returning(Bundle.workspace_id, Bundle.name)
            )
            for workspace_id, name in stopped:  # none when a user stopped it meanwhile
                await audit.record_bundle_error(
                    session, workspace_id=workspace_id, bundle_id=bundle_id, bundle_name=name, reason=reason
                )
            await session.execute(update(PollState).where(PollState.bundle_id == bundle_id).values(next_due_at=None))
        await session.commit()
    log.warning("poll of %s failed (%s): %s", bundle_id, "transient" if exc.transient else "permanent", exc.message)


async def _load(
    db: asyncpg.Pool, bundle_ids: Sequence[uuid.UUID], *, fresh: bool = False
) -> dict[uuid.UUID, asyncpg.Record]:
    """What the polls of these bundles need, read in one statement (a missing bundle has no row).
    `fresh`: with the trigger configuration whatever the cache holds."""
    known = [-1 if fresh else (_TRIGGERS.get(b) or (-1,))[0] for b in bundle_ids]
    return {row["bundle_id"]: row for row in await db.fetch(_LOAD, list(bundle_ids), known)}


async def run_poll(
    deps: PollDeps,
    bundle_id: uuid.UUID,
    *,
    max_pages: int = MAX_PAGES,
    page_size: int = PAGE_SIZE,
    loaded: dict[uuid.UUID, asyncpg.Record] | None = None,
) -> PollResult:
    """Poll one bundle: pages after the stored cursor until caught up or `max_pages`.

    `loaded`: its row of `_load`, read with the other polls of its job (else read here)."""
    db = await _db(deps)
    cached = _TRIGGERS.get(bundle_id)
    row = (loaded if loaded is not None else await _load(db, [bundle_id])).get(bundle_id)
    if row is not None and row["source"] is None and (cached is None or cached[0] != row["config_version"]):
        row = (await _load(db, [bundle_id], fresh=True)).get(bundle_id)  # the cache changed since the read
    if row is None or row["deleted"] or row["status"] != BundleStatus.running:
        await db.execute(_RELEASE, bundle_id, False)
        return PollResult("not_running")
    try:
        source, conn = _connection(deps.box, row)
    except SourceError as exc:
        await _record_failure(deps, bundle_id, exc)
        return PollResult("failed", error=exc.message)
    config = _trigger(bundle_id, row["config_version"], row["source"], cached)
    cursor_json: str | None = row["cursor"]
    cursor: Cursor | None = None if cursor_json is None else json.loads(cursor_json)
    result = PollResult("more")
    for _ in range(max_pages):
        recorder = StepRecorder(system=row["source_app"], body_limit=STEP_BODY_LIMIT)
        try:
            page = await _fetch(deps, source, conn, config, cursor, page_size, recorder)
        except SourceError as exc:
            await _record_failure(deps, bundle_id, exc)
            result.status, result.error = "failed", exc.message
            return result
        status, cursor_json, created = await _store_page(db, bundle_id, cursor_json, page, recorder)
        if status is None:
            # Another poll moved the cursor since this page was fetched: its page wins.
            result.status = "raced"
            break
        running = status == BundleStatus.running
        to_queue = created if status in (BundleStatus.running, BundleStatus.waiting) else []
        if to_queue:
            await enqueue_committed(deps.queue, to_queue)
        result.pages += 1
        result.found += len(page.items)
        result.stored += len(created)
        result.event_ids += to_queue
        cursor = page.next_cursor
        if not page.more:
            result.status = "caught_up"  # the lease ended with the page's statement
            return result
        if not running:
            result.status = "stopped"  # stopped meanwhile: this page is kept (held), no more are fetched
            break
    await db.execute(_RELEASE, bundle_id, result.status == "more")
    return result


async def poll_run(ctx: dict[str, Any], *bundle_ids: str) -> str:
    """The `poll.run` job: one poll per bundle id, run together (idempotent: re-running a poll fetches
    after the committed cursor). A poll that raises makes arq run the job again, after the others end."""
    deps = deps_from_ctx(ctx)
    if isinstance(ctx.get("score"), int | float):  # arq's score: when the job was due, in epoch ms
        lag = max(0.0, time.time() - ctx["score"] / 1000)
        for _ in bundle_ids:
            metrics.POLL_LAG.observe(lag)
    if len(bundle_ids) == 1:
        return _summary(await _poll_one(deps, bundle_ids[0]))
    loaded = await _load(await _db(deps), [uuid.UUID(b) for b in bundle_ids])
    results = await asyncio.gather(*(_poll_one(deps, b, loaded) for b in bundle_ids), return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    for error in errors[1:]:
        log.error("a poll failed", exc_info=error)
    if errors:
        raise errors[0]
    counts: dict[str, int] = {}
    for r in results:
        assert isinstance(r, PollResult)
        counts[r.status] = counts.get(r.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in counts.items())


async def _poll_one(
    deps: PollDeps, bundle_id: str, loaded: dict[uuid.UUID, asyncpg.Record] | None = None
) -> PollResult:
    bind_log_context(bundle_id=bundle_id)  # each poll of a job runs in its own task (context)
    async with _limit():
        return await run_poll(deps, uuid.UUID(bundle_id), loaded=loaded)


def _summary(result: PollResult) -> str:
    return f"{result.status}: {result.stored} new of {result.found} in {result.pages} pages"


# At most MAX_POLLS polls at once per process (a job runs up to POLL_BATCH): the same bound on open
# source requests as one poll per job had with arq's max_jobs.
MAX_POLLS = 100
_LIMITS: dict[int, asyncio.Semaphore] = {}


def _limit() -> asyncio.Semaphore:
    key = id(asyncio.get_running_loop())
    limit = _LIMITS.get(key)
    if limit is None:
        limit = _LIMITS[key] = asyncio.Semaphore(MAX_POLLS)
    return limit


# -- backfill ----------------------------------------------------------------------------


async def run_backfill(
    deps: PollDeps,
    bundle_id: uuid.UUID,
    backfill_id: str,
    *,
    max_pages: int = BACKFILL_PAGES_PER_JOB,
    page_size: int = PAGE_SIZE,
) -> str:
    """Page through the source from the backfill's own cursor, storing events as `backfill`.

    Progress lives in `poll_states.backfill` and is committed with every page, so a worker that
    dies resumes from the last committed page. Returns done | more | failed | stale | transient.
    """
    async with deps.sessionmaker() as session:
        bundle = await session.get(Bundle, bundle_id)
        state = await session.get(PollState, bundle_id)
        progress = dict(state.backfill or {}) if state else {}
        if bundle is None or state is None or progress.get("id") != backfill_id:
            return "stale"
        if progress.get("status") in ("done", "failed"):
            return "stale"
        try:
            source, conn = await load_source(session, deps.box, bundle)
        except SourceError as exc:
            state.backfill = {**progress, "status": "failed", "error": exc.message, "finished_at": _now()}
            await session.commit()
            return "failed"
        config = trigger_config(bundle)
        if progress.get("status") != "running":
            state.backfill = progress = {**progress, "status": "running", "started_at": _now(), "updated_at": _now()}
            await session.commit()
    cursor = progress.get("cursor")
    for _ in range(max_pages):
        recorder = StepRecorder(system=bundle.source_app, body_limit=STEP_BODY_LIMIT)
        try:
            page = await _fetch(deps, source, conn, config, cursor, page_size, recorder)
        except SourceError as exc:
            async with deps.sessionmaker() as session:
                state = await session.get(PollState, bundle_id, with_for_update=True)
                if state is not None and (state.backfill or {}).get("id") == backfill_id:
                    status = "running" if exc.transient else "failed"
                    state.backfill = {
                        **(state.backfill or {}),
                        "status": status,
                        "error": _describe(exc),
                        "updated_at": _now(),
                    }
                    if not exc.transient:
                        state.backfill["finished_at"] = _now()
                await session.commit()
            return "transient" if exc.transient else "failed"
        db = await _db(deps)
        async with db.acquire() as connection, connection.transaction():
            locked = await connection.fetchrow(_LOCK_BACKFILL, bundle_id)
            current = json.loads(locked[0] or "null") if locked is not None else None
            if not isinstance(current, dict) or current.get("id") != backfill_id:
                return "stale"
            stored = await connection.fetchrow(_STORE_BACKFILLED, bundle_id, *_page_args(page, recorder, "backfill"))
            assert stored is not None
            created: list[uuid.UUID] = list(stored["created"])
            held = stored["bundle_status"] not in (BundleStatus.running, BundleStatus.waiting)
            to_queue = [] if held else created
            current.update(
                cursor=page.next_cursor,
                pages=int(current.get("pages", 0)) + 1,
                found=int(current.get("found", 0)) + len(page.items),
                stored=int(current.get("stored", 0)) + len(created),
                error=None,
                updated_at=_now(),
            )
            if not page.more:
                current.update(status="done", finished_at=_now())
            await connection.execute(_SAVE_BACKFILL, bundle_id, json.dumps(current))
        await enqueue_committed(deps.queue, to_queue)
        cursor = page.next_cursor
        if not page.more:
            return "done"
    return "more"


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def backfill_run(ctx: dict[str, Any], bundle_id: str, backfill_id: str, part: int = 0) -> str:
    """The `poll.backfill` job: bounded per job; a long backfill continues in a follow-up job."""
    deps = deps_from_ctx(ctx)
    outcome = await run_backfill(deps, uuid.UUID(bundle_id), backfill_id)
    if outcome == "more":
        await deps.queue.enqueue_job(
            BACKFILL_JOB, bundle_id, backfill_id, part + 1, _job_id=backfill_job_id(bundle_id, backfill_id, part + 1)
        )
    elif outcome == "transient":
        # The source is unreachable for now: arq runs this job again later, from the saved cursor.
        raise Retry(defer=min(600, 30 * int(ctx.get("job_try", 1))))
    return outcome


# Registered by main.build_worker. A poll is cheap to repeat (it reads the committed cursor); arq
# keeps its result briefly because every claim has its own job id. A backfill retries transient
# source failures from its saved cursor.
POLL_FUNCTIONS = [
    job_function(poll_run, name=POLL_JOB, timeout=RUN_TIMEOUT, keep_result=60, max_tries=3),
    job_function(backfill_run, name=BACKFILL_JOB, timeout=3600, max_tries=20),
]
