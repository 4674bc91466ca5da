"""An OData `$filter` builder in which a value can never become syntax.

Expressions are trees of small objects; text is produced only by `render()`, which writes
field names that passed a strict pattern and values through typed literal functions
(strings quoted with `'` doubled, GUIDs parsed and re-printed, dates re-formatted, numbers
re-printed). There is no way to pass raw filter text.

    from bpmlink.bpmonline.filters import F
    expr = F.and_(F.eq("Email", "o'brien@example.com"), F.eq_lookup("Account", account_id))
    expr.render(ODataV4())  # "Email eq 'o''brien@example.com' and Account/Id eq 0b6e…"

Value types follow the field's Edm type when a `FieldTypes` resolver (from `$metadata`) is
given; otherwise the Python type decides (`str` → string, `uuid.UUID` → GUID, `datetime` →
date-time, `bool`, numbers, `None` → null). A resolver also turns a flat lookup column in a
filter (`AccountId`) into its navigation path (`Account/Id`), because Creatio answers 500 to
the flat form.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from bpmlink.bpmonline.dialects import Dialect, as_uuid, string_literal

FIELD_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)?$")
_COMPARE_OPS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_STRING_FUNCS = frozenset({"contains", "startswith", "endswith"})
_INT_TYPES = frozenset({"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"})
_DEC_TYPES = frozenset({"Edm.Decimal", "Edm.Double", "Edm.Single"})
_DATE_TYPES = frozenset({"Edm.DateTimeOffset", "Edm.DateTime", "Edm.Date"})


class FilterError(ValueError):
    """A filter that cannot be written safely (bad field name, value of the wrong type…)."""


class FieldTypes(Protocol):
    """Tells the Edm type of a field path, and the path to write (for lookup columns)."""

    def resolve(self, path: str) -> tuple[str, str | None]: ...


def check_field(name: str) -> str:
    if not isinstance(name, str) or not FIELD_PATTERN.match(name):
        raise FilterError(f"invalid field name {name!r}")
    return name


class Expr:
    """A filter expression; combine with `&`, `|`, `~` or `F.and_/or_/not_`."""

    def render(self, dialect: Dialect, types: FieldTypes | None = None) -> str:
        raise NotImplementedError

    def __and__(self, other: Expr) -> Expr:
        return _Bool("and", (self, other))

    def __or__(self, other: Expr) -> Expr:
        return _Bool("or", (self, other))

    def __invert__(self) -> Expr:
        return _Not(self)


def _resolve(path: str, types: FieldTypes | None) -> tuple[str, str | None]:
    if types is None:
        return path, None
    return types.resolve(path)


def _typed_literal(value: Any, edm_type: str | None, dialect: Dialect) -> str:
    """Write `value` as a literal of `edm_type` (or of its Python type when unknown)."""
    if value is None:
        return "null"
    if edm_type is None or edm_type not in _WRITERS:
        return _untyped_literal(value, dialect)
    try:
        return _WRITERS[edm_type](value, edm_type, dialect)
    except (ValueError, InvalidOperation) as exc:  # a FilterError is a ValueError: reworded here too
        raise FilterError(f"{value!r} is not a valid {edm_type} value") from exc


def _text_literal(value: Any, edm_type: str, dialect: Dialect) -> str:
    if isinstance(value, bool | datetime | date | uuid.UUID) or not isinstance(value, str | int | float | Decimal):
        raise FilterError(f"a {type(value).__name__} is not a text value")
    return string_literal(str(value))


def _guid_literal(value: Any, edm_type: str, dialect: Dialect) -> str:
    return dialect.guid_literal(as_uuid(value))


def _date_literal(value: Any, edm_type: str, dialect: Dialect) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if not isinstance(value, date):
        raise FilterError(f"a {type(value).__name__} is not a date")
    return dialect.datetime_literal(value)


def _boolean_literal(value: Any, edm_type: str, dialect: Dialect) -> str:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    if not isinstance(value, bool):
        raise FilterError(f"a {type(value).__name__} is not a boolean")
    return "true" if value else "false"


def _integer_literal(value: Any, edm_type: str, dialect: Dialect) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FilterError(f"a {type(value).__name__} is not an integer")
    return dialect.typed_number_literal(int(value), edm_type)


def _decimal_literal(value: Any, edm_type: str, dialect: Dialect) -> str:
    if isinstance(value, bool):
        raise FilterError("a bool is not a number")
    return dialect.typed_number_literal(Decimal(str(value)), edm_type)


_WRITERS: dict[str, Callable[[Any, str, Dialect], str]] = {
    "Edm.String": _text_literal,
    "Edm.Guid": _guid_literal,
    "Edm.Boolean": _boolean_literal,
    **dict.fromkeys(_DATE_TYPES, _date_literal),
    **dict.fromkeys(_INT_TYPES, _integer_literal),
    **dict.fromkeys(_DEC_TYPES, _decimal_literal),
}


def _untyped_literal(value: Any, dialect: Dialect) -> str:
    """Type unknown (no resolver, or an Edm type without a writer): the Python type decides."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, uuid.UUID):
        return dialect.guid_literal(value)
    if isinstance(value, date):
        return dialect.datetime_literal(value)
    if isinstance(value, int | float | Decimal):
        try:
            return dialect.typed_number_literal(value, None)
        except ValueError as exc:
            raise FilterError(str(exc)) from exc
    if isinstance(value, str):
        return string_literal(value)
    raise FilterError(f"cannot write a {type(value).__name__} in a filter")


