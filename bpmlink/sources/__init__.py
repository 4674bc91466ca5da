"""Polling sources: one module per app behind one small interface (see `base`).

    source = get_source(bundle.source_app)
    page = await source.fetch(conn, trigger_config, cursor, limit, recorder, env)

Shared by the worker (scheduled polls and backfills) and the api (fetching a sample).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bpmlink.catalog import APPS, get_app
from bpmlink.connections import get_connection
from bpmlink.db.models import Bundle
from bpmlink.kit.security import SecretBox
from bpmlink.sources.app_http import app_sources
from bpmlink.sources.base import (
    Cursor,
    FetchEnv,
    Page,
    PermanentSourceError,
    PollScope,
    Source,
    SourceConnection,
    SourceError,
    TransientSourceError,
)
from bpmlink.sources.bpmonline import BpmonlineSource
from bpmlink.sources.http_polling import HttpPollingSource
from bpmlink.sources.sheet_url import SheetUrlSource
from bpmlink.sources.sql_polling import SqlPollingSource

# Job names shared by the worker (which runs them) and the api (which queues backfills).
POLL_JOB = "poll.run"
BACKFILL_JOB = "poll.backfill"

# The generic sources (sheet_url among them: a link, no connection), and one per catalog app
# polled over its HTTP API (amoCRM, Bitrix24…).
_GENERIC: tuple[Source, ...] = (HttpPollingSource(), SqlPollingSource(), BpmonlineSource(), SheetUrlSource())
SOURCES: dict[str, Source] = {s.app: s for s in (*_GENERIC, *app_sources(APPS.values()))}

__all__ = [
    "BACKFILL_JOB",
    "POLL_JOB",
    "SOURCES",
    "Cursor",
    "FetchEnv",
    "Page",
    "PermanentSourceError",
    "PollScope",
    "Source",
    "SourceConnection",
    "SourceError",
    "TransientSourceError",
    "backfill_job_id",
    "get_source",
    "load_source",
    "needs_no_connection",
    "no_connection",
    "trigger_config",
]


def get_source(app: str) -> Source | None:
    return SOURCES.get(app)


def needs_no_connection(app: str) -> bool:
    """The catalog says the app's sources take everything from the trigger (`sheet_url`: a public link)."""
    entry = get_app(app)
    return entry is not None and not entry.needs_connection


def no_connection(app: str) -> SourceConnection:
    """What a source without a connection is given in its place: nothing."""
    return SourceConnection(id="", app=app, params={})


def trigger_config(bundle: Bundle) -> dict[str, Any]:
    """The trigger's fields plus the trigger key (the bpm'online source reads it)."""
    source = bundle.config.get("source", {})
    return {**(source.get("config") or {}), "trigger": source.get("trigger")}


async def load_source(session: AsyncSession, box: SecretBox, bundle: Bundle) -> tuple[Source, SourceConnection]:
    """The bundle's source and its decrypted connection; PermanentSourceError when either is gone."""
    source = get_source(bundle.source_app)
    if source is None:
        raise PermanentSourceError(f"{bundle.source_app!r} is not a polling source", code="not_polling")
    if needs_no_connection(bundle.source_app):
        return source, no_connection(bundle.source_app)
    if bundle.source_connection_id is None:
        raise PermanentSourceError("the bundle has no source connection", code="no_connection")
    row = await get_connection(session, bundle.workspace_id, bundle.source_connection_id)
    if row is None or row.app != bundle.source_app:
        raise PermanentSourceError("the bundle's source connection was deleted", code="no_connection")
    try:
        secrets = box.decrypt(row.secrets_encrypted)
    except ValueError as exc:
        raise PermanentSourceError(str(exc), code="secrets") from exc
    return source, SourceConnection(id=str(row.id), app=row.app, params=dict(row.params), secrets=secrets)


def backfill_job_id(bundle_id: object, backfill_id: str, part: int = 0) -> str:
    """Deterministic: a second request for the same backfill (or part of it) is a no-op in arq."""
    return f"backfill:{bundle_id}:{backfill_id}:{part}"
