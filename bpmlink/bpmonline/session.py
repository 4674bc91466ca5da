"""Logging in (Forms or OAuth client credentials) and sharing the session between processes.

One session per connection is shared by every worker process: it is kept in Redis,
encrypted with Fernet (`Settings.fernet_key()`), under a key made of the connection id and a
fingerprint of its non-secret params. Renewal is single-flight — an asyncio lock per
connection in the process, then a short Redis lock across processes, then a re-read: whoever
comes second adopts the session the first one made instead of logging in again (each Forms
login occupies a licence seat on the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from cryptography.fernet import Fernet, InvalidToken
from redis.asyncio import Redis
from redis.exceptions import LockError, RedisError

from bpmlink.bpmonline._http import decode_json, dump_json, is_html, is_json, response_message, send
from bpmlink.bpmonline.connection import BpmConnection
from bpmlink.bpmonline.errors import AuthError, BpmError, ConfigurationError, TransientError, error_for_status
from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.kit import metrics

log = logging.getLogger(__name__)

# Renew an OAuth token this many seconds before it expires.
TOKEN_REFRESH_MARGIN = 30.0
# Forms sessions live until the server says otherwise (sliding idle timeout, 60 min by default);
# Redis forgets them after this, so an idle connection starts fresh.
FORMS_SESSION_TTL = 12 * 3600
# Longer than one login can take (connect + read timeouts), so the lock outlives the login.
_LOCK_TIMEOUT = 75.0

CookieTuple = tuple[str, str, str, str]  # name, value, domain, path


@dataclass
class SessionState:
    kind: Literal["forms", "oauth"]
    generation: str = field(default_factory=lambda: uuid.uuid4().hex)
    cookies: list[CookieTuple] = field(default_factory=list)
    token: str | None = None
    expires_at: float | None = None  # epoch seconds (OAuth)
    created_at: float = field(default_factory=time.time)

    def usable(self, now: float | None = None) -> bool:
        if self.kind == "oauth":
            now = time.time() if now is None else now
            return bool(self.token) and (self.expires_at or 0) - TOKEN_REFRESH_MARGIN > now
        return bool(self.cookies)

    def ttl_seconds(self) -> int:
        if self.kind == "oauth" and self.expires_at:
            return max(1, int(self.expires_at - time.time()))
        return FORMS_SESSION_TTL

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "kind": self.kind,
                "generation": self.generation,
                "cookies": [list(c) for c in self.cookies],
                "token": self.token,
                "expires_at": self.expires_at,
                "created_at": self.created_at,
            }
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> SessionState:
        data = json.loads(raw)
        return cls(
            kind=data["kind"],
            generation=data["generation"],
            cookies=[(str(a), str(b), str(c), str(d)) for a, b, c, d in data.get("cookies", [])],
            token=data.get("token"),
            expires_at=data.get("expires_at"),
            created_at=data.get("created_at", time.time()),
        )


class SessionStore:
    """Where sessions are shared: Redis (encrypted) if given, else this process's memory."""

    _memory: dict[str, bytes] = {}

    def __init__(self, redis: Redis | None = None, fernet_key: bytes | None = None) -> None:
        if redis is not None and fernet_key is None:
            raise ValueError("a Fernet key is required to keep sessions in Redis")
        self._redis = redis
        self._fernet = Fernet(fernet_key) if fernet_key else None

    @property
    def shared(self) -> bool:
        return self._redis is not None

    async def load(self, key: str) -> SessionState | None:
        raw: bytes | None
        if self._redis is None:
            raw = self._memory.get(key)
        else:
            try:
                raw = await self._redis.get(key)
            except RedisError as exc:  # Redis trouble must not stop requests: log in locally
                log.warning("session store unavailable, using a local session: %s", exc)
                return None
        if raw is None:
            return None
        try:
            plain = self._fernet.decrypt(raw) if self._fernet else raw
            return SessionState.from_json(plain)
        except (InvalidToken, ValueError, KeyError, TypeError):
            log.warning("discarding an unreadable stored session for %s", key)
            return None

    async def save(self, key: str, state: SessionState) -> None:
        raw = state.to_json()
        if self._redis is None:
            self._memory[key] = raw
            return
        assert self._fernet is not None
        try:
            await self._redis.set(key, self._fernet.encrypt(raw), ex=state.ttl_seconds())
        except RedisError as exc:
            log.warning("could not share the session: %s", exc)

    async def delete(self, key: str) -> None:
        if self._redis is None:
            self._memory.pop(key, None)
            return
        with contextlib.suppress(RedisError):
            await self._redis.delete(key)

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """A short cross-process lock (no-op without Redis)."""
        if self._redis is None:
            yield
            return
        lock = self._redis.lock(f"{key}:lock", timeout=_LOCK_TIMEOUT, blocking_timeout=_LOCK_TIMEOUT)
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            log.warning("session lock unavailable, renewing without it: %s", exc)
            acquired = False
            yield
            return
        if not acquired:
            raise TransientError("timed out waiting for another process to log in", code="session_lock")
        try:
            yield
        finally:
            with contextlib.suppress(LockError, RedisError):
                await lock.release()


