"""Prometheus metrics for every service (`/metrics`), and the request id of each HTTP request.

One process per container (uvicorn without `--workers`, one arq worker per pod), so the
default registry is the whole truth of a process and Prometheus sums over pods.

HTTP (api, gateway): `bpmlink_http_requests_total{service,method,route,status}` and
`bpmlink_http_request_duration_seconds{service,method,route}`. `route` is the matched route
template (`/hooks/{token}`), never the raw path: a webhook token is a credential, and raw
paths would make one series per URL. For the gateway the status of `/hooks/{token}` is the
webhook outcome: 202 accepted, 404 unknown token, 410 deleted bundle, 413 too large,
415/400 unparseable, 429 over the rate, 503 not stored.

Worker: `bpmlink_worker_jobs_total{function,outcome}` (outcome = the operation status the
job ended with, or `retry`, `error`, `cancelled`, `noop`), `bpmlink_worker_job_duration_seconds`,
`bpmlink_worker_jobs_in_progress`, and, refreshed at each scrape from Redis,
`bpmlink_queue_depth` (jobs waiting in arq's queue, deferred ones included),
`bpmlink_queue_ready` (those due now) and `bpmlink_queue_oldest_ready_age_seconds`.

Pipeline: `bpmlink_webhooks_total{outcome,reason}` (gateway: accepted/held/duplicate/rejected,
the reason being the error code for a rejection), `bpmlink_webhook_rate_limited_total{limit}` (requests
refused as over a webhook URL's limit, by where the limit came from: `default` or `bundle`; per bundle they
are counted in Redis, bpmlink.hook_limits), `bpmlink_bpmonline_request_duration_seconds`
`{connection,method,status}` (each request the bpm'online client sends; status is a class such as
`2xx`, or `error` when no answer came), `bpmlink_operation_retries_total{reason}` (an operation put
back for another attempt) and `bpmlink_poll_lag_seconds` (a poll's start minus its due time).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from arq import Retry
from arq.constants import default_queue_name
from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY
from redis.asyncio import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bpmlink.kit.logs import log_context_var, request_id_var

HTTP_REQUESTS = Counter(
    "bpmlink_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "bpmlink_http_request_duration_seconds", "Time to answer an HTTP request", ["service", "method", "route"]
)
JOBS = Counter("bpmlink_worker_jobs_total", "Jobs run by the worker, by how they ended", ["function", "outcome"])
JOB_DURATION = Histogram(
    "bpmlink_worker_job_duration_seconds",
    "Run time of one job",
    ["function"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
EVENT_BATCH_SIZE = Histogram(
    "bpmlink_worker_event_batch_size",
    "event.process jobs run together in one batch (one claim, one $batch per step, one history write)",
    buckets=(1, 2, 5, 10, 20, 30, 40, 50),
)
JOBS_IN_PROGRESS = Gauge("bpmlink_worker_jobs_in_progress", "Jobs this worker is running now", ["function"])
QUEUE_DEPTH = Gauge("bpmlink_queue_depth", "Jobs in the arq queue (deferred included)")
QUEUE_READY = Gauge("bpmlink_queue_ready", "Jobs in the arq queue that are due now")
QUEUE_OLDEST_AGE = Gauge("bpmlink_queue_oldest_ready_age_seconds", "How long the oldest due job has waited")

WEBHOOKS = Counter(
    "bpmlink_webhooks_total",
    "Webhook requests at the gateway: accepted, held (bundle stopped), duplicate or rejected, and why",
    ["outcome", "reason"],
)
HOOK_RATE_LIMITED = Counter(
    "bpmlink_webhook_rate_limited_total",
    "Webhook requests refused (429) as over the URL's limit, by the limit's source: default or bundle",
    ["limit"],
)
BPM_REQUEST_LATENCY = Histogram(
    "bpmlink_bpmonline_request_duration_seconds",
    "Time of one request to bpm'online, by connection id, method and status class",
    ["connection", "method", "status"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
OPERATION_RETRIES = Counter(
    "bpmlink_operation_retries_total",
    "Operations put back for another attempt, by the error code (unavailable, rate_limited, network, …)",
    ["reason"],
)
POLL_LAG = Histogram(
    "bpmlink_poll_lag_seconds",
    "Seconds between a poll's due time and its start",
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)

log = logging.getLogger("bpmlink.kit.metrics")

UNMATCHED_ROUTE = "<unmatched>"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")  # a caller's id is echoed: keep it to safe characters


class ObservabilityMiddleware:
    """Times each HTTP request by route template and gives it a request id (`X-Request-ID`)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        context_token = log_context_var.set(None)  # ids bound during this request (workspace, bundle) end with it
        status = 500  # what the client sees if the app dies before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE  # set in place by Starlette's router
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, template).observe(time.perf_counter() - started)
            log_context_var.reset(context_token)
            request_id_var.reset(token)


