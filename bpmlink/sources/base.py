"""The interface every polling source implements, and its errors.

    page = await source.fetch(conn, config, cursor, limit, recorder, env)

`cursor` is the JSON object a previous page returned as `next_cursor` (None: from the
beginning). A source returns items in cursor order, each with its source item key, the cursor
after the last item, and `more` when the source has further items right now.

Errors, drawn once::

    SourceError                 message (for the user), code, params, steps
    ├── TransientSourceError    network failures, timeouts, 5xx, 429: retried at the next interval
    └── PermanentSourceError    bad configuration, 4xx, refused address, SQL errors: repeated ones stop the bundle
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from redis.asyncio import Redis

from bpmlink.bpmonline.pool import BpmClientPool
from bpmlink.bpmonline.steps import Step, StepRecorder
from bpmlink.kit.settings import Settings

Cursor = dict[str, Any]
# The events table keeps keys of up to 200 characters; longer keys are hashed.
MAX_KEY_LENGTH = 200


class SourceError(Exception):
    default_code = "source_error"
    transient = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        steps: list[Step] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.steps: list[Step] = list(steps or [])
        self.params: dict[str, Any] = dict(params or {})  # what a translated message names (a column, a status)


class TransientSourceError(SourceError):
    default_code = "source_unavailable"
    transient = True


class PermanentSourceError(SourceError):
    default_code = "source_misconfigured"


@dataclass(frozen=True)
class SourceConnection:
    """A stored connection, decrypted for one fetch (never logged: secrets are not in repr)."""

    id: str
    app: str
    params: Mapping[str, Any]
    secrets: Mapping[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class PollScope:
    """The bundle a worker's fetch is for, and the worker's database pool: a source that keeps state of
    its own beside the cursor (`sheet_url`'s seen rows) reads and writes it there. `backfill`: the fetch
    pages through the existing data for a backfill rather than polling for new items."""

    db: asyncpg.Pool
    bundle_id: uuid.UUID
    backfill: bool = False


@dataclass
class FetchEnv:
    """What a source may use: settings (the outbound guard), Redis and the bpm'online client pool;
    `poll` in the worker's polls and backfills (None: a one-off fetch, e.g. the wizard's sample)."""

    settings: Settings
    redis: Redis | None = None
    bpm_clients: BpmClientPool | None = None
    poll: PollScope | None = None


@dataclass
class Page:
    items: list[tuple[str, dict[str, Any]]]
    next_cursor: Cursor | None
    more: bool


class Source(Protocol):
    app: str

    async def fetch(
        self,
        conn: SourceConnection,
        config: Mapping[str, Any],
        cursor: Cursor | None,
        limit: int,
        recorder: StepRecorder,
        env: FetchEnv,
    ) -> Page: ...


def item_key(*parts: Any) -> str:
    """The source item key: the id (and a version for change triggers), hashed when too long."""
    key = "@".join("" if p is None else str(p) for p in parts)
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
