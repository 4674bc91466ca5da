"""OData 4 endpoint (`/0/odata`, `/odata` on .NET Core): reads, writes, `$metadata` (§3)."""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from .auth import Principal
from .filter_parser import PathNotFound, QueryError
from .http import ODATA_JSON, TEXT, Response, dumps
from .pages import RAM_LIMIT_MESSAGE, odata_error, query_error, routing_404, server_error, too_large_text
from .query import Expand, Query, StreamSelected, parse_query, run
from .records import empties
from .schema import EMPTY_GUID, Entity
from .state import State
from .store import Store, Tx
from .writes import WriteError, create, delete, parse_key, touch_later, update

_RESOURCE = re.compile(r"^(?P<set>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>[^)]*)\))?(?P<rest>(?:/[^/]*)*)$")
_GUID_SEG = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
ODATA_HEADERS = [("OData-Version", "4.0")]


@dataclass
class Ctx:
    """One OData request (top-level or a `$batch` part)."""

    state: State
    principal: Principal
    root: str  # absolute service root, e.g. http://127.0.0.1:8002/0/odata
    tx: Tx | None = None


def ok_json(obj: Any, status: int = 200, extra: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, dumps(obj), ODATA_JSON, ODATA_HEADERS + (extra or []))


def method_not_allowed(method: str) -> Response:
    return Response(405, dumps({"Message": f"The requested resource does not support http method '{method}'."}),
                    "application/json; charset=utf-8", [("Allow", "GET, POST, PATCH, DELETE")])


def _plan(ent: Entity) -> list[tuple[str, Any, bool]]:
    """(property, empty value, is stream) per column, rebuilt when columns are added."""
    plan: list[tuple[str, Any, bool]] | None = ent.cache.get("render_plan")
    if plan is None or len(plan) != len(ent.columns):
        plan = [(p, c.empty(), c.kind == "stream") for p, c in ent.columns.items()]
        ent.cache["render_plan"] = plan
    return plan


def _annotations(ent: Entity, key: str) -> dict[str, str]:
    """Media annotations of the stream columns (they follow the structural properties)."""
    out: dict[str, str] = {}
    for prop, _, is_stream in _plan(ent):
        if is_stream:
            link = f"{ent.name}({key})/{prop}"
            out[f"{prop}@odata.mediaEditLink"] = link
            out[f"{prop}@odata.mediaReadLink"] = link
            out[f"{prop}@odata.mediaContentType"] = "application/octet-stream"
    return out


def render(ent: Entity, row: dict[str, Any], select: list[str] | None = None) -> dict[str, Any]:
    """A stored row as OData 4 JSON: every column (stream columns as media annotations) or `$select`."""
    if select is not None:
        return {p: row.get(p, ent.columns[p].empty()) for p in select}
    out = {prop: row.get(prop, empty) for prop, empty, is_stream in _plan(ent) if not is_stream}
    out.update(_annotations(ent, row["Id"]))
    return out


# Keyed GETs dominate benchmarks: the JSON of an unchanged row is rendered once. Rows are never
# mutated in place (writes store a new dict), so the row object identifies the version.
_fragments: dict[tuple[str, str], tuple[dict[str, Any], int, bytes]] = {}


def _fragment(store: Store, ent: Entity, row: dict[str, Any]) -> bytes:
    """The entity's JSON without its opening brace."""
    structural = len(empties(ent))
    text = store.row_json(row) if len(row) == structural else None  # all columns, in order, nothing hidden
    if text is not None:
        cached = ent.cache.get("annotations_json")
        if cached is None or cached[0] != len(ent.columns):  # encoded once, with a placeholder key
            extra = _annotations(ent, "\0KEY\0")
            cached = (len(ent.columns), ("," + dumps(extra).decode()[1:-1] if extra else "") + "}")
            ent.cache["annotations_json"] = cached
        tail: str = cached[1]
        return (text[1:-1] + tail.replace("\\u0000KEY\\u0000", row["Id"])).encode()
    return dumps(render(ent, row))[1:]


