"""Shaping a parsed request by the trigger's `Parse` rules, and matching a request against a `Match`."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from bpmlink.catalog.model import Answers, Match, Parse

from .paths import get, read, text

MAX_DEPTH = 32  # as the gateway's body parser: deeper JSON PostgreSQL's JSONB may refuse, and nobody sends


class ShapeError(ValueError):
    """The request cannot be shaped (a JSON field that is not JSON): 400, nothing stored."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def apply_parse(item: dict[str, Any], rules: Parse) -> dict[str, Any]:
    """The item with its JSON-text fields parsed and its answer arrays turned into fields."""
    if not rules.json_fields and not rules.answers:
        return item
    shaped = dict(item)
    for path in rules.json_fields:
        raw = get(shaped, path)
        if isinstance(raw, str):
            _put(shaped, path, _parse_json(raw, path))
    return apply_answers(shaped, rules.answers)


def apply_answers(item: dict[str, Any], answers: Sequence[Answers]) -> dict[str, Any]:
    """The item with, per rule, `into.<key>` = each element's value (the item itself is not changed)."""
    if not answers:
        return item
    shaped = dict(item)
    for rule in answers:
        elements = get(shaped, rule.path)
        if not isinstance(elements, list):
            continue
        into = get(shaped, rule.into)
        fields: dict[str, Any] = dict(into) if isinstance(into, dict) else {}
        for element in elements:
            if not isinstance(element, dict):
                continue
            key = text(get(element, rule.key))
            if key:
                fields[key] = _answer_value(element, rule)
        _put(shaped, rule.into, fields)
    return shaped


def matches(match: Match, *, method: str, headers: Mapping[str, str], item: dict[str, Any]) -> bool:
    """True when every part of the condition holds for the request."""
    if match.method is not None and match.method.upper() != method.upper():
        return False
    if match.field is not None:
        value = text(read(match.field, item=item, headers=headers))
        if match.equals is None and not value:
            return False
        if match.equals is not None and value != match.equals:
            return False
    return match.only_fields is None or set(item) == set(match.only_fields)


def _answer_value(element: dict[str, Any], rule: Answers) -> Any:
    if rule.by_type:
        kind = text(element.get("type"))
        value = element.get(kind) if kind else None
    else:
        value = get(element, rule.value or "value")
    if isinstance(value, dict):  # a choice: its label, or its labels
        labels = value.get("labels")
        value = labels if isinstance(labels, list) else value.get("label", value)
    if isinstance(value, list):
        return ", ".join(t for t in (text(v.get("label") if isinstance(v, dict) else v) for v in value) if t)
    return value


def _put(item: dict[str, Any], path: str, value: Any) -> None:
    """Set a dotted path, copying each object on the way (the caller's nested objects stay as they were)."""
    parts = path.split(".")
    node = item
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    node[parts[-1]] = value


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(raw: str, path: str) -> Any:
    try:
        value = json.loads(raw, parse_constant=_refuse, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        raise ShapeError(f"the field {path} does not hold valid JSON: {exc}", field=path) from None
    return _clean(value, path, 0)


def _finite(raw: str) -> float:
    value = float(raw)
    if math.isinf(value):
        raise ValueError(f"the number {raw[:40]} is out of range")
    return value


def _clean(value: Any, path: str, depth: int) -> Any:
    """Bounded depth and no NUL character, which JSONB refuses."""
    if depth > MAX_DEPTH:
        raise ShapeError(f"the field {path} is nested deeper than {MAX_DEPTH} levels", field=path)
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {k.replace("\x00", "\ufffd"): _clean(v, path, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, path, depth + 1) for v in value]
    return value
