"""`sql_polling`: new or changed rows of one PostgreSQL or MySQL/MariaDB table, by a cursor column.

The driver follows the DSN scheme: `postgresql://` (asyncpg) or `mysql://` / `mariadb://` (aiomysql; its
statement and guarantees are described above `build_mysql_query`). For PostgreSQL:

The only statement ever sent is built here from quoted identifiers, with every value a bound
parameter::

    SELECT * FROM "schema"."table"
    WHERE "cursor_col" IS NOT NULL AND ("cursor_col", "id_col") > ($1, $2)
    ORDER BY "cursor_col", "id_col" LIMIT $3

It runs in a READ ONLY transaction with a statement timeout, so even a view with side effects
cannot write. The DSN's host is resolved and refused when private/loopback unless it is on
`BPMLINK_OUTBOUND_ALLOW_HOSTS` (as `bpmlink.kit.net` does for HTTP), and the connection is made to
the address that was checked; a unix socket counts as `localhost`. The cursor stores the last
row's cursor and id values as JSON; they are turned back into the column types PostgreSQL
reports for the statement's parameters.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg

from bpmlink.bpmonline.steps import Step, StepRecorder
from bpmlink.kit.json_values import jsonable
from bpmlink.kit.net import BlockedAddressError, DNSResolutionError, check_addresses, resolve
from bpmlink.sources.base import (
    Cursor,
    FetchEnv,
    Page,
    PermanentSourceError,
    SourceConnection,
    SourceError,
    TransientSourceError,
    item_key,
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


def dialect(dsn: str) -> str:
    """`postgresql` or `mysql` (MySQL and MariaDB), from the connection string's scheme."""
    scheme = urlsplit(dsn).scheme.lower()
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    if scheme in ("mysql", "mariadb"):
        return "mysql"
    raise PermanentSourceError(
        "the connection string must start with postgresql://, mysql:// or mariadb://", code="bad_dsn"
    )


def parse_dsn(dsn: str) -> tuple[str, int]:
    """(host, port) of a connection string, checked as far as it can be without connecting: its scheme,
    one host (a list of fallback hosts is refused: only one address can be checked), a numeric port."""
    parts = urlsplit(dsn)
    default_port = 5432 if dialect(dsn) == "postgresql" else 3306
    if "," in parts.netloc:
        raise PermanentSourceError("give one host in the connection string", code="bad_dsn")
    query = parse_qs(parts.query)
    # PostgreSQL names a socket directory in ?host=, MySQL a socket file in ?unix_socket=.
    query_host = query.get("host", [""])[0] or query.get("unix_socket", [""])[0]
    host = unquote(parts.hostname or "") or query_host
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise PermanentSourceError("the port in the connection string is not a number", code="bad_dsn") from exc
    if not host:
        raise PermanentSourceError("the connection string needs a host", code="bad_dsn")
    return host, port


async def _checked_host(dsn: str, env: FetchEnv) -> tuple[str, int, str | None]:
    """(host, port, the checked address to connect to; None for a unix socket)."""
    host, port = parse_dsn(dsn)
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
    try:
        if parts.port:
            netloc += f":{parts.port}"
    except ValueError:  # not a number: parse_dsn says so; the step still shows where it went
        pass
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
        mysql = dialect(dsn) == "mysql" if dsn else False
        if mysql:
            query = build_mysql_query(table, id_column, cursor_column, cursor)
        else:
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
        rows: Sequence[Mapping[str, Any]]
        try:
            if mysql:
                rows, params = await mysql_rows(dsn, query, cursor, cursor_column, id_column, limit, env)
            else:
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
    ) -> tuple[Sequence[Mapping[str, Any]], list[Any]]:
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


# ---- MySQL / MariaDB -------------------------------------------------------------------------------
#
#     SELECT * FROM `schema`.`table`
#     WHERE `cursor_col` IS NOT NULL AND (`cursor_col` > %s OR (`cursor_col` = %s AND `id_col` > %s))
#     ORDER BY `cursor_col`, `id_col` LIMIT %s
#
# The driver (aiomysql, PyMySQL's escaping) binds the values; identifiers are backtick-quoted here.
# The keyset condition is spelled out rather than as a row comparison, which MySQL cannot use an index for.
# It runs after `max_statement_time` (MariaDB, seconds) or `max_execution_time` (MySQL, ms) is set, in
# `START TRANSACTION READ ONLY`, and is rolled back.

# MySQL/MariaDB error numbers (see their manuals).
_MYSQL_NO_TABLE = {1146, 1054, 1049, 1109}  # no such table / column / database
_MYSQL_TIMEOUT = {1969, 3024, 1317}  # max_statement_time / max_execution_time exceeded, interrupted
_MYSQL_CONNECTION = {2002, 2003, 2006, 2013, 2055, 1040, 1203}  # network, gone away, too many connections
_DATETIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def quote_mysql_ident(name: str) -> str:
    """A MySQL identifier in backticks (embedded ones doubled); empty, NUL, over 64 or trailing space refused.

    `%` is doubled too: the driver formats the statement with `%` placeholders, so a `%s` in a name
    must stay text, never become a place a value is put.
    """
    if not name or "\x00" in name or len(name) > 64 or name != name.rstrip(" "):
        raise PermanentSourceError(f"invalid identifier {name!r}", code="bad_identifier")
    return "`" + name.replace("`", "``").replace("%", "%%") + "`"


