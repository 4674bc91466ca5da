"""The gateway's decisions: token → bundle, rate, the trigger's rules (method, test request, verification,
parse, split, idempotency), store, enqueue, answer.

Any catalog app whose trigger is a webhook is served here by its `WebhookRules` (bpmlink.intake): no
branch on an app's key. Order matters for invariant 1 (DESIGN.md): every event of a request and its
operation are committed in one statement before the caller is answered; only then are the jobs handed
to Redis (handoff.py, in the background, batched), and a Redis failure is logged, not returned (the
events wait as `pending` for the sweeper). A failure to store answers 503 so the sender retries.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

import asyncpg
from arq.connections import ArqRedis
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bpmlink.catalog.model import TestRequest, WebhookRules
from bpmlink.events import EventRow, StoredEvent, event_row, is_held
from bpmlink.intake.keys import item_keys
from bpmlink.intake.paths import get, masked, text
from bpmlink.intake.shape import ShapeError, apply_parse, matches
from bpmlink.intake.split import TooManyItems, split_items
from bpmlink.kit.logs import REDACTED, bind_log_context
from bpmlink.kit.security import SecretBox
from bpmlink.kit.web import AppError, NotFound, TooManyRequests, Unauthorized, Unavailable
from bpmlink.webhooks import decrypt_webhook_secret

from . import repository
from .answers import Reply, reply
from .breaker import RedisBreaker
from .committer import GroupCommitter, NotStored
from .handoff import DB_ERRORS, Handoff
from .parsing import BodyError, parse_request
from .ratelimit import RateLimiter
from .repository import HookTarget
from .verification import Presented, VerificationFailed, verify

log = logging.getLogger("bpmlink.gateway")

# Short enough that stopping, deleting or regenerating a token shows within a second or so.
TARGET_CACHE_SECONDS = 1.0
TARGET_CACHE_MAX = 10_000
# An unreachable PostgreSQL must answer 503 quickly, not hang the sender until its own timeout.
STORE_TIMEOUT_SECONDS = 10.0
RETRY_LATER = {"Retry-After": "5"}
# What one request may store once split: each item carries the envelope's `keep` fields, so a body under
# the size limit could otherwise become hundreds of copies of itself.
MAX_ITEMS_BYTES = 8 * 1024 * 1024

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


class MethodNotAllowed(AppError):
    status_code = 405
    code = "method_not_allowed"


class NothingToSplit(AppError):
    status_code = 400
    code = "nothing_to_split"


class TooManyItemsError(AppError):
    status_code = 413
    code = "too_many_items"


class ItemsTooLarge(AppError):
    status_code = 413
    code = "items_too_large"


class VerificationRefused(Unauthorized):
    """401 with the reason's code and params in `details` (the code stays `unauthorized`, as senders know it)."""

    def __init__(self, failure: VerificationFailed) -> None:
        super().__init__(
            f"request verification failed: {failure.message}", details={"reason": failure.reason, **failure.params}
        )


@dataclass(frozen=True)
class IncomingRequest:
    method: str
    headers: Mapping[str, str]  # lower-case names; repeated headers joined with ", "
    query_string: bytes
    body: bytes
    client: str | None = None


@dataclass(frozen=True)
class Accepted:
    event_ids: tuple[uuid.UUID, ...]  # one per item of the request, in order (a resend's: the first events)
    reply: Reply
    outcome: str = "accepted"  # for bpmlink_webhooks_total: accepted | held | duplicate | test | sample
    reason: str = "new"

    @property
    def event_id(self) -> uuid.UUID:
        return self.event_ids[0]


