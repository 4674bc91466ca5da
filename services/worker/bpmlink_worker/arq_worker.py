"""arq's Worker, starting the jobs it read in one Redis script call instead of four round trips each.

arq's `start_jobs` checks and marks every job with WATCH / EXISTS / ZSCORE / MULTI-PSETEX-EXEC,
one job after the other: at a few hundred events a second that was a third of a worker's
CPU, and jobs trickled into the worker too slowly to form large batches. The script makes
the same check and the same mark for each job atomically (Redis runs a script alone), so
the semantics are arq's: a job already in progress, gone, or deferred is not started.
"""

from __future__ import annotations

from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker as ArqWorker

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
