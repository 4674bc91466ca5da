"""OData 4 `$batch`: JSON and multipart/mixed bodies, changesets/atomicity groups (§3.8)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import odata4
from .http import Request, Response, dumps
from .pages import odata_error

MAX_OPERATIONS = 100
TOO_MANY = ("The current batch message contains too many parts. Only 100 query operations and change sets are "
            "allowed in a batch message.")
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large",
           415: "Unsupported Media Type", 424: "Failed Dependency", 500: "Internal Server Error",
           503: "Service Unavailable"}


class BatchFormatError(ValueError):
    pass


@dataclass
class Op:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    id: str | None = None
    group: str | None = None  # client label of the atomicity group / changeset
    depends_on: list[str] = field(default_factory=list)


@dataclass
class Result:
    op: Op
    resp: Response
    group_id: str | None = None  # the server's GUID replacing the client label


class GroupFailed(Exception):
    def __init__(self, result: Result) -> None:
        self.result = result


# --- parsing --------------------------------------------------------------------------------------
def parse_json(body: bytes) -> list[Op]:
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BatchFormatError(f"The batch request body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("requests"), list):
        raise BatchFormatError("The batch request must be a JSON object with a 'requests' array.")
    ops = []
    for item in doc["requests"]:
        if not isinstance(item, dict) or "method" not in item or "url" not in item:
            raise BatchFormatError("Each batch request needs 'method' and 'url'.")
        headers = {str(k).lower(): str(v) for k, v in (item.get("headers") or {}).items()}
        raw = item.get("body")
        data = b"" if raw is None else (raw.encode() if isinstance(raw, str) else dumps(raw))
        if data and "content-type" not in headers:
            headers["content-type"] = "application/json"
        ops.append(Op(str(item["method"]).upper(), str(item["url"]), headers, data,
                      None if item.get("id") is None else str(item["id"]),
                      None if item.get("atomicityGroup") is None else str(item["atomicityGroup"]),
                      [str(d) for d in item.get("dependsOn") or []]))
    return ops


def _boundary(content_type: str) -> str:
    m = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    if not m:
        raise BatchFormatError("The multipart batch request has no boundary.")
    return m.group(1)


def _split_head(block: str) -> tuple[dict[str, str], str]:
    head, _, rest = block.partition("\n\n")
    headers = {}
    for line in head.split("\n"):
        if ":" in line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    return headers, rest


def _parts(text: str, boundary: str) -> list[str]:
    chunks = text.split(f"--{boundary}")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith("--"):
            break
        parts.append(chunk.strip("\n"))
    return parts


def parse_multipart(body: bytes, content_type: str) -> list[Op]:
    text = body.decode("utf-8").replace("\r\n", "\n")
    ops: list[Op] = []
    for part in _parts(text, _boundary(content_type)):
        headers, content = _split_head(part)
        ctype = headers.get("content-type", "")
        if ctype.lower().startswith("multipart/mixed"):
            label = _boundary(ctype)
            for inner in _parts(content, label):
                ih, icontent = _split_head(inner)
                ops.append(_http_op(icontent, ih.get("content-id"), label))
        else:
            ops.append(_http_op(content, headers.get("content-id"), None))
    return ops


def _http_op(content: str, content_id: str | None, group: str | None) -> Op:
    line, _, rest = content.partition("\n")
    words = line.split()
    if len(words) < 2:
        raise BatchFormatError(f"Invalid request line '{line}' in the batch.")
    headers, body = _split_head(rest) if rest.strip() else ({}, "")
    return Op(words[0].upper(), words[1], headers, body.strip("\n").encode(), content_id, group)


# --- execution ----------------------------------------------------------------------------------------
def _resolve(ctx: odata4.Ctx, url: str, done: dict[str, Response]) -> tuple[str, list[tuple[str, str]]]:
    if url.startswith("$"):  # `$1/...` refers to an earlier request's created entity
        ref, _, tail = url[1:].partition("/")
        loc = done[ref].header("Location") if ref in done else None
        if loc is None:
            raise BatchFormatError(f"The batch reference '${ref}' does not refer to a created entity.")
        url = loc + ("/" + tail if tail else "")
    path, _, query = url.partition("?")
    root_path = urlsplit(ctx.root).path
    if "://" in path:
        path = urlsplit(path).path
    if path.startswith(root_path):
        path = path[len(root_path):]
    return path.lstrip("/"), parse_qsl(query, keep_blank_values=True)


async def run_op(ctx: odata4.Ctx, op: Op, done: dict[str, Response]) -> Response:
    ctx.state.counts.add(op.method, "odata4.batch_op")
    failed = [d for d in op.depends_on if d not in done or done[d].status >= 400]
    if failed:  # a prerequisite failed or never ran (continue-on-error): 424, not executed
        resp = odata_error(424, f"The request depends on request '{failed[0]}', which failed.")
        if op.id is not None:
            done[op.id] = resp
        return resp
    try:
        rel, query = _resolve(ctx, op.url, done)
    except BatchFormatError as exc:
        return odata_error(400, str(exc))
    if rel == "$batch":
        return odata_error(400, "A $batch request cannot be nested inside a batch.")
    resp = await odata4.handle(ctx, op.method, rel, query, op.headers, op.body)
    if op.id is not None:
        done[op.id] = resp
    return resp


async def execute(ctx: odata4.Ctx, ops: list[Op], continue_on_error: bool) -> list[Result]:
    results: list[Result] = []
    done: dict[str, Response] = {}
    i = 0
    while i < len(ops):
        op = ops[i]
        if op.group is None:
            resp = await run_op(ctx, op, done)
            results.append(Result(op, resp))
            i += 1
            if resp.status >= 400 and not continue_on_error:
                break
            continue
        j = i
        while j < len(ops) and ops[j].group == op.group:
            j += 1
        group_id = str(uuid.uuid4())
        group_results: list[Result] = []
        try:
            async with ctx.state.store.transaction() as tx:
                gctx = odata4.Ctx(ctx.state, ctx.principal, ctx.root, tx)
                for member in ops[i:j]:
                    resp = await run_op(gctx, member, done)
                    result = Result(member, resp, group_id)
                    if resp.status >= 400:
                        raise GroupFailed(result)  # all-or-nothing: roll back the group
                    group_results.append(result)
        except GroupFailed as failed:
            results.append(failed.result)
            i = j
            if not continue_on_error:
                break
            continue
        results.extend(group_results)
        i = j
    return results


# --- rendering ------------------------------------------------------------------------------------
def _json_part(r: Result) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in r.resp.headers}
    if r.resp.content_type:
        headers["content-type"] = r.resp.content_type.replace("; odata.streaming=true; IEEE754Compatible=false", "")
    out: dict[str, Any] = {"id": r.op.id}
    if r.group_id:
        out["atomicityGroup"] = r.group_id
    out["status"] = r.resp.status
    out["headers"] = headers
    if r.resp.body:
        try:
            out["body"] = json.loads(r.resp.body)
        except ValueError:
            out["body"] = r.resp.body.decode("utf-8", "replace")
    return out


def _http_part(r: Result, content_id: bool) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id and r.op.id:
        lines.append(f"Content-ID: {r.op.id}")
    lines += ["", f"HTTP/1.1 {r.resp.status} {REASONS.get(r.resp.status, '')}"]
    for k, v in r.resp.headers:
        lines.append(f"{k}: {v}")
    if r.resp.content_type:
        lines.append(f"Content-Type: {r.resp.content_type}")
    lines += ["", r.resp.body.decode("utf-8", "replace")]
    return "\r\n".join(lines)


def render_multipart(results: list[Result]) -> Response:
    outer = f"batchresponse_{uuid.uuid4()}"
    chunks: list[str] = []
    i = 0
    while i < len(results):
        r = results[i]
        if r.group_id is None:
            chunks.append(f"--{outer}\r\n{_http_part(r, True)}")
            i += 1
            continue
        j = i
        while j < len(results) and results[j].group_id == r.group_id:
            j += 1
        inner = f"changesetresponse_{uuid.uuid4()}"
        body = "".join(f"--{inner}\r\n{_http_part(x, True)}\r\n" for x in results[i:j]) + f"--{inner}--"
        chunks.append(f"--{outer}\r\nContent-Type: multipart/mixed; boundary={inner}\r\n\r\n{body}")
        i = j
    text = "\r\n".join(chunks) + f"\r\n--{outer}--\r\n"
    return Response(200, text.encode(), f"multipart/mixed; boundary={outer}", [("OData-Version", "4.0")])


async def handle_batch(ctx: odata4.Ctx, req: Request) -> Response:
    ctype = req.headers.get("content-type", "")
    is_multipart = ctype.lower().startswith("multipart/mixed")
    try:
        if is_multipart:
            ops = parse_multipart(req.body, ctype)
        elif "json" in ctype.lower():
            ops = parse_json(req.body)
        else:
            return odata_error(415, f"The request entity's media type '{ctype.split(';')[0]}' is not supported "
                                    "for a batch request.")
    except (BatchFormatError, UnicodeDecodeError) as exc:
        return odata_error(400, str(exc))
    if len(ops) > MAX_OPERATIONS:
        return odata_error(400, TOO_MANY)
    prefer = req.headers.get("prefer", "").lower()
    results = await execute(ctx, ops, "continue-on-error" in prefer)
    accept = req.headers.get("accept", "").lower()
    want_multipart = "multipart/mixed" in accept or (is_multipart and "application/json" not in accept)
    if want_multipart:
        return render_multipart(results)
    return Response(200, dumps({"responses": [_json_part(r) for r in results]}),
                    "application/json; odata.metadata=minimal; charset=utf-8", [("OData-Version", "4.0")])
