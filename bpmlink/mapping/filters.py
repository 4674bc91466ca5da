"""The bundle's filter on source items: conditions in nested AND/OR groups.

    {"join": "and", "conditions": [
        {"field": "form.type", "op": "equals", "value": "lead"},
        {"join": "or", "conditions": [
            {"field": "email", "op": "not_empty"},
            {"field": "phone", "op": "matches", "value": "^\\\\+7"}]}]}

Text operators ignore case unless ``"case_sensitive": true``. On a list value an
operator holds when it holds for any element (``not_equals``: for none). A
number or date comparison on a value that is not one does not hold (the reason
says why). An empty group holds.

``matches`` runs on RE2, whose time is linear in the text for every pattern (no
catastrophic backtracking); the constructs RE2 has no linear algorithm for
(lookarounds, backreferences, possessive and atomic groups) are refused when the
bundle is saved (`check_filter`; a configuration saved before still loads, and
such a condition fails its events' evaluation with FilterError). Evaluation runs under the event's `Budget`
(`budget`): at most MAX_CONDITIONS conditions, the first MAX_LIST_ELEMENTS
elements of a list value, and the shared time budget, checked at each condition
and element.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Final, Literal

import re2
from pydantic import BaseModel, ConfigDict, model_validator

from bpmlink.kit.messages import Message, message
from bpmlink.mapping.budget import MAX_CONDITIONS, MAX_LIST_ELEMENTS, Budget, too_many
from bpmlink.mapping.errors import ConversionError, MappingError
from bpmlink.mapping.paths import get_path, parse_path
from bpmlink.mapping.quarantine import movable
from bpmlink.mapping.values import (
    as_utc_datetime,
    is_blank,
    parse_boolean,
    parse_datetime,
    parse_number,
    show_value,
    to_text,
)

MAX_PATTERN_LENGTH: Final = 1000
_PATTERN_MEMORY: Final = 1 << 20  # bytes RE2 may use for one compiled pattern

Operator = Literal[
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "is_empty",
    "not_empty",
    "matches",
    "gt",
    "ge",
    "lt",
    "le",
    "before",
    "after",
]
_NO_VALUE: Final = frozenset({"is_empty", "not_empty"})
_NUMBER_OPS: Final = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}
_DATE_OPS: Final = frozenset({"before", "after"})


class FilterError(MappingError):
    """A condition could not be evaluated (a pattern RE2 refuses, in a configuration saved before)."""


class Condition(BaseModel):
    """One test of a source field (a path, see `paths`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    op: Operator
    value: Any = None
    case_sensitive: bool = False

    @model_validator(mode="after")
    def _check(self) -> Condition:
        parse_path(self.field)
        if self.op in _NO_VALUE:
            return self
        if self.value is None:
            raise ValueError(f"the condition '{self.field} {self.op}' needs a value")
        try:
            if self.op in _NUMBER_OPS:
                parse_number(self.value)
            elif self.op in _DATE_OPS:
                parse_datetime(self.value)
        except ConversionError as exc:
            raise ValueError(f"the condition '{self.field} {self.op}': {exc}") from None
        return self


class FilterGroup(BaseModel):
    """Conditions and groups joined by AND (all hold) or OR (any holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    join: Literal["and", "or"] = "and"
    conditions: list[Condition | FilterGroup] = []

    def size(self) -> int:
        """The number of conditions in this group and the groups inside it."""
        return sum(part.size() if isinstance(part, FilterGroup) else 1 for part in self.conditions)


def check_filter(group: FilterGroup, path: str = "filter") -> list[tuple[str, str]]:
    """The problems that refuse `group` at save, as (field path, message): the patterns RE2
    refuses, with the reason, and more than MAX_CONDITIONS conditions."""
    problems: list[tuple[str, str]] = []
    if path == "filter" and group.size() > MAX_CONDITIONS:
        problems.append((path, too_many("conditions", group.size(), MAX_CONDITIONS).message))
    for index, part in enumerate(group.conditions):
        where = f"{path}.conditions[{index}]"
        if isinstance(part, FilterGroup):
            problems += check_filter(part, where)
        elif part.op == "matches":
            problem = _pattern_problem(str(part.value))
            if problem:
                problems.append((f"{where}.value", f"the regular expression {show_value(part.value)} {problem}"))
    return problems


@dataclass(frozen=True)
class FilterResult:
    """Whether the item passes, and why not (`why`: a message for the history, in any language)."""

    passed: bool
    why: Message | None = None

    @property
    def reason(self) -> str:
        """Why not, in English ("" when it passed)."""
        return self.why.text if self.why else ""


def evaluate(filter: FilterGroup | None, item: Any, *, budget: Budget | None = None) -> bool:
    """True when `item` passes `filter` (no filter: every item passes). May raise MappingError."""
    return explain(filter, item, budget=budget).passed


@movable  # runs in a quarantine process for a workspace whose code spent its budget
def explain(filter: FilterGroup | None, item: Any, *, budget: Budget | None = None) -> FilterResult:
    """Like `evaluate`, with the reason an item was filtered out (the first failing condition).

    Raises LimitExceeded past MAX_CONDITIONS or the budget, FilterError on a pattern RE2 refuses."""
    if filter is None:
        return FilterResult(True)
    if filter.size() > MAX_CONDITIONS:
        raise too_many("conditions", filter.size(), MAX_CONDITIONS)
    return _group(filter, item, budget or Budget())


def _group(group: FilterGroup, item: Any, budget: Budget) -> FilterResult:
    failures: list[Message] = []
    for part in group.conditions:
        if isinstance(part, FilterGroup):
            result = _group(part, item, budget)
        else:
            result = _condition(part, item, budget)
        if group.join == "and" and not result.passed:
            return result
        if group.join == "or":
            if result.passed:
                return result
            failures.extend([result.why] if result.why else [])
    if group.join == "or" and group.conditions:
        text = "none of these held: " + "; ".join(f.text for f in failures)
        return FilterResult(False, message("filter_none_held", text, failures=failures))
    return FilterResult(True)


def _condition(cond: Condition, item: Any, budget: Budget) -> FilterResult:
    budget.check(cond.field)
    actual = get_path(item, cond.field)
    if cond.op == "is_empty":
        passed, why = is_blank(actual), _value_is(actual)
    elif cond.op == "not_empty":
        passed, why = not is_blank(actual), message("filter_value_empty", "the value is empty")
    else:
        values = actual[:MAX_LIST_ELEMENTS] if isinstance(actual, list | tuple) else [actual]

        def holds(op: str, value: Any) -> bool:
            budget.check(cond.field)
            return _test(op, value, cond)

        if cond.op in ("not_equals", "not_contains"):
            positive = "equals" if cond.op == "not_equals" else "contains"
            passed = not any(holds(positive, v) for v in values)
        else:
            passed = any(holds(cond.op, v) for v in values)
        why = _why_not(cond, actual)
    if passed:
        return FilterResult(True)
    return FilterResult(False, _did_not_hold(cond, why))


def _did_not_hold(cond: Condition, why: Message) -> Message:
    """«field op value did not hold: why», the operator as a code of its own (`filter_op_<op>`)."""
    op = message(f"filter_op_{cond.op}", cond.op.replace("_", " "))
    if cond.op in _NO_VALUE:
        described = message("filter_condition_no_value", f"{cond.field} {op.text}", field=cond.field, op=op)
    else:
        value = show_value(cond.value)
        described = message("filter_condition", f"{cond.field} {op.text} {value}", field=cond.field, op=op, value=value)
    return message("filter_did_not_hold", f"{described.text} did not hold: {why.text}", condition=described, why=why)


def _value_is(actual: Any) -> Message:
    return message("filter_value_is", f"the value is {show_value(actual)}", value=show_value(actual))


def _why_not(cond: Condition, actual: Any) -> Message:
    if actual is None:
        return message("filter_field_missing", "the field is missing")
    if cond.op in _NUMBER_OPS and not _is_number(actual):
        return message("filter_not_a_number", f"{show_value(actual)} is not a number", value=show_value(actual))
    if cond.op in _DATE_OPS and _as_moment(actual) is None:
        return message("filter_not_a_date", f"{show_value(actual)} is not a date", value=show_value(actual))
    return _value_is(actual)


def _text(value: Any, cond: Condition) -> str:
    text = to_text(value)
    return text if cond.case_sensitive else text.casefold()


def _test(op: str, actual: Any, cond: Condition) -> bool:
    if actual is None and op not in ("equals",):
        return False
    expected = cond.value
    if op == "equals":
        return _equals(actual, expected, cond)
    if op == "contains":
        return _text(expected, cond) in _text(actual, cond)
    if op == "starts_with":
        return _text(actual, cond).startswith(_text(expected, cond))
    if op == "ends_with":
        return _text(actual, cond).endswith(_text(expected, cond))
    if op == "matches":
        try:
            pattern = _compile(str(expected), cond.case_sensitive)
        except re2.error as exc:  # saved before RE2: refused now, for this event alone
            raise FilterError(
                cond.field,
                f"the regular expression {show_value(expected)} {_why(exc)}",
                code="filter_pattern_refused",
                params={"pattern": show_value(expected), "detail": _detail(exc)},
            ) from None
        return pattern.search(to_text(actual)) is not None
    if op in _NUMBER_OPS:
        if not _is_number(actual):
            return False
        left, right = parse_number(actual), parse_number(expected)
        return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
    if op in _DATE_OPS:
        moment, bound = _as_moment(actual), _as_moment(expected)
        if moment is None or bound is None:
            return False
        return moment < bound if op == "before" else moment > bound
    raise AssertionError(f"unknown operator {op}")  # pragma: no cover - Literal covers it


def _equals(actual: Any, expected: Any, cond: Condition) -> bool:
    if actual is None:
        return expected is None or is_blank(expected)
    if isinstance(actual, bool):
        try:
            return actual == parse_boolean(expected)
        except ConversionError:
            return False
    if _is_number(actual) and _is_number(expected):
        return parse_number(actual) == parse_number(expected)
    return _text(actual, cond).strip() == _text(expected, cond).strip()


def _is_number(value: Any) -> bool:
    try:
        parse_number(value)
    except ConversionError:
        return False
    return True


def _as_moment(value: Any) -> datetime | None:
    try:
        parsed: datetime | date = parse_datetime(value)
    except ConversionError:
        return None
    return as_utc_datetime(parsed)


def _pattern_problem(pattern: str) -> str | None:
    """Why RE2 refuses `pattern` (None when it compiles), in words for the person saving it."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"is longer than {MAX_PATTERN_LENGTH} characters"
    try:
        _compile(pattern, True)
    except re2.error as exc:
        return _why(exc)
    return None


def _detail(exc: Exception) -> str:
    detail = exc.args[0] if exc.args else ""
    return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)


def _why(exc: Exception) -> str:
    return (
        f"is not supported ({_detail(exc)}): patterns run in linear time, without lookarounds, "
        "backreferences, possessive or atomic groups, and with repetitions up to {1000}"
    )


@lru_cache(maxsize=512)
def _compile(pattern: str, case_sensitive: bool) -> Any:
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False
    options.max_mem = _PATTERN_MEMORY
    return re2.compile(pattern, options)
