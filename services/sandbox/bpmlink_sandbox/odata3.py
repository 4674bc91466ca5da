"""OData 3 endpoint `EntityDataService.svc` (bpm'online 7.x): `XxxCollection(guid'…')`, verbose JSON or Atom (§5)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from .auth import Principal
from .filter_parser import PathNotFound, QueryError
from .http import TEXT, Request, Response, dumps
from .query import StreamSelected, parse_query, run
from .schema import EMPTY_GUID, Entity
from .state import State
from .values import parse_dt
from .writes import WriteError, create, delete, update

VERBOSE = "application/json;odata=verbose;charset=utf-8"
ATOM_FEED = "application/atom+xml;type=feed;charset=utf-8"
ATOM_ENTRY = "application/atom+xml;type=entry;charset=utf-8"
DSV = [("DataServiceVersion", "3.0;")]
_RESOURCE = re.compile(r"^(?P<set>[A-Za-z_][A-Za-z0-9_]*)Collection(?:\((?P<key>[^)]*)\))?(?P<rest>(?:/[^/]*)*)$")
_KEY = re.compile(r"^(?:Id=)?guid'([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})'$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TYPE_NS = "Terrasoft.Configuration"


def wants_json(req: Request) -> bool:
    accept = req.headers.get("accept", "").lower()
    fmt = next((v for k, v in req.query if k == "$format"), "")
    return "json" in accept or fmt in ("json", "verbose")


def ms_date(value: str) -> str:
    delta = parse_dt(value) - _EPOCH
    return f"/Date({(delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000})/"


def v3_value(kind: str, value: Any) -> Any:
    if kind in ("datetime", "date"):
        return ms_date(value)
    if kind == "decimal":
        return str(value)  # verbose JSON writes Edm.Decimal as a string
    return value


def error(status: int, message: str, as_json: bool, inner: str | None = None, inner_type: str = "") -> Response:
    if as_json:
        err: dict[str, Any] = {"code": "", "message": {"lang": "en-US", "value": message}}
        if inner is not None:
            err["innererror"] = {"message": inner, "type": inner_type, "stacktrace": ""}
        return Response(status, dumps({"error": err}), VERBOSE, DSV)
    body = ('<?xml version="1.0" encoding="utf-8" standalone="yes"?>\r\n<error xmlns="http://schemas.microsoft.com/'
            f'ado/2007/08/dataservices/metadata"><code></code><message xml:lang="en-US">{escape(message)}</message>'
            + (f"<innererror><message>{escape(inner)}</message><type>{escape(inner_type)}</type><stacktrace />"
               "</innererror>" if inner is not None else "") + "</error>")
    return Response(status, body.encode(), "application/xml;charset=utf-8", DSV)


def not_found(segment: str, as_json: bool) -> Response:
    return error(404, f"Resource not found for the segment '{segment}'.", as_json)


class V3:
    def __init__(self, state: State, who: Principal, req: Request, root: str) -> None:
        self.state = state
        self.who = who
        self.req = req
        self.root = root
        self.json = wants_json(req)

    def uri(self, ent: Entity, key: str) -> str:
        return f"{self.root}/{ent.name}Collection(guid'{key}')"

    def entry(self, ent: Entity, row: dict[str, Any], select: list[str] | None = None,
              expand: list[Any] | None = None) -> dict[str, Any]:
        uri = self.uri(ent, row["Id"])
        out: dict[str, Any] = {"__metadata": {"id": uri, "uri": uri, "type": f"{TYPE_NS}.{ent.name}"}}
        expanded = {e.nav.name: e for e in expand or []}
        for prop, col in ent.columns.items():
            if col.kind == "stream" or (select is not None and prop not in select):
                continue
            out[prop] = v3_value(col.kind, row.get(prop, col.empty()))
        for name, nav in ent.navs.items():
            if name in expanded:
                exp = expanded[name]
                key = row.get(nav.prop)
                target = self.state.store.get(exp.target.name, key) if key and key != EMPTY_GUID else None
                out[name] = self.entry(exp.target, target, exp.select, exp.expand) if target else None
            elif select is None:
                out[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
        return out

    def dump(self, obj: Any, status: int = 200, extra: list[tuple[str, str]] | None = None) -> Response:
        # WCF writes the date wrapper with escaped slashes: "\/Date(…)\/".
        body = dumps(obj).replace(b'"/Date(', b'"\\/Date(').replace(b')/"', b')\\/"')
        return Response(status, body, VERBOSE, DSV + (extra or []))

    # --- Atom (the OData 3 default when JSON is not asked for) ---
    def atom_entry(self, ent: Entity, row: dict[str, Any], select: list[str] | None, top: bool) -> str:
        uri = self.uri(ent, row["Id"])
        props = []
        for prop, col in ent.columns.items():
            if col.kind == "stream" or (select is not None and prop not in select):
                continue
            value = row.get(prop, col.empty())
            edm = {"datetime": "Edm.DateTime", "date": "Edm.DateTime"}.get(col.kind, col.edm)
            if col.kind in ("datetime", "date"):
                value = parse_dt(value).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
            elif isinstance(value, bool):
                value = "true" if value else "false"
            type_attr = "" if edm == "Edm.String" else f' m:type="{edm}"'
            props.append(f"<d:{prop}{type_attr}>{escape(str(value))}</d:{prop}>")
        ns = (' xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices"'
              ' xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"') if top else ""
        links = "".join(f'<link rel="http://schemas.microsoft.com/ado/2007/08/dataservices/related/{n}" '
                        f'type="application/atom+xml;type=entry" title="{n}" href="{ent.name}Collection'
                        f"(guid'{row['Id']}')/{n}\" />" for n in ent.navs)
        return (f"<entry{ns}><id>{uri}</id><category term=\"{TYPE_NS}.{ent.name}\" scheme=\"http://schemas."
                f"microsoft.com/ado/2007/08/dataservices/scheme\" /><title /><updated>{row.get('ModifiedOn', '')}"
                f"</updated><author><name /></author>{links}<content type=\"application/xml\"><m:properties>"
                f"{''.join(props)}</m:properties></content></entry>")

    def atom_feed(self, ent: Entity, rows: list[dict[str, Any]], select: list[str] | None,
                  count: int | None) -> Response:
        entries = "".join(self.atom_entry(ent, r, select, False) for r in rows)
        count_el = f"<m:count>{count}</m:count>" if count is not None else ""
        body = ('<?xml version="1.0" encoding="utf-8" standalone="yes"?><feed xml:base="' + self.root + '/" '
                'xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" '
                'xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata">'
                f"<id>{self.root}/{ent.name}Collection</id><title type=\"text\">{ent.name}Collection</title>"
                f"<updated>{datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>{count_el}{entries}</feed>")
        return Response(200, body.encode(), ATOM_FEED, DSV)

    def one(self, ent: Entity, row: dict[str, Any], status: int = 200, select: list[str] | None = None,
            expand: list[Any] | None = None, extra: list[tuple[str, str]] | None = None) -> Response:
        if self.json:
            return self.dump({"d": self.entry(ent, row, select, expand)}, status, extra)
        body = '<?xml version="1.0" encoding="utf-8" standalone="yes"?>' + self.atom_entry(ent, row, select, True)
        return Response(status, body.encode(), ATOM_ENTRY, DSV + (extra or []))

    # --- dispatch ---
    async def handle(self, rel: str) -> Response:
        req = self.req
        method = req.method
        if method == "POST" and req.headers.get("x-http-method"):
            method = req.headers["x-http-method"].upper()  # verb tunnelling (MERGE/PUT/DELETE over POST)
        schema = self.state.store.schema
        if rel in ("", "/"):
            sets = [f"{n}Collection" for n in schema.entities]
            if self.json:
                return self.dump({"d": {"EntitySets": sets}})
            colls = "".join(f'<collection href="{s}"><atom:title>{s}</atom:title></collection>' for s in sets)
            body = ('<?xml version="1.0" encoding="utf-8" standalone="yes"?><service xml:base="' + self.root + '/" '
                    'xmlns="http://www.w3.org/2007/app" xmlns:atom="http://www.w3.org/2005/Atom"><workspace>'
                    f"<atom:title>Default</atom:title>{colls}</workspace></service>")
            return Response(200, body.encode(), "application/atomsvc+xml;charset=utf-8", DSV)
        if rel == "$metadata":
            return Response(200, self.state.metadata(3).encode(), "application/xml;charset=utf-8", DSV)
        m = _RESOURCE.match(rel)
        ent = schema.get(m["set"]) if m else None
        if m is None or ent is None:
            return not_found(rel.split("(")[0].split("/")[0], self.json)
        rest = [s for s in m["rest"].split("/") if s]
        try:
            if m["key"] is None:
                if rest == ["$count"] and method == "GET":
                    q = parse_query([(k, v) for k, v in req.query if k == "$filter"], ent, self.state.store, 3)
                    rows, total = run(q, ent, self.state.store)
                    return Response(200, str(total).encode(), TEXT, DSV)
                if rest:
                    return not_found(rest[0], self.json)
                if method == "GET":
                    return self.collection(ent)
                if method == "POST":
                    row, _ = await create(self.state.store, ent, self.body(), self.who.contact_id, 3)
                    if self.state.faults.fail_this_write():
                        return self.fail_after_write()
                    return self.one(ent, row, 201, extra=[("Location", self.uri(ent, row["Id"]))])
                return error(405, "The requested resource does not support this method.", self.json)
            km = _KEY.match(m["key"])
            if km is None:
                return error(400, "Bad Request - Error in query syntax.", self.json)
            key = km.group(1).lower()
            if rest:
                return self.member(ent, key, rest, method)
            if method == "GET":
                q = parse_query([(k, v) for k, v in req.query if k in ("$select", "$expand")], ent,
                                self.state.store, 3)
                found_row = self.state.store.get(ent.name, key)
                if found_row is None:
                    return not_found(f"{ent.name}Collection", self.json)
                return self.one(ent, found_row, select=q.select, expand=q.expand)
            if method in ("PATCH", "MERGE", "PUT"):
                found = await update(self.state.store, ent, key, self.body(), self.who.contact_id, 3,
                                     replace_all=method == "PUT")
                if not found:
                    return not_found(f"{ent.name}Collection", self.json)
                return self.done_write()
            if method == "DELETE":
                if not await delete(self.state.store, ent, key):
                    return not_found(f"{ent.name}Collection", self.json)
                return self.done_write()
            return error(405, "The requested resource does not support this method.", self.json)
        except QueryError as exc:
            return error(400, str(exc), self.json)
        except PathNotFound as exc:
            return error(500, "An error occurred while processing this request.", self.json, str(exc),
                         "Terrasoft.Common.ItemNotFoundException")
        except StreamSelected:
            return error(500, "An error occurred while processing this request.", self.json,
                         "Value cannot be null.\r\nParameter name: property", "System.ArgumentNullException")
        except WriteError as exc:
            if exc.status == 500:
                return error(500, "An error occurred while processing this request.", self.json, exc.message,
                             exc.inner_type)
            return error(exc.status, exc.message, self.json)

    def done_write(self) -> Response:
        return self.fail_after_write() if self.state.faults.fail_this_write() else Response(204, b"", None, DSV)

    def fail_after_write(self) -> Response:
        return error(500, "An error occurred while processing this request.", self.json,
                     "Object reference not set to an instance of an object.", "System.NullReferenceException")

    def body(self) -> Any:
        ctype = self.req.headers.get("content-type", "")
        if "json" not in ctype:
            raise WriteError(415, "Content-Type header value missing or not supported; send "
                                  "application/json;odata=verbose.")
        try:
            return json.loads(self.req.body.decode("utf-8-sig") or "null")
        except (ValueError, UnicodeDecodeError):
            raise WriteError(400, "Error processing request stream. The JSON payload is not valid.") from None

    def collection(self, ent: Entity) -> Response:
        q = parse_query(self.req.query, ent, self.state.store, 3)
        rows, total = run(q, ent, self.state.store, self.state.faults.max_rows)
        if not self.json:
            return self.atom_feed(ent, rows, q.select, total if q.count else None)
        d: dict[str, Any] = {"results": [self.entry(ent, r, q.select, q.expand) for r in rows]}
        if q.count:
            d["__count"] = str(total)
        return self.dump({"d": d})

    def member(self, ent: Entity, key: str, rest: list[str], method: str) -> Response:
        store = self.state.store
        row = store.get(ent.name, key)
        name = rest[0]
        if row is None:
            return not_found(f"{ent.name}Collection", self.json)
        if method != "GET":
            return error(405, "The requested resource does not support this method.", self.json)
        nav = ent.navs.get(name)
        if nav is not None:
            target_ent = store.schema.entities[nav.target or ""]
            target = store.get(target_ent.name, row.get(nav.prop, EMPTY_GUID))
            if target is None:
                return self.dump({"d": None}) if self.json else Response(204, b"", None, DSV)
            return self.one(target_ent, target)
        col = ent.columns.get(name)
        if col is None or col.kind == "stream":
            return not_found(name, self.json)
        value = row.get(name, col.empty())
        if rest[1:] == ["$value"]:
            text = ("true" if value else "false") if isinstance(value, bool) else str(value)
            return Response(200, text.encode(), TEXT, DSV)
        return self.dump({"d": {name: v3_value(col.kind, value)}})


async def handle(state: State, who: Principal, req: Request, root: str, rel: str) -> Response:
    return await V3(state, who, req, root).handle(rel)
