"""Metrics middleware, /metrics, the job wrapper and JSON logs without secrets (in process, fast)."""

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

from bpmlink import metrics
from bpmlink.logging import JsonFormatter, RedactingFilter, known_secrets, log_context_var, logging_config, redact
from bpmlink.settings import Settings

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
    assert config["handlers"]["default"]["filters"] == ["redact"]
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert config["loggers"][name]["handlers"] == [] and config["loggers"][name]["propagate"] is True
    text = logging_config(_settings(BPMLINK_LOG_FORMAT="text"))
    assert "format" in text["formatters"]["default"]
    with pytest.raises(ValueError, match="BPMLINK_LOG_FORMAT"):
        _settings(BPMLINK_LOG_FORMAT="yaml")
