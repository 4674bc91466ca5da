"""Metrics middleware, /metrics, the job wrapper and JSON logs without secrets (in process), and the pipeline's
metrics (webhooks, bpm'online latency, retries, poll lag) scraped after a small run."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from typing import Any

import httpx
import pytest
from arq import Retry
from fastapi import FastAPI

from bpmlink.kit import metrics
from bpmlink.kit.logs import (
    TEXT_FORMAT,
    ContextFilter,
    JobLinesFilter,
    JsonFormatter,
    QuietPathsFilter,
    RedactingFilter,
    TextFormatter,
    known_secrets,
    log_context_var,
    logging_config,
    redact,
)
from bpmlink.kit.settings import Settings
from tests.polling.conftest import (  # the polling fixtures, for one real poll
    http_bundle_id,
    http_connection_id,
    json_source,
    json_source_server,
)

_POLLING_FIXTURES = (http_bundle_id, http_connection_id, json_source, json_source_server)  # used by name

SECRET = "super-secret-key-0123456789-abcdefghijklmnop"


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "BPMLINK_ENV": "test",
        "BPMLINK_SECRET_KEY": SECRET,
        "DATABASE_URL": "postgresql://bpmlink:db-pass-42@db.internal:5432/bpmlink",
        "REDIS_URL": "redis://:redis-pass-42@redis.internal:6379/0",
        "BPMLINK_ADMIN_PASSWORD": "admin-pass-42",
        "BPMLINK_LOG_FORMAT": "json",
    }
    values.update(overrides)
    return Settings(**values)


def _sample(text: str, name: str, **labels: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and labels.items() <= sample.labels.items():
                total += sample.value
    return total


async def test_http_metrics_use_route_templates_and_give_request_ids() -> None:
    app = FastAPI()

    @app.post("/hooks/{token}", status_code=202)
    async def hook(token: str) -> dict[str, str]:
        return {"ok": token[:0]}

    metrics.install(app, "unit")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://unit") as http:
        first = await http.post("/hooks/very-secret-token")
        assert first.status_code == 202 and len(first.headers["x-request-id"]) == 32
        echoed = await http.post("/hooks/other-token", headers={"X-Request-ID": "abc-123"})
        assert echoed.headers["x-request-id"] == "abc-123"
        spoofed = await http.post("/hooks/x", headers={"X-Request-ID": "bad id\nwith newline"})
        assert spoofed.headers["x-request-id"] != "bad id\nwith newline"
        await http.get("/nowhere")
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert _sample(text, "bpmlink_http_requests_total", service="unit", route="/hooks/{token}", status="202") == 3
    assert _sample(text, "bpmlink_http_requests_total", service="unit", route="<unmatched>", status="404") == 1
    assert _sample(text, "bpmlink_http_request_duration_seconds_count", service="unit", route="/hooks/{token}") == 3
    assert "very-secret-token" not in text and "other-token" not in text


async def test_job_wrapper_counts_outcomes_and_sets_the_log_context() -> None:
    seen: list[dict[str, str] | None] = []

    async def job(ctx: dict[str, Any], event_id: str) -> str:
        seen.append(log_context_var.get())
        if event_id == "retry":
            raise Retry(defer=1)
        return "nothing to do" if event_id == "noop" else "created"

    wrapped = metrics.instrument_job(job, "unit.job")
    before = {o: metrics.JOBS.labels("unit.job", o)._value.get() for o in ("created", "noop", "retry")}
    assert await wrapped({"job_id": "j1"}, "e1") == "created"
    assert await wrapped({"job_id": "j2"}, "noop") == "nothing to do"
    with pytest.raises(Retry):
        await wrapped({"job_id": "j3"}, "retry")
    after = {o: metrics.JOBS.labels("unit.job", o)._value.get() for o in ("created", "noop", "retry")}
    assert {o: after[o] - before[o] for o in after} == {"created": 1, "noop": 1, "retry": 1}
    assert seen[0] == {"job_id": "j1"} and log_context_var.get() is None
    assert metrics.JOBS_IN_PROGRESS.labels("unit.job")._value.get() == 0


async def test_queue_gauges_read_arqs_sorted_set(redis_url: str) -> None:
    import time

    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        now_ms = time.time() * 1000
        await redis.zadd("arq:queue", {"due-old": now_ms - 30_000, "due-new": now_ms, "deferred": now_ms + 60_000})
        await metrics.queue_refresher(redis)()
    finally:
        await redis.aclose()
    assert metrics.QUEUE_DEPTH._value.get() == 3
    assert metrics.QUEUE_READY._value.get() == 2
    assert 29 <= metrics.QUEUE_OLDEST_AGE._value.get() < 120


def test_redaction_of_known_secrets_and_patterns() -> None:
    settings = _settings()
    secrets = known_secrets(settings)
    assert {SECRET, "db-pass-42", "redis-pass-42", "admin-pass-42"} <= set(secrets)
    line = (
        f"key={SECRET} url=postgresql://bpmlink:db-pass-42@db POST /hooks/abcDEF123 200 "
        "Authorization: Bearer eyJ.abc.def password=hunter2 {'client_secret': 'xyz'} https://u:p4ss@host/x"
    )
    cleaned = redact(line, secrets)
    for leaked in (SECRET, "db-pass-42", "abcDEF123", "eyJ.abc.def", "hunter2", "xyz", "p4ss"):
        assert leaked not in cleaned, leaked
    assert "/hooks/***" in cleaned


def test_json_logs_carry_context_and_never_a_secret() -> None:
    settings = _settings()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter(known_secrets(settings)))
    logger = logging.getLogger("bpmlink.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = log_context_var.set({"event_id": "e-1", "job_id": "j-1"})
    try:
        logger.warning("login for %s with %s", "Supervisor", SECRET, extra={"bundle_id": "b-1"})
        try:
            raise RuntimeError("connect to redis://:redis-pass-42@redis failed")
        except RuntimeError:
            logger.exception("boom")
    finally:
        log_context_var.reset(token)
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "warning" and first["logger"] == "bpmlink.test.json"
    assert first["event_id"] == "e-1" and first["job_id"] == "j-1" and first["bundle_id"] == "b-1"
    assert first["message"] == "login for Supervisor with ***"
    assert "RuntimeError" in second["exception"]
    assert SECRET not in stream.getvalue() and "redis-pass-42" not in stream.getvalue()


def test_logging_config_routes_uvicorn_through_the_redacting_handler() -> None:
    config = logging_config(_settings())
    assert config["formatters"]["default"] == {"()": JsonFormatter}
    assert config["handlers"]["default"]["filters"] == ["context", "redact"]
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert config["loggers"][name]["handlers"] == [] and config["loggers"][name]["propagate"] is True
    text = logging_config(_settings(BPMLINK_LOG_FORMAT="text"))
    assert text["formatters"]["default"] == {"()": TextFormatter, "fmt": TEXT_FORMAT}
    with pytest.raises(ValueError, match="BPMLINK_LOG_FORMAT"):
        _settings(BPMLINK_LOG_FORMAT="yaml")


def test_accepted_webhooks_access_lines_are_debug_and_refusals_stay() -> None:
    """The gateway's access line per accepted webhook is dropped at INFO (it cost more CPU than the
    storing); refusals, errors and other paths keep theirs; at DEBUG every line is there."""
    quiet = QuietPathsFilter(("/hooks/",), "INFO")

    def line(path: str, status: int) -> logging.LogRecord:
        args = ("127.0.0.1:5000", "POST", path, "1.1", status)
        return logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None)

    assert not quiet.filter(line("/hooks/abc", 202))
    assert quiet.filter(line("/hooks/abc", 429)) and quiet.filter(line("/hooks/abc", 500))
    assert quiet.filter(line("/readyz", 200))
    assert QuietPathsFilter(("/hooks/",), "DEBUG").filter(line("/hooks/abc", 202))
    assert logging_config(_settings())["loggers"]["uvicorn.access"]["filters"] == ["quiet"]


def test_arq_per_job_lines_are_debug_and_retries_stay() -> None:
    """arq's started/done line of every job (one event each) is dropped at INFO; a retry's stays; at
    DEBUG both are there. The formats are arq's own: a release that rewords them fails here."""
    import inspect

    import arq.worker

    source = inspect.getsource(arq.worker)
    started, done = JobLinesFilter.PER_JOB
    assert f"'{started}'" in source and f"'{done}'" in source
    quiet = JobLinesFilter("INFO")

    def line(msg: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord("arq.worker", logging.INFO, "", 0, msg, args, None)

    assert not quiet.filter(line(started, 0.01, "abc:event.process", "'e1'", ""))
    assert not quiet.filter(line(done, 0.02, "abc:event.process", "None"))
    assert quiet.filter(line("%6.2fs ↻ %s retrying job in %0.2fs", 0.1, "abc:event.process", 5.0))
    assert JobLinesFilter("DEBUG").filter(line(done, 0.02, "abc:event.process", "None"))
    assert logging_config(_settings())["loggers"]["arq.worker"]["filters"] == ["jobs"]


# -- a small run: webhooks at the gateway, a poll and its events on a worker, a retried operation ----------


async def _scrape(http: httpx.AsyncClient) -> str:
    response = await http.get("/metrics")
    assert response.status_code == 200
    return response.text


async def test_pipeline_metrics_after_a_small_run(
    settings: Settings,
    client: httpx.AsyncClient,
    sessionmaker: Any,
    sandbox: Any,
    connection_id: str,
    worker_ctx: dict[str, Any],
    json_source: Any,
    http_bundle_id: str,
) -> None:
    from bpmlink_gateway.app import asgi_app
    from bpmlink_worker.main import build_worker
    from bpmlink_worker.polling import schedule_polls
    from bpmlink_worker.process import process_event
    from redis.asyncio import ConnectionPool

    from bpmlink.kit.queue import arq_queue
    from tests.fixtures.pipeline import make_bundle, post_event

    running = await make_bundle(client, connection_id)
    stopped = await make_bundle(client, connection_id, start=False)
    gateway = asgi_app(settings)
    inner = gateway.app.app.app  # type: ignore[attr-defined]  # client limits → size rejections → body size limit → FastAPI
    async with (
        inner.router.lifespan_context(inner),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway), base_url="http://gateway.test") as hooks,
    ):
        before = await _scrape(hooks)
        token, held_token = (b["webhook_url"].rsplit("/", 1)[1] for b in (running, stopped))
        person = {"first_name": "Mira", "last_name": "Lind", "email": "mira@metrics.example"}
        first = await hooks.post(f"/hooks/{token}", json=person, headers={"Idempotency-Key": "k-1"})
        again = await hooks.post(f"/hooks/{token}", json=person, headers={"Idempotency-Key": "k-1"})
        held = await hooks.post(f"/hooks/{held_token}", json=person)
        unknown = await hooks.post("/hooks/no-such-token", json=person)
        too_big = await hooks.post(f"/hooks/{token}", content=b"x" * (settings.max_request_bytes + 1))
        assert [r.status_code for r in (first, again, held, unknown, too_big)] == [202, 202, 202, 404, 413]

        # A poll (due now) and its events on a real arq worker, then an operation that bpm'online answers 503.
        json_source.add(2, start=701)
        queue = arq_queue(ConnectionPool.from_url(settings.redis_url))
        try:
            assert await schedule_polls(worker_ctx) == 1
            worker = build_worker(settings, burst=True, cron_jobs=[], poll_delay=0.05)
            try:
                await worker.main()
            finally:
                await worker.close()
        finally:
            await queue.aclose()
        assert worker.jobs_failed == 0 and worker.jobs_complete >= 3  # the poll, its two events (+ the webhook's)
        event_id = await post_event(sessionmaker, running["id"], {**person, "email": "retry@metrics.example"})
        sandbox.set_faults(unavailable_rate=1.0, fault_scope="data")
        try:
            with pytest.raises(Retry):
                await process_event(worker_ctx, str(event_id))
        finally:
            sandbox.clear_faults()
        after = await _scrape(hooks)

    def delta(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    webhooks = "bpmlink_webhooks_total"
    assert delta(webhooks, outcome="accepted", reason="new") == 1
    assert delta(webhooks, outcome="duplicate", reason="idempotency_key") == 1
    assert delta(webhooks, outcome="held", reason="bundle_stopped") == 1
    assert delta(webhooks, outcome="rejected", reason="not_found") == 1
    assert delta(webhooks, outcome="rejected", reason="payload_too_large") == 1
    latency = "bpmlink_bpmonline_request_duration_seconds_count"
    assert delta(latency, connection=connection_id, status="2xx") >= 3  # login, searches, creates
    assert delta(latency, connection=connection_id, status="5xx") >= 1  # the 503 that made the retry
    assert delta("bpmlink_operation_retries_total", reason="unavailable") == 1  # the 503
    assert delta("bpmlink_poll_lag_seconds_count") == 1
    assert 'bpmlink_poll_lag_seconds_bucket{le="60.0"}' in after
    assert token not in after and held_token not in after


async def test_a_worker_log_line_names_its_bundle_and_operation_and_no_secret(
    settings: Settings, client: httpx.AsyncClient, owner: Any, sandbox: Any, sessionmaker: Any, worker_ctx: Any
) -> None:
    from bpmlink_worker.process import process_event

    from tests.fixtures.pipeline import make_bundle, post_event

    password = "W0rker-log-pass-4242"  # the sandbox's default password is its user name: too common to search for
    sandbox.add_user("log.user", password)
    created = await client.post(
        "/api/v1/connections",
        json={
            "app": "bpmonline",
            "name": "Logs",
            "params": {"domain": sandbox.base_url, "auth": "forms", "username": "log.user"},
            "secrets": {"password": password},
        },
    )
    assert created.status_code == 201, created.text
    bundle = await make_bundle(client, created.json()["id"])
    event_id = await post_event(
        sessionmaker, bundle["id"], {"first_name": "Lo", "last_name": "Gg", "email": "l@g.example"}
    )

    streams = {"json": io.StringIO(), "text": io.StringIO()}
    handlers = []
    for kind, stream in streams.items():
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter() if kind == "json" else TextFormatter(TEXT_FORMAT))
        handler.addFilter(ContextFilter())
        handler.addFilter(RedactingFilter(known_secrets(settings)))
        handlers.append(handler)
    logger = logging.getLogger("bpmlink")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    for handler in handlers:
        logger.addHandler(handler)
    try:
        job = metrics.instrument_job(process_event, "event.process")
        assert await job({**worker_ctx, "job_id": "job-42"}, str(event_id)) == "created"
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
        logger.setLevel(level)

    async with sessionmaker() as session:
        from sqlalchemy import select

        from bpmlink.db.models import Operation

        operation = await session.scalar(select(Operation).where(Operation.event_id == event_id))
    assert operation is not None
    lines = [json.loads(line) for line in streams["json"].getvalue().splitlines()]
    done = [
        line for line in lines if line["logger"] == "bpmlink.worker.process" and line["message"] == "operation created"
    ]
    assert len(done) == 1, lines
    assert done[0]["bundle_id"] == bundle["id"] and done[0]["operation_id"] == str(operation.id)
    assert done[0]["event_id"] == str(event_id) and done[0]["job_id"] == "job-42" and done[0]["workspace_id"]
    text = streams["text"].getvalue()
    assert f"operation created [workspace_id={done[0]['workspace_id']} bundle_id={bundle['id']}" in text
    assert f"operation_id={operation.id} event_id={event_id} job_id=job-42]" in text
    for output in (streams["json"].getvalue(), text):
        assert password not in output and settings.secret_key not in output


async def test_an_api_log_line_carries_the_request_id_and_the_callers_workspace(
    app: Any, client: httpx.AsyncClient, owner: Any
) -> None:
    from bpmlink_api.deps import CurrentActor

    fastapi_app = app.app  # type: ignore[attr-defined]  # the size-limited wrapper around the FastAPI app

    async def probe(actor: CurrentActor) -> dict[str, str]:
        logging.getLogger("bpmlink.api.probe").warning("probe for %s", actor.via)
        return {}

    probe.__annotations__["actor"] = CurrentActor  # a real object: this module's annotations are strings
    fastapi_app.add_api_route("/api/v1/_log-probe", probe, methods=["GET"])
    fastapi_app.router.routes.insert(0, fastapi_app.router.routes.pop())  # before the /api catch-all
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("bpmlink.api.probe")
    logger.addHandler(handler)
    try:
        response = await client.get("/api/v1/_log-probe", headers={"X-Request-ID": "req-77"})
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 200, response.text
    (line,) = (json.loads(raw) for raw in stream.getvalue().splitlines())
    assert line["request_id"] == "req-77" and line["workspace_id"] == str(owner.workspace_id)
    assert log_context_var.get() is None  # nothing leaks out of the request
