"""System query options ($select $expand $orderby $top $skip $count/$inlinecount) and their execution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .filter_parser import Binder, CompiledFilter, Messages, Path, QueryError, compile_filter
from .schema import Column, Entity, Schema
from .store import Store

MAX_ROWS = 20_000  # Creatio's hard cap per response; larger $top is truncated silently, no nextLink
V4_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand", "$format"}
V3_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skip", "$inlinecount", "$expand", "$format", "$skiptoken"}


class StreamSelected(Exception):
    """`$select` of a binary column: Creatio answers 500 "Value cannot be null." (§3.9)."""


@dataclass
class Expand:
    nav: Column
    target: Entity
    select: list[str] | None = None
    expand: list[Expand] = field(default_factory=list)

    def context(self) -> str:
        inner = list(self.select or []) + [e.context() for e in self.expand]
        return f"{self.nav.name}({','.join(inner)})"


@dataclass
class Query:
    filter: CompiledFilter | None = None
    orderby: list[tuple[Any, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    count: bool = False
    select: list[str] | None = None
    expand: list[Expand] = field(default_factory=list)

    def context_suffix(self) -> str:
        parts = list(self.select or []) + [e.context() for e in self.expand]
        return f"({','.join(parts)})" if parts else ""


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on `sep` outside parentheses."""
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p.strip() for p in out]


def type_name(ent: Entity, version: int) -> str:
    return ent.qualified if version == 4 else f"Terrasoft.Configuration.{ent.name}"


def parse_select(text: str, ent: Entity, version: int) -> list[str] | None:
    items = [p for p in split_top(text) if p]
    if not items or "*" in items:
        return None
    bad_stream = False
    for item in items:
        if item in ent.navs:
            continue
        col = ent.columns.get(item)
        if col is None:
            if version == 3:
                raise QueryError(f"No property '{item}' exists in type '{type_name(ent, 3)}' at position 0.")
            raise QueryError(f"Could not find a property named '{item}' on type '{type_name(ent, 4)}'.")
        if col.kind == "stream":
            bad_stream = True
    if bad_stream:
        raise StreamSelected()
    return [i for i in items if i not in ent.navs]


def parse_expand(text: str, ent: Entity, schema: Schema, version: int) -> list[Expand]:
    out = []
    for item in split_top(text):
        if not item:
            continue
        name, _, opts = item.partition("(")
        name = name.strip()
        nav = ent.navs.get(name)
        if nav is None:
            if name in ent.columns:
                raise QueryError(f"Property '{name}' on type '{type_name(ent, version)}' is not a navigation "
                                 "property or complex property. Only navigation properties can be expanded.")
            raise QueryError(f"Could not find a property named '{name}' on type '{type_name(ent, version)}'.")
        target = schema.entities[nav.target or ""]
        exp = Expand(nav, target)
        if opts:
            if not opts.endswith(")"):
                raise QueryError(f"Syntax error at position {len(item)} in '{text}'.")
            for opt in split_top(opts[:-1], ";"):
                key, _, value = opt.partition("=")
                key = key.strip()
                if key == "$select":
                    exp.select = parse_select(value, target, version)
                elif key == "$expand":
                    exp.expand = parse_expand(value, target, schema, version)
                elif key:
                    raise QueryError(f"The query option '{key}' is not supported inside $expand.")
        out.append(exp)
    return out


def parse_int(name: str, value: str) -> int:
    if not value.isdigit():
        raise QueryError(f"Invalid value '{value}' for {name} query option found. The {name} query option "
                         "requires a non-negative integer value.")
    return int(value)


def parse_query(params: list[tuple[str, str]], ent: Entity, store: Store, version: int) -> Query:
    """Validate and bind the options; raise QueryError (400), PathNotFound or StreamSelected (500)."""
    allowed = V4_OPTIONS if version == 4 else V3_OPTIONS
    opts: dict[str, str] = {}
    for key, value in params:
        if not key.startswith("$"):
            continue  # custom query options are ignored, as in ASP.NET
        if key not in allowed:
            if version == 3:
                raise QueryError(f"The query parameter '{key}' begins with a system-reserved '$' character but "
                                 "is not recognized.")
            raise QueryError(f"The query parameter '{key}' is not supported.")
        if key in opts:
            raise QueryError(f"Query option '{key}' was specified more than once, but it must be specified at "
                             "most once.")
        opts[key] = value
    q = Query()
    schema = store.schema
    if "$filter" in opts:
        q.filter = compile_filter(opts["$filter"], schema, ent, version, store.get)
    if "$orderby" in opts:
        msgs = Messages(version, opts["$orderby"])
        binder = Binder(schema, ent, version, msgs, store.get)
        for item in split_top(opts["$orderby"]):
            words = item.split()
            if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
                raise msgs.syntax(0)
            bound = binder.bind_path(Path(words[0].split("/"), 0))
            q.orderby.append((bound.get, len(words) == 2 and words[1] == "desc"))
    nav_select: dict[str, list[str]] = {}
    if "$select" in opts:
        text = opts["$select"]
        if version == 3:  # `$select=Contact/Id,Contact/Name&$expand=Contact` (OData 3 clients)
            plain = []
            for item in split_top(text):
                nav_name, slash, prop = item.partition("/")
                if slash and nav_name in ent.navs:
                    target = schema.entities[ent.navs[nav_name].target or ""]
                    nav_select.setdefault(nav_name, []).extend(parse_select(prop, target, 3) or [])
                else:
                    plain.append(item)
            text = ",".join(plain) if plain else ",".join(f"{n}" for n in nav_select) or "*"
        q.select = parse_select(text, ent, version)
    if "$expand" in opts:
        q.expand = parse_expand(opts["$expand"], ent, schema, version)
        for exp in q.expand:
            if exp.nav.name in nav_select:
                exp.select = nav_select[exp.nav.name]
    if "$top" in opts:
        q.top = parse_int("$top", opts["$top"])
    if "$skip" in opts:
        q.skip = parse_int("$skip", opts["$skip"])
    if "$count" in opts:
        if opts["$count"] not in ("true", "false"):
            raise QueryError(f"'{opts['$count']}' is not a valid count option.")
        q.count = opts["$count"] == "true"
    if "$inlinecount" in opts:
        if opts["$inlinecount"] not in ("allpages", "none"):
            raise QueryError("Invalid value for $inlinecount.")
        q.count = opts["$inlinecount"] == "allpages"
    return q


def run(q: Query, ent: Entity, store: Store, max_rows: int = MAX_ROWS) -> tuple[list[dict[str, Any]], int]:
    """Matching rows (after order/skip/top/cap) and the total before paging."""
    rows: Any
    if q.filter is not None:
        pred = q.filter.predicate
        candidates = None
        for prop, value in q.filter.hints:
            ids = store.lookup(ent.name, prop, value)
            candidates = ids if candidates is None else candidates & ids
        if candidates is not None:
            table = store.table(ent.name)
            source = [table[i] for i in candidates if i in table]
            if len(source) > 1:
                seq = store.seq
                source.sort(key=lambda r: seq.get(r["Id"], 0))
        else:
            source = list(store.scan(ent.name))
        rows = [r for r in source if pred(r)]
    else:
        rows = list(store.scan(ent.name))
    total = len(rows)
    for getter, desc in reversed(q.orderby):
        rows.sort(key=lambda r, g=getter: _sort_key(g(r)), reverse=desc)
    end = q.skip + q.top if q.top is not None else None
    rows = rows[q.skip:end][:max_rows]
    return rows, total


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, 0) if v is None else (1, v)