@dataclass(frozen=True)
class _Stored:
    event_ids: tuple[uuid.UUID, ...]
    to_enqueue: list[uuid.UUID]  # new events of a running bundle (not resends, held events or a sample)
    outcome: str
    reason: str
    sampled: bool = False  # the bundle's sample flag changed: its cached target is stale


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
        """The body is parsed before a test is recognised or the request verified: a test is told by its
        fields (Tilda's `test=test`) and a body secret read from them; nothing is stored before both."""
        target = await self._target(token)
        if target is None:
            raise NotFound("no webhook at this URL")
        bind_log_context(workspace_id=target.workspace_id, bundle_id=target.id)
        if target.deleted:
            raise Gone("the bundle of this webhook was deleted")
        over = await self.limiter.retry_after(token, target.id, target.rate_per_minute)
        if over is not None:
            limit, retry_after = over
            # The code stays `rate_limited` (what senders know); `reason` + params are the message's
            # (bpmlink/kit/locales/*/limits.json).
            raise TooManyRequests(
                f"over this webhook's limit of {limit} requests a minute; retry in {retry_after} s",
                details={"reason": "hook_rate_limit", "limit": limit, "retry_after": retry_after},
                headers={"Retry-After": str(retry_after)},
            )
        rules = target.rules
        if rules is None:
            raise Unauthorized(
                "request verification failed: the bundle's verification mode is not known",
                details={"reason": "verification_unknown"},
            )
        if incoming.method not in rules.methods:
            allowed = ", ".join(rules.methods)
            raise MethodNotAllowed(
                f"this webhook takes {allowed}, not {incoming.method}",
                details={"method": incoming.method, "allowed": list(rules.methods)},
                headers={"Allow": allowed},
            )
        item = _parse(incoming)
        test = _recognised_test(rules, incoming, item)
        if test is None or test.verified:
            self._verify(target, rules, incoming, item)
        if test is not None:
            _check_test_token(test, target.config, item)
        # A secret the request carried in its body or query is not kept where history shows it.
        hidden = _secret_fields(rules, test)
        item = masked(item, hidden, REDACTED)
        record = request_record(incoming, target.secret_header, hidden)
        if test is not None:
            stored = await self._store_test(target, item=item, record=record, body=incoming.body)
            answer = test.answer or rules.answer
        else:
            stored = await self._store_items(target, rules, incoming, item, record)
            answer = rules.answer
        bind_log_context(event_id=stored.event_ids[0])
        if stored.sampled:
            self.cache.forget(token)  # the flag is off now; let the next request see it
        for event_id in stored.to_enqueue:
            self.handoff.add(event_id)  # committed already: queued right after the answer
        answered = reply(answer, stored.event_ids, config=target.config, query_string=incoming.query_string)
        return Accepted(stored.event_ids, answered, outcome=stored.outcome, reason=stored.reason)

    def _verify(self, target: HookTarget, rules: WebhookRules, incoming: IncomingRequest, item: dict[str, Any]) -> None:
        presented = Presented(incoming.headers, incoming.body, incoming.query_string, incoming.client, item)
        try:
            verify(rules.verification, secret=self._secret(target), config=target.config, request=presented)
        except VerificationFailed as exc:
            raise VerificationRefused(exc) from None

    async def _store_items(
        self,
        target: HookTarget,
        rules: WebhookRules,
        incoming: IncomingRequest,
        item: dict[str, Any],
        record: dict[str, Any],
    ) -> _Stored:
        try:
            items = split_items(apply_parse(item, rules.parse), rules.split)
        except ShapeError as exc:
            raise BadBody(str(exc), details={"field": exc.field}) from None
        except TooManyItems as exc:
            raise TooManyItemsError(str(exc), details={"limit": exc.limit}) from None
        if not items:
            path = rules.split.path if rules.split else ""
            raise NothingToSplit(f"the request holds no item at {path}", details={"path": path})
        keys = item_keys(items, rules.idempotency, headers=incoming.headers, field=target.idempotency_field)
        # A bundle that does not run keeps the request as its sample (its raw body with it), not processed;
        # a running bundle's request is always processed: armed capture only copies it as the sample.
        if target.capture_sample and is_held(target.status):
            sample = await self._store_sample(target, item=items[0], record=record, body=incoming.body)
            if sample is not None:
                return _Stored((sample,), [], "accepted", "sample", sampled=True)
        rows = _rows(target, items, keys, record, incoming.body)
        size = sum(len(row.params["item"]) for row in rows)
        if size > MAX_ITEMS_BYTES:
            raise ItemsTooLarge(
                f"the request's {len(rows)} items take {size} bytes, over {MAX_ITEMS_BYTES}",
                details={"items": len(rows), "limit_bytes": MAX_ITEMS_BYTES},
            )
        stored = await self._commit(target, rows)
        created = [s for s in stored if s.created]
        ids = tuple(s.id for s in stored)
        if not created:
            return _Stored(ids, [], "duplicate", "idempotency_key")
        if rows[0].held:  # a held event (bundle stopped) waits for the user's decision: not queued
            return _Stored(ids, [], "held", "bundle_stopped")
        sampled = target.capture_sample and await self._copy_sample(target, items[0])
        return _Stored(ids, [s.id for s in created], "accepted", "new", sampled=sampled)

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
        if not encrypted or target.rules is None or target.rules.verification.mode in ("none", "address"):
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

    async def _commit(self, target: HookTarget, rows: list[EventRow]) -> list[StoredEvent]:
        try:
            # Bounded by the committer itself (STORE_TIMEOUT_SECONDS): one timer, not a timeout scope per request.
            return await self.committer.store_request(rows)
        except (SQLAlchemyError, NotStored, *DB_ERRORS) as exc:
            log.error("webhook events for bundle %s not stored, answering 503: %s", target.id, exc)
            raise Unavailable("the event could not be stored; retry later", headers=RETRY_LATER) from None

    async def _store_test(
        self, target: HookTarget, *, item: dict[str, Any], record: dict[str, Any], body: bytes
    ) -> _Stored:
        """A test request: its event (operation `test`, never queued) and the bundle's sample if it has none
        and waits for none (`repository.store_test`)."""
        rules = target.rules
        try:
            sample = apply_parse(item, rules.parse) if rules is not None else item
        except ShapeError:
            sample = item
        row = event_row(target, origin="webhook", item=item, request=record, body=body, test=True)
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS), self.sessionmaker() as session:
                stored = await repository.store_test(session, target.id, row, sample)
                await session.commit()
        except (SQLAlchemyError, *DB_ERRORS) as exc:
            log.error("test request for bundle %s not stored, answering 503: %s", target.id, exc)
            raise Unavailable("the event could not be stored; retry later", headers=RETRY_LATER) from None
        if stored is None:
            raise Unavailable("the event could not be stored; retry later", headers=RETRY_LATER)
        return _Stored((stored.id,), [], "test", "test_request")  # the sample flag is left as it was

    async def _store_sample(
        self, target: HookTarget, *, item: dict[str, Any], record: dict[str, Any], body: bytes
    ) -> uuid.UUID | None:
        """Keep the item as the bundle's sample if it still waits for one; None when another request won."""
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS), self.sessionmaker() as session:
                if not await repository.claim_sample(session, target.id, item):
                    return None
                event_id = await repository.insert_sample_event(session, target, item=item, request=record, body=body)
                await session.commit()
                return event_id
        except (SQLAlchemyError, *DB_ERRORS) as exc:
            log.error("webhook sample for bundle %s not stored, answering 503: %s", target.id, exc)
            raise Unavailable("the event could not be stored; retry later", headers=RETRY_LATER) from None

    async def _copy_sample(self, target: HookTarget, item: dict[str, Any]) -> bool:
        """A running bundle's processed request as its sample too; best effort, the event is stored already."""
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS), self.sessionmaker() as session:
                claimed = await repository.claim_sample(session, target.id, item)
                await session.commit()
                return claimed
        except (SQLAlchemyError, *DB_ERRORS) as exc:
            log.warning("webhook sample copy for bundle %s not stored: %s", target.id, exc)
            return False


