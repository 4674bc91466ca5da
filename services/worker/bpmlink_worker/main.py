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
from arq import cron, func
from arq.cron import CronJob
from arq.worker import Function
from fastapi import FastAPI
from sqlalchemy import text

from bpmlink import metrics
from bpmlink.bpmonline.pool import BpmClientPool
from bpmlink.db.session import create_engine, create_sessionmaker
from bpmlink.events import PROCESS_EVENT
from bpmlink.logging import configure_logging
from bpmlink.notifications import DELIVER_INCIDENT
from bpmlink.redis import SERIALIZERS, arq_settings, create_redis
from bpmlink.security import SecretBox
from bpmlink.settings import Settings, settings_or_exit
from bpmlink.sources.http_polling import make_client
from bpmlink.web import health_router

from .arq_worker import Worker
from .imports import IMPORT_FUNCTIONS
from .incidents import FAILURES_CRON, deliver_incident
from .polling import POLL_FUNCTIONS, SCHEDULE_CRON
from .process import MAX_TRIES, event_batcher, process_event
from .retention import prune_history
from .sweeper import SWEEP_CRON

log = logging.getLogger("bpmlink.worker")


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    ctx["arq"] = ctx["redis"]  # arq's own pool, for jobs that enqueue jobs
    ctx["engine"] = create_engine(settings, pool_size=min(settings.worker_concurrency, 20))
    ctx["sessionmaker"] = create_sessionmaker(ctx["engine"])
    ctx["redis"] = create_redis(settings)
    ctx["secret_box"] = SecretBox(settings)
    ctx["bpm_clients"] = BpmClientPool(settings=settings, redis=ctx["redis"])
    # Made here, not on first use: arq gives every job a copy of ctx, so a client stored by a
    # job was lost with it — each poll built (and leaked) a client and two TLS contexts,
    # ~70% of the workers' CPU at 2,000 polling bundles.
    ctx["source_http"] = make_client(settings)
    ctx["event_batcher"] = event_batcher(ctx)  # event.process jobs running together share a batch


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["event_batcher"].aclose()
    await ctx["source_http"].aclose()
    await ctx["bpm_clients"].aclose()
    await ctx["redis"].aclose()
    await ctx["engine"].dispose()


async def history_retention(ctx: dict[str, Any]) -> int:
    settings: Settings = ctx["settings"]
    deleted = await prune_history(ctx["sessionmaker"], settings.history_retention_days)
    if deleted:
        log.info("retention sweep deleted %d rows", deleted)
    return deleted


def build_worker(settings: Settings, **overrides: Any) -> Worker:
    options: dict[str, Any] = {
        # Wrapped at registration for the job metrics; process.py stays as it is.
        "functions": [
            func(metrics.instrument_job(process_event, PROCESS_EVENT), name=PROCESS_EVENT, max_tries=MAX_TRIES),
            func(deliver_incident, name=DELIVER_INCIDENT, max_tries=5),
        ],
        "cron_jobs": [
            cron(history_retention, minute={7, 37}, unique=True, run_at_startup=False),
            SWEEP_CRON,
            FAILURES_CRON,
        ],
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
    }
    options["functions"] += POLL_FUNCTIONS  # poll.run, poll.backfill
    options["cron_jobs"].append(SCHEDULE_CRON)  # poll.schedule
    options["functions"] += IMPORT_FUNCTIONS  # import.run
    options.update(overrides)
    # arq marks a running job "in progress" for the longest timeout of *all* functions + 10 s, and no other
    # worker picks the job up until that mark expires. One hour-long timeout (poll.backfill's) left every
    # job of a killed worker untouched for an hour: cap each function at job_timeout (a backfill resumes
    # from its last committed page when it is cut, so the cap is safe for it).
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
