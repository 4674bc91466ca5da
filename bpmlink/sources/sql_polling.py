"""`sql_polling`: new or changed rows of one PostgreSQL table, by a cursor column.

The only statement ever sent is built here from quoted identifiers, with every value a bound
parameter::

    SELECT * FROM "schema"."table"
    WHERE "cursor_col" IS NOT NULL AND ("cursor_col", "id_col") > ($1, $2)
    ORDER BY "cursor_col", "id_col" LIMIT $3

It runs in a READ ONLY transaction with a statement timeout, so even a view with side effects
cannot write. The DSN's host is resolved and refused when private/loopback unless it is on
`BPMLINK_OUTBOUND_ALLOW_HOSTS` (as `bpmlink.net` does for HTTP), and the connection is made to
the address that was checked; a unix socket counts as `localhost`. The cursor stores the last
row's cursor and id values as JSON; they are turned back into the column types PostgreSQL
reports for the statement's parameters.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from bpmlink.bpmonline.steps import Step, StepRecorder
from bpmlink.net import BlockedAddressError, DNSResolutionError, check_addresses, resolve
from bpmlink.sources.base import (
    Cursor,
    FetchEnv,
    Page,
    PermanentSourceError,
    SourceConnection,
    SourceError,
    TransientSourceError,
    item_key,
    jsonable,
)

STATEMENT_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT = 10.0


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, double-quoted with embedded quotes doubled; NUL refused."""
    if not name or "\x00" in name or len(name) > 63:
        raise PermanentSourceError(f"invalid identifier {name!r}", code="bad_identifier")
    return '"' + name.replace('"', '""') + '"'


def quote_table(table: str) -> str:
    """`schema.table` or `table`; each part quoted (a dot inside a name needs the quoted form upstream)."""
    parts = table.split(".", 1)
    return ".".join(quote_ident(p) for p in parts)


def build_query(table: str, id_column: str, cursor_column: str, cursor: Cursor | None) -> str:
    t, i, c = quote_table(table), quote_ident(id_column), quote_ident(cursor_column)
    if cursor_column == id_column:
        where = f"WHERE {c} > $1" if cursor and cursor.get("value") is not None else ""
        order = c
    elif cursor and cursor.get("value") is not None and cursor.get("id") is not None:
        where = f"WHERE {c} IS NOT NULL AND ({c}, {i}) > ($1, $2)"
        order = f"{c}, {i}"
    elif cursor and cursor.get("value") is not None:
        where = f"WHERE {c} >= $1"  # a backfill from a given date
        order = f"{c}, {i}"
    else:
        where = f"WHERE {c} IS NOT NULL"
        order = f"{c}, {i}"
    n = 1 + (where.count("$"))
    return f"SELECT * FROM {t} {where} ORDER BY {order} LIMIT ${n}"  # noqa: S608 - identifiers quoted, values bound


def _param(value: Any, type_name: str) -> Any:
    """A JSON cursor value as the Python value asyncpg wants for the parameter's type."""
    if value is None:
        return None
    try:
        if type_name in ("timestamptz", "timestamp"):
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if type_name == "timestamp":
                return parsed.replace(tzinfo=None)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if type_name == "date":
            return date.fromisoformat(str(value)[:10])
        if type_name in ("int2", "int4", "int8"):
            return int(value)
        if type_name == "numeric":
            return Decimal(str(value))
        if type_name in ("float4", "float8"):
            return float(value)
        if type_name == "uuid":
            return uuid.UUID(str(value))
    except (ValueError, ArithmeticError) as exc:
        raise PermanentSourceError(f"the stored cursor {value!r} is not a {type_name}", code="bad_cursor") from exc
    return str(value)


