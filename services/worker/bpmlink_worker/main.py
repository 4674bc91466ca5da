"""The worker process: an arq worker pool plus a small HTTP server for /healthz and /readyz."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Iterator
from typing import Any

import uvicorn
import uvloop
from arq.cron import CronJob
from arq.worker import Function
from fastapi import FastAPI
from sqlalchemy import text

from bpmlink.db.session import create_engine
from bpmlink.kit import metrics
from bpmlink.kit.logs import configure_logging
from bpmlink.kit.queue import SERIALIZERS, arq_settings, create_redis
from bpmlink.kit.settings import Settings, settings_or_exit
from bpmlink.kit.web import health_router

# The job modules register their jobs with `jobs` when imported.
from . import imports, incidents, parked_retries, parking, polling, process, retention, sweeper  # noqa: F401
from .arq_worker import Worker
from .context import close_context, open_context
from .jobs import CONTEXT_KEY, CRON_JOBS, FUNCTIONS

log = logging.getLogger("bpmlink.worker")


async def startup(ctx: dict[str, Any]) -> None:
    ctx[CONTEXT_KEY] = await open_context(ctx["settings"], ctx["redis"])  # ctx["redis"]: arq's own pool


async def shutdown(ctx: dict[str, Any]) -> None:
    await close_context(ctx[CONTEXT_KEY])


def build_worker(settings: Settings, **overrides: Any) -> Worker:
    options: dict[str, Any] = {
        "functions": list(FUNCTIONS),  # event.process, incident.deliver, poll.run, poll.backfill, import.run, …
        "cron_jobs": list(CRON_JOBS),  # event.sweep, poll.schedule, retention, failure check, parking (2)
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": arq_settings(settings),
        **SERIALIZERS,
        "ctx": {"settings": settings},
        "max_jobs": settings.worker_concurrency,
        # arq looks for new jobs every poll_delay (0.5 s by default): a lone webhook waited 0.25 s on
        # average before a worker saw it. Every look costs a little CPU even when idle (≈ 2% of a core
        # at 0.1 s, twice that at 0.05 s).
        "poll_delay": 0.1,
        "job_timeout": settings.job_timeout_seconds,
        "handle_signals": False,
        "job_completion_wait": 25,
        "lease_s": settings.job_lease_seconds,  # a killed worker's jobs are taken over after it (arq_worker.py)
    }
    options.update(overrides)
    # A job runs at most job_timeout: cap each function at it (an hour-long poll.backfill held its slot for an
    # hour; a backfill resumes from its last committed page when it is cut, so the cap is safe for it).
    cap = settings.job_timeout_seconds
    options["functions"] = [
        dataclasses.replace(f, timeout_s=min(f.timeout_s or cap, cap)) if isinstance(f, Function) else f
        for f in options["functions"]
    ]
    options["cron_jobs"] = [
        dataclasses.replace(c, timeout_s=min(c.timeout_s or cap, cap)) if isinstance(c, CronJob) else c
        for c in options["cron_jobs"]
    ]
    return Worker(**options)


def health_app(settings: Settings) -> FastAPI:
    engine = create_engine(settings, pool_size=1)
    redis = create_redis(settings)

    async def check_db() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def check_redis() -> None:
        await redis.ping()

    app = FastAPI(openapi_url=None)
    app.include_router(health_router({"database": check_db, "redis": check_redis}))
    app.include_router(metrics.metrics_router(metrics.queue_refresher(redis)))  # job and queue metrics
    return app


class _HealthServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the worker owns SIGTERM/SIGINT."""

    def install_signal_handlers(self) -> None:
        pass

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run(settings: Settings) -> None:
    """Run the pool and the health server until SIGTERM/SIGINT.

    On a signal the pool stops taking jobs, lets running ones finish for up to
    job_completion_wait seconds (arq's own mechanism), then cancels the rest, which
    stay in Redis and are retried by another worker.
    """
    worker = build_worker(settings)
    server = _HealthServer(
        uvicorn.Config(health_app(settings), host=settings.host, port=settings.worker_port, log_level="warning")
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker_task = asyncio.create_task(worker.async_run())
    server_task = asyncio.create_task(server.serve())
    await stop.wait()
    log.info("stopping: no new jobs, finishing the running ones")
    worker.handle_sig_wait_for_completion(signal.SIGTERM)
    await asyncio.gather(worker_task, return_exceptions=True)
    await worker.close()
    server.should_exit = True
    await server_task


def main() -> None:
    settings = settings_or_exit()
    configure_logging(settings)  # text or JSON (BPMLINK_LOG_FORMAT), secrets redacted
    # uvloop, as uvicorn uses in the api and gateway: the event loop is a visible share of a
    # job's CPU (every HTTP and database round trip passes through it).
    uvloop.run(run(settings))