@dataclass(frozen=True)
class _Compare(Expr):
    field: str
    op: str
    value: Any

    def render(self, dialect: Dialect, types: FieldTypes | None = None) -> str:
        path, edm = _resolve(self.field, types)
        return f"{path} {self.op} {_typed_literal(self.value, edm, dialect)}"


@dataclass(frozen=True)
class _Func(Expr):
    func: str
    field: str
    value: str

    def render(self, dialect: Dialect, types: FieldTypes | None = None) -> str:
        path, _ = _resolve(self.field, types)
        lit = string_literal(self.value)
        if dialect.version == 3 and self.func == "contains":
            return f"substringof({lit},{path})"  # OData 3 has no contains()
        return f"{self.func}({path},{lit})"


@dataclass(frozen=True)
class _EqualsIgnoringCase(Expr):
    """`tolower(Field) eq 'value'`: text equality that ignores case on any collation."""

    field: str
    value: str

    def render(self, dialect: Dialect, types: FieldTypes | None = None) -> str:
        path, _ = _resolve(self.field, types)
        return f"tolower({path}) eq {string_literal(self.value.lower())}"


@dataclass(frozen=True)
class _ContainsIgnoringCase(Expr):
    """`contains(tolower(Field),'value')`: a piece of text in any case."""

    field: str
    value: str

    def render(self, dialect: Dialect, types: FieldTypes | None = None) -> str:
        path, _ = _resolve(self.field, types)
        lit = string_literal(self.value.lower())
        if dialect.version == 3:
            return f"substringof({lit},tolower({path}))"
        return f"contains(tolower({path}),{lit})"


@dataclass(frozen=True)
class _Bool(Expr):
    op: str
    parts: tuple[Expr, ...]

    def render(self, dialect: Dialect, types: FieldTypes | None = None) -> str:
        texts = []
        for part in self.parts:
            text = part.render(dialect, types)
            texts.append(f"({text})" if isinstance(part, _Bool) and len(part.parts) > 1 else text)
        return f" {self.op} ".join(texts)


@dataclass(frozen=True)
class _Not(Expr):
    part: Expr

    def render(self, dialect: Dialect, types: FieldTypes | None = None) -> str:
        return f"not ({self.part.render(dialect, types)})"


def _compare(field: str, op: str, value: Any) -> Expr:
    if op not in _COMPARE_OPS:
        raise FilterError(f"unknown operator {op!r}")
    return _Compare(check_field(field), op, value)


def _func(func: str, field: str, value: str) -> Expr:
    if not isinstance(value, str):
        raise FilterError(f"{func}() takes a text value")
    return _Func(func, check_field(field), value)


def _combine(op: str, parts: Iterable[Expr]) -> Expr:
    items = tuple(parts)
    if not items:
        raise FilterError(f"{op} needs at least one condition")
    for item in items:
        if not isinstance(item, Expr):
            raise FilterError("conditions must be built with F")
    return items[0] if len(items) == 1 else _Bool(op, items)


class F:
    """Constructors for filter expressions (a namespace, never instantiated)."""

    @staticmethod
    def eq(field: str, value: Any) -> Expr:
        return _compare(field, "eq", value)

    @staticmethod
    def ne(field: str, value: Any) -> Expr:
        return _compare(field, "ne", value)

    @staticmethod
    def gt(field: str, value: Any) -> Expr:
        return _compare(field, "gt", value)

    @staticmethod
    def ge(field: str, value: Any) -> Expr:
        return _compare(field, "ge", value)

    @staticmethod
    def lt(field: str, value: Any) -> Expr:
        return _compare(field, "lt", value)

    @staticmethod
    def le(field: str, value: Any) -> Expr:
        return _compare(field, "le", value)

    @staticmethod
    def eq_ignore_case(field: str, value: str) -> Expr:
        if not isinstance(value, str):
            raise FilterError("eq_ignore_case takes a text value")
        return _EqualsIgnoringCase(check_field(field), value)

    @staticmethod
    def contains_ignore_case(field: str, value: str) -> Expr:
        if not isinstance(value, str):
            raise FilterError("contains_ignore_case takes a text value")
        return _ContainsIgnoringCase(check_field(field), value)

    @staticmethod
    def is_null(field: str) -> Expr:
        return _compare(field, "eq", None)

    @staticmethod
    def contains(field: str, value: str) -> Expr:
        return _func("contains", field, value)

    @staticmethod
    def startswith(field: str, value: str) -> Expr:
        return _func("startswith", field, value)

    @staticmethod
    def endswith(field: str, value: str) -> Expr:
        return _func("endswith", field, value)

    @staticmethod
    def eq_lookup(lookup: str, record_id: uuid.UUID | str) -> Expr:
        """`Account/Id eq <guid>`; `lookup` is the navigation name (`AccountId` is accepted)."""
        nav = lookup[:-2] if lookup.endswith("Id") and len(lookup) > 2 else lookup
        if "/" in nav:
            raise FilterError("eq_lookup takes a navigation name, not a path")
        try:
            guid = as_uuid(record_id)
        except ValueError as exc:
            raise FilterError(str(exc)) from exc
        return _Compare(check_field(f"{nav}/Id"), "eq", guid)

    @staticmethod
    def in_(field: str, values: Iterable[Any]) -> Expr:
        return _combine("or", [F.eq(field, v) for v in values])

    @staticmethod
    def and_(*parts: Expr) -> Expr:
        return _combine("and", parts)

    @staticmethod
    def or_(*parts: Expr) -> Expr:
        return _combine("or", parts)

    @staticmethod
    def not_(part: Expr) -> Expr:
        return _Not(part)
