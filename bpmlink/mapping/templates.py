"""Jinja2 templates over a source item, sandboxed and time-limited.

What a template sees: every top-level key of the item as a variable
(``{{ first_name }}``) and the whole item as ``item`` (``{{ item["first name"] }}``
for keys that are not names). Nothing else: no globals except a limited
``range``, no Python internals (the Jinja sandbox refuses ``__class__`` and any
``_private`` name, and here such an attempt fails the template with a clear
error instead of printing nothing).

Missing values are lenient: ``{{ missing }}``, ``{{ missing.deeper }}`` and
``None`` render as an empty string, because that is what a user building a
"{{ first_name }} {{ last_name }}" expects when a field is absent.

On dicts, ``a.b`` reads the key ``b`` before any dict method, so a source field
called ``items`` or ``keys`` reads as data.

Limits, so that one template cannot stall a worker: rendering stops after
`time_limit` seconds (checked at each loop step, call, attribute and filter),
``range`` gives at most 10 000 numbers, strings and lists built by ``+``, ``*``,
``~``, filters and method calls are capped at 100 000 items, and so is the output.

Extra filters: ``phone_e164(region)``, ``to_number``, ``to_bool``,
``to_date(format, timezone)``, ``utc`` (a date as ``YYYY-MM-DDTHH:MM:SSZ``),
``strftime(format)``, ``digits``, ``coalesce(other, …)``, ``to_text``; ``join``,
``replace``, ``batch`` and ``tojson`` (plain JSON, Cyrillic kept) are size-checked
versions of Jinja's; ``center``, ``indent``, ``wordwrap``, ``format`` and
``slice`` are removed, and so are the text methods that pad or multiply
(``.format``, ``.rjust``, ``.replace``, ``.join``…): use the filters. Lists and
dicts cannot be modified (Jinja's immutable sandbox).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any, Final

from jinja2 import ChainableUndefined, Environment, TemplateSyntaxError, Undefined, nodes, pass_environment
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bpmlink.mapping.budget import pace
from bpmlink.mapping.errors import ConversionError
from bpmlink.mapping.values import (
    as_utc_datetime,
    format_datetime_utc,
    is_blank,
    normalize_phone,
    parse_boolean,
    parse_datetime,
    parse_number,
    to_text,
)

DEFAULT_TIME_LIMIT: Final = 1.0
MAX_RANGE: Final = 10_000
MAX_SIZE: Final = 100_000
MAX_TEMPLATE_LENGTH: Final = 20_000

_GUARD_ITER: Final = "_bpmlink_guard_iter"
_CAP: Final = "_bpmlink_cap"

# Filters that can blow a short input up to a huge string in one C call.
_REMOVED_FILTERS: Final = ("center", "indent", "wordwrap", "format", "filesizeformat", "pprint", "slice")
# String methods that do the same (widths, padding).
# (replace/join/translate have size-checked filter forms: |replace, |join.)
_UNSAFE_STR_METHODS: Final = frozenset(
    {"format", "format_map", "center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "translate"}
)
_MAX_POWER_BITS: Final = 4096
_PERCENT_WIDTH = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_STRFTIME_WIDTH = re.compile(r"%[-_0^#]*\d")


class TemplateError(ConversionError):
    """The template could not be rendered (syntax, a refused operation, a limit)."""


class TemplateTimeout(TemplateError):
    """Rendering took longer than the time limit."""


_deadline: ContextVar[float | None] = ContextVar("bpmlink_template_deadline", default=None)
_phone_region: ContextVar[str | None] = ContextVar("bpmlink_template_phone_region", default=None)


def _check_time() -> None:
    pace()
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateTimeout("the template took too long to render (time limit reached)")


def _cap(value: Any) -> Any:
    """Refuse strings and lists above MAX_SIZE; pass anything else through."""
    if isinstance(value, str | list | tuple) and len(value) > MAX_SIZE:
        raise TemplateError(
            f"the template built a value longer than {MAX_SIZE} characters or items",
            code="template_value_too_long",
            params={"limit": MAX_SIZE},
        )
    return value


def _guard_iter(value: Any) -> Iterator[Any]:
    """Every `{% for %}` runs over this, so a loop stops at the deadline."""
    if value is None or isinstance(value, Undefined):
        return
    for element in value:
        _check_time()
        yield element


def _limited_range(*args: int) -> range:
    rng = range(*args)
    if len(rng) > MAX_RANGE:
        raise TemplateError(
            f"range() gives at most {MAX_RANGE} numbers in a template",
            code="template_range_limit",
            params={"limit": MAX_RANGE},
        )
    return rng


def _guarded_filter(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)  # keeps jinja's pass_context/pass_eval_context marks
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        return _cap(fn(*args, **kwargs))

    return wrapper


# --------------------------------------------------------------------------- our filters


def _phone_filter(value: Any, region: str | None = None, strict: bool = True) -> str:
    if is_blank(value) or isinstance(value, Undefined):
        return ""
    return normalize_phone(value, region or _phone_region.get(), strict)


def _number_filter(value: Any) -> Any:
    return None if is_blank(value) or isinstance(value, Undefined) else parse_number(value)


def _bool_filter(value: Any) -> Any:
    return None if is_blank(value) or isinstance(value, Undefined) else parse_boolean(value)


def _date_filter(value: Any, format: str | None = None, timezone: str | None = None) -> Any:
    if is_blank(value) or isinstance(value, Undefined):
        return None
    return parse_datetime(value, [format] if format else None, timezone)


def _utc_filter(value: Any) -> str:
    if is_blank(value) or isinstance(value, Undefined):
        return ""
    moment = value if isinstance(value, datetime | date) else parse_datetime(value)
    return format_datetime_utc(as_utc_datetime(moment))


def _strftime_filter(value: Any, fmt: str) -> str:
    if is_blank(value) or isinstance(value, Undefined):
        return ""
    if len(fmt) > 100 or _STRFTIME_WIDTH.search(fmt):
        raise TemplateError("strftime formats with widths are not allowed in templates", code="template_strftime_width")
    moment = value if isinstance(value, datetime | date) else parse_datetime(value)
    return moment.strftime(fmt)


def _digits_filter(value: Any) -> str:
    return "".join(ch for ch in to_text(value) if ch.isdigit())


def _coalesce_filter(value: Any, *others: Any) -> Any:
    for candidate in (value, *others):
        if not is_blank(candidate) and not isinstance(candidate, Undefined):
            return candidate
    return None


def _text_filter(value: Any) -> str:
    return "" if isinstance(value, Undefined) else to_text(value)


def _too_big(what: str) -> TemplateError:
    return TemplateError(
        f"{what} would build a value longer than {MAX_SIZE} characters or items",
        code="template_would_be_too_long",
        params={"what": what, "limit": MAX_SIZE},
    )


# Size-checked stand-ins for the builtin filters whose output can dwarf their input.


@pass_environment
def _join_filter(env: Environment, value: Any, d: str = "", attribute: str | int | None = None) -> str:
    if isinstance(value, str):
        return value
    items = _cap(list(_guard_iter(value)))
    if attribute is not None:
        items = [env.getitem(i, attribute) for i in items]
    if len(str(d)) * len(items) > MAX_SIZE:
        raise _too_big("join")
    return _cap(str(d).join(_finalize(i) for i in items))


def _replace_filter(value: Any, old: str, new: str, count: int | None = None) -> str:
    text, old, new = to_text(value), str(old), str(new)
    hits = len(text) + 1 if not old else text.count(old)
    if count is not None:
        hits = min(hits, max(count, 0))
    if len(text) + hits * len(new) > MAX_SIZE:
        raise _too_big("replace")
    return text.replace(old, new, -1 if count is None else count)


def _batch_filter(value: Any, linecount: int, fill_with: Any = None) -> list[list[Any]]:
    if not isinstance(linecount, int) or not 0 < linecount <= MAX_RANGE:
        raise TemplateError(
            f"batch sizes from 1 to {MAX_RANGE} are allowed in templates",
            code="template_batch_size",
            params={"limit": MAX_RANGE},
        )
    items = _cap(list(_guard_iter(value)))
    rows = [items[i : i + linecount] for i in range(0, len(items), linecount)]
    if rows and fill_with is not None:
        rows[-1] = rows[-1] + [fill_with] * (linecount - len(rows[-1]))
    return rows


def _tojson_filter(value: Any, indent: int | None = None) -> str:
    if indent is not None and not 0 <= indent <= 8:
        raise TemplateError("tojson indents from 0 to 8 are allowed in templates", code="template_tojson_indent")
    return json.dumps(value, ensure_ascii=False, indent=indent, default=to_text)


_EXTRA_FILTERS: Final[dict[str, Callable[..., Any]]] = {
    "join": _join_filter,
    "replace": _replace_filter,
    "batch": _batch_filter,
    "tojson": _tojson_filter,
    "phone_e164": _phone_filter,
    "to_number": _number_filter,
    "to_bool": _bool_filter,
    "to_date": _date_filter,
    "utc": _utc_filter,
    "strftime": _strftime_filter,
    "digits": _digits_filter,
    "coalesce": _coalesce_filter,
    "to_text": _text_filter,
}


def _finalize(value: Any) -> Any:
    if value is None or isinstance(value, Undefined):
        return ""
    if isinstance(value, str):
        return value
    return to_text(value)


# --------------------------------------------------------------------------- environment


class MappingSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox plus time and size guards and lenient missing values."""

    # Operators that could build huge values in one step are checked before they run.
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=ChainableUndefined, finalize=_finalize, autoescape=False)
        self.globals.clear()  # no cycler/joiner/namespace/lipsum/dict: only the item
        self.globals["range"] = _limited_range
        for name in _REMOVED_FILTERS:
            self.filters.pop(name, None)
        self.filters.update(_EXTRA_FILTERS)
        self.filters = {name: _guarded_filter(fn) for name, fn in self.filters.items()}
        self.filters[_GUARD_ITER] = _guard_iter
        self.filters[_CAP] = _cap

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        # Loops and `~` have no sandbox hook: route them through guard filters.
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _GUARD_ITER, [], [], None, None, lineno=loop.lineno)
        _wrap_concats(tree)
        return tree

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        raise SecurityError(f"access to {attribute!r} of a {type(obj).__name__} is not allowed")

    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_time()
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        _refuse_padding(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_time()
        _refuse_padding(obj, argument)
        return super().getitem(obj, argument)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _check_time()
        return _cap(super().call(context, obj, *args, **kwargs))

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            # Python computes huge integer powers exactly: bound the size of the result.
            if left.bit_length() * right > _MAX_POWER_BITS:
                raise TemplateError("the power is too large for a template", code="template_power_too_large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    if len(seq) * times > MAX_SIZE:
                        raise TemplateError(
                            f"the template built a value longer than {MAX_SIZE}",
                            code="template_value_too_long",
                            params={"limit": MAX_SIZE},
                        )
        if operator == "%" and isinstance(left, str):
            for width, precision in _PERCENT_WIDTH.findall(left):
                for part in (width, precision):
                    if part == "*" or (part and int(part) > 1000):
                        raise TemplateError(
                            "widths above 1000 are not allowed in templates", code="template_width_limit"
                        )
        return _cap(super().call_binop(context, operator, left, right))


def _refuse_padding(obj: Any, attribute: Any) -> None:
    # Checked before the sandbox, which hands out str.format wrapped but unlimited.
    if isinstance(obj, str) and isinstance(attribute, str) and attribute in _UNSAFE_STR_METHODS:
        raise SecurityError(f"the text method {attribute!r} is not allowed in templates")


def _wrap_concats(tree: nodes.Template) -> None:
    """Replace every `a ~ b` by `_bpmlink_cap(a ~ b)`, in one pass over the tree."""
    for parent in list(tree.find_all(nodes.Node)):
        for field, child in parent.iter_fields():
            if isinstance(child, nodes.Concat):
                setattr(parent, field, _capped(child))
            elif isinstance(child, list):
                child[:] = [_capped(c) if isinstance(c, nodes.Concat) else c for c in child]


def _capped(node: nodes.Concat) -> nodes.Filter:
    return nodes.Filter(node, _CAP, [], [], None, None, lineno=node.lineno)


_ENV: Final = MappingSandbox()


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> Any:
    if len(source) > MAX_TEMPLATE_LENGTH:
        raise TemplateError(
            f"the template is longer than {MAX_TEMPLATE_LENGTH} characters",
            code="template_too_long",
            params={"limit": MAX_TEMPLATE_LENGTH},
        )
    try:
        return _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"template syntax error on line {exc.lineno}: {exc.message}",
            code="template_syntax",
            params={"line": exc.lineno, "detail": exc.message},
        ) from None
    except RecursionError:
        raise TemplateError("the template is nested too deeply", code="template_too_deep") from None


class ElementScope(dict[str, Any]):
    """The scope of a for_each step's element: `item` in it is the element, not the whole scope."""


def check_template(source: str) -> None:
    """Raise TemplateError when `source` is not a valid template (used when saving a bundle)."""
    _compile(source)


def render_template(
    source: str,
    item: Any,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    default_phone_region: str | None = None,
) -> str:
    """Render `source` over `item`; raises TemplateError (a ConversionError) on any failure."""
    template = _compile(source)
    context: dict[str, Any] = {}
    if isinstance(item, Mapping):
        context.update((str(k), v) for k, v in item.items())
    if not isinstance(item, ElementScope):  # a for_each step's `item` is its element (in the scope)
        context["item"] = item
    deadline_token = _deadline.set(time.monotonic() + time_limit)
    region_token = _phone_region.set(default_phone_region)
    try:
        return _collect(template.generate(context))
    except TemplateError:
        raise
    except ConversionError as exc:  # from our filters: already plain words
        raise TemplateError(exc.message, code="template_raised", params={"detail": exc.message}) from None
    except UndefinedError as exc:
        raise TemplateError(
            f"the template used something that does not exist: {exc.message}",
            code="template_undefined",
            params={"detail": exc.message},
        ) from None
    except SecurityError as exc:
        raise TemplateError(
            f"the template tried something not allowed: {exc}", code="template_not_allowed", params={"detail": str(exc)}
        ) from None
    except RecursionError:
        raise TemplateError("the template recurses too deeply", code="template_recursion") from None
    except Exception as exc:  # anything a user's template can trigger, shown in their words
        raise TemplateError(
            f"the template failed: {type(exc).__name__}: {exc}",
            code="template_failed",
            params={"kind": type(exc).__name__, "detail": str(exc)},
        ) from None
    finally:
        _phone_region.reset(region_token)
        _deadline.reset(deadline_token)


def _collect(chunks: Iterable[str]) -> str:
    parts: list[str] = []
    total = 0
    for chunk in chunks:
        _check_time()
        total += len(chunk)
        if total > MAX_SIZE:
            raise TemplateError(
                f"the template output is longer than {MAX_SIZE} characters",
                code="template_output_too_long",
                params={"limit": MAX_SIZE},
            )
        parts.append(chunk)
    return "".join(parts)