Refresh = Callable[[], Awaitable[None]]

# httpx client → connection id: the bpm'online session registers its client, so the low-level `send`
# can label requests without the connection being threaded through every call.
_CONNECTION_OF_CLIENT: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def label_bpm_client(http: object, connection_id: object) -> None:
    _CONNECTION_OF_CLIENT[http] = str(connection_id)


def observe_bpm_request(http: object, method: str, status: int | None, seconds: float) -> None:
    """One request to bpm'online (`status` None: no answer came, e.g. a timeout)."""
    status_class = f"{status // 100}xx" if status else "error"
    connection = _CONNECTION_OF_CLIENT.get(http, "unknown")
    BPM_REQUEST_LATENCY.labels(connection, method, status_class).observe(seconds)


def observe_webhook(outcome: str, reason: str) -> None:
    WEBHOOKS.labels(outcome, reason).inc()


def observe_hook_rate_limited(limit: str) -> None:
    """`limit`: "default" (the setting) or "bundle" (its own); never a bundle id (bounded labels)."""
    HOOK_RATE_LIMITED.labels(limit).inc()


class WebhookSizeRejections:
    """Wraps the gateway outside its body size limit, whose 413 never reaches the app: counts those."""

    def __init__(self, app: ASGIApp, path_prefix: str = "/hooks/") -> None:
        self.app = app
        self.path_prefix = path_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.path_prefix):
            await self.app(scope, receive, send)
            return

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                observe_webhook("rejected", "payload_too_large")
            await send(message)

        await self.app(scope, receive, watch)


def metrics_router(refresh: Refresh | None = None, registry: CollectorRegistry = DEFAULT_REGISTRY) -> APIRouter:
    """`GET /metrics` in Prometheus' text format; `refresh` updates scrape-time gauges first."""
    router = APIRouter(include_in_schema=False)

    @router.get("/metrics")
    async def metrics() -> Response:
        if refresh is not None:
            try:
                await asyncio.wait_for(refresh(), timeout=2)
            except Exception as exc:
                log.debug("metrics refresh failed: %s", type(exc).__name__)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


def install(app: FastAPI, service: str, refresh: Refresh | None = None) -> None:
    """Add the metrics/request-id middleware and the `/metrics` route to a service's app."""
    app.add_middleware(ObservabilityMiddleware, service=service)
    app.include_router(metrics_router(refresh))


def queue_refresher(redis: Redis, queue_name: str = default_queue_name) -> Refresh:
    """Reads arq's queue (a sorted set scored by the time, in ms, a job is due) into the queue gauges."""

    async def refresh() -> None:
        now_ms = time.time() * 1000
        async with redis.pipeline(transaction=False) as pipe:
            pipe.zcard(queue_name)
            pipe.zcount(queue_name, "-inf", now_ms)
            pipe.zrange(queue_name, 0, 0, withscores=True)
            depth, ready, oldest = await pipe.execute()
        QUEUE_DEPTH.set(depth)
        QUEUE_READY.set(ready)
        QUEUE_OLDEST_AGE.set(max(0.0, (now_ms - oldest[0][1]) / 1000) if ready and oldest else 0.0)

    return refresh


JobFunction = TypeVar("JobFunction", bound=Callable[..., Awaitable[Any]])


def _outcome(result: object) -> str:
    """event.process answers the operation's final status; other jobs' answers are not labels."""
    if result == "nothing to do":
        return "noop"
    return result if isinstance(result, str) and len(result) <= 32 else "ok"


def instrument_job(function: JobFunction, name: str) -> JobFunction:
    """Wrap an arq job: count it by outcome, time it, and put its ids in the log context."""

    @functools.wraps(function)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        context = {"job_id": str(ctx.get("job_id", ""))}
        if name == "event.process" and args:
            context["event_id"] = str(args[0])
        token = log_context_var.set(context)
        outcome = "error"
        started = time.perf_counter()
        JOBS_IN_PROGRESS.labels(name).inc()
        try:
            result = await function(ctx, *args, **kwargs)
            outcome = _outcome(result)
            return result
        except Retry:
            outcome = "retry"
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"  # shutdown after job_completion_wait: the job stays queued for another worker
            raise
        finally:
            JOBS_IN_PROGRESS.labels(name).dec()
            JOBS.labels(name, outcome).inc()
            JOB_DURATION.labels(name).observe(time.perf_counter() - started)
            log_context_var.reset(token)

    return cast(JobFunction, run)