def entity_json(store: Store, ent: Entity, row: dict[str, Any], context: str) -> bytes:
    key = (ent.name, row["Id"])
    hit = _fragments.get(key)
    if hit is None or hit[0] is not row or hit[1] != len(ent.columns):
        if len(_fragments) > 200_000:
            _fragments.clear()
        hit = (row, len(ent.columns), _fragment(store, ent, row))
        _fragments[key] = hit
    return b'{"@odata.context":' + dumps(context) + b"," + hit[2]


def render_expanded(ctx: Ctx, ent: Entity, row: dict[str, Any], select: list[str] | None,
                    expand: list[Expand]) -> dict[str, Any]:
    out = render(ent, row, select)
    for exp in expand:
        key = row.get(exp.nav.prop)
        target = ctx.state.store.get(exp.target.name, key) if key and key != EMPTY_GUID else None
        out[exp.nav.name] = (render_expanded(ctx, exp.target, target, exp.select, exp.expand)
                             if target is not None else None)
    return out


def error_for(exc: Exception) -> Response:
    if isinstance(exc, QueryError):
        return query_error(str(exc))
    if isinstance(exc, PathNotFound):
        return server_error(str(exc), "Terrasoft.Common.ItemNotFoundException")
    if isinstance(exc, StreamSelected):
        return server_error("Value cannot be null.\r\nParameter name: property", "System.ArgumentNullException")
    if isinstance(exc, WriteError):
        if exc.status == 500:
            return server_error(exc.message, exc.inner_type)
        if exc.status == 404:
            return Response(404, b"", None, ODATA_HEADERS)
        return odata_error(exc.status, exc.message)
    raise exc


def write_then_fail() -> Response:
    # A post-save event handler threw: the row is committed, the caller sees a failure (§3.5).
    return server_error("Object reference not set to an instance of an object.", "System.NullReferenceException")


async def handle(ctx: Ctx, method: str, rel: str, query: list[tuple[str, str]], headers: dict[str, str],
                 body: bytes) -> Response:
    """Dispatch one OData 4 request; `rel` is the path below the service root."""
    resp = await _handle(ctx, method, rel, query, headers, body)
    if "ieee754compatible=true" in headers.get("accept", "").lower() and resp.content_type == ODATA_JSON:
        return _ieee754(ctx, rel, resp)
    return resp


def _ieee754(ctx: Ctx, rel: str, resp: Response) -> Response:
    """`Accept: …;IEEE754Compatible=true` asks for Edm.Decimal/Int64 as JSON strings (standard OData)."""
    m = _RESOURCE.match(rel)
    ent = ctx.state.store.schema.get(m["set"]) if m else None
    if ent is None or resp.status >= 300:
        return resp
    doc = json.loads(resp.body)
    schema = ctx.state.store.schema

    def convert(e: Entity, obj: Any) -> None:
        if not isinstance(obj, dict):
            return
        for key, value in obj.items():
            col = e.columns.get(key)
            if col is not None and col.kind == "decimal" and isinstance(value, int | float):
                obj[key] = str(value)
            elif key in e.navs:
                convert(schema.entities[e.navs[key].target or ""], value)

    for item in doc.get("value", []) if isinstance(doc.get("value"), list) else [doc]:
        convert(ent, item)
    ctype = ODATA_JSON.replace("IEEE754Compatible=false", "IEEE754Compatible=true")
    return Response(resp.status, dumps(doc), ctype, resp.headers)


