"""bpmlink's arq Worker starts jobs with one script call; which jobs it starts must be arq's choice."""

import asyncio
import contextlib
import uuid

from arq import func
from arq.constants import in_progress_key_prefix
from bpmlink_worker.arq_worker import Worker

from bpmlink.kit.queue import SERIALIZERS, arq_settings, create_arq_pool


async def test_started_jobs_are_the_due_ones_not_in_progress_and_each_runs_once(settings) -> None:
    ran: list[str] = []

    async def record(ctx: dict, name: str) -> str:
        ran.append(name)
        await asyncio.sleep(0.05)  # holds its slot a while: later jobs wait for a free one
        return name

    queue = f"bpmlink:test:{uuid.uuid4().hex}"
    pool = await create_arq_pool(settings)
    worker = Worker(
        functions=[func(record, name="record")],
        redis_settings=arq_settings(settings),
        queue_name=queue,
        poll_delay=0.01,
        max_jobs=2,  # fewer slots than due jobs
        handle_signals=False,
        **SERIALIZERS,
    )
    try:
        for name in ("a", "b", "c", "d", "e"):
            await pool.enqueue_job("record", name, _job_id=f"job-{name}", _queue_name=queue)
        await pool.enqueue_job("record", "later", _job_id="job-later", _queue_name=queue, _defer_by=3600)
        await pool.set(in_progress_key_prefix + "job-b", b"1", px=60_000)  # another worker runs job-b
        running = asyncio.create_task(worker.main())
        for _ in range(500):
            if len(ran) >= 4:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # thirty more polls: time enough to start what must not start
        assert sorted(ran) == ["a", "c", "d", "e"]
        assert await pool.zscore(queue, "job-later") is not None  # deferred: still queued
        assert await pool.zscore(queue, "job-b") is not None  # left for the worker that holds it
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        assert worker.jobs_complete == 4 and worker.jobs_failed == 0
    finally:
        await worker.close()
        await pool.delete(in_progress_key_prefix + "job-b")
        await pool.aclose()
