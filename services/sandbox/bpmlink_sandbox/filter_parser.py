"""The sandbox's own `$filter` parser, binder and evaluator (§3.3; OData 3 dialect for §5).

Parse → bind against the entity schema (400s for unknown properties and type mismatches, with
Microsoft OData's texts) → flat-FK check (Creatio's 500) → a Python predicate over stored rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .schema import EMPTY_GUID, Entity, Schema
from .values import parse_dt

Getter = Callable[[dict[str, Any]], Any]


class QueryError(Exception):
    """Invalid query → 400 with this message."""


class PathNotFound(Exception):
    """Creatio's ESQ cannot resolve a column path (e.g. the flat FK `AccountId`) → 500."""


NUMERIC = ("Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Double", "Edm.Single")
OP_KIND = {"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual",
           "lt": "LessThan", "le": "LessThanOrEqual", "and": "And", "or": "Or"}
CLR = {"Edm.Guid": "System.Guid", "Edm.String": "System.String", "Edm.Int32": "System.Int32",
       "Edm.Int64": "System.Int64", "Edm.Decimal": "System.Decimal", "Edm.Double": "System.Double",
       "Edm.Boolean": "System.Boolean", "Edm.DateTime": "System.DateTime",
       "Edm.DateTimeOffset": "System.DateTimeOffset", "Edm.Date": "System.DateTime"}
SUPPORTED = {"contains": 2, "startswith": 2, "endswith": 2, "tolower": 1, "toupper": 1}
STANDARD = {"length", "indexof", "substring", "trim", "concat", "year", "month", "day", "hour", "minute",
            "second", "fractionalseconds", "round", "floor", "ceiling", "date", "time", "now", "totaloffsetminutes",
            "maxdatetime", "mindatetime", "totalseconds", "cast", "isof", "geo.distance", "geo.length",
            "geo.intersects", "replace", "matchespattern", "hassubset", "hassubsequence"}

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
_TOKEN_V4 = re.compile(
    r"(?P<ws>\s+)"
    rf"|(?P<guid>{_GUID})(?![\w-])"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))(?![\w:.])"
    r"|(?P<date>\d{4}-\d{2}-\d{2})(?![\w:-])"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)(?![\w.])"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<ident>[A-Za-z_$][A-Za-z0-9_]*)"
    r"|(?P<punct>[()/,])"
)
_TOKEN_V3 = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<typed>(?:guid|datetime|datetimeoffset|time|X|binary)'[^']*')"
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)(?![\w.])"
    r"|(?P<str>'(?:[^']|'')*')"
    r"|(?P<ident>[A-Za-z_$][A-Za-z0-9_]*)"
    r"|(?P<punct>[()/,])"
)


@dataclass
class Tok:
    kind: str
    text: str
    pos: int


# --- AST -----------------------------------------------------------------------------------------
@dataclass
class Lit:
    type: str | None
    value: Any
    pos: int


@dataclass
class Path:
    segments: list[str]
    pos: int


@dataclass
class Call:
    name: str
    args: list[Any]
    pos: int


@dataclass
class Bin:
    op: str
    left: Any
    right: Any
    pos: int


@dataclass
class Not:
    operand: Any
    pos: int


