"""A poll's source: its cached trigger configuration and decrypted connection, and the fetch of a page."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import asyncpg

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.kit.security import SecretBox
from bpmlink.sources import (
    Cursor,
    Page,
    PermanentSourceError,
    PollScope,
    Source,
    SourceConnection,
    SourceError,
    TransientSourceError,
    get_source,
    needs_no_connection,
    no_connection,
)
from bpmlink.sources.http_polling import HttpPollingSource

if TYPE_CHECKING:
    from ..context import WorkerContext

log = logging.getLogger("bpmlink.worker.polling")

PAGE_SIZE = 100
STEP_BODY_LIMIT = 4096  # the page's answer is stored once per new event: keep it short


async def fetch(
    context: WorkerContext,
    source: Source,
    conn: SourceConnection,
    config: dict[str, Any],
    cursor: Cursor | None,
    limit: int,
    recorder: StepRecorder,
    *,
    bundle_id: uuid.UUID,
    backfill: bool = False,
) -> Page:
    try:
        env = replace(context.fetch_env, poll=PollScope(context.db, bundle_id, backfill))
        if isinstance(source, HttpPollingSource):
            return await source.fetch(conn, config, cursor, limit, recorder, env, http=context.source_http)
        return await source.fetch(conn, config, cursor, limit, recorder, env)
    except SourceError:
        raise
    except Exception as exc:
        # A bug or an unforeseen answer: keep it visible on the bundle and try again next time.
        log.exception("a %s source failed unexpectedly", conn.app)
        raise TransientSourceError(
            f"unexpected error: {type(exc).__name__}: {exc}", code="internal", steps=recorder.steps
        ) from exc


# Trigger configurations by bundle: (version, config). A saved version never changes.
TRIGGERS: dict[uuid.UUID, tuple[int, dict[str, Any]]] = {}
# Decrypted connections by their stored form: an unchanged connection is neither parsed nor decrypted again.
_CONNECTIONS: dict[tuple[Any, ...], tuple[SecretBox, SourceConnection]] = {}
_CACHE_MAX = 20_000


def trigger_of(
    bundle_id: uuid.UUID, version: int, source_json: str | None, cached: tuple[int, dict[str, Any]] | None
) -> dict[str, Any]:
    if source_json is None and cached is not None and cached[0] == version:
        return cached[1]
    source = json.loads(source_json or "{}")
    source = source if isinstance(source, dict) else {}
    config = {**(source.get("config") or {}), "trigger": source.get("trigger")}  # as sources.trigger_config
    if len(TRIGGERS) >= _CACHE_MAX:
        TRIGGERS.clear()
    TRIGGERS[bundle_id] = (version, config)
    return config


def connection_of(box: SecretBox, row: asyncpg.Record) -> tuple[Source, SourceConnection]:
    """The bundle's source and its decrypted connection, as `sources.load_source` (same errors)."""
    app = row["source_app"]
    source = get_source(app)
    if source is None:
        raise PermanentSourceError(f"{app!r} is not a polling source", code="not_polling")
    if needs_no_connection(app):
        return source, no_connection(app)
    if row["source_connection_id"] is None:
        raise PermanentSourceError("the bundle has no source connection", code="no_connection")
    if row["connection_id"] is None or row["connection_app"] != app:
        raise PermanentSourceError("the bundle's source connection was deleted", code="no_connection")
    key = (row["connection_id"], app, row["params"], row["secrets_encrypted"], id(box))
    hit = _CONNECTIONS.get(key)
    if hit is not None and hit[0] is box:
        return source, hit[1]
    try:
        secrets = box.decrypt(row["secrets_encrypted"])
    except ValueError as exc:
        raise PermanentSourceError(str(exc), code="secrets") from exc
    conn = SourceConnection(id=str(row["connection_id"]), app=app, params=json.loads(row["params"]), secrets=secrets)
    if len(_CONNECTIONS) >= _CACHE_MAX:
        _CONNECTIONS.clear()
    _CONNECTIONS[key] = (box, conn)
    return source, conn


def describe(exc: SourceError) -> str:
    text_ = f"[{exc.code}] {exc.message}"
    if exc.steps:
        s = exc.steps[-1]
        answer = f"HTTP {s.status}" if s.status is not None else "no answer"
        text_ += f" — {s.method} {s.url} → {answer}"
    return text_[:2000]
