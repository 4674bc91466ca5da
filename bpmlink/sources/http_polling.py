"""`http_polling`: any JSON API that lists items after a cursor.

    GET {base_url}{path}?{cursor_param}={last cursor value}&{limit_param}={limit}
    POST {base_url}{path}  {...body, cursor_param: value, limit_param: limit}   (method POST)

Extra headers come from the connection's and the trigger's `headers`; auth from the connection
(`apply_auth`: none, bearer, basic, API key in a header or in the query). The items are found at
`items_path` (dotted: `data.items`, or a JMESPath expression: `data.items[?active]`; empty: the answer is the list),
each keyed by `id_field`; the cursor is the largest `cursor_field` seen (the id when no cursor
field is set), so the API must answer in ascending cursor order when it pages by the cursor
parameter. A `next_field` (dotted path to a next-page URL in the answer) is followed
instead when the API paginates by links; `page_param` / `offset_param` page by position through
a list in ascending order (new items at its end). A `version_field` keys each item by id and
version, so a changed item is stored again (once per version); `page_size` is the API's own fixed
page size (a shorter page means caught up); `tie_param` steps by position (`tie_by` offset or
page) through a full page of one cursor value, which an inclusive cursor would answer forever
(the walk ends at the first page that is not full or moves the cursor); an answer of 204 No
Content is an empty page. A
fixed query (`order[updated_at]=asc`) may be written into `path`. Every request is a redacted
step, the custom auth header, an auth query parameter and a secret inside the base URL included;
the outbound guard (`bpmlink.kit.net`) refuses private addresses unless allow-listed; answers are
capped in size and time.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import jmespath
import jmespath.exceptions

from bpmlink.bpmonline.steps import StepRecorder
from bpmlink.kit.json_values import jsonable
from bpmlink.kit.net import GuardedTransport
from bpmlink.sources.base import (
    Cursor,
    FetchEnv,
    Page,
    PermanentSourceError,
    SourceConnection,
    item_key,
)
from bpmlink.sources.http_request import Redaction, request_json, secret_values

TIMEOUT = httpx.Timeout(connect=10.0, read=30.0, write=10.0, pool=10.0)


def dotted(data: Any, path: str) -> Any:
    """`a.b.0.c` into nested objects/lists; an empty path is the data itself."""
    if not path:
        return data
    for part in path.split("."):
        if isinstance(data, Mapping):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _same_origin(a: str, b: str) -> bool:
    x, y = urlsplit(a), urlsplit(b)
    return (x.scheme, x.hostname, x.port) == (y.scheme, y.hostname, y.port)


def _later(a: Any, b: Any) -> bool:
    """a > b for cursor values of one kind; values that do not compare are taken as later."""
    try:
        return bool(a > b)
    except TypeError:
        return True


def _before(a: Any, b: Any) -> bool:
    """a < b; values that do not compare are not taken as older (never drop what cannot be judged)."""
    try:
        return bool(a < b)
    except TypeError:
        return False


# Headers a user may not set: httpx computes them, or they would redirect the request elsewhere.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_DOTTED = re.compile(r"^[^.\[\]*?|&!@`'\"(){},:\s]+(\.[^.\[\]*?|&!@`'\"(){},:\s]+)*$")
AUTH_KINDS = ("none", "bearer", "basic", "api_key_header", "api_key_query")


def extra_headers(params: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, str]:
    """The connection's `headers` then the trigger's (an object name → value); not secrets: shown in steps."""
    out: dict[str, str] = {}
    for source in (params.get("headers"), config.get("headers")):
        if not source:
            continue
        if not isinstance(source, Mapping):
            raise PermanentSourceError("extra headers must be a JSON object of name → value", code="bad_config")
        for name, value in source.items():
            name = str(name).strip()
            if not name or name.lower() in _RESERVED_HEADERS or not _HEADER_NAME.match(name):
                raise PermanentSourceError(f"{name!r} cannot be set as a header", code="bad_config")
            if value is None or isinstance(value, Mapping | list) or any(c in str(value) for c in "\r\n"):
                raise PermanentSourceError(f"the header {name!r} needs a one-line text value", code="bad_config")
            out[name] = str(value)
    return out


_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an RFC 9110 token


def apply_auth(conn: SourceConnection, headers: dict[str, str]) -> tuple[dict[str, str], set[str]]:
    """Put the connection's credentials on the request: returns (query parameters, header names to redact).

    `auth` is none · bearer · basic · api_key_header · api_key_query; a connection saved before it
    existed (no `auth`) sends `auth_value` in `auth_query_param` when set, else in `auth_header`.
    Secrets (`auth_value`, `password`) live only in the connection's secrets.
    """
    auth = str(conn.params.get("auth") or "")
    value = str(conn.secrets.get("auth_value") or "")
    header_name = str(conn.params.get("auth_header") or "") or "Authorization"
    query_name = str(conn.params.get("auth_query_param") or "")
    if not auth:
        auth = "" if not value else ("api_key_query" if query_name else "api_key_header")
    if auth in ("", "none"):
        return {}, set()
    if auth not in AUTH_KINDS:
        raise PermanentSourceError(f"unknown auth {auth!r}: use one of {', '.join(AUTH_KINDS)}", code="bad_config")
    if auth == "basic":
        username = str(conn.params.get("username") or "")
        if not username:
            raise PermanentSourceError("basic authentication needs a username", code="bad_config")
        password = str(conn.secrets.get("password") or "")
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
        return {}, {"authorization"}
    if not value:
        raise PermanentSourceError(f"{auth} authentication needs the secret auth_value", code="bad_config")
    if auth == "bearer":
        headers["Authorization"] = f"Bearer {value}"
        return {}, {"authorization"}
    if auth == "api_key_query":
        return {query_name or "api_key": value}, set()
    headers[header_name] = value
    return {}, {header_name.lower()}


def find_items(body: Any, path: str, recorder: StepRecorder) -> list[Any]:
    """The items at `path`: dotted (`data.items`, `data.0.rows`), else a JMESPath expression
    (`data.items[?active]`, `results[*].record`); empty: the answer itself."""
    if not path or _DOTTED.match(path):
        found = dotted(body, path)
    else:
        try:
            found = jmespath.search(path, body)
        except jmespath.exceptions.JMESPathError as exc:
            raise PermanentSourceError(
                f"the items path {path!r} is neither a dotted path nor a valid JMESPath expression: {exc}",
                code="bad_items_path",
                steps=recorder.steps,
            ) from exc
    if not isinstance(found, list):
        raise PermanentSourceError(
            f"no list of items at {path or 'the top level'!r} in the answer",
            code="bad_items_path",
            steps=recorder.steps,
        )
    return found


def make_client(settings: Any) -> httpx.AsyncClient:
    """A guarded client for source requests (one per worker; a fetch without one makes its own)."""
    return httpx.AsyncClient(
        transport=GuardedTransport(settings), timeout=TIMEOUT, follow_redirects=False, trust_env=False
    )


@dataclass(frozen=True)
class _Trigger:
    """A trigger's request and paging settings, read once per fetch (with the position from the cursor)."""

    method: str
    path: str
    id_field: str
    cursor_field: str
    cursor_param: str
    limit_param: str
    items_path: str
    next_field: str
    page_param: str
    offset_param: str
    page_no: int
    offset: int
    version_field: str
    page_size: int
    tie_param: str
    tie_by: str
    tie: int

    @classmethod
    def read(cls, config: Mapping[str, Any], cursor: Cursor | None) -> _Trigger:
        def text(key: str) -> str:
            return str(config.get(key) or "")

        position = cursor or {}
        id_field = text("id_field") or "id"
        trigger = cls(
            method=(text("method") or "GET").upper(),
            path=text("path"),
            id_field=id_field,
            cursor_field=text("cursor_field") or id_field,
            cursor_param=text("cursor_param"),
            limit_param=text("limit_param"),
            items_path=text("items_path"),
            next_field=text("next_field"),
            page_param=text("page_param"),
            offset_param=text("offset_param"),
            page_no=int(position.get("page") or config.get("first_page") or 1),
            offset=int(position.get("offset") or 0),
            version_field=text("version_field"),
            page_size=int(config.get("page_size") or 0),
            tie_param=text("tie_param"),
            tie_by=text("tie_by") or "offset",
            tie=int(position.get("tie") or 0),
        )
        if trigger.method not in ("GET", "POST"):
            raise PermanentSourceError(f"the method must be GET or POST, not {trigger.method!r}", code="bad_config")
        return trigger

    def page_limit(self, limit: int) -> int:
        """The page size asked for: the API's own fixed size (`page_size`, Bitrix24's 50) when smaller."""
        return min(limit, self.page_size) if self.page_size > 0 else limit

    def paging_params(self, cursor: Cursor | None, limit: int) -> dict[str, Any]:
        """Where to start and how many: the query of a GET, merged into the JSON body of a POST."""
        params: dict[str, Any] = {}
        if self.page_param:
            params[self.page_param] = self.page_no
        elif self.offset_param:
            params[self.offset_param] = self.offset
        elif self.cursor_param and cursor and cursor.get("value") is not None:
            params[self.cursor_param] = cursor["value"]
            if self.tie_param and self.tie:
                params[self.tie_param] = self.tie if self.tie_by == "offset" else self.tie // limit + 1
        if self.limit_param:
            params[self.limit_param] = limit
        return params

    def request(
        self,
        base_url: str,
        config: Mapping[str, Any],
        cursor: Cursor | None,
        limit: int,
        auth_params: dict[str, str],
    ) -> tuple[str, dict[str, str], dict[str, Any] | None]:
        """The URL, query and JSON body (POST only) that ask for the page after `cursor`."""
        next_url = (cursor or {}).get("next")
        if next_url:
            url, params = str(next_url), {}
        else:
            url = urljoin(base_url + "/", self.path.lstrip("/")) if self.path else base_url
            params = self.paging_params(cursor, limit)
        if self.method == "POST":
            base_body = config.get("body") or {}
            if not isinstance(base_body, Mapping):
                raise PermanentSourceError("the request body must be a JSON object", code="bad_config")
            return url, dict(auth_params), {**base_body, **params}
        return url, {**{k: str(v) for k, v in params.items()}, **auth_params}, None

    def new_items(
        self, raw_items: list[Any], cursor: Cursor | None, recorder: StepRecorder
    ) -> tuple[list[tuple[str, dict[str, Any]]], Any, Any]:
        """The answer's items keyed by id, and the cursor value and id of the last one."""
        start_value = (cursor or {}).get("value")
        following_link = bool((cursor or {}).get("next"))
        last_value, last_id = start_value, (cursor or {}).get("id")
        items: list[tuple[str, dict[str, Any]]] = []
        for raw in raw_items:
            if not isinstance(raw, Mapping):
                continue
            item = jsonable(raw)
            key = dotted(item, self.id_field)
            if key is None or key == "":
                raise PermanentSourceError(
                    f"an item has no {self.id_field!r} field", code="no_item_id", steps=recorder.steps
                )
            value = dotted(item, self.cursor_field)
            # An API that ignores the cursor parameter answers old items again: they are skipped here
            # (equal values pass, the unique source item key makes them harmless).
            if start_value is not None and value is not None and not following_link and _before(value, start_value):
                continue
            # With a version field a changed item is new again (id@version); without, each id is stored once.
            version = dotted(item, self.version_field) if self.version_field else None
            items.append((item_key(key, version) if version is not None else item_key(key), item))
            if value is not None and (last_value is None or _later(value, last_value) or value == last_value):
                last_value, last_id = value, key
        return items, last_value, last_id

    def position_page(self, items: list[tuple[str, dict[str, Any]]], answered: int, limit: int) -> Page:
        """Position paging over a list in ascending order: new items are appended at the end, so a
        partial page is asked again next time (its known items are stored once by their key)."""
        full = answered >= limit
        if self.page_param:
            return Page(items=items, next_cursor={"page": self.page_no + 1 if full else self.page_no}, more=full)
        return Page(items=items, next_cursor={"offset": self.offset + answered}, more=full)

    def cursor_page(
        self,
        items: list[tuple[str, dict[str, Any]]],
        answered: int,
        limit: int,
        cursor: Cursor | None,
        next_cursor: Cursor | None,
    ) -> Page:
        """Cursor paging: the next fetch starts after the last item of this one."""
        if next_cursor is not None:
            next_cursor = {k: v for k, v in next_cursor.items() if k not in ("next", "tie")}
        start = (cursor or {}).get("value")
        full = answered > 0 and answered >= limit
        if self.tie_param and full and next_cursor is not None and start is not None and next_cursor["value"] == start:
            # A full page of one cursor value (a bulk import stamps many records in one second): step
            # through that value's items by position, else the same page would be answered forever.
            return Page(items=items, next_cursor={**next_cursor, "tie": self.tie + answered}, more=True)
        # A full page that moved the cursor means there may be more; a full page that did not
        # would be answered again forever.
        moved = next_cursor != ({k: v for k, v in (cursor or {}).items() if k not in ("next", "tie")} or None)
        more = answered > 0 and answered >= limit and moved and not self.next_field
        return Page(items=items, next_cursor=next_cursor, more=more)


