"""`BpmClient`: the async client of one bpm'online connection.

The client classifies failures (see `errors`) and never retries, with one exception: when
the session turns out to be dead — HTTP 401, a redirect to a `/Login/` page, or an HTML page
where JSON was expected — it logs in once (single-flight, see `session`) and repeats the
request once. A second failure of the same kind is an `AuthError`; there is no loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from redis.asyncio import Redis

from bpmlink.bpmonline import batch as batch_mod
from bpmlink.bpmonline import files as files_mod
from bpmlink.bpmonline import processes
from bpmlink.bpmonline._http import (
    decode_json,
    dump_json,
    error_from_response,
    is_html,
    is_json,
    response_message,
    send,
)
from bpmlink.bpmonline.batch import BatchOp, BatchResult
from bpmlink.bpmonline.connection import BpmConnection
from bpmlink.bpmonline.dialects import Dialect, as_uuid, check_entity_name, dialect_for
from bpmlink.bpmonline.errors import (
    AuthError,
    BpmError,
    ConfigurationError,
    NotFoundError,
    ValidationError,
    is_duplicate_key,
)
from bpmlink.bpmonline.filters import Expr as FilterExpr
from bpmlink.bpmonline.filters import F, FieldTypes
from bpmlink.bpmonline.limits import RequestLimits
from bpmlink.bpmonline.metadata import Metadata, MetadataCache, metadata_cache, parse_metadata
from bpmlink.bpmonline.names import check_field_name, check_non_negative, check_orderby
from bpmlink.bpmonline.probe import ConnectionTestResult, run_test
from bpmlink.bpmonline.session import BpmSession, SessionStore
from bpmlink.bpmonline.steps import DEFAULT_BODY_LIMIT, StepRecorder
from bpmlink.kit.net import GuardedTransport
from bpmlink.kit.settings import Settings, get_settings

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)
_ROUTING_404 = "no type was found that matches the controller"
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Body:
    """What a request sends: JSON, or raw bytes shown in the history as `note`."""

    json: Any = None
    content: bytes | None = None
    note: str | None = None


@dataclass(frozen=True)
class CreateResult:
    """What `create_idempotent` did: `created` is False when the `Id` already existed."""

    record: dict[str, Any]
    created: bool


class BpmClient:
    """One connection's client: a pooled httpx client, its session, its dialect.

    Use as `async with BpmClient(conn, settings=..., redis=...) as bpm:`; every method takes
    an optional `recorder` that receives one `Step` per HTTP request (errors carry the steps
    too, in `BpmError.steps`).
    """

    def __init__(
        self,
        connection: BpmConnection,
        *,
        settings: Settings | None = None,
        redis: Redis | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        body_limit: int = DEFAULT_BODY_LIMIT,
        max_connections: int | None = None,
        metadata_ttl: float | None = None,
    ) -> None:
        self.connection = connection
        self.settings = settings or get_settings()
        self.dialect: Dialect = dialect_for(connection.odata_version)
        self.body_limit = body_limit
        # As many sockets as the connection's concurrency allows, plus one for a login (which takes no
        # slot): a smaller pool capped every connection at its size whatever max_concurrency said.
        pool_size = max_connections or connection.max_concurrency + 1
        limits = httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size)
        self._http = httpx.AsyncClient(
            transport=transport or GuardedTransport(self.settings, limits=limits),
            timeout=timeout or DEFAULT_TIMEOUT,
            follow_redirects=False,  # redirects are detected (login page), never followed
            trust_env=False,
            headers={"ForceUseSession": "true", "Accept": "application/json", "User-Agent": "bpmlink"},
        )
        store = SessionStore(redis, self.settings.fernet_key() if redis is not None else None)
        self.session = BpmSession(connection, self._http, store)
        self._metadata_cache: MetadataCache[Metadata] = (
            metadata_cache if metadata_ttl is None else MetadataCache(metadata_ttl)
        )
        self.metadata_key = (connection.id, connection.fingerprint(), connection.odata_version)
        self.limits = RequestLimits(
            connection.id,
            max_concurrency=connection.max_concurrency,
            max_rps=connection.max_requests_per_second,
            redis=redis,
        )

    async def __aenter__(self) -> BpmClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- URLs --------------------------------------------------------------------------

    @property
    def service_root(self) -> str:
        return self.dialect.service_root(self.connection.domain, self.connection.path_prefix)

    def url(self, path: str, root: str | None = None) -> str:
        """`path` under the OData service root, or under `root` (another service of the site)."""
        return f"{root or self.service_root}/{path}"

    def site_url(self, path: str) -> str:
        """A service of the instance beside OData: `{domain}{prefix}/{path}` (`/0/rest/FileApiService/…`)."""
        return f"{self.connection.domain.rstrip('/')}{self.connection.path_prefix}/{path}"

    # -- the request path (relogin once) -------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: str = "json",
        root: str | None = None,
        content: bytes | None = None,
        body_note: str | None = None,
        recorder: StepRecorder | None = None,
    ) -> httpx.Response:
        """Send one OData request with the session; returns a 2xx answer or raises `BpmError`.

        `expect` is "json", "xml" or "none" (for 204 answers); a 2xx HTML page is never
        expected: it is the login page of a dead session (relogin once), or a wrong address.
        `path` is below the OData root, or below `root` (ProcessEngineService), or a full URL from
        `site_url` (the instance's services); `content` is a raw body (a file chunk), recorded as
        `body_note` instead of its bytes.
        """
        rec = recorder if recorder is not None else StepRecorder(body_limit=self.body_limit)
        body = _Body(json, content, body_note)
        try:
            state = await self.session.current(rec)
            url = path if path.startswith(("https://", "http://")) else self.url(path, root)
            response = await self._send(method, url, params, body, headers, rec)
            if self._session_dead(response):
                await self.session.renew(state.generation, rec)
                response = await self._send(method, url, params, body, headers, rec)
                if self._session_dead(response) and 200 <= response.status_code < 300:
                    raise ConfigurationError(
                        f"{response.request.url} answers with a web page instead of data, even right "
                        "after a fresh login; check the domain, the path prefix and the OData version",
                        status=response.status_code,
                        code="html_instead_of_data",
                        steps=rec.steps,
                    )
                if self._session_dead(response):
                    raise AuthError(
                        f"bpm'online refused the session right after a fresh login ({self._dead_reason(response)})",
                        status=response.status_code,
                        code="session_rejected",
                        steps=rec.steps,
                    )
            await self.session.sync_cookies()
            if response.status_code >= 300:
                raise self._error(response, rec)
            if expect == "json" and response.content and not is_json(response):
                raise ConfigurationError(
                    f"expected JSON from {response.request.url}, got "
                    f"{response.headers.get('content-type', 'no content type')}",
                    status=response.status_code,
                    code="not_json",
                    steps=rec.steps,
                )
            if expect == "json" and b"MessageDetail" in response.content[:4096]:
                body = decode_json(response)
                if isinstance(body, dict) and _ROUTING_404 in str(body.get("MessageDetail", "")).lower():
                    # Seen with HTTP 200 on an entity set that does not exist (yet).
                    raise NotFoundError(response_message(response), status=404, code="unknown_entity", steps=rec.steps)
            return response
        except BpmError as exc:
            exc.steps = list(rec.steps)
            raise

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        body: _Body,
        headers: Mapping[str, str] | None,
        rec: StepRecorder,
    ) -> httpx.Response:
        hdrs = self.dialect.headers(write=body.json is not None)
        hdrs.update(self.session.auth_headers())
        if headers:
            hdrs.update(headers)
        request = self._http.build_request(
            method,
            url,
            params=dict(params) if params else None,
            content=dump_json(body.json) if body.json is not None else body.content,
            headers=hdrs,
        )
        async with self.limits.slot():
            return await send(self._http, request, rec, body_note=body.note)

    def _decode(self, response: httpx.Response, unwrap: Callable[[Any], _T], rec: StepRecorder | None) -> _T:
        """Parse and unwrap a JSON answer; a wrong shape usually means a wrong OData version."""
        try:
            return unwrap(response.json())
        except ValueError as exc:
            raise ConfigurationError(
                f"unexpected answer from {response.request.url}: {exc}; check the OData version",
                status=response.status_code,
                code="unexpected_answer",
                steps=rec.steps if rec is not None else (),
            ) from exc

    @staticmethod
    def _redirect_to_login(response: httpx.Response) -> bool:
        location = response.headers.get("location", "").lower()
        return response.is_redirect and ("/login/" in location or "nuilogin" in location)

    def _session_dead(self, response: httpx.Response) -> bool:
        if response.status_code == 401 or self._redirect_to_login(response):
            return True
        return 200 <= response.status_code < 300 and is_html(response)

    def _dead_reason(self, response: httpx.Response) -> str:
        if response.status_code == 401:
            return f"401: {response_message(response)}"
        if response.is_redirect:
            return f"redirect to {response.headers.get('location')}"
        return "an HTML page instead of data"

    def _error(self, response: httpx.Response, rec: StepRecorder) -> BpmError:
        if response.is_redirect:
            return ConfigurationError(
                f"redirected to {response.headers.get('location', '(no location)')}; check the domain "
                "and the path prefix",
                status=response.status_code,
                code="redirected",
                steps=rec.steps,
            )
        err = error_from_response(response, rec)
        if isinstance(err, NotFoundError) and _ROUTING_404 in err.message.lower():
            err.code = "unknown_entity"  # ASP.NET routing: the entity set does not exist
        return err

    # -- reads -------------------------------------------------------------------------

    async def get(
        self,
        entity: str,
        id: uuid.UUID | str,
        *,
        select: Sequence[str] | None = None,
        recorder: StepRecorder | None = None,
    ) -> dict[str, Any]:
        """One record by key; `NotFoundError` (code `record_not_found`) if it does not exist."""
        params = {"$select": self._select(entity, select)} if select else None
        try:
            response = await self.request("GET", self.dialect.key_path(entity, id), params=params, recorder=recorder)
        except NotFoundError as exc:
            if exc.code == "not_found":
                exc.code = "record_not_found"
            raise
        return self._decode(response, self.dialect.unwrap_entity, recorder)

    async def find(
        self, entity: str, id: uuid.UUID | str, *, recorder: StepRecorder | None = None
    ) -> dict[str, Any] | None:
        """One record by `Id`, or None; uses `$filter` so a missing key is an empty list, not
        an ambiguous 404/204."""
        rows = await self.query(entity, filter=F.eq("Id", as_uuid(id)), top=1, recorder=recorder)
        return rows[0] if rows else None

    async def query(
        self,
        entity: str,
        *,
        filter: FilterExpr | None = None,
        select: Sequence[str] | None = None,
        orderby: str | Sequence[str] | None = None,
        top: int | None = None,
        skip: int | None = None,
        expand: Sequence[str] | None = None,
        types: FieldTypes | None = None,
        recorder: StepRecorder | None = None,
    ) -> list[dict[str, Any]]:
        """Records of `entity`. Filters are typed by `types`, or by cached `$metadata`."""
        params = self.query_params(
            entity, filter=filter, select=select, orderby=orderby, top=top, skip=skip, expand=expand, types=types
        )
        return await self.query_with_params(entity, params, recorder=recorder)

    async def query_with_params(
        self, entity: str, params: Mapping[str, str], *, recorder: StepRecorder | None = None
    ) -> list[dict[str, Any]]:
        """Records of `entity` for parameters built by `query_params`."""
        response = await self.request("GET", self.dialect.collection_path(entity), params=params, recorder=recorder)
        return self._decode(response, self.dialect.unwrap_collection, recorder)

    async def count(
        self,
        entity: str,
        *,
        filter: FilterExpr | None = None,
        types: FieldTypes | None = None,
        recorder: StepRecorder | None = None,
    ) -> int:
        params = self.query_params(entity, filter=filter, types=types)
        params.update(self.dialect.count_params())
        response = await self.request("GET", self.dialect.collection_path(entity), params=params, recorder=recorder)
        return self._decode(response, self.dialect.unwrap_count, recorder)

    def _types(self, entity: str, types: FieldTypes | None) -> FieldTypes | None:
        if types is not None:
            return types
        meta = self._metadata_cache.peek(self.metadata_key)
        if meta is not None and entity in meta.entities:
            return meta.types_for(entity)
        return None

    def _select(self, entity: str, select: Sequence[str]) -> str:
        names = [check_field_name(s) for s in select]
        meta = self._metadata_cache.peek(self.metadata_key)
        info = meta.entities.get(entity) if meta else None
        if info:
            streams = [n for n in names if n in info.fields and info.fields[n].is_stream]
            if streams:
                raise ValidationError(
                    f"{', '.join(streams)} is a binary (stream) column and cannot be selected",
                    code="stream_select",
                )
        return ",".join(names)

    def query_params(
        self,
        entity: str,
        *,
        filter: FilterExpr | None = None,
        select: Sequence[str] | None = None,
        orderby: str | Sequence[str] | None = None,
        top: int | None = None,
        skip: int | None = None,
        expand: Sequence[str] | None = None,
        types: FieldTypes | None = None,
    ) -> dict[str, str]:
        """The `$filter`/`$select`/… parameters of a query (values escaped, names checked)."""
        check_entity_name(entity)
        params: dict[str, str] = {}
        if filter is not None:
            params["$filter"] = filter.render(self.dialect, self._types(entity, types))
        if select:
            params["$select"] = self._select(entity, select)
        if orderby:
            params["$orderby"] = ",".join(check_orderby(orderby))
        if top is not None:
            params["$top"] = str(check_non_negative(top, "top"))
        if skip is not None:
            params["$skip"] = str(check_non_negative(skip, "skip"))
        if expand:
            params["$expand"] = ",".join(check_field_name(e) for e in expand)
        return params

    # -- writes ------------------------------------------------------------------------

    async def create(
        self,
        entity: str,
        data: Mapping[str, Any],
        id: uuid.UUID | str | None = None,
        *,
        recorder: StepRecorder | None = None,
    ) -> dict[str, Any]:
        """POST a record; always sends an `Id` (given, from `data`, or a new GUID)."""
        body = dict(data)
        record_id = as_uuid(id or body.get("Id") or uuid.uuid4())
        body["Id"] = str(record_id)
        response = await self.request("POST", self.dialect.collection_path(entity), json=body, recorder=recorder)
        if response.content:
            return self._decode(response, self.dialect.unwrap_entity, recorder)
        return {"Id": str(record_id)}

    async def create_idempotent(
        self,
        entity: str,
        data: Mapping[str, Any],
        id: uuid.UUID | str,
        *,
        check_first: bool = True,
        recorder: StepRecorder | None = None,
    ) -> CreateResult:
        """Create with a deterministic `Id`, safe to call again after any failure.

        With `check_first` (pass it on every retry) the `Id` is looked up before writing: a
        previous attempt may have written the row and failed afterwards (the write-then-fail
        hazard, §3.5), and then the existing record is returned instead of a second one. A
        duplicate-key answer (another worker won the race) is resolved the same way.
        """
        record_id = as_uuid(id)
        if check_first:
            existing = await self.find(entity, record_id, recorder=recorder)
            if existing is not None:
                return CreateResult(existing, created=False)
        try:
            record = await self.create(entity, data, record_id, recorder=recorder)
        except ValidationError as exc:
            if not is_duplicate_key(exc):
                raise
            existing = await self.find(entity, record_id, recorder=recorder)
            if existing is None:
                raise
            return CreateResult(existing, created=False)
        return CreateResult(record, created=True)

    async def update(
        self,
        entity: str,
        id: uuid.UUID | str,
        data: Mapping[str, Any],
        *,
        recorder: StepRecorder | None = None,
    ) -> None:
        """PATCH the given fields (the key is taken from `id`, never from `data`)."""
        body = {k: v for k, v in data.items() if k != "Id"}
        await self.request("PATCH", self.dialect.key_path(entity, id), json=body, expect="none", recorder=recorder)

    async def delete(self, entity: str, id: uuid.UUID | str, *, recorder: StepRecorder | None = None) -> None:
        await self.request("DELETE", self.dialect.key_path(entity, id), expect="none", recorder=recorder)

    async def batch(
        self,
        ops: Sequence[BatchOp],
        *,
        continue_on_error: bool = False,
        recorder: StepRecorder | None = None,
    ) -> list[BatchResult]:
        """Run up to 100 operations in one JSON `$batch`; one `BatchResult` per op, in order.

        Without `continue_on_error` the server stops at the first failure and later ops come
        back with `executed=False`. OData 3 has no JSON batch: the ops are sent one by one
        with the same semantics.
        """
        if len(ops) > batch_mod.MAX_BATCH:
            raise ValueError(f"a $batch takes at most {batch_mod.MAX_BATCH} operations, got {len(ops)}")
        if not ops:
            return []
        if self.dialect.version == 3:
            return await batch_mod.run_sequentially(self, ops, continue_on_error, recorder)
        body = batch_mod.request_body(self.dialect, ops)
        headers = {"Prefer": "continue-on-error"} if continue_on_error else None
        response = await self.request("POST", "$batch", json=body, headers=headers, recorder=recorder)
        return self._decode(response, lambda body: batch_mod.parse_response(self.dialect, ops, body), recorder)

    # -- business processes ------------------------------------------------------------

    async def run_process(
        self,
        schema: str,
        parameters: Mapping[str, str],
        *,
        result_parameter: str | None = None,
        recorder: StepRecorder | None = None,
    ) -> str | None:
        """Run the business process `schema` with `parameters` (by their codes) and return the
        value of `result_parameter` (None without one, or when it is empty); see `processes`."""
        return await processes.run_process(
            self, schema, parameters, result_parameter=result_parameter, recorder=recorder
        )

    # -- metadata ----------------------------------------------------------------------

    async def metadata(self, *, refresh: bool = False, recorder: StepRecorder | None = None) -> Metadata:
        """Parsed `$metadata`, cached per connection (TTL; `refresh=True` re-reads it)."""

        async def fetch() -> Metadata:
            response = await self.request(
                "GET", "$metadata", headers={"Accept": "application/xml"}, expect="xml", recorder=recorder
            )
            return parse_metadata(response.content)

        return await self._metadata_cache.get(self.metadata_key, fetch, refresh=refresh)

    # -- files -------------------------------------------------------------------------

    async def attach_file(
        self,
        entity: str,
        parent_column: str,
        parent_id: str,
        file_id: uuid.UUID,
        name: str,
        data: bytes,
        mime: str,
        *,
        recorder: StepRecorder | None = None,
    ) -> None:
        """Attach `data` to a record as the file `file_id` of `entity` (ContactFile…); see `files`."""
        await files_mod.attach_file(self, entity, parent_column, parent_id, file_id, name, data, mime, recorder)

    # -- connection test ---------------------------------------------------------------

    async def test(self, *, recorder: StepRecorder | None = None) -> ConnectionTestResult:
        """Log in afresh and read one record; say what failed in a user's words."""
        return await run_test(self, recorder or StepRecorder(body_limit=self.body_limit))
