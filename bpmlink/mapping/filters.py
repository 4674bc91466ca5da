"""The bundle's filter on source items: conditions in nested AND/OR groups.

    {"join": "and", "conditions": [
        {"field": "form.type", "op": "equals", "value": "lead"},
        {"join": "or", "conditions": [
            {"field": "email", "op": "not_empty"},
            {"field": "phone", "op": "matches", "value": "^\\\\+7"}]}]}

Text operators ignore case unless ``"case_sensitive": true``. On a list value an
operator holds when it holds for any element (``not_equals``: for none). A
number or date comparison on a value that is not one does not hold (the reason
says why). An empty group holds. ``matches`` uses the `regex` package with a
time limit, so a catastrophic pattern fails the condition's evaluation with
FilterError instead of stalling a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Final, Literal

import regex
from pydantic import BaseModel, ConfigDict, model_validator

from bpmlink.mapping.errors import ConversionError, MappingError
from bpmlink.mapping.paths import get_path, parse_path
from bpmlink.mapping.values import (
    as_utc_datetime,
    is_blank,
    parse_boolean,
    parse_datetime,
    parse_number,
    show_value,
    to_text,
)

DEFAULT_REGEX_TIMEOUT: Final = 0.25  # seconds per regex search

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
    """A condition could not be evaluated (a regular expression ran out of time)."""


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
            if self.op == "matches":
                _compile(str(self.value), self.case_sensitive)
            elif self.op in _NUMBER_OPS:
                parse_number(self.value)
            elif self.op in _DATE_OPS:
                parse_datetime(self.value)
        except regex.error as exc:
            raise ValueError(f"the regular expression {self.value!r} is invalid: {exc}") from None
        except ConversionError as exc:
            raise ValueError(f"the condition '{self.field} {self.op}': {exc}") from None
        return self


class FilterGroup(BaseModel):
    """Conditions and groups joined by AND (all hold) or OR (any holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    join: Literal["and", "or"] = "and"
    conditions: list[Condition | FilterGroup] = []


@dataclass(frozen=True)
class FilterResult:
    """Whether the item passes, and why not, in words for the history."""

    passed: bool
    reason: str = ""


def evaluate(filter: FilterGroup | None, item: Any, *, regex_timeout: float = DEFAULT_REGEX_TIMEOUT) -> bool:
    """True when `item` passes `filter` (no filter: every item passes). May raise FilterError."""
    return explain(filter, item, regex_timeout=regex_timeout).passed


def explain(
    filter: FilterGroup | None,
    item: Any,
    *,
    regex_timeout: float = DEFAULT_REGEX_TIMEOUT,
) -> FilterResult:
    """Like `evaluate`, with the reason an item was filtered out (the first failing condition)."""
    if filter is None:
        return FilterResult(True)
    return _group(filter, item, regex_timeout)


def _group(group: FilterGroup, item: Any, timeout: float) -> FilterResult:
    failures: list[str] = []
    for part in group.conditions:
        if isinstance(part, FilterGroup):
            result = _group(part, item, timeout)
        else:
            result = _condition(part, item, timeout)
        if group.join == "and" and not result.passed:
            return result
        if group.join == "or":
            if result.passed:
                return result
            failures.append(result.reason)
    if group.join == "or" and group.conditions:
        return FilterResult(False, "none of these held: " + "; ".join(failures))
    return FilterResult(True)


def _condition(cond: Condition, item: Any, timeout: float) -> FilterResult:
    actual = get_path(item, cond.field)
    described = f"{cond.field} {cond.op.replace('_', ' ')}" + (
        "" if cond.op in _NO_VALUE else f" {show_value(cond.value)}"
    )
    if cond.op == "is_empty":
        passed, why = is_blank(actual), f"the value is {show_value(actual)}"
    elif cond.op == "not_empty":
        passed, why = not is_blank(actual), "the value is empty"
    else:
        values = actual if isinstance(actual, list | tuple) else [actual]
        if cond.op in ("not_equals", "not_contains"):
            positive = "equals" if cond.op == "not_equals" else "contains"
            passed = not any(_test(positive, v, cond, timeout) for v in values)
        else:
            passed = any(_test(cond.op, v, cond, timeout) for v in values)
        why = _why_not(cond, actual)
    return FilterResult(True) if passed else FilterResult(False, f"{described} did not hold: {why}")


def _why_not(cond: Condition, actual: Any) -> str:
    if actual is None:
        return "the field is missing"
    if cond.op in _NUMBER_OPS and not _is_number(actual):
        return f"{show_value(actual)} is not a number"
    if cond.op in _DATE_OPS and _as_moment(actual) is None:
        return f"{show_value(actual)} is not a date"
    return f"the value is {show_value(actual)}"


def _text(value: Any, cond: Condition) -> str:
    text = to_text(value)
    return text if cond.case_sensitive else text.casefold()


def _test(op: str, actual: Any, cond: Condition, timeout: float) -> bool:
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
        pattern = _compile(str(expected), cond.case_sensitive)
        try:
            return pattern.search(to_text(actual), timeout=timeout) is not None
        except TimeoutError:
            raise FilterError(
                cond.field, f"the regular expression {show_value(expected)} took too long on this value"
            ) from None
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


@lru_cache(maxsize=512)
def _compile(pattern: str, case_sensitive: bool) -> Any:
    return regex.compile(pattern, 0 if case_sensitive else regex.IGNORECASE)