def _link_page(
    link: str,
    base_url: str,
    items: list[tuple[str, dict[str, Any]]],
    next_cursor: Cursor | None,
    recorder: StepRecorder,
) -> Page:
    """Link paging: the next fetch follows the answer's next-page link."""
    # The auth header goes with every request: never follow a link to another host.
    if not _same_origin(link, base_url):
        raise PermanentSourceError(
            f"the next-page link points to another host ({urlsplit(link).hostname})",
            code="foreign_next_link",
            steps=recorder.steps,
        )
    return Page(items=items, next_cursor={**(next_cursor or {}), "next": link}, more=True)


class HttpPollingSource:
    app = "http_polling"

    async def fetch(
        self,
        conn: SourceConnection,
        config: Mapping[str, Any],
        cursor: Cursor | None,
        limit: int,
        recorder: StepRecorder,
        env: FetchEnv,
        http: httpx.AsyncClient | None = None,
    ) -> Page:
        base_url = str(conn.params.get("base_url") or "").rstrip("/")
        if not base_url:
            raise PermanentSourceError("the connection has no base URL", code="bad_config")
        trigger = _Trigger.read(config, cursor)
        limit = trigger.page_limit(limit)
        headers = {"Accept": "application/json", "User-Agent": "bpmlink", **extra_headers(conn.params, config)}
        auth_params, secret_headers = apply_auth(conn, headers)
        secret_params = {k.lower() for k in auth_params}
        url, query, json_body = trigger.request(base_url, config, cursor, limit, auth_params)

        redaction = Redaction(frozenset(secret_params), frozenset(secret_headers), frozenset(secret_values(conn)))
        own = http is None
        client = http or make_client(env.settings)
        try:
            body = await request_json(client, trigger.method, url, query, json_body, headers, recorder, redaction)
        finally:
            if own:
                await client.aclose()

        # 204 No Content is an empty page (amoCRM answers so when nothing is newer than the cursor).
        raw_items = [] if body is None else find_items(body, trigger.items_path, recorder)
        items, last_value, last_id = trigger.new_items(raw_items, cursor, recorder)
        if (trigger.page_param or trigger.offset_param) and not (cursor or {}).get("next"):
            return trigger.position_page(items, len(raw_items), limit)
        next_cursor: Cursor | None = {"value": last_value, "id": last_id} if last_value is not None else cursor
        next_link = dotted(body, trigger.next_field) if trigger.next_field else None
        if next_link:
            return _link_page(urljoin(url, str(next_link)), base_url, items, next_cursor, recorder)
        return trigger.cursor_page(items, len(raw_items), limit, cursor, next_cursor)