# Credentials refused recently (failure key → (monotonic time, error)), per process.
FAILURE_HOLD_SECONDS = 60.0
_HELD_FAILURES = frozenset({"wrong_credentials", "user_locked", "password_expired", "invalid_client"})
_failures: dict[str, tuple[float, AuthError]] = {}

# In-process single-flight: one asyncio lock per (event loop, session key).
_local_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def _local_lock(key: str) -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    locks = _local_locks.setdefault(loop, {})
    if key not in locks:
        locks[key] = asyncio.Lock()
    return locks[key]


class BpmSession:
    """The session of one connection inside one `BpmClient` (and its httpx cookie jar)."""

    def __init__(self, connection: BpmConnection, http: httpx.AsyncClient, store: SessionStore) -> None:
        self.connection = connection
        self._http = http
        self._store = store
        self.key = f"bpmlink:bpmonline:session:{connection.id}:{connection.fingerprint()}"
        metrics.label_bpm_client(http, connection.id)  # requests on this client count for this connection
        self.state: SessionState | None = None
        self.logins = 0  # logins made by this object (for tests and logs)
        self.clock: Callable[[], float] = time.time  # wall clock for token expiry (settable in tests)
        # In-memory only: identifies these exact credentials without keeping them around.
        secret = "\x1f".join((self.key, connection.password, connection.client_secret))
        self._failure_key = hashlib.sha256(secret.encode()).hexdigest()

    # -- state -------------------------------------------------------------------------

    async def current(self, recorder: StepRecorder) -> SessionState:
        """A usable session: this object's, else the shared one, else a fresh login."""
        if self.state is not None and self.state.usable(self.clock()):
            return self.state
        return await self.renew(self.state.generation if self.state else None, recorder)

    async def renew(self, stale: str | None, recorder: StepRecorder, *, force: bool = False) -> SessionState:
        """Replace the session whose generation is `stale`; single-flight across processes."""
        async with _local_lock(self.key):
            if not force and self._fresh(self.state, stale):
                assert self.state is not None
                return self.state
            stored = None if force else await self._store.load(self.key)
            if self._fresh(stored, stale):
                assert stored is not None
                return self._adopt(stored)
            async with self._store.lock(self.key):
                stored = None if force else await self._store.load(self.key)
                if self._fresh(stored, stale):
                    assert stored is not None
                    return self._adopt(stored)
                self._raise_recent_failure(force, recorder)
                try:
                    state = await self.login(recorder)
                except AuthError as exc:
                    if exc.code in _HELD_FAILURES:
                        _failures[self._failure_key] = (time.monotonic(), exc)
                    raise
                _failures.pop(self._failure_key, None)
                await self._store.save(self.key, state)
                return self._adopt(state)

    def _raise_recent_failure(self, force: bool, recorder: StepRecorder) -> None:
        """Refused credentials are not tried again for a while by the tasks queued behind them:
        a burst of jobs with a wrong password would otherwise lock the user out (§2.1 lockout).
        An explicit connection test (`force`) always tries."""
        failed = _failures.get(self._failure_key)
        if force or failed is None or time.monotonic() - failed[0] > FAILURE_HOLD_SECONDS:
            return
        raise AuthError(
            f"{failed[1].message} (not retried: the same credentials were refused "
            f"{time.monotonic() - failed[0]:.0f} s ago)",
            status=failed[1].status,
            code=failed[1].code,
            steps=recorder.steps,
        )

    def _fresh(self, state: SessionState | None, stale: str | None) -> bool:
        return state is not None and state.generation != stale and state.usable(self.clock())

    def _adopt(self, state: SessionState) -> SessionState:
        self.state = state
        if state.kind == "forms":
            self._http.cookies.clear()
            for name, value, domain, path in state.cookies:
                self._http.cookies.set(name, value, domain=domain, path=path)
        return state

    async def sync_cookies(self) -> None:
        """Share cookies the server re-issued on a data request (e.g. a slid `.ASPXAUTH`)."""
        if self.state is None or self.state.kind != "forms":
            return
        jar = _snapshot(self._http.cookies)
        if jar and sorted(jar) != sorted(self.state.cookies) and any(c[0] == ".ASPXAUTH" for c in jar):
            self.state.cookies = jar
            await self._store.save(self.key, self.state)

    def auth_headers(self) -> dict[str, str]:
        """Headers that carry the session (the cookies themselves travel in the jar)."""
        state = self.state
        if state is None:
            return {}
        if state.kind == "oauth":
            return {"Authorization": f"Bearer {state.token}"}
        headers: dict[str, str] = {}
        for cookie in self._http.cookies.jar:
            # Echo the CSRF token under the cookie's own name: BPMCSRF, and CRT_CSRF on 8.x.
            if cookie.name in ("BPMCSRF", "CRT_CSRF") and cookie.value:
                headers[cookie.name] = cookie.value
        return headers

    # -- login ---------------------------------------------------------------------------

    async def login(self, recorder: StepRecorder) -> SessionState:
        self.logins += 1
        if self.connection.auth == "oauth":
            return await self._oauth_token(recorder)
        return await self._forms_login(recorder)

    async def _forms_login(self, recorder: StepRecorder) -> SessionState:
        conn = self.connection
        self._http.cookies.clear()  # stale cookies must not ride along with the login
        request = self._http.build_request(
            "POST",
            conn.login_url,
            content=dump_json({"UserName": conn.username, "UserPassword": conn.password}),
            headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
        )
        response = await send(self._http, request, recorder, secret_body=True)
        _raise_for_login_answer(response, recorder, what="login")
        body = decode_json(response) if is_json(response) or not is_html(response) else None
        if not isinstance(body, dict) or "Code" not in body:
            raise ConfigurationError(
                f"{conn.domain} did not answer like Creatio's AuthService ({response_message(response)})",
                status=response.status_code,
                code="not_creatio",
                steps=recorder.steps,
            )
        if body.get("Code") != 0:
            raise _login_refused(body, response.status_code, recorder)
        cookies = _snapshot(self._http.cookies)
        if not any(c[0] == ".ASPXAUTH" and c[1] for c in cookies):
            raise AuthError(
                "Login answered success but set no .ASPXAUTH session cookie",
                status=response.status_code,
                code="no_session_cookie",
                steps=recorder.steps,
            )
        log.info("logged in to %s as %s", conn.domain, conn.username)
        return SessionState(kind="forms", cookies=cookies)

    async def _oauth_token(self, recorder: StepRecorder) -> SessionState:
        conn = self.connection
        request = self._http.build_request(
            "POST",
            conn.oauth_token_url,
            data={
                "client_id": conn.client_id,
                "client_secret": conn.client_secret,
                "grant_type": "client_credentials",
            },
            headers={"Accept": "application/json"},
        )
        response = await send(self._http, request, recorder, secret_body=True)
        body = decode_json(response) if not is_html(response) else None
        if response.status_code in (400, 401) and isinstance(body, dict) and body.get("error"):
            err = str(body.get("error"))
            raise AuthError(
                response_message(response),
                status=response.status_code,
                code="invalid_client" if err == "invalid_client" else f"oauth_{err}",
                steps=recorder.steps,
            )
        _raise_for_login_answer(response, recorder, what="token")
        if not isinstance(body, dict) or not body.get("access_token"):
            raise ConfigurationError(
                f"the token URL {conn.oauth_token_url} did not return an access token ({response_message(response)})",
                status=response.status_code,
                code="bad_token_response",
                steps=recorder.steps,
            )
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        return SessionState(kind="oauth", token=str(body["access_token"]), expires_at=self.clock() + lifetime)


