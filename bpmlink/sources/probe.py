"""A real check of a polling source's connection, for the connection test: a GET of an HTTP API's
base URL with its credentials, a `SELECT 1` in a READ ONLY transaction for PostgreSQL. What cannot
be checked here (MySQL) says so: it is checked at its first poll, never reported as working."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx

from bpmlink.kit.net import BlockedAddressError
from bpmlink.sources.base import FetchEnv, SourceConnection, SourceError
from bpmlink.sources.http_polling import apply_auth, extra_headers, make_client
from bpmlink.sources.sql_polling import CONNECT_TIMEOUT, STATEMENT_TIMEOUT_MS, _checked_host, dialect

# A base URL is often not an endpoint itself: it answering "not found" still proves host and TLS.
_REACHED = {404, 405}


@dataclass(frozen=True)
class Probe:
    ok: bool | None  # None: not checked here (at the first poll)
    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


async def probe_http(conn: SourceConnection, env: FetchEnv) -> Probe:
    base_url = str(conn.params.get("base_url") or "")
    if not base_url:
        return Probe(False, "bad_config", "the connection has no base URL")
    headers = {"Accept": "application/json", "User-Agent": "bpmlink", **extra_headers(conn.params, {})}
    query, _ = apply_auth(conn, headers)
    async with make_client(env.settings) as http:
        try:
            answer = await http.get(base_url, params=query, headers=headers)
        except (httpx.HTTPError, BlockedAddressError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            params = {"target": base_url, "reason": reason}
            return Probe(False, "probe_connect_failed", f"could not reach {base_url}: {reason}", params)
    status = answer.status_code
    if status < 400 or status in _REACHED:
        return Probe(True, "url_answered", f"the URL answered with HTTP {status}", {"status": status})
    return Probe(False, "url_refused", f"the URL answered with HTTP {status}", {"status": status})


async def probe_sql(conn: SourceConnection, env: FetchEnv) -> Probe:
    dsn = str(conn.secrets.get("dsn") or "")
    if not dsn:
        return Probe(False, "bad_config", "the connection has no connection string")
    if dialect(dsn) != "postgresql":
        return Probe(None, "connection_checked_at_first_poll", "saved; this source is checked at its first poll")
    host, port, address = await _checked_host(dsn, env)
    try:
        extra = {} if address is None else {"host": address, "port": port}
        db = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT, **extra)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.exceptions.InterfaceError) as exc:
        target, reason = f"{host}:{port}", str(exc) or type(exc).__name__
        params = {"target": target, "reason": reason}
        return Probe(False, "probe_connect_failed", f"could not connect to {target}: {reason}", params)
    try:
        async with db.transaction(readonly=True):
            await db.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
            await db.fetchval("SELECT 1")
    except (asyncpg.PostgresError, OSError) as exc:
        return Probe(False, "probe_query_failed", f"the query failed: {exc}", {"reason": str(exc)})
    finally:
        await db.close(timeout=5)
    return Probe(True, "sql_answered", "the database answered SELECT 1 (read-only)")


PROBES = {"http_polling": probe_http, "sql_polling": probe_sql}


async def probe(conn: SourceConnection, env: FetchEnv) -> Probe:
    """The check of `conn` (its app in PROBES); a source's own refusal (a bad config) as a failed one."""
    check = PROBES.get(conn.app)
    if check is None:
        return Probe(None, "connection_checked_at_first_poll", "saved; this source is checked at its first poll")
    try:
        return await check(conn, env)
    except SourceError as exc:
        return Probe(False, exc.code, exc.message, exc.params)
