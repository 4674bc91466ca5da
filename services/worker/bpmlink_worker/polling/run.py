"""The `poll.run` job: each of its bundles polled after its stored cursor.

For each bundle: read the bundle, its poll state and its source connection (one statement, with the
other polls of the job); fetch a page after the stored cursor; in one statement store each item as an
event (the unique `(bundle_id, source_item_key)` stores an item seen twice once) and advance the
cursor, after checking it is still the one the page was fetched after (a concurrent poll or a retried
job cannot move it twice); then enqueue the new events (an enqueue that fails leaves them `pending` for
the sweeper). The statements run on the context's raw asyncpg pool (`statements.py`). Follow pages
until caught up, at most `MAX_PAGES` per run; a run that stops at the bound sets `next_due_at = now()`
so the next tick continues.

Requests. A poll is not an operation, so its requests are stored with the operations they produced:
each new event's operation gets the page's fetch request(s) as attempt 0 (before the pipeline's
attempt 1…). A failed fetch produces no operation: its message, code and the failing request line are
kept in `poll_states.last_error` (shown with the bundle), transient failures are retried at the next
interval, and `STOP_AFTER` permanent failures in a row put the bundle in `error` with the reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import asyncpg
from sqlalchemy import update

from bpmlink import audit
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import Bundle, BundleStatus, PollState
from bpmlink.events import enqueue_committed, is_held, page_args
from bpmlink.kit import metrics
from bpmlink.kit.logs import bind_log_context
from bpmlink.sources import POLL_JOB, Cursor, Page, SourceError

from ..jobs import JobRun, job
from .schedule import RUN_TIMEOUT
from .source import PAGE_SIZE, STEP_BODY_LIMIT, TRIGGERS, connection_of, describe, fetch, trigger_of
from .statements import ADVANCE, LOAD, RELEASE, STORE_POLLED

if TYPE_CHECKING:
    from ..context import WorkerContext

log = logging.getLogger("bpmlink.worker.polling")

MAX_PAGES = 10  # per poll run: a large backlog is worked through over several runs
STOP_AFTER = 3  # permanent failures in a row before the bundle is put in `error`


@dataclass
class PollResult:
    status: str  # caught_up | more | not_running | stopped | failed | raced
    pages: int = 0
    found: int = 0
    stored: int = 0
    error: str | None = None
    event_ids: list[uuid.UUID] = field(default_factory=list)


async def _store_page(
    db: asyncpg.Pool | asyncpg.Connection, bundle_id: uuid.UUID, before: str | None, page: Page, recorder: StepRecorder
) -> tuple[str | None, str, list[uuid.UUID]]:
    """Move a poll's cursor from `before` (JSON) and store the page's new items, in one statement.

    Returns the bundle's status (None: the cursor had moved meanwhile and nothing was written),
    the cursor written (JSON) and the events created."""
    after = json.dumps(page.next_cursor)
    if not page.items:
        row = await db.fetchrow(ADVANCE, bundle_id, before, after, page.more)
        return (None if row is None else row["status"]), after, []
    row = await db.fetchrow(STORE_POLLED, bundle_id, *page_args(page.items, recorder, "poll"), before, after, page.more)
    assert row is not None
    return row["bundle_status"], after, list(row["created"])


async def _record_failure(context: WorkerContext, bundle_id: uuid.UUID, exc: SourceError) -> None:
    async with context.transaction() as tx:
        session = tx.session
        failures = await session.scalar(
            update(PollState)
            .where(PollState.bundle_id == bundle_id)
            .values(last_error=describe(exc), failures=PollState.failures + 1, lease_until=None)
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
    log.warning("poll of %s failed (%s): %s", bundle_id, "transient" if exc.transient else "permanent", exc.message)


async def load(
    db: asyncpg.Pool, bundle_ids: Sequence[uuid.UUID], *, fresh: bool = False
) -> dict[uuid.UUID, asyncpg.Record]:
    """What the polls of these bundles need, read in one statement (a missing bundle has no row).
    `fresh`: with the trigger configuration whatever the cache holds."""
    known = [-1 if fresh else (TRIGGERS.get(b) or (-1,))[0] for b in bundle_ids]
    return {row["bundle_id"]: row for row in await db.fetch(LOAD, list(bundle_ids), known)}


async def run_poll(
    context: WorkerContext,
    bundle_id: uuid.UUID,
    *,
    max_pages: int = MAX_PAGES,
    page_size: int = PAGE_SIZE,
    loaded: dict[uuid.UUID, asyncpg.Record] | None = None,
) -> PollResult:
    """Poll one bundle: pages after the stored cursor until caught up or `max_pages`.

    `loaded`: its row of `load`, read with the other polls of its job (else read here)."""
    db = context.db
    cached = TRIGGERS.get(bundle_id)
    row = (loaded if loaded is not None else await load(db, [bundle_id])).get(bundle_id)
    if row is not None and row["source"] is None and (cached is None or cached[0] != row["config_version"]):
        row = (await load(db, [bundle_id], fresh=True)).get(bundle_id)  # the cache changed since the read
    if row is None or row["deleted"] or row["status"] != BundleStatus.running:
        await db.execute(RELEASE, bundle_id, False)
        return PollResult("not_running")
    try:
        source, conn = connection_of(context.secret_box, row)
    except SourceError as exc:
        await _record_failure(context, bundle_id, exc)
        return PollResult("failed", error=exc.message)
    config = trigger_of(bundle_id, row["config_version"], row["source"], cached)
    cursor_json: str | None = row["cursor"]
    cursor: Cursor | None = None if cursor_json is None else json.loads(cursor_json)
    result = PollResult("more")
    for _ in range(max_pages):
        recorder = StepRecorder(system=row["source_app"], body_limit=STEP_BODY_LIMIT)
        try:
            page = await fetch(context, source, conn, config, cursor, page_size, recorder, bundle_id=bundle_id)
        except SourceError as exc:
            await _record_failure(context, bundle_id, exc)
            result.status, result.error = "failed", exc.message
            return result
        status, cursor_json, created = await _store_page(db, bundle_id, cursor_json, page, recorder)
        if status is None:
            # Another poll moved the cursor since this page was fetched: its page wins.
            result.status = "raced"
            break
        running = status == BundleStatus.running
        to_queue = [] if is_held(status) else created
        if to_queue:
            await enqueue_committed(context.queue, to_queue)
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
    await db.execute(RELEASE, bundle_id, result.status == "more")
    return result


# A poll is cheap to repeat (it reads the committed cursor); arq keeps its result briefly because every
# claim has its own job id. Each poll's statements commit on their own (the raw pool autocommits).
@job(POLL_JOB, max_tries=3, timeout=RUN_TIMEOUT, keep_result=60, transaction=False)
async def poll_run(run: JobRun, *bundle_ids: str) -> str:
    """The `poll.run` job: one poll per bundle id, run together (idempotent: re-running a poll fetches
    after the committed cursor). A poll that raises makes arq run the job again, after the others end."""
    context = run.context
    if run.due_ms is not None:
        lag = max(0.0, time.time() - run.due_ms / 1000)
        for _ in bundle_ids:
            metrics.POLL_LAG.observe(lag)
    if len(bundle_ids) == 1:
        return _summary(await _poll_one(context, bundle_ids[0]))
    loaded = await load(context.db, [uuid.UUID(b) for b in bundle_ids])
    results = await asyncio.gather(*(_poll_one(context, b, loaded) for b in bundle_ids), return_exceptions=True)
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
    context: WorkerContext, bundle_id: str, loaded: dict[uuid.UUID, asyncpg.Record] | None = None
) -> PollResult:
    bind_log_context(bundle_id=bundle_id)  # each poll of a job runs in its own task (context)
    async with _limit():
        return await run_poll(context, uuid.UUID(bundle_id), loaded=loaded)


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
