"""Polling: the scheduler cron (`schedule`), the `poll.run` job (`run`) and the `poll.backfill` job (`backfill`).

`source` holds what a poll knows of its source (cached configuration and connection, the fetch), and
`statements` the SQL they run on the worker context's raw asyncpg pool.
"""

from .backfill import BACKFILL_PAGES_PER_JOB, backfill_run, run_backfill
from .run import MAX_PAGES, STOP_AFTER, PollResult, poll_run, run_poll
from .schedule import LEASE, POLL_BATCH, SCHEDULE_SECONDS, Claim, claim_due, poll_job_id, poll_jobs, schedule_polls

__all__ = [
    "BACKFILL_PAGES_PER_JOB",
    "LEASE",
    "MAX_PAGES",
    "POLL_BATCH",
    "SCHEDULE_SECONDS",
    "STOP_AFTER",
    "Claim",
    "PollResult",
    "backfill_run",
    "claim_due",
    "poll_job_id",
    "poll_jobs",
    "poll_run",
    "run_backfill",
    "run_poll",
    "schedule_polls",
]