class Messages:
    """Error texts: Microsoft OData (v4, ASP.NET Web API) or WCF Data Services (v3)."""

    def __init__(self, version: int, text: str) -> None:
        self.v = version
        self.text = text

    def syntax(self, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"Syntax error at position {pos}.")
        return QueryError(f"Syntax error at position {pos} in '{self.text}'.")

    def expression_expected(self, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"Expression expected at position {pos}.")
        return QueryError(f"Expression expected at position {pos} in '{self.text}'.")

    def paren_expected(self, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"')' or operator expected at position {pos}.")
        return QueryError(f"')' or operator expected at position {pos} in '{self.text}'.")

    def bad_char(self, ch: str, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"Syntax error '{ch}' at position {pos}.")
        return QueryError(f"Syntax error: character '{ch}' is not valid at position {pos} in '{self.text}'.")

    def unterminated(self, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"Unterminated string literal at position {pos} in '{self.text}'.")
        return QueryError(f"There is an unterminated string literal at position {pos} in '{self.text}'.")

    def no_property(self, name: str, type_name: str, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"No property '{name}' exists in type '{type_name}' at position {pos}.")
        return QueryError(f"Could not find a property named '{name}' on type '{type_name}'.")

    def incompatible(self, op: str, left: str | None, right: str | None, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"Operator '{op}' incompatible with operand types '{CLR.get(left or '', left)}' "
                              f"and '{CLR.get(right or '', right)}' at position {pos}.")
        return QueryError("A binary operator with incompatible types was detected. Found operand types "
                          f"'{left}' and '{right}' for operator kind '{OP_KIND[op]}'.")

    def unary_incompatible(self, operand: str | None, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"Operator 'not' incompatible with operand type '{CLR.get(operand or '', operand)}' "
                              f"at position {pos}.")
        return QueryError("A unary operator with an incompatible type was detected. Found operand type "
                          f"'{operand}' for operator kind 'Not'.")

    def signature(self, name: str, arity: int, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"No applicable function found for '{name}' at position {pos} with the specified "
                              "arguments. The functions considered are: " + _sig(name, arity, "System.String") + ".")
        return QueryError(f"No function signature for the function with name '{name}' matches the specified "
                          "arguments. The function signatures considered are: "
                          + _sig(name, arity, "Edm.String Nullable=true") + ".")

    def unknown_function(self, name: str, pos: int) -> QueryError:
        if self.v == 3:
            return QueryError(f"Unknown function '{name}' at position {pos}.")
        return QueryError(f"An unknown function with name '{name}' was found. This may also be a function import "
                          "or a key lookup on a navigation property, which is not allowed.")

    def not_allowed(self, name: str) -> QueryError:
        return QueryError(f"Function '{name}' is not allowed. To allow it, set the 'AllowedFunctions' property on "
                          "EnableQueryAttribute or QueryValidationSettings.")

    def not_boolean(self) -> QueryError:
        if self.v == 3:
            return QueryError("Expression of type 'System.Boolean' expected at position 0.")
        return QueryError("The $filter expression must evaluate to a single boolean value.")


def _sig(name: str, arity: int, arg: str) -> str:
    return f"{name}({', '.join([arg] * arity)})"


