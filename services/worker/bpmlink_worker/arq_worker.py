"""arq's Worker, starting the jobs it read in one Redis script call instead of four round trips each.

arq's `start_jobs` checks and marks every job with WATCH / EXISTS / ZSCORE / MULTI-PSETEX-EXEC,
one job after the other: at a few hundred events a second that was a third of a worker's
CPU, and jobs trickled into the worker too slowly to form large batches. The script makes
the same check and the same mark for each job atomically (Redis runs a script alone), so
the semantics are arq's: a job already in progress, gone, or deferred is not started.

The in-progress mark is a lease. arq sets it for the longest job timeout + 10 s, so the jobs of a
worker that was killed waited about five minutes before another worker could run them. Here it is
set for `lease_s` and renewed by the running worker every `lease_s / 4` (in the heart beat arq runs
after each poll): a live worker keeps its jobs, a dead one loses them within `lease_s` and the first
worker to poll takes them over. Running a job twice is safe (jobs are idempotent: deterministic
record Ids, match-key locks), so a renewal that comes late, when the event loop was blocked longer
than the lease, costs work, not correctness.
"""

from __future__ import annotations

import time
from typing import Any

from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker as ArqWorker

LEASE_SECONDS = 20.0  # the default: takeover within the lease plus a poll, well inside 30 s

# KEYS: the queue, then each job's in-progress key; ARGV: now (ms), the in-progress TTL (ms), the job ids.
_START = """
local started = {}
for i = 2, #KEYS do
  local id = ARGV[i + 1]
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local score = redis.call('ZSCORE', KEYS[1], id)
    if score and tonumber(score) <= tonumber(ARGV[1]) then
      redis.call('PSETEX', KEYS[i], ARGV[2], '1')
      started[#started + 1] = id
      started[#started + 1] = score
    end
  end
end
return started
"""


class Worker(ArqWorker):
    def __init__(self, *args: Any, lease_s: float = LEASE_SECONDS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lease_s = lease_s
        self.in_progress_timeout_s = lease_s  # the mark start_jobs sets (arq: the longest timeout + 10 s)
        self._renewed_at = time.monotonic()

    async def heart_beat(self) -> None:
        await super().heart_beat()
        if time.monotonic() - self._renewed_at >= self.lease_s / 4:
            await self.renew_leases()

    async def renew_leases(self) -> None:
        """Extend the in-progress mark of every job still running here by one lease."""
        self._renewed_at = time.monotonic()
        running = [job_id for job_id, task in self.tasks.items() if not task.done()]
        if not running:
            return
        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in running:
                # XX-like: PEXPIRE leaves a missing key missing (a job that finished meanwhile).
                pipe.pexpire(in_progress_key_prefix + job_id, int(self.lease_s * 1000))
            await pipe.execute()

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        # As many as there are free slots; like arq, the rest are read again at the next poll.
        chunk = [job_id.decode() for job_id in job_ids[: max(0, self.max_jobs - self.job_counter)]]
        if not chunk:
            return
        keys = [self.queue_name, *(in_progress_key_prefix + job_id for job_id in chunk)]
        ttl = str(int(self.in_progress_timeout_s * 1000))
        started = await self.pool.eval(_START, len(keys), *keys, str(timestamp_ms()), ttl, *chunk)  # type: ignore[misc]
        for i in range(0, len(started), 2):
            job_id, score = started[i].decode(), int(float(started[i + 1]))
            await self.sem.acquire()  # never waits: the slots were counted above, and only jobs free them
            self.job_counter += 1
            task = self.loop.create_task(self.run_job(job_id, score))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task