def build_mysql_query(table: str, id_column: str, cursor_column: str, cursor: Cursor | None) -> str:
    t = ".".join(quote_mysql_ident(p) for p in table.split(".", 1))
    i, c = quote_mysql_ident(id_column), quote_mysql_ident(cursor_column)
    if cursor_column == id_column:
        where = f"WHERE {c} > %s" if cursor and cursor.get("value") is not None else ""
        order = c
    elif cursor and cursor.get("value") is not None and cursor.get("id") is not None:
        where = f"WHERE {c} IS NOT NULL AND ({c} > %s OR ({c} = %s AND {i} > %s))"
        order = f"{c}, {i}"
    elif cursor and cursor.get("value") is not None:
        where = f"WHERE {c} >= %s"  # a backfill from a given date
        order = f"{c}, {i}"
    else:
        where = f"WHERE {c} IS NOT NULL"
        order = f"{c}, {i}"
    return f"SELECT * FROM {t} {where} ORDER BY {order} LIMIT %s"  # noqa: S608 - identifiers quoted, values bound


def _mysql_param(value: Any) -> Any:
    """A JSON cursor value for MySQL: ISO date-times back to (naive, UTC) datetimes; the rest as they are."""
    if isinstance(value, str) and _DATETIME_TEXT.match(value):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return value


def _mysql_params(cursor: Cursor | None, cursor_column: str, id_column: str, limit: int) -> list[Any]:
    values: list[Any] = []
    if cursor and cursor.get("value") is not None:
        value = _mysql_param(cursor["value"])
        if cursor_column == id_column:
            values.append(value)
        elif cursor.get("id") is not None:
            values += [value, value, cursor["id"]]
        else:
            values.append(value)
    values.append(limit)
    return values


async def mysql_rows(
    dsn: str,
    query: str,
    cursor: Cursor | None,
    cursor_column: str,
    id_column: str,
    limit: int,
    env: FetchEnv,
) -> tuple[list[dict[str, Any]], list[Any]]:
    import aiomysql  # imported here: only MySQL sources need it
    import pymysql

    host, port, address = await _checked_host(dsn, env)
    parts = urlsplit(dsn)
    options: dict[str, Any] = {
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "db": unquote(parts.path.lstrip("/")) or None,
        "connect_timeout": CONNECT_TIMEOUT,
        "charset": "utf8mb4",
        "autocommit": False,
        "cursorclass": aiomysql.DictCursor,
    }
    # Connect to the checked address, not the name again (a DNS answer could change).
    if address is None:
        options["unix_socket"] = host
    else:
        options.update(host=address, port=port)
    try:
        db = await aiomysql.connect(**options)
    except pymysql.err.OperationalError as exc:
        code = exc.args[0] if exc.args else 0
        if code in _MYSQL_CONNECTION or code >= 2000:  # 2xxx: client-side (network) errors
            raise TransientSourceError(f"could not connect to {host}:{port}: {exc}", code="connect_failed") from exc
        raise PermanentSourceError(f"the database refused the connection: {exc}", code="db_refused") from exc
    except (OSError, TimeoutError) as exc:
        raise TransientSourceError(f"could not connect to {host}:{port}: {exc}", code="connect_failed") from exc
    values = _mysql_params(cursor, cursor_column, id_column, limit)
    try:
        async with db.cursor() as cur:
            await cur.execute("SELECT VERSION()")
            version = str((await cur.fetchone() or {}).get("VERSION()", ""))
            if "mariadb" in version.lower():
                await cur.execute(f"SET SESSION max_statement_time = {STATEMENT_TIMEOUT_MS / 1000:.3f}")
            else:
                await cur.execute(f"SET SESSION max_execution_time = {int(STATEMENT_TIMEOUT_MS)}")
            await cur.execute("START TRANSACTION READ ONLY")
            try:
                await cur.execute(query, values)
                rows = list(await cur.fetchall())
            finally:
                await db.rollback()
        return rows, [jsonable(v) for v in values]
    except pymysql.err.MySQLError as exc:
        code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
        if code in _MYSQL_TIMEOUT:
            raise TransientSourceError(f"the query timed out: {exc}", code="timeout") from exc
        if code in _MYSQL_NO_TABLE:
            raise PermanentSourceError(str(exc), code="bad_table") from exc
        if code in _MYSQL_CONNECTION or code >= 2000:
            raise TransientSourceError(f"the connection broke: {exc}", code="connection_lost") from exc
        raise PermanentSourceError(f"the query failed: {exc}", code="query_failed") from exc
    except OSError as exc:
        raise TransientSourceError(f"the connection broke: {exc}", code="connection_lost") from exc
    finally:
        db.close()