async def _handle(ctx: Ctx, method: str, rel: str, query: list[tuple[str, str]], headers: dict[str, str],
                  body: bytes) -> Response:
    state = ctx.state
    if rel in ("", "/"):
        if method != "GET":
            return method_not_allowed(method)
        sets = [{"name": n, "kind": "EntitySet", "url": n} for n in state.store.schema.entities]
        return ok_json({"@odata.context": f"{ctx.root}/$metadata", "value": sets})
    if rel == "$metadata":
        return Response(200, state.metadata(4).encode(), "application/xml; charset=utf-8", ODATA_HEADERS)
    m = _RESOURCE.match(rel)
    if m is None:
        return routing_404(ctx.root + "/" + rel, rel.split("/")[0].split("(")[0])
    ent = state.store.schema.get(m["set"])
    if ent is None or (ent.custom and state.available_at.get(ent.name, 0.0) > time.monotonic()):
        return routing_404(ctx.root + "/" + rel, m["set"])  # unknown, or not yet through the OData rebuild
    key_text = m["key"]
    rest = [s for s in m["rest"].split("/") if s] if m["rest"] else []
    if key_text is None and rest and _GUID_SEG.match(rest[0]):
        key_text, rest = rest[0], rest[1:]  # key-as-segment (`City/<guid>`, used in $batch docs)
    try:
        if key_text is None:
            if not rest:
                if method == "GET":
                    return collection(ctx, ent, query)
                if method == "POST":
                    return await post(ctx, ent, headers, body)
                return method_not_allowed(method)
            if rest == ["$count"] and method == "GET":
                q = parse_query([(k, v) for k, v in query if k == "$filter"], ent, state.store, 4)
                _, total = run(Query(filter=q.filter, top=0), ent, state.store)
                return Response(200, str(total).encode(), TEXT, ODATA_HEADERS)
            return routing_404(ctx.root + "/" + rel, ent.name)
        key = parse_key(key_text)
        if key is None:
            return odata_error(400, f"The key value ({key_text}) from request is not valid. The key value should be "
                                    "format of type 'Edm.Guid'.")
        if not rest:
            if method == "GET":
                return entity(ctx, ent, key, query)
            if method == "PATCH" or method == "MERGE":
                return await patch(ctx, ent, key, headers, body)
            if method == "DELETE":
                if not await delete(state.store, ent, key, ctx.tx):
                    return Response(404, b"", None, ODATA_HEADERS)
                return write_then_fail() if state.faults.fail_this_write() else Response(204, b"", None, ODATA_HEADERS)
            return method_not_allowed(method)
        return await member(ctx, ent, key, rest, method, headers, body)
    except (QueryError, PathNotFound, StreamSelected, WriteError) as exc:
        return error_for(exc)


def collection(ctx: Ctx, ent: Entity, params: list[tuple[str, str]]) -> Response:
    q = parse_query(params, ent, ctx.state.store, 4)
    if ctx.state.faults.ram_limit:
        return odata_error(500, "An error has occurred.", RAM_LIMIT_MESSAGE, "Terrasoft.Common.RamLimitException")
    rows, total = run(q, ent, ctx.state.store, ctx.state.faults.max_rows)
    out: dict[str, Any] = {"@odata.context": f"{ctx.root}/$metadata#{ent.name}{q.context_suffix()}"}
    if q.count:
        out["@odata.count"] = total
    if q.expand:
        out["value"] = [render_expanded(ctx, ent, r, q.select, q.expand) for r in rows]
    else:
        sel = q.select
        out["value"] = [render(ent, r, sel) for r in rows]
    return ok_json(out)


def entity(ctx: Ctx, ent: Entity, key: str, params: list[tuple[str, str]]) -> Response:
    row = ctx.state.store.get(ent.name, key)
    if not params:  # the hot path: a plain keyed GET
        if row is None:
            return Response(404, b"", None, ODATA_HEADERS)
        body = entity_json(ctx.state.store, ent, row, f"{ctx.root}/$metadata#{ent.name}/$entity")
        return Response(200, body, ODATA_JSON, ODATA_HEADERS)
    q = parse_query([(k, v) for k, v in params if k in ("$select", "$expand", "$format")], ent, ctx.state.store, 4)
    if row is None:
        return Response(404, b"", None, ODATA_HEADERS)
    out = {"@odata.context": f"{ctx.root}/$metadata#{ent.name}{q.context_suffix()}/$entity"}
    out.update(render_expanded(ctx, ent, row, q.select, q.expand))
    return ok_json(out)


