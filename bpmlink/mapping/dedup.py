"""Duplicate handling, the pure part: the policy model and what to PATCH on an update.

The pipeline finds existing records by the match groups (bpm'online requests are
its business; how values compare is `matching`'s); these helpers decide what a found
record gets.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator
from pydantic_core import PydanticCustomError

from bpmlink.mapping.errors import ConversionError
from bpmlink.mapping.matching import Compare, CompareAs, lock_value
from bpmlink.mapping.rules import MappingRule
from bpmlink.mapping.values import as_utc_datetime, is_blank, parse_number

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


class OnSeveral(StrEnum):
    """What to do when a group finds several records."""

    NEWEST = "newest"  # the most recently modified one (the default)
    OLDEST = "oldest"  # the least recently modified one
    SKIP = "skip"  # none: the operation is skipped_duplicate with the candidates listed
    UPDATE_ALL = "update_all"  # each of them, up to UPDATE_ALL_CAP; more: skipped as ambiguous


UPDATE_ALL_CAP: Final = 10
MAX_GROUPS: Final = 10
_PHONE_COLUMNS = re.compile(r"(Phone|Fax)$")
_EMAIL_COLUMNS = re.compile(r"(Email|EMail|E_mail)$")


class MatchGroup(BaseModel):
    """Fields that must all match (AND). Groups are tried in order; the first that finds wins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fields: list[str]


class DedupPolicy(BaseModel):
    """The ``dedup`` JSON of a bundle (or, later, of one step): it names no bundle.

    ``match`` is an ordered list of groups; the round-1 ``match_fields`` is read as one group and
    written back for a one-group policy, so scripts that use it keep working. Pass
    ``context={"mapped_targets": [...]}`` to `model_validate` (or call `check_policy`) to also
    require that match fields and update rules name mapped fields.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: DedupMode = DedupMode.ALWAYS_CREATE
    match: list[MatchGroup] = []
    match_fields: list[str] = []  # = match[0].fields when there is one group, else []
    compare: dict[str, Compare] = {}
    on_several: OnSeveral = OnSeveral.NEWEST
    update_rules: dict[str, UpdateRule] = {}

    @model_validator(mode="before")
    @classmethod
    def _one_shape(cls, data: Any) -> Any:
        """`match_fields` is the one group unless `match` lists several (an old editor edits
        `match_fields` and sends back the `match` it read)."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        groups, fields = data.get("match") or [], data.get("match_fields")
        if isinstance(groups, list) and len(groups) <= 1 and isinstance(fields, list):
            data["match"] = [{"fields": fields}] if fields else []
        return data

    @model_validator(mode="after")
    def _check(self, info: ValidationInfo) -> DedupPolicy:
        if self.mode != DedupMode.ALWAYS_CREATE and not self.match:
            raise ValueError(f"the mode {self.mode.value} needs at least one match field")
        if len(self.match) > MAX_GROUPS:
            raise PydanticCustomError("dedup_too_many_groups", "at most {limit} match groups", {"limit": MAX_GROUPS})
        seen: set[frozenset[str]] = set()
        for i, group in enumerate(self.match, 1):
            if not group.fields:
                raise PydanticCustomError("dedup_group_empty", "match group {group} has no field", {"group": i})
            if len(set(group.fields)) != len(group.fields):
                raise PydanticCustomError(
                    "dedup_field_twice", "a match field is listed twice in group {group}", {"group": i}
                )
            if frozenset(group.fields) in seen:
                raise PydanticCustomError(
                    "dedup_group_repeated", "match group {group} repeats an earlier group", {"group": i}
                )
            seen.add(frozenset(group.fields))
        object.__setattr__(self, "match_fields", list(self.match[0].fields) if len(self.match) == 1 else [])
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

    @property
    def fields(self) -> list[str]:
        """Every match field of every group, once, in order."""
        return list(dict.fromkeys(name for group in self.match for name in group.fields))

    def compare_of(self, name: str) -> Compare:
        """How `name` compares: as set, else by the column (e-mails, phones), else exact."""
        if name in self.compare:
            return self.compare[name]
        if _EMAIL_COLUMNS.search(name):
            return Compare(as_=CompareAs.EMAIL)
        if _PHONE_COLUMNS.search(name):
            return Compare(as_=CompareAs.PHONE)
        return Compare()


@dataclass(frozen=True)
class PolicyProblem:
    """A match field or rule the mapping does not back: a stable `code` with `params`."""

    field: str
    code: str
    params: dict[str, Any]
    message: str


def check_policy(policy: DedupPolicy, rules: Sequence[MappingRule] | Collection[str]) -> list[PolicyProblem]:
    """Match fields, compare entries and update rules that do not name a mapped field."""
    targets = {r.target if isinstance(r, MappingRule) else r for r in rules}
    return _problems(policy, targets)


def _problems(policy: DedupPolicy, targets: set[str]) -> list[PolicyProblem]:
    problems = [
        PolicyProblem(
            name,
            "dedup_match_field_not_mapped",
            {"field": name, "group": i + 1},
            "only a mapped field can be a match field",
        )
        for i, group in enumerate(policy.match)
        for name in group.fields
        if name not in targets
    ]
    problems += [
        PolicyProblem(
            name,
            "dedup_compare_field_not_matched",
            {"field": name},
            "compare can only be given for a match field",
        )
        for name in policy.compare
        if name not in policy.fields
    ]
    problems += [
        PolicyProblem(
            name,
            "dedup_rule_field_not_mapped",
            {"field": name},
            "an update rule can only be given for a mapped field",
        )
        for name in policy.update_rules
        if name not in targets
    ]
    return problems


def with_phone_defaults(policy: DedupPolicy, rules: Sequence[MappingRule]) -> DedupPolicy:
    """The policy with ``phone`` comparison for match fields the mapping converts with
    phone_e164 (and that region), unless `compare` already says how they compare."""
    extra: dict[str, Compare] = {}
    for rule in rules:
        if rule.target in policy.fields and rule.target not in policy.compare:
            step = next((c for c in rule.convert if getattr(c, "name", None) == "phone_e164"), None)
            if step is not None:
                extra[rule.target] = Compare(as_=CompareAs.PHONE, region=getattr(step, "region", None))
    if not extra:
        return policy
    return policy.model_copy(update={"compare": {**policy.compare, **extra}})


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


def group_values(policy: DedupPolicy, index: int, mapped: Mapping[str, Any]) -> dict[str, Any] | None:
    """Group `index`'s mapped values, or None if any is empty (an empty value never matches)."""
    values = {}
    for name in policy.match[index].fields:
        value = mapped.get(name)
        if is_creatio_empty(value):
            return None
        values[name] = value
    return values


def match_keys(policy: DedupPolicy, mapped: Mapping[str, Any]) -> list[tuple[tuple[str, str], ...]]:
    """The lock key of every group this record can match by (invariant 3), sorted: a fixed order.

    A key holds each field's `lock_value`, which is equal for any two values that match, so two
    events that could find one record share a key for the group that would find it.
    """
    keys = set()
    for index, group in enumerate(policy.match):
        values = group_values(policy, index, mapped)
        if values is not None:
            keys.add(tuple((name, lock_value(values[name], policy.compare_of(name))) for name in group.fields))
    return sorted(keys)


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