# --- tokenizer and parser ------------------------------------------------------------------------
def tokenize(text: str, version: int, msgs: Messages) -> list[Tok]:
    regex = _TOKEN_V4 if version == 4 else _TOKEN_V3
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = regex.match(text, pos)
        if m is None:
            if text[pos] == "'" or (version == 3 and re.match(r"(?:guid|datetime|datetimeoffset)'", text[pos:])):
                raise msgs.unterminated(pos)
            raise msgs.bad_char(text[pos], pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            toks.append(Tok(kind, m.group(kind), pos))
        pos = m.end()
    toks.append(Tok("end", "", len(text)))
    return toks


class Parser:
    def __init__(self, text: str, version: int) -> None:
        self.text = text
        self.version = version
        self.msgs = Messages(version, text)
        self.toks = tokenize(text, version, self.msgs)
        self.i = 0

    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def take(self) -> Tok:
        t = self.toks[self.i]
        self.i += 1
        return t

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.text in words

    def parse(self) -> Any:
        if self.tok.kind == "end":
            raise self.msgs.expression_expected(0)
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.msgs.syntax(self.tok.pos)
        return node

    def parse_or(self) -> Any:
        node = self.parse_and()
        while self.is_word("or"):
            t = self.take()
            node = Bin("or", node, self.parse_and(), t.pos)
        return node

    def parse_and(self) -> Any:
        node = self.parse_cmp()
        while self.is_word("and"):
            t = self.take()
            node = Bin("and", node, self.parse_cmp(), t.pos)
        return node

    def parse_cmp(self) -> Any:
        node = self.parse_unary()
        while self.is_word("eq", "ne", "gt", "ge", "lt", "le"):
            t = self.take()
            node = Bin(t.text, node, self.parse_unary(), t.pos)
        if self.is_word("has", "in", "add", "sub", "mul", "div", "mod"):
            raise self.msgs.syntax(self.tok.pos)
        return node

    def parse_unary(self) -> Any:
        if self.is_word("not"):
            t = self.take()
            return Not(self.parse_unary(), t.pos)
        return self.parse_primary()

    def parse_primary(self) -> Any:
        t = self.tok
        if t.kind == "end":
            raise self.msgs.expression_expected(t.pos)
        if t.kind == "punct" and t.text == "(":
            self.take()
            node = self.parse_or()
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                raise self.msgs.paren_expected(self.tok.pos)
            self.take()
            return node
        if t.kind in ("str", "guid", "dt", "date", "num", "typed"):
            self.take()
            return self.literal(t)
        if t.kind == "ident":
            self.take()
            if t.text in ("true", "false"):
                return Lit("Edm.Boolean", t.text == "true", t.pos)
            if t.text == "null":
                return Lit(None, None, t.pos)
            if self.tok.kind == "punct" and self.tok.text == "(":
                self.take()
                args = []
                if not (self.tok.kind == "punct" and self.tok.text == ")"):
                    args.append(self.parse_or())
                    while self.tok.kind == "punct" and self.tok.text == ",":
                        self.take()
                        args.append(self.parse_or())
                if not (self.tok.kind == "punct" and self.tok.text == ")"):
                    raise self.msgs.paren_expected(self.tok.pos)
                self.take()
                return Call(t.text, args, t.pos)
            segments = [t.text]
            while self.tok.kind == "punct" and self.tok.text == "/":
                self.take()
                if self.tok.kind != "ident":
                    raise self.msgs.syntax(self.tok.pos)
                segments.append(self.take().text)
            return Path(segments, t.pos)
        raise self.msgs.syntax(t.pos)

    def literal(self, t: Tok) -> Lit:
        if t.kind == "str":
            return Lit("Edm.String", t.text[1:-1].replace("''", "'"), t.pos)
        if t.kind == "guid":
            return Lit("Edm.Guid", t.text.lower(), t.pos)
        if t.kind == "dt":
            return Lit("Edm.DateTimeOffset", parse_dt(t.text), t.pos)
        if t.kind == "date":
            try:
                d = datetime.strptime(t.text, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                raise self.msgs.syntax(t.pos) from None
            return Lit("Edm.Date", d, t.pos)
        if t.kind == "typed":
            prefix, _, rest = t.text.partition("'")
            raw = rest[:-1]
            try:
                if prefix == "guid":
                    if not re.fullmatch(_GUID, raw):
                        raise ValueError(raw)
                    return Lit("Edm.Guid", raw.lower(), t.pos)
                if prefix in ("datetime", "datetimeoffset"):
                    return Lit("Edm.DateTime", parse_dt(raw), t.pos)
            except ValueError:
                raise QueryError(f"Unrecognized '{'Edm.Guid' if prefix == 'guid' else 'Edm.DateTime'}' literal "
                                 f"'{t.text}' at '{t.pos}' in '{self.text}'.") from None
            raise self.msgs.syntax(t.pos)
        text = t.text
        suffix = text[-1] if text[-1] in "mMdDfFlL" else ""
        body = text[:-1] if suffix else text
        if suffix in ("m", "M"):
            return Lit("Edm.Decimal", float(body), t.pos)
        if suffix in ("d", "D", "f", "F"):
            return Lit("Edm.Double", float(body), t.pos)
        if "." in body or "e" in body or "E" in body:
            return Lit("Edm.Decimal", float(body), t.pos)
        n = int(body)
        if suffix in ("l", "L") or not -(2**31) <= n < 2**31:
            return Lit("Edm.Int64", n, t.pos)
        return Lit("Edm.Int32", n, t.pos)


# --- binding -------------------------------------------------------------------------------------
@dataclass
class Bound:
    type: str | None
    get: Getter
    index_hint: tuple[str, Any] | None = None  # (root property, value) candidates for `x eq literal`


@dataclass
class CompiledFilter:
    predicate: Callable[[dict[str, Any]], bool]
    hints: list[tuple[str, Any]] = field(default_factory=list)


class Binder:
    def __init__(self, schema: Schema, root: Entity, version: int, msgs: Messages,
                 fetch: Callable[[str, str], dict[str, Any] | None]) -> None:
        self.schema = schema
        self.root = root
        self.v = version
        self.msgs = msgs
        self.fetch = fetch
        self.bad_path: str | None = None  # first flat-FK path, reported after binding succeeds

    def type_name(self, ent: Entity) -> str:
        return ent.qualified if self.v == 4 else f"Terrasoft.Configuration.{ent.name}"

    def bind(self, node: Any) -> Bound:
        if isinstance(node, Lit):
            value = node.value
            return Bound(node.type, lambda row: value)
        if isinstance(node, Path):
            return self.bind_path(node)
        if isinstance(node, Not):
            inner = self.bind(node.operand)
            if inner.type not in ("Edm.Boolean", None):
                raise self.msgs.unary_incompatible(inner.type, node.pos)
            g = inner.get
            return Bound("Edm.Boolean", lambda row: not g(row))
        if isinstance(node, Call):
            return self.bind_call(node)
        if isinstance(node, Bin):
            return self.bind_bin(node)
        raise self.msgs.syntax(0)

    def bind_path(self, node: Path) -> Bound:
        ent = self.root
        steps: list[tuple[str, str]] = []  # (fk property, target entity) hops
        names: list[str] = []
        segs = node.segments
        for i, seg in enumerate(segs):
            last = i == len(segs) - 1
            nav = ent.navs.get(seg)
            if nav is not None and not last:
                steps.append((nav.prop, nav.target or ""))
                names.append(nav.name)
                ent = self.schema.entities[nav.target or ""]
                continue
            col = ent.columns.get(seg)
            if nav is not None:  # a navigation property itself: only comparable with null
                target = nav.target or ""

                def nav_key(row: dict[str, Any], p: str = nav.prop) -> Any:
                    v = row.get(p)
                    return None if v in (None, EMPTY_GUID) else v
                return self._hop(steps, nav_key, self.type_name(self.schema.entities[target]))
            if col is None or col.kind == "stream" and self.v == 3:
                raise self.msgs.no_property(seg, self.type_name(ent), node.pos)
            if not last:
                raise self.msgs.no_property(segs[i + 1], col.edm, node.pos)
            if col.kind == "lookup" and self.bad_path is None:
                self.bad_path = ".".join([*names, seg])
            prop = col.prop
            edm = col.edm
            if col.kind in ("datetime", "date"):
                edm = "Edm.DateTimeOffset" if self.v == 4 else "Edm.DateTime"

                def get(row: dict[str, Any], p: str = prop) -> Any:
                    v = row.get(p)
                    return parse_dt(v) if v else None
            else:
                def get(row: dict[str, Any], p: str = prop) -> Any:
                    return row.get(p)
            bound = self._hop(steps, get, edm)
            if not steps and col.kind in ("text", "guid", "int", "bool"):
                bound.index_hint = (prop, None)
            elif len(steps) == 1 and prop == "Id":
                bound.index_hint = (steps[0][0], None)  # Account/Id eq G ⊆ AccountId eq G
            return bound
        raise self.msgs.syntax(node.pos)

    def _hop(self, steps: list[tuple[str, str]], get: Getter, edm: str | None) -> Bound:
        if not steps:
            return Bound(edm, get)
        fetch = self.fetch

        def follow(row: dict[str, Any]) -> Any:
            cur: dict[str, Any] | None = row
            for fk, target in steps:
                key = cur.get(fk) if cur is not None else None
                if key is None or key == EMPTY_GUID:
                    return None
                cur = fetch(target, key)
                if cur is None:
                    return None
            return get(cur) if cur is not None else None

        return Bound(edm, follow)

    def bind_call(self, node: Call) -> Bound:
        name = node.name
        args = [self.bind(a) for a in node.args]
        if self.v == 3 and name == "substringof" and len(args) == 2:
            name, args = "contains", [args[1], args[0]]
        if name not in SUPPORTED:
            if name in STANDARD or (self.v == 3 and name == "substringof"):
                raise self.msgs.not_allowed(name)
            raise self.msgs.unknown_function(name, node.pos)
        arity = SUPPORTED[name]
        if len(args) != arity or any(a.type not in ("Edm.String", None) for a in args):
            raise self.msgs.signature(node.name, arity, node.pos)
        if arity == 1:
            g = args[0].get
            fn = str.lower if name == "tolower" else str.upper

            def case(row: dict[str, Any]) -> Any:
                v = g(row)
                return fn(v) if v is not None else None
            bound = Bound("Edm.String", case)
            hint = args[0].index_hint
            if hint is not None and args[0].type == "Edm.String":
                # tolower(Email) eq 'a@b' — the duplicate search of every integration — uses an
                # index on the folded value, as a database would with an index on the expression.
                bound.index_hint = (f"{name}:{hint[0]}", None)
            return bound
        a, b = args[0].get, args[1].get
        method = {"contains": str.__contains__, "startswith": str.startswith, "endswith": str.endswith}[name]

        def test(row: dict[str, Any]) -> bool:
            x, y = a(row), b(row)
            return x is not None and y is not None and bool(method(x, y))
        return Bound("Edm.Boolean", test)

    def bind_bin(self, node: Bin) -> Bound:
        left, right = self.bind(node.left), self.bind(node.right)
        op = node.op
        lt, rt = left.type, right.type
        if op in ("and", "or"):
            if lt not in ("Edm.Boolean", None) or rt not in ("Edm.Boolean", None):
                raise self.msgs.incompatible(op, lt, rt, node.pos)
            lg, rg = left.get, right.get
            if op == "and":
                return Bound("Edm.Boolean", lambda row: bool(lg(row)) and bool(rg(row)))
            return Bound("Edm.Boolean", lambda row: bool(lg(row)) or bool(rg(row)))
        if not _comparable(lt, rt):
            raise self.msgs.incompatible(op, lt, rt, node.pos)
        lg, rg = left.get, right.get
        hint = None
        if op == "eq" and isinstance(node.right, Lit) and left.index_hint and node.right.value is not None:
            hint = (left.index_hint[0], node.right.value)
        elif op == "eq" and isinstance(node.left, Lit) and right.index_hint and node.left.value is not None:
            hint = (right.index_hint[0], node.left.value)
        if hint and (lt in ("Edm.Decimal", "Edm.Double") or rt in ("Edm.Decimal", "Edm.Double")):
            hint = None
        null_literal = any(isinstance(n, Lit) and n.value is None for n in (node.left, node.right))
        return Bound("Edm.Boolean", _compare(op, lg, rg, null_literal), hint)


def _comparable(a: str | None, b: str | None) -> bool:
    if a is None or b is None or a == b:
        return True
    if a in NUMERIC and b in NUMERIC:
        return True
    dates = {"Edm.DateTimeOffset", "Edm.Date", "Edm.DateTime"}
    return a in dates and b in dates


def _compare(op: str, lg: Getter, rg: Getter, null_literal: bool) -> Callable[[dict[str, Any]], bool]:
    """SQL semantics, as Creatio runs filters in the database: only `x eq/ne null` tests for NULL,
    any other comparison with a NULL (e.g. an empty lookup's `Account/Name`) is false."""
    if op in ("eq", "ne") and null_literal:
        if op == "eq":
            return lambda row: lg(row) is None and rg(row) is None
        return lambda row: not (lg(row) is None and rg(row) is None)
    if op == "eq":
        def eq(row: dict[str, Any]) -> bool:
            a, b = lg(row), rg(row)
            return a is not None and b is not None and a == b
        return eq
    if op == "ne":
        def ne(row: dict[str, Any]) -> bool:
            a, b = lg(row), rg(row)
            return a is not None and b is not None and a != b
        return ne

    def ordered(row: dict[str, Any]) -> bool:
        a, b = lg(row), rg(row)
        if a is None or b is None:
            return False
        if op == "gt":
            return bool(a > b)
        if op == "ge":
            return bool(a >= b)
        if op == "lt":
            return bool(a < b)
        return bool(a <= b)
    return ordered


def compile_filter(text: str, schema: Schema, entity: Entity, version: int,
                   fetch: Callable[[str, str], dict[str, Any] | None]) -> CompiledFilter:
    """Raise QueryError (→ 400) or PathNotFound (→ 500); else the row predicate plus index hints."""
    parser = Parser(text, version)
    tree = parser.parse()
    binder = Binder(schema, entity, version, parser.msgs, fetch)
    bound = binder.bind(tree)
    if bound.type not in ("Edm.Boolean", None):
        raise parser.msgs.not_boolean()
    if binder.bad_path is not None:
        raise PathNotFound(f"Column by path {binder.bad_path} not found in schema {entity.name}")
    hints: list[tuple[str, Any]] = []
    _collect_hints(tree, bound, hints, binder)
    pred = bound.get
    return CompiledFilter(lambda row: bool(pred(row)), hints)


def _collect_hints(tree: Any, bound: Bound, out: list[tuple[str, Any]], binder: Binder) -> None:
    """Index hints of the top-level `and` conjuncts (each narrows the candidates safely)."""
    if bound.index_hint and isinstance(tree, Bin) and tree.op == "eq":
        out.append(bound.index_hint)
        return
    if isinstance(tree, Bin) and tree.op == "and":
        for side in (tree.left, tree.right):
            _collect_hints(side, binder.bind(side), out, binder)