def _parse(incoming: IncomingRequest) -> dict[str, Any]:
    encoding = incoming.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # Decompressing would open a zip-bomb door and blur what an HMAC signature covers.
        raise UnsupportedMediaType(f"Content-Encoding {encoding} is not supported; send the body uncompressed")
    try:
        return parse_request(incoming.headers.get("content-type"), incoming.body, incoming.query_string)
    except BodyError as exc:
        error = UnsupportedMediaType if exc.status_code == 415 else BadBody
        raise error(exc.message) from None


def _recognised_test(rules: WebhookRules, incoming: IncomingRequest, item: dict[str, Any]) -> TestRequest | None:
    return next(
        (t for t in rules.tests if matches(t.when, method=incoming.method, headers=incoming.headers, item=item)), None
    )


def _check_test_token(test: TestRequest, config: Mapping[str, Any], item: dict[str, Any]) -> None:
    """A test that proves itself with a token the user configured (Facebook's `hub.verify_token`)."""
    if test.token is None:
        return
    expected = config.get(test.token_field or "")
    failure = None
    given = text(get(item, test.token))
    if not isinstance(expected, str) or not expected:
        failure = VerificationFailed("secret_not_set", "the verification token is not set")
    elif not given:
        failure = VerificationFailed("secret_missing", f"the {test.token} field is missing", name=test.token)
    elif not hmac.compare_digest(given.encode(), expected.encode()):
        failure = VerificationFailed("secret_mismatch", f"the {test.token} field does not match", name=test.token)
    if failure is not None:
        raise VerificationRefused(failure)