async def _checked_host(dsn: str, env: FetchEnv) -> tuple[str, int, str | None]:
    """(host, port, the checked address to connect to; None for a unix socket)."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        raise PermanentSourceError("the connection string must start with postgresql://", code="bad_dsn")
    if "," in parts.netloc:
        raise PermanentSourceError("give one host in the connection string", code="bad_dsn")
    query_host = parse_qs(parts.query).get("host", [""])[0]
    host = unquote(parts.hostname or "") or query_host
    port = parts.port or 5432
    if not host:
        raise PermanentSourceError("the connection string needs a host", code="bad_dsn")
    if host.startswith("/"):
        # A unix socket is this machine: allowed only where local addresses are.
        if not env.settings.is_allowed_host("localhost"):
            raise PermanentSourceError(
                "a unix socket is a local address; add localhost to BPMLINK_OUTBOUND_ALLOW_HOSTS to allow it",
                code="blocked_address",
            )
        return host, port, None
    try:
        addresses = await resolve(host, port, CONNECT_TIMEOUT)
        check_addresses(host, port, addresses, env.settings)
    except BlockedAddressError as exc:
        raise PermanentSourceError(str(exc), code="blocked_address") from exc
    except DNSResolutionError as exc:
        raise TransientSourceError(str(exc), code="dns") from exc
    return host, port, addresses[0]


def _redacted_dsn(dsn: str) -> str:
    parts = urlsplit(dsn)
    netloc = parts.hostname or parse_qs(parts.query).get("host", [""])[0]
    if parts.port:
        netloc += f":{parts.port}"
    if parts.username:
        netloc = f"{parts.username}:[redacted]@{netloc}"
    return f"{parts.scheme}://{netloc}{parts.path}"


class SqlPollingSource:
    app = "sql_polling"

    async def fetch(
        self,
        conn: SourceConnection,
        config: Mapping[str, Any],
        cursor: Cursor | None,
        limit: int,
        recorder: StepRecorder,
        env: FetchEnv,
    ) -> Page:
        dsn = str(conn.secrets.get("dsn") or "")
        table = str(config.get("table") or "")
        id_column = str(config.get("id_column") or "id")
        cursor_column = str(config.get("cursor_column") or "") or id_column
        query = build_query(table, id_column, cursor_column, cursor)
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        step = Step(
            system=self.app,
            method="SELECT",
            url=f"{_redacted_dsn(dsn)}#{table}",
            request_headers={},
            request_body=query,
            started_at=started,
        )
        recorder.add(step)
        try:
            rows, params = await self._run(dsn, query, cursor, cursor_column, id_column, limit, env)
        except SourceError as exc:
            step.error = exc.message
            step.duration_ms = round((time.perf_counter() - t0) * 1000, 2)
            exc.steps = list(recorder.steps)
            raise
        step.duration_ms = round((time.perf_counter() - t0) * 1000, 2)
        step.request_body = f"{query}\n-- parameters: {params!r}"
        step.response_body = f"{len(rows)} rows"
        items: list[tuple[str, dict[str, Any]]] = []
        next_cursor = cursor
        for row in rows:
            item = {k: jsonable(v) for k, v in row.items()}
            row_id, value = item.get(id_column), item.get(cursor_column)
            if row_id is None:
                raise PermanentSourceError(f"a row has no {id_column!r}", code="no_item_id", steps=recorder.steps)
            # "New or changed": a row whose cursor moved is a new version of the item.
            key = item_key(row_id) if cursor_column == id_column else item_key(row_id, value)
            items.append((key, item))
            next_cursor = {"value": value, "id": row_id}
        return Page(items=items, next_cursor=next_cursor, more=len(rows) >= limit)

    async def _run(
        self,
        dsn: str,
        query: str,
        cursor: Cursor | None,
        cursor_column: str,
        id_column: str,
        limit: int,
        env: FetchEnv,
    ) -> tuple[list[asyncpg.Record], list[Any]]:
        if not dsn:
            raise PermanentSourceError("the connection has no connection string", code="bad_config")
        host, port, address = await _checked_host(dsn, env)
        try:
            # Connect to the checked address, not the name again (a DNS answer could change).
            if address is None:
                db = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT)
            else:
                db = await asyncpg.connect(dsn, host=address, port=port, timeout=CONNECT_TIMEOUT)
        except (
            OSError,
            TimeoutError,
            asyncpg.exceptions.CannotConnectNowError,
            asyncpg.exceptions.TooManyConnectionsError,
        ) as exc:
            raise TransientSourceError(f"could not connect to {host}:{port}: {exc}", code="connect_failed") from exc
        except asyncpg.PostgresError as exc:
            raise PermanentSourceError(f"the database refused the connection: {exc}", code="db_refused") from exc
        try:
            async with db.transaction(readonly=True):
                await db.execute(f"SET LOCAL statement_timeout = {int(STATEMENT_TIMEOUT_MS)}")
                statement = await db.prepare(query)
                types = [t.name for t in statement.get_parameters()]
                values: list[Any] = []
                if cursor and cursor.get("value") is not None:
                    values.append(_param(cursor["value"], types[0]))
                    if len(types) == 3:
                        values.append(_param(cursor.get("id"), types[1]))
                values.append(limit)
                rows = await statement.fetch(*values)
                return list(rows), [jsonable(v) for v in values]
        except asyncpg.exceptions.QueryCanceledError as exc:
            raise TransientSourceError(f"the query timed out: {exc}", code="timeout") from exc
        except (asyncpg.exceptions.UndefinedTableError, asyncpg.exceptions.UndefinedColumnError) as exc:
            raise PermanentSourceError(str(exc), code="bad_table") from exc
        except asyncpg.PostgresError as exc:
            raise PermanentSourceError(f"the query failed: {exc}", code="query_failed") from exc
        except (OSError, asyncpg.exceptions.InterfaceError) as exc:
            raise TransientSourceError(f"the connection broke: {exc}", code="connection_lost") from exc
        finally:
            await db.close(timeout=5)
