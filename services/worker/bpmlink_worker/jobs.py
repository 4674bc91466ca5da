"""The job wrapper: `@job("event.process", max_tries=8)` and `@cron_job("event.sweep", second={20})`.

Each decorated function is registered (`FUNCTIONS`, `CRON_JOBS`, read by `main.build_worker`) under a
wrapper that takes arq's ctx dict and calls the function with a `JobRun`: the typed worker context
and arq's facts about this run. The wrapper binds the job id to the log context and, unless the job
says `transaction=False`, opens the job's transaction: the job's session (`run.tx.session`), committed
when the function returns, and only then the jobs it asked for (`run.tx.enqueue…`) are sent; when it
raises, the session rolls back and they are dropped — as a request in `bpmlink_api/deps.py`.

Jobs that work page by page or batch by batch (polls, backfills, imports, event batches, the sweeper and
retention crons) say `transaction=False` and commit each unit on its own (`context.transaction()`, or the
raw pool's autocommitted statements): a page committed is kept when the job is cut.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast

from arq import cron
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function
from arq.worker import func as arq_function

from bpmlink.kit import metrics
from bpmlink.kit.logs import bind_log_context

if TYPE_CHECKING:
    from .context import Transaction, WorkerContext

P = ParamSpec("P")
R = TypeVar("R")

CONTEXT_KEY = "worker"  # where the start-up puts the WorkerContext in arq's ctx
FUNCTIONS: list[Function] = []
CRON_JOBS: list[CronJob] = []


@dataclass(frozen=True)
class JobRun:
    """One run of a job: the worker's context, arq's facts about the run, and its transaction."""

    context: WorkerContext
    job_try: int  # 1 on the first run
    due_ms: float | None  # arq's score: when the job was due, in epoch ms (None for a cron run)
    transaction: Transaction | None

    @property
    def tx(self) -> Transaction:
        assert self.transaction is not None, "a job registered with transaction=False has none"
        return self.transaction


JobFunction = Callable[Concatenate[JobRun, P], Awaitable[R]]
ArqFunction = Callable[Concatenate[dict[str, Any], P], Awaitable[R]]


def _wrap(fn: JobFunction[P, R], transaction: bool) -> ArqFunction[P, R]:
    @functools.wraps(fn)
    async def run(ctx: dict[str, Any], /, *args: P.args, **kwargs: P.kwargs) -> R:
        context: WorkerContext = ctx[CONTEXT_KEY]
        bind_log_context(job_id=ctx.get("job_id"))
        score = ctx.get("score")
        job_try, due_ms = int(ctx.get("job_try", 1)), score if isinstance(score, int | float) else None
        if not transaction:
            return await fn(JobRun(context, job_try, due_ms, None), *args, **kwargs)
        async with context.transaction() as tx:
            return await fn(JobRun(context, job_try, due_ms, tx), *args, **kwargs)

    return run


def job(
    name: str,
    *,
    max_tries: int,
    timeout: float | None = None,
    keep_result: float | None = None,
    transaction: bool = True,
    counted: bool = False,
) -> Callable[[JobFunction[P, R]], ArqFunction[P, R]]:
    """Register an arq job. `counted`: with the job metrics (`metrics.instrument_job`: outcome labels
    are the job's answers, so only for jobs whose answers are few)."""

    def register(fn: JobFunction[P, R]) -> ArqFunction[P, R]:
        run = _wrap(fn, transaction)
        entry = metrics.instrument_job(run, name) if counted else run
        FUNCTIONS.append(
            arq_function(
                cast(WorkerCoroutine, entry), name=name, max_tries=max_tries, timeout=timeout, keep_result=keep_result
            )
        )
        return run

    return register


def cron_job(
    name: str, *, transaction: bool = True, **schedule: Any
) -> Callable[[JobFunction[[], R]], ArqFunction[[], R]]:
    """Register an arq cron job; `schedule`: arq's `cron` arguments (second, minute, unique, timeout…)."""

    def register(fn: JobFunction[[], R]) -> ArqFunction[[], R]:
        run = _wrap(fn, transaction)
        CRON_JOBS.append(cron(cast(WorkerCoroutine, run), name=name, **schedule))
        return run

    return register
