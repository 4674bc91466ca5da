"""The gateway's decisions: token → bundle, rate, verification, parse, store, enqueue.

Order matters for invariant 1 (DESIGN.md): the event and its operation are committed in one
transaction before the caller answers 202; only then is the job handed to Redis (handoff.py,
in the background, batched), and a Redis failure is logged, not returned (the event waits as
`pending` for the sweeper). A failure to store answers 503 so the sender retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from arq.connections import ArqRedis
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.events import event_row
from bpmlink.kit.logs import bind_log_context
from bpmlink.kit.security import SecretBox
from bpmlink.kit.web import AppError, NotFound, TooManyRequests, Unauthorized, Unavailable
from bpmlink.webhooks import decrypt_webhook_secret

from . import repository
from .breaker import RedisBreaker
from .committer import GroupCommitter, NotStored
from .handoff import DB_ERRORS, Handoff
from .parsing import BodyError, parse_request
from .ratelimit import RateLimiter
from .repository import HookTarget
from .verification import VerificationFailed, verify_request

log = logging.getLogger("bpmlink.gateway")

# Short enough that stopping, deleting or regenerating a token shows within a second or so.
TARGET_CACHE_SECONDS = 1.0
TARGET_CACHE_MAX = 10_000
# An unreachable PostgreSQL must answer 503 quickly, not hang the sender until its own timeout.
STORE_TIMEOUT_SECONDS = 10.0
RETRY_LATER = {"Retry-After": "5"}
MAX_KEY_LENGTH = 200  # events.idempotency_key is String(200)

# Never stored with the raw request: credentials and signatures (the verification header too).
_REDACTED_HEADERS = frozenset({"cookie", "authorization", "proxy-authorization", "x-api-key", "x-auth-token"})
_REDACTED_WORDS = ("secret", "signature", "password", "token")


class Gone(AppError):
    status_code = 410
    code = "gone"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class BadBody(AppError):
    status_code = 400
    code = "bad_request"


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    query_string: bytes
    body: bytes
    client: str | None = None


@dataclass(frozen=True)
class Accepted:
    event_id: uuid.UUID
    should_enqueue: bool  # a new event for a running bundle (not a resend, a held event or a sample)
    outcome: str = "accepted"  # for bpmlink_webhooks_total: accepted | held | duplicate
    reason: str = "new"


class TargetCache:
    """token → HookTarget | None for TARGET_CACHE_SECONDS; bounded, cleared whole when full."""

    def __init__(self, ttl: float = TARGET_CACHE_SECONDS, max_entries: int = TARGET_CACHE_MAX) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, HookTarget | None]] = {}

    def get(self, token: str) -> tuple[bool, HookTarget | None]:
        entry = self._entries.get(token)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, token: str, target: HookTarget | None) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + self.ttl, target)

    def forget(self, token: str) -> None:
        self._entries.pop(token, None)


class Gateway:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        db: asyncpg.Pool,
        queue: ArqRedis,
        secret_box: SecretBox,
        rate_per_minute: int,
        cache: TargetCache | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        # Events stored in groups: one statement and commit per group.
        self.committer = GroupCommitter(db, wait_timeout=STORE_TIMEOUT_SECONDS)
        self.queue = queue
        self.secret_box = secret_box
        self.breaker = RedisBreaker()
        self.limiter = RateLimiter(queue, rate_per_minute, self.breaker)
        self.cache = cache or TargetCache()
        self.handoff = Handoff(db, queue, self.breaker)
        self._secrets: dict[bytes, str | None] = {}
        self._loading: dict[str, asyncio.Future[HookTarget | None]] = {}

    @property
    def db(self) -> asyncpg.Pool:
        return self.committer.db

    @db.setter
    def db(self, pool: asyncpg.Pool) -> None:
        self.committer.db = pool

    async def receive(self, token: str, incoming: IncomingRequest) -> Accepted:
        target = await self._target(token)
        if target is None or target.source_app != "webhook":
            raise NotFound("no webhook at this URL")
        bind_log_context(workspace_id=target.workspace_id, bundle_id=target.id)
        if target.deleted:
            raise Gone("the bundle of this webhook was deleted")
        retry_after = await self.limiter.retry_after(token)
        if retry_after is not None:
            raise TooManyRequests(
                "too many requests to this webhook; retry later",
                details={"retry_after": retry_after},
                headers={"Retry-After": str(retry_after)},
            )
        try:
            verify_request(
                target.verification,
                target.signature_header,
                self._secret(target),
                incoming.headers,
                incoming.body,
            )
        except VerificationFailed as exc:
            raise Unauthorized(f"request verification failed: {exc}") from None
        encoding = incoming.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            # Decompressing would open a zip-bomb door and blur what an HMAC signature covers.
            raise UnsupportedMediaType(f"Content-Encoding {encoding} is not supported; send the body uncompressed")
        try:
            item = parse_request(incoming.headers.get("content-type"), incoming.body, incoming.query_string)
        except BodyError as exc:
            error = UnsupportedMediaType if exc.status_code == 415 else BadBody
            raise error(exc.message) from None
        key = idempotency_key(incoming.headers, item, target.idempotency_field)
        record = request_record(incoming, target.signature_header)
        accepted, sampled = await self._store(target, item=item, record=record, body=incoming.body, key=key)
        bind_log_context(event_id=accepted.event_id)
        if sampled:
            self.cache.forget(token)  # the flag is off now; let the next request see it
        elif accepted.should_enqueue:
            self.handoff.add(accepted.event_id)  # committed already: queued right after the 202
        return accepted

    async def _target(self, token: str) -> HookTarget | None:
        hit, target = self.cache.get(token)
        if hit:
            return target
        # One lookup per token at a time: when the cache entry expires under load, every
        # request in flight would otherwise ask PostgreSQL the same question at once.
        loading = self._loading.get(token)
        if loading is None:
            loading = asyncio.ensure_future(self._load_target(token))
            self._loading[token] = loading
            loading.add_done_callback(lambda _: self._loading.pop(token, None))
        return await asyncio.shield(loading)

    async def _load_target(self, token: str) -> HookTarget | None:
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS), self.sessionmaker() as session:
                target = await repository.find_target(session, token)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.error("webhook lookup failed, answering 503: %s", exc)
            raise Unavailable("the webhook cannot be looked up now; retry later", headers=RETRY_LATER) from None
        self.cache.put(token, target)
        return target

    def _secret(self, target: HookTarget) -> str | None:
        # Fernet decryption per request would be wasted work; the ciphertext is the cache key.
        encrypted = target.secret_encrypted
        if not encrypted or target.verification in ("", "none"):
            return None
        if encrypted not in self._secrets:
            if len(self._secrets) >= TARGET_CACHE_MAX:
                self._secrets.clear()
            try:
                self._secrets[encrypted] = decrypt_webhook_secret(self.secret_box, encrypted)
            except ValueError:
                log.error("the webhook secret of bundle %s cannot be decrypted", target.id)
                self._secrets[encrypted] = None
        return self._secrets[encrypted]

    async def _store(
        self, target: HookTarget, *, item: dict[str, Any], record: dict[str, Any], body: bytes, key: str | None
    ) -> tuple[Accepted, bool]:
        """Committed before it returns: a sample (bundle update + event) or the event + its operation."""
        try:
            if target.capture_sample:
                async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
                    event_id = await self._store_sample(target, item=item, record=record, body=body)
                if event_id is not None:
                    return Accepted(event_id, should_enqueue=False, reason="sample"), True
            row = event_row(target, origin="webhook", item=item, request=record, body=body, idempotency_key=key)
            # Bounded by the committer itself (STORE_TIMEOUT_SECONDS): one timer, not a timeout scope per request.
            stored = await self.committer.store(row)
        except (SQLAlchemyError, NotStored, *DB_ERRORS) as exc:
            log.error("webhook event for bundle %s not stored, answering 503: %s", target.id, exc)
            raise Unavailable("the event could not be stored; retry later", headers=RETRY_LATER) from None
        # A held event (bundle stopped) waits for the user's decision: not queued.
        if not stored.created:
            return Accepted(stored.id, should_enqueue=False, outcome="duplicate", reason="idempotency_key"), False
        if stored.held:
            return Accepted(stored.id, should_enqueue=False, outcome="held", reason="bundle_stopped"), False
        return Accepted(stored.id, should_enqueue=True), False

    async def _store_sample(
        self, target: HookTarget, *, item: dict[str, Any], record: dict[str, Any], body: bytes
    ) -> uuid.UUID | None:
        """Keep the item as the bundle's sample if it still waits for one; None when another request won."""
        async with self.sessionmaker() as session:
            if not await repository.claim_sample(session, target.id, item):
                return None
            event_id = await repository.insert_sample_event(session, target, item=item, request=record, body=body)
            await session.commit()
            return event_id


def idempotency_key(headers: Mapping[str, str], item: dict[str, Any], field: str | None) -> str | None:
    """The Idempotency-Key header, else the configured body field (a dotted path), else None."""
    value: Any = headers.get("idempotency-key")
    if not value and field:
        value = item
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, list | dict):
            value = None
    if value is None or value == "":
        return None
    key = str(value)
    if len(key) > MAX_KEY_LENGTH:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def request_record(incoming: IncomingRequest, signature_header: str) -> dict[str, Any]:
    """The raw request as stored with the event: method, redacted headers, query, client."""
    secret_header = signature_header.lower()
    headers = {
        name: value
        for name, value in incoming.headers.items()
        if name not in _REDACTED_HEADERS and name != secret_header and not any(word in name for word in _REDACTED_WORDS)
    }
    return {
        "method": incoming.method,
        "headers": headers,
        "query": incoming.query_string.decode("latin-1").replace("\x00", ""),
        "client": incoming.client,
    }
