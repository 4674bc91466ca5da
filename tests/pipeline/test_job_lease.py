"""A running job's in-progress mark is a short lease its worker renews: a live worker keeps the job, a
dead one loses it after the lease (issue #19 §6; the kill itself: tests/reliability/test_worker_kill.py)."""

import asyncio
import contextlib
import uuid

from arq import func
from arq.constants import in_progress_key_prefix
from bpmlink_worker.arq_worker import Worker

from bpmlink.kit.queue import SERIALIZERS, arq_settings, create_arq_pool

LEASE = 0.6


def _worker(settings, queue: str, functions: list) -> Worker:
    return Worker(
        functions=functions,
        redis_settings=arq_settings(settings),
        queue_name=queue,
        poll_delay=0.01,
        handle_signals=False,
        job_timeout=300,  # arq alone would hold the mark for 310 s
        lease_s=LEASE,
        **SERIALIZERS,
    )


async def test_a_job_longer_than_its_lease_keeps_it_and_runs_once_among_two_workers(settings) -> None:
    runs: list[str] = []
    release = asyncio.Event()
    ttls: list[int] = []

    async def slow(ctx: dict, name: str) -> str:
        runs.append(ctx["job_id"])
        await release.wait()
        return name

    queue = f"bpmlink:test:{uuid.uuid4().hex}"
    pool = await create_arq_pool(settings)
    first, second = (_worker(settings, queue, [func(slow, name="slow")]) for _ in range(2))
    tasks = [asyncio.create_task(first.main())]
    try:
        await pool.enqueue_job("slow", "x", _job_id="job-slow", _queue_name=queue)
        for _ in range(300):
            if runs:
                break
            await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(second.main()))  # polls the same queue all along
        for _ in range(8):  # four leases long
            await asyncio.sleep(LEASE / 2)
            ttls.append(await pool.pttl(in_progress_key_prefix + "job-slow"))
        release.set()
        for _ in range(300):
            if first.jobs_complete:
                break
            await asyncio.sleep(0.01)
        assert runs == ["job-slow"], "renewed in time: the other worker never started it"
        assert all(0 < ttl <= LEASE * 1000 for ttl in ttls), ttls  # held by the lease, not by arq's 310 s
        assert first.jobs_complete == 1 and second.jobs_complete == 0
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await first.close()
        await second.close()
        await pool.aclose()
