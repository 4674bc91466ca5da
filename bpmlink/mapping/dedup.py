"""Duplicate handling, the pure part: the policy model and what to PATCH on an update.

The pipeline finds existing records by the match fields (bpm'online requests are
its business); these helpers decide what a found record gets.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from bpmlink.mapping.errors import ConversionError, FieldError
from bpmlink.mapping.rules import MappingRule
from bpmlink.mapping.values import as_utc_datetime, is_blank, parse_number, to_text

# Creatio stores "no value" as these rather than null.
EMPTY_GUID: Final = "00000000-0000-0000-0000-000000000000"
EMPTY_DATETIME: Final = "0001-01-01T00:00:00Z"
_EMPTY_DATE_PREFIX: Final = "0001-01-01"
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


class DedupMode(StrEnum):
    ALWAYS_CREATE = "always_create"
    SKIP_IF_FOUND = "skip_if_found"
    UPDATE_IF_FOUND = "update_if_found"
    UPDATE_ONLY = "update_only"


class UpdateRule(StrEnum):
    OVERWRITE = "overwrite"  # the default for a mapped field without a rule
    FILL_IF_EMPTY = "fill_if_empty"
    KEEP = "keep"


class DedupPolicy(BaseModel):
    """The bundle's ``dedup`` JSON.

    Validated on its own: modes other than ``always_create`` need match fields.
    Pass ``context={"mapped_targets": [...]}`` to `model_validate` (or call
    `check_policy`) to also require that match fields and update rules name
    mapped fields.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: DedupMode = DedupMode.ALWAYS_CREATE
    match_fields: list[str] = []
    update_rules: dict[str, UpdateRule] = {}

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> DedupPolicy:
        if self.mode != DedupMode.ALWAYS_CREATE and not self.match_fields:
            raise ValueError(f"the mode {self.mode.value} needs at least one match field")
        if len(set(self.match_fields)) != len(self.match_fields):
            raise ValueError("a match field is listed twice")
        context = info.context if isinstance(info.context, Mapping) else {}
        if "mapped_targets" in context:
            problems = _problems(self, set(context["mapped_targets"]))
            if problems:
                raise ValueError("; ".join(f"{p.field}: {p.message}" for p in problems))
        return self

    @property
    def updates(self) -> bool:
        """Whether a found record is updated (update_if_found, update_only)."""
        return self.mode in (DedupMode.UPDATE_IF_FOUND, DedupMode.UPDATE_ONLY)


def check_policy(policy: DedupPolicy, rules: Sequence[MappingRule] | Collection[str]) -> list[FieldError]:
    """Match fields and update rules that do not name a mapped field (`rules` or target names)."""
    targets = {r.target if isinstance(r, MappingRule) else r for r in rules}
    return _problems(policy, targets)


def _problems(policy: DedupPolicy, targets: set[str]) -> list[FieldError]:
    problems = [
        FieldError(field=name, message="only a mapped field can be a match field")
        for name in policy.match_fields
        if name not in targets
    ]
    problems += [
        FieldError(field=name, message="an update rule can only be given for a mapped field")
        for name in policy.update_rules
        if name not in targets
    ]
    return problems


def is_creatio_empty(value: Any) -> bool:
    """No value as Creatio writes it: null, blank text, the empty GUID, 0001-01-01 dates."""
    if is_blank(value):
        return True
    if isinstance(value, UUID):
        return value.int == 0
    if isinstance(value, str):
        text = value.strip()
        return text.lower() == EMPTY_GUID or text.startswith(_EMPTY_DATE_PREFIX)
    if isinstance(value, datetime):
        return value.year == 1
    return False


def values_equal(existing: Any, new: Any) -> bool:
    """Whether a PATCH of `new` would change `existing` (GUID case, date forms, 10 vs 10.0 aside)."""
    if is_creatio_empty(existing) and is_creatio_empty(new):
        return True
    if isinstance(existing, bool) or isinstance(new, bool):
        return type(existing) is type(new) and existing == new
    if isinstance(existing, int | float | Decimal) and isinstance(new, int | float | Decimal):
        return _number(existing) == _number(new)
    if isinstance(existing, str) and isinstance(new, str):
        if existing == new:
            return True
        guids = _guid(existing), _guid(new)
        if guids[0] is not None and guids[1] is not None:
            return guids[0] == guids[1]
        moments = _moment(existing), _moment(new)
        if moments[0] is not None and moments[1] is not None:
            return moments[0] == moments[1]
        return False
    return bool(existing == new)


def merge_for_update(
    existing: Mapping[str, Any], mapped: Mapping[str, Any], rules: Mapping[str, UpdateRule | str]
) -> dict[str, Any]:
    """The fields to PATCH on a found record: only those that change.

    Per field: ``overwrite`` (default) sends the new value when it differs;
    ``fill_if_empty`` only when the existing value is empty in Creatio's sense;
    ``keep`` never. A mapped ``None`` is never sent (an update does not blank a
    field because the source lacked it). `existing` should hold every mapped
    field (select them when searching); a field it lacks counts as empty.
    An empty result means "unchanged": send no request.
    """
    patch: dict[str, Any] = {}
    for name, new in mapped.items():
        if new is None:
            continue
        rule = UpdateRule(rules.get(name, UpdateRule.OVERWRITE))
        if rule == UpdateRule.KEEP:
            continue
        old = existing.get(name)
        if rule == UpdateRule.FILL_IF_EMPTY and not is_creatio_empty(old):
            continue
        if name in existing and values_equal(old, new):
            continue
        patch[name] = new
    return patch


def match_key(policy: DedupPolicy, mapped: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """The normalised match values (field, text) of a mapped record, or None if any is empty.

    Text is trimmed and case-folded (e-mails match case-insensitively; phones are
    compared as the mapping normalised them), GUIDs lower-cased. An empty match
    value never matches anything, hence None. Suitable as a lock key (invariant 3).
    """
    key: list[tuple[str, str]] = []
    for name in policy.match_fields:
        value = mapped.get(name)
        if is_creatio_empty(value):
            return None
        key.append((name, to_text(value).strip().casefold()))
    return tuple(key)


def _number(value: Any) -> Decimal:
    try:
        return parse_number(value)
    except ConversionError:  # pragma: no cover - callers pass numbers only
        return Decimal("NaN")


def _guid(text: str) -> UUID | None:
    try:
        return UUID(text.strip())
    except ValueError:
        return None


def _moment(text: str) -> datetime | None:
    if not _ISO_MOMENT.match(text.strip()):
        return None
    try:
        return as_utc_datetime(datetime.fromisoformat(text.strip()))
    except ValueError:
        return None