def _json_body(headers: dict[str, str], body: bytes) -> Any:
    ctype = headers.get("content-type", "application/json")
    if "json" not in ctype:
        raise WriteError(415, f"The request entity's media type '{ctype.split(';')[0]}' is not supported for "
                              "this resource.")
    try:
        return json.loads(body.decode("utf-8-sig") or "null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise WriteError(400, f"The request body is not valid JSON: {exc}") from None


async def post(ctx: Ctx, ent: Entity, headers: dict[str, str], body: bytes) -> Response:
    data = _json_body(headers, body)
    row, echo = await create(ctx.state.store, ent, data, ctx.principal.contact_id, 4, ctx.tx)
    if ctx.state.faults.background_touch_ms and ctx.tx is None:
        touch_later(ctx.state.store, ent, row, ctx.state.faults.background_touch_ms)
    if ctx.state.faults.fail_this_write():
        return write_then_fail()
    # The echo is the stored row with 7-digit timestamps: reuse (and warm) the keyed-GET JSON.
    out = entity_json(ctx.state.store, ent, row, f"{ctx.root}/$metadata#{ent.name}/$entity")
    for prop in ("CreatedOn", "ModifiedOn"):
        out = out.replace(f'"{prop}":"{row[prop]}"'.encode(), f'"{prop}":"{echo[prop]}"'.encode(), 1)
    return Response(201, out, ODATA_JSON, ODATA_HEADERS + [("Location", f"{ctx.root}/{ent.name}({row['Id']})")])


async def patch(ctx: Ctx, ent: Entity, key: str, headers: dict[str, str], body: bytes) -> Response:
    data = _json_body(headers, body)
    found = await update(ctx.state.store, ent, key, data, ctx.principal.contact_id, 4, ctx.tx)
    if not found:
        if ctx.state.faults.patch_missing == "204":
            return Response(204, b"", None, ODATA_HEADERS)
        return Response(404, b"", None, ODATA_HEADERS)
    if ctx.state.faults.fail_this_write():
        return write_then_fail()
    return Response(204, b"", None, ODATA_HEADERS)


async def member(ctx: Ctx, ent: Entity, key: str, rest: list[str], method: str, headers: dict[str, str],
                 body: bytes) -> Response:
    """`Entity(id)/Prop`, `.../Prop/$value`, `.../Nav`, and stream columns."""
    store = ctx.state.store
    name = rest[0]
    row = store.get(ent.name, key)
    col = ent.columns.get(name)
    nav = ent.navs.get(name)
    if col is None and nav is None:
        return query_error(f"Could not find a property named '{name}' on type '{ent.qualified}'.")
    if row is None:
        return Response(404, b"", None, ODATA_HEADERS)
    if col is not None and col.kind == "stream":
        return await stream(ctx, ent, row, name, method, headers, body)
    if method != "GET":
        return method_not_allowed(method)
    if nav is not None:
        target_ent = store.schema.entities[nav.target or ""]
        target = store.get(target_ent.name, row.get(nav.prop, EMPTY_GUID))
        if len(rest) > 1 or target is None:
            return Response(204 if target is None else 404, b"", None, ODATA_HEADERS)
        out = {"@odata.context": f"{ctx.root}/$metadata#{target_ent.name}/$entity"}
        out.update(render(target_ent, target))
        return ok_json(out)
    assert col is not None
    value = row.get(name, col.empty())
    if rest[1:] == ["$value"]:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return Response(200, text.encode(), TEXT, ODATA_HEADERS)
    if len(rest) > 1:
        return routing_404(f"{ctx.root}/{ent.name}({key})/{'/'.join(rest)}", ent.name)
    return ok_json({"@odata.context": f"{ctx.root}/$metadata#{ent.name}({key})/{name}", "value": value})


async def stream(ctx: Ctx, ent: Entity, row: dict[str, Any], name: str, method: str, headers: dict[str, str],
                 body: bytes) -> Response:
    """Binary columns (§3.10): GET the bytes, PUT octet-stream → 200, DELETE → 204."""
    store = ctx.state.store
    hidden = f"@stream:{name}"
    if method == "GET":
        data = row.get(hidden)
        if not data:
            return Response(204, b"", None, ODATA_HEADERS)
        return Response(200, base64.b64decode(data["b64"]), data["ct"], ODATA_HEADERS)
    if method in ("PUT", "DELETE"):
        new = dict(row)
        if method == "PUT":
            if len(body) > ctx.state.faults.max_file_size:
                return odata_error(413, too_large_text(ctx.state.faults.max_file_size))
            new[hidden] = {"ct": headers.get("content-type", "application/octet-stream"),
                           "b64": base64.b64encode(body).decode()}
        else:
            new.pop(hidden, None)
        await store.replace(ent.name, new, ctx.tx)
        return Response(200 if method == "PUT" else 204, b"", None, ODATA_HEADERS)
    return method_not_allowed(method)
