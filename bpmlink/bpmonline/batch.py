"""JSON `$batch` (OData 4.01 shape, as Creatio documents it) and its per-operation results."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from bpmlink.bpmonline.dialects import Dialect, as_uuid, check_entity_name
from bpmlink.bpmonline.errors import BpmError, ServerError, error_for_status, extract_message
from bpmlink.bpmonline.steps import DEFAULT_BODY_LIMIT, Step, StepRecorder, truncate

if TYPE_CHECKING:
    from bpmlink.bpmonline.client import BpmClient

MAX_BATCH = 100
_METHODS = frozenset({"GET", "POST", "PATCH", "DELETE"})


@dataclass(frozen=True)
class BatchOp:
    """One operation of a batch. Build with `BatchOp.create/update/delete/get`."""

    method: str
    entity: str
    id: uuid.UUID | None = None
    data: Mapping[str, Any] | None = None
    params: Mapping[str, str] | None = None  # a collection query (GET without an id)

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise ValueError(f"unsupported batch method {self.method!r}")
        check_entity_name(self.entity)
        if self.method != "POST" and self.id is None and not (self.method == "GET" and self.params is not None):
            raise ValueError(f"{self.method} needs a record id")

    @classmethod
    def create(cls, entity: str, data: Mapping[str, Any], id: uuid.UUID | str | None = None) -> BatchOp:
        """A create always carries an `Id` (given, from `data`, or new), like `BpmClient.create`."""
        record_id = as_uuid(id or data.get("Id") or uuid.uuid4())
        return cls("POST", entity, record_id, {**data, "Id": str(record_id)})

    @classmethod
    def update(cls, entity: str, id: uuid.UUID | str, data: Mapping[str, Any]) -> BatchOp:
        return cls("PATCH", entity, as_uuid(id), {k: v for k, v in data.items() if k != "Id"})

    @classmethod
    def delete(cls, entity: str, id: uuid.UUID | str) -> BatchOp:
        return cls("DELETE", entity, as_uuid(id))

    @classmethod
    def get(cls, entity: str, id: uuid.UUID | str) -> BatchOp:
        return cls("GET", entity, as_uuid(id))

    @classmethod
    def query(cls, entity: str, params: Mapping[str, str]) -> BatchOp:
        """A collection read; build `params` with `BpmClient.query_params` (filters escaped there)."""
        return cls("GET", entity, params=dict(params))

    @property
    def is_query(self) -> bool:
        return self.params is not None

    def relative_url(self, dialect: Dialect) -> str:
        if self.params is not None:
            return f"{dialect.collection_path(self.entity)}?{urlencode(self.params, quote_via=quote)}"
        if self.method == "POST":
            return dialect.collection_path(self.entity)
        assert self.id is not None
        return dialect.key_path(self.entity, self.id)


@dataclass
class BatchResult:
    """The outcome of one op: `executed` is False when the server stopped before it."""

    index: int
    op: BatchOp
    executed: bool
    status: int | None = None
    body: dict[str, Any] | None = None
    error: BpmError | None = None
    headers: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] | None = None  # the records a query op read
    raw: Any = None  # the op's part of the answer, as sent

    @property
    def ok(self) -> bool:
        return self.executed and self.error is None


def request_body(dialect: Dialect, ops: Sequence[BatchOp]) -> dict[str, Any]:
    from bpmlink.bpmonline._http import json_default

    requests = []
    for i, op in enumerate(ops):
        item: dict[str, Any] = {
            "id": str(i + 1),
            "method": op.method,
            "url": op.relative_url(dialect),
            "headers": {"Accept": "application/json"},
        }
        if op.data is not None and op.method in ("POST", "PATCH"):
            item["headers"]["Content-Type"] = "application/json; charset=utf-8"
            # Serialise values now so the outer JSON encoder sees plain types only.
            item["body"] = {k: _plain(v, json_default) for k, v in op.data.items()}
        requests.append(item)
    return {"requests": requests}


def _plain(value: Any, default: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | list | dict):
        return value
    return default(value)


def parse_response(dialect: Dialect, ops: Sequence[BatchOp], body: Any) -> list[BatchResult]:
    responses = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(responses, list):
        raise ServerError("the $batch answer has no 'responses' list", code="bad_batch_response")
    by_id: dict[str, dict[str, Any]] = {}
    for item in responses:
        if isinstance(item, dict) and "id" in item:
            by_id.setdefault(str(item["id"]), item)
    results: list[BatchResult] = []
    for i, op in enumerate(ops):
        item = by_id.get(str(i + 1))
        if item is None:
            results.append(BatchResult(index=i, op=op, executed=False))
            continue
        status = int(item.get("status") or 0)
        sub_body = item.get("body")
        headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
        result = BatchResult(index=i, op=op, executed=True, status=status, headers=headers, raw=sub_body)
        if status >= 400:
            message = extract_message(sub_body) or f"HTTP {status}"
            result.error = error_for_status(status, message)
        elif op.is_query:
            try:
                result.rows = dialect.unwrap_collection(sub_body)
            except ValueError as exc:
                result.error = ServerError(f"unexpected answer to a query in $batch: {exc}", status=status)
        elif isinstance(sub_body, dict):
            result.body = dialect.clean(sub_body)
        results.append(result)
    return results


async def run_sequentially(
    client: BpmClient, ops: Sequence[BatchOp], continue_on_error: bool, recorder: StepRecorder | None
) -> list[BatchResult]:
    """The same contract without `$batch` (OData 3): one request per op."""
    results: list[BatchResult] = []
    stopped = False
    for i, op in enumerate(ops):
        if stopped:
            results.append(BatchResult(index=i, op=op, executed=False))
            continue
        try:
            record: dict[str, Any] | None = None
            rows: list[dict[str, Any]] | None = None
            if op.params is not None:
                rows = await client.query_with_params(op.entity, op.params, recorder=recorder)
                status = 200
            elif op.method == "POST":
                record = await client.create(op.entity, op.data or {}, op.id, recorder=recorder)
                status = 201
            elif op.method == "PATCH":
                assert op.id is not None
                await client.update(op.entity, op.id, op.data or {}, recorder=recorder)
                status = 204
            elif op.method == "DELETE":
                assert op.id is not None
                await client.delete(op.entity, op.id, recorder=recorder)
                status = 204
            else:
                assert op.id is not None
                record = await client.get(op.entity, op.id, recorder=recorder)
                status = 200
            results.append(BatchResult(index=i, op=op, executed=True, status=status, body=record, rows=rows))
        except BpmError as exc:
            results.append(BatchResult(index=i, op=op, executed=True, status=exc.status, error=exc))
            stopped = not continue_on_error
    return results


def sub_step(
    dialect: Dialect, service_root: str, result: BatchResult, batch: Step, body_limit: int = DEFAULT_BODY_LIMIT
) -> Step:
    """One op of a `$batch` as a step of its own: its request, its part of the answer, the batch's time.

    An event processed in a batch keeps a history that reads like its own requests; the
    `$batch` URL is named in the step's headers, where its credentials never were.
    """
    from bpmlink.bpmonline._http import dump_json

    op = result.op
    request_body = dump_json(op.data).decode() if op.data is not None else None
    response_body = None
    if result.raw is not None:
        response_body = result.raw if isinstance(result.raw, str) else dump_json(result.raw).decode()
    req_text, req_cut = truncate(request_body, body_limit)
    resp_text, resp_cut = truncate(response_body, body_limit)
    error = None
    if result.error is not None:
        error = result.error.message
    elif not result.executed:
        error = "not executed: the $batch stopped before this request"
    return Step(
        system=batch.system,
        method=op.method,
        url=f"{service_root}/{op.relative_url(dialect)}",
        request_headers={"x-bpmlink-batch": f"{batch.method} {batch.url} #{result.index + 1}"},
        request_body=req_text,
        response_body=resp_text,
        status=result.status,
        duration_ms=batch.duration_ms,
        error=error,
        started_at=batch.started_at,
        request_truncated=req_cut,
        response_truncated=resp_cut,
    )