def _snapshot(cookies: httpx.Cookies) -> list[CookieTuple]:
    return [(c.name, c.value or "", c.domain, c.path) for c in cookies.jar]


def _raise_for_login_answer(response: httpx.Response, recorder: StepRecorder, *, what: str) -> None:
    """Statuses that are not a login verdict: redirects, missing service, server errors."""
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("location", "")
        raise ConfigurationError(
            f"The {what} request was redirected to {location or '(no location)'}; check the domain "
            "(http vs https, the site address)",
            status=status,
            code="redirected",
            steps=recorder.steps,
        )
    if status == 401:
        raise AuthError(
            response_message(response) or "Authentication failed.",
            status=status,
            code="wrong_credentials",
            steps=recorder.steps,
        )
    if status in (403, 404, 405):
        raise ConfigurationError(
            f"No Creatio {what} service at {response.request.url} (HTTP {status}); check the domain",
            status=status,
            code="wrong_domain",
            steps=recorder.steps,
        )
    if status >= 400:
        err: BpmError = error_for_status(status, response_message(response), steps=recorder.steps)
        raise err
    if is_html(response):
        raise ConfigurationError(
            f"The {what} URL answered with a web page, not Creatio's API ({response_message(response)}); "
            "check the domain",
            status=status,
            code="not_creatio",
            steps=recorder.steps,
        )


def _login_refused(body: dict[str, Any], status: int, recorder: StepRecorder) -> AuthError:
    message = str(body.get("Message") or "")
    exc = body.get("Exception")
    if not message and isinstance(exc, dict):
        message = str(exc.get("Message") or "")
    message = message or f"Login refused (Code {body.get('Code')})"
    low = message.lower()
    if "lock" in low or "заблок" in low:
        code = "user_locked"
    elif body.get("PasswordChangeUrl") or "expired" in low or "истек" in low:
        code = "password_expired"
    else:
        code = "wrong_credentials"
    return AuthError(message, status=status, code=code, steps=recorder.steps)
