"""Each item's idempotency key: the sender's own id (the trigger's `Idempotency` parts), else the
`Idempotency-Key` header, else the user's idempotency field; a resend with the same key returns the
first event and stores nothing."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from bpmlink.catalog.model import Idempotency

from .paths import HEADER, get, read, text

MAX_KEY_LENGTH = 200  # events.idempotency_key is String(200); a longer key is stored as its hash


def item_keys(
    items: Sequence[dict[str, Any]],
    rule: Idempotency | None,
    *,
    headers: Mapping[str, str],
    field: str | None = None,
) -> list[str | None]:
    """One key (or None) per item, in order. A key read only from headers is the same for every item of the
    request, so with several items `#<index>` is appended."""
    several = len(items) > 1
    keys: list[str | None] = []
    for index, item in enumerate(items):
        key, from_headers = _rule_key(item, rule, headers)
        if key is None:
            key, from_headers = text(headers.get("idempotency-key")) or None, True
        if key is None and field:
            key, from_headers = text(get(item, field)) or None, False
        if key is not None and from_headers and several:
            key = f"{key}#{index}"
        keys.append(None if key is None else bounded(key))
    return keys


def bounded(key: str) -> str:
    return key if len(key) <= MAX_KEY_LENGTH else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _rule_key(item: dict[str, Any], rule: Idempotency | None, headers: Mapping[str, str]) -> tuple[str | None, bool]:
    if rule is None:
        return None, False
    values: list[str] = []
    for part in rule.parts:
        optional = part.startswith("?")
        path = part[1:] if optional else part
        value = text(read(path, item=item, headers=headers))
        if value:
            values.append(value)
        elif not optional:
            return None, False
    if not values:
        return None, False
    return ":".join(values), all(p.lstrip("?").startswith(HEADER) for p in rule.parts)
