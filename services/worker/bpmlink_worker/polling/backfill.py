"""The `poll.backfill` job: the source's existing data, page by page from the backfill's own cursor.

Progress lives in `poll_states.backfill` and is committed with every page, so a worker that dies
resumes from the last committed page; a job stops after `BACKFILL_PAGES_PER_JOB` pages and queues the
next part, so no job runs for hours.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from arq import Retry

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.db.models import Bundle, PollState
from bpmlink.events import enqueue_committed, is_held, page_args
from bpmlink.sources import BACKFILL_JOB, SourceError, backfill_job_id, load_source, trigger_config

from ..jobs import JobRun, job
from .source import PAGE_SIZE, STEP_BODY_LIMIT, describe, fetch
from .statements import LOCK_BACKFILL, SAVE_BACKFILL, STORE_BACKFILLED

if TYPE_CHECKING:
    from ..context import WorkerContext

BACKFILL_PAGES_PER_JOB = 200


async def run_backfill(
    context: WorkerContext,
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
    async with context.transaction() as tx:
        session = tx.session
        bundle = await session.get(Bundle, bundle_id)
        state = await session.get(PollState, bundle_id)
        progress = dict(state.backfill or {}) if state else {}
        if bundle is None or state is None or progress.get("id") != backfill_id:
            return "stale"
        if progress.get("status") in ("done", "failed"):
            return "stale"
        try:
            source, conn = await load_source(session, context.secret_box, bundle)
        except SourceError as exc:
            state.backfill = {**progress, "status": "failed", "error": exc.message, "finished_at": _now()}
            return "failed"
        config = trigger_config(bundle)
        if progress.get("status") != "running":
            state.backfill = progress = {**progress, "status": "running", "started_at": _now(), "updated_at": _now()}
    cursor = progress.get("cursor")
    for _ in range(max_pages):
        recorder = StepRecorder(system=bundle.source_app, body_limit=STEP_BODY_LIMIT)
        try:
            page = await fetch(
                context, source, conn, config, cursor, page_size, recorder, bundle_id=bundle_id, backfill=True
            )
        except SourceError as exc:
            async with context.transaction() as tx:
                state = await tx.session.get(PollState, bundle_id, with_for_update=True)
                if state is not None and (state.backfill or {}).get("id") == backfill_id:
                    status = "running" if exc.transient else "failed"
                    state.backfill = {
                        **(state.backfill or {}),
                        "status": status,
                        "error": describe(exc),
                        "updated_at": _now(),
                    }
                    if not exc.transient:
                        state.backfill["finished_at"] = _now()
            return "transient" if exc.transient else "failed"
        async with context.db.acquire() as connection, connection.transaction():
            locked = await connection.fetchrow(LOCK_BACKFILL, bundle_id)
            current = json.loads(locked[0] or "null") if locked is not None else None
            if not isinstance(current, dict) or current.get("id") != backfill_id:
                return "stale"
            stored = await connection.fetchrow(
                STORE_BACKFILLED, bundle_id, *page_args(page.items, recorder, "backfill")
            )
            assert stored is not None
            created: list[uuid.UUID] = list(stored["created"])
            to_queue = [] if is_held(stored["bundle_status"]) else created
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
            await connection.execute(SAVE_BACKFILL, bundle_id, json.dumps(current))
        await enqueue_committed(context.queue, to_queue)
        cursor = page.next_cursor
        if not page.more:
            return "done"
    return "more"


def _now() -> str:
    return datetime.now(UTC).isoformat()


# A backfill retries transient source failures from its saved cursor; each page commits on its own.
@job(BACKFILL_JOB, max_tries=20, timeout=3600, transaction=False)
async def backfill_run(run: JobRun, bundle_id: str, backfill_id: str, part: int = 0) -> str:
    """The `poll.backfill` job: bounded per job; a long backfill continues in a follow-up job."""
    outcome = await run_backfill(run.context, uuid.UUID(bundle_id), backfill_id)
    if outcome == "more":
        await run.context.queue.enqueue_job(
            BACKFILL_JOB, bundle_id, backfill_id, part + 1, _job_id=backfill_job_id(bundle_id, backfill_id, part + 1)
        )
    elif outcome == "transient":
        # The source is unreachable for now: arq runs this job again later, from the saved cursor.
        raise Retry(defer=min(600, 30 * run.job_try))
    return outcome