def _rows(
    target: HookTarget, items: Sequence[dict[str, Any]], keys: Sequence[str | None], record: dict[str, Any], body: bytes
) -> list[EventRow]:
    """One row per item. The raw body is kept once, with the first item's event; the others' requests say
    which item of the request they are."""
    if len(items) == 1:
        return [event_row(target, origin="webhook", item=items[0], request=record, body=body, idempotency_key=keys[0])]
    return [
        event_row(
            target,
            origin="webhook",
            item=item,
            request={**record, "item": {"index": index, "count": len(items)}},
            body=body if index == 0 else None,
            idempotency_key=key,
        )
        for index, (item, key) in enumerate(zip(items, keys, strict=True))
    ]


def _secret_fields(rules: WebhookRules, test: TestRequest | None) -> list[str]:
    """The body paths and query parameters that held a secret this request was checked by."""
    fields = []
    verification = rules.verification
    if test is None or test.verified:
        if verification.mode == "body_secret" and verification.path:
            fields.append(verification.path)
        if verification.mode == "query_token" and verification.query_param:
            fields.append(verification.query_param)  # also an item field: query fields are merged into it
    if test is not None and test.token:
        fields.append(test.token)
    return fields


def _masked_query(query: str, params: Sequence[str]) -> str:
    if not params:
        return query
    pairs = [chunk.partition("=") for chunk in query.split("&")]
    return "&".join(
        f"{name}={REDACTED}" if unquote_plus(name) in params else f"{name}{eq}{value}" for name, eq, value in pairs
    )


def request_record(
    incoming: IncomingRequest, secret_header: str | None, secret_params: Sequence[str] = ()
) -> dict[str, Any]:
    """The raw request as stored with the event: method, redacted headers, query (a secret parameter's value
    masked), client."""
    secret_header = (secret_header or "").lower()
    headers = {
        name: value
        for name, value in incoming.headers.items()
        if name not in _REDACTED_HEADERS and name != secret_header and not any(word in name for word in _REDACTED_WORDS)
    }
    return {
        "method": incoming.method,
        "headers": headers,
        "query": _masked_query(incoming.query_string.decode("latin-1").replace("\x00", ""), secret_params),
        "client": incoming.client,
    }
