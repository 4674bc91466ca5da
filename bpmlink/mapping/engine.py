"""Apply a bundle's mapping to one source item: the only async part (lookups).

Under a `Budget` (the pipeline and the preview), the rules share the event's time
budget, a mapping of more than MAX_RULES rules is refused, and each rule's value is
built off the event loop (`budget.off_loop`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from bpmlink.mapping.budget import MAX_RULES, Budget, LimitExceeded, off_loop, spent, too_many
from bpmlink.mapping.coerce import coerce_value, to_json_value
from bpmlink.mapping.conversions import ConversionContext, run_conversions
from bpmlink.mapping.errors import ConversionError, FieldError, MappingError
from bpmlink.mapping.paths import get_path
from bpmlink.mapping.quarantine import movable
from bpmlink.mapping.rules import MappingRule
from bpmlink.mapping.templates import DEFAULT_TIME_LIMIT, TemplateTimeout, render_template
from bpmlink.mapping.types import TargetField
from bpmlink.mapping.values import is_blank, show_value, to_text

# resolve(entity, by, value, create_if_missing) -> the record's Id, or None when not found.
# Raise MappingError for a problem to show on the field; anything else (network,
# 5xx) propagates so that the pipeline can retry the event.
LookupResolver = Callable[[str, str, str, bool], Awaitable[str | None]]


class MappedRecord(BaseModel):
    """The outcome of mapping one item.

    `values`: target field → JSON value for bpm'online, only fields that have a
    value (an empty result is left out, so a create takes Creatio's default and
    an update never blanks a field because the source lacked it).
    `empty`: mapped fields that came out empty. `errors`: every field that could
    not be built (all of them, not only the first). `warnings`: things the user
    should see that do not stop the push (a lookup that found nothing).
    """

    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    warnings: list[FieldError] = []
    empty: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.errors


def build_value(
    rule: MappingRule,
    item: Any,
    *,
    default_phone_region: str | None = None,
    template_time_limit: float = DEFAULT_TIME_LIMIT,
    budget: Budget | None = None,
) -> Any:
    """A rule's value before type coercion (for a lookup rule: the display value to search).

    Raises ConversionError (a MappingError whose `field` is the rule's target) on failure, and
    LimitExceeded naming the field when `budget` is spent (its templates get what is left of it).
    """
    ctx = ConversionContext(item=item, default_phone_region=default_phone_region)
    if budget is not None:
        budget.check(rule.target)
        template_time_limit = min(template_time_limit, budget.remaining())
    try:
        raw = _raw_value(rule, item, default_phone_region, template_time_limit)
    except TemplateTimeout as exc:
        if budget is not None and budget.remaining() <= 0:
            raise spent(budget, rule.target) from None
        raise TemplateTimeout(exc.message, field=rule.target) from None
    except ConversionError as exc:  # keep the subtype (TemplateError…), add the field
        raise type(exc)(exc.message, field=rule.target) from None
    return run_conversions(raw, rule.convert, ctx, field=rule.target)


def _raw_value(rule: MappingRule, item: Any, default_phone_region: str | None, template_time_limit: float) -> Any:
    if rule.lookup is not None:
        raw: Any = render_template(
            rule.lookup.value, item, time_limit=template_time_limit, default_phone_region=default_phone_region
        )
    elif rule.template is not None:
        raw = render_template(
            rule.template, item, time_limit=template_time_limit, default_phone_region=default_phone_region
        )
    elif rule.source is not None:
        raw = get_path(item, rule.source)
    else:
        raw = rule.constant
    return raw


@movable  # runs in a quarantine process for a workspace whose code spent its budget
def build_values(
    rules: Sequence[MappingRule],
    item: Any,
    *,
    default_phone_region: str | None,
    limit: float,
    budget: Budget | None = None,
) -> list[Any]:
    """Every rule's value before coercion, or the MappingError that stopped it, in order: the
    synchronous part of a mapping, in one call. LimitExceeded (the event's problem) propagates."""
    built: list[Any] = []
    for rule in rules:
        try:
            built.append(
                build_value(
                    rule, item, default_phone_region=default_phone_region, template_time_limit=limit, budget=budget
                )
            )
        except LimitExceeded:
            raise
        except MappingError as exc:
            built.append(exc)
    return built


async def apply_mapping(
    rules: Sequence[MappingRule],
    item: Any,
    fields: Mapping[str, TargetField] | None,
    lookup_resolver: LookupResolver | None = None,
    *,
    default_phone_region: str | None = None,
    template_time_limit: float = DEFAULT_TIME_LIMIT,
    budget: Budget | None = None,
) -> MappedRecord:
    """Map `item` through `rules` into the values for the target entity's `fields`.

    With `fields` None the values are only made JSON-ready (no type checks).
    Errors of every field are collected in the result; nothing is raised for
    them. Exceptions of `lookup_resolver` other than MappingError propagate.
    With `budget`: LimitExceeded is raised for more than MAX_RULES rules or a spent
    budget (the event's, not one field's, problem).
    """
    if budget is not None and len(rules) > MAX_RULES:
        raise too_many("rules", len(rules), MAX_RULES)
    record = MappedRecord()
    resolved: dict[tuple[str, str, str, bool], str | None] = {}
    if budget is None:
        built = build_values(rules, item, default_phone_region=default_phone_region, limit=template_time_limit)
    else:  # one call for every rule: a thread hop per event, not per rule
        built = await off_loop(
            budget,
            build_values,
            rules,
            item,
            default_phone_region=default_phone_region,
            limit=template_time_limit,
            budget=budget,
        )
    for rule, value in zip(rules, built, strict=True):
        target = rule.target
        field = fields.get(target) if fields is not None else None
        try:
            if fields is not None and field is None:
                raise MappingError(
                    target, "the entity has no such field", code="field_unknown", params={"field": target}
                )
            if isinstance(value, MappingError):
                raise value
            if rule.lookup is not None:
                display = to_text(value).strip()
                value = await _lookup(rule, display, lookup_resolver, resolved, record) if display else None
            value = coerce_value(value, field) if field is not None else to_json_value(value)
        except MappingError as exc:  # ConversionError and TemplateError included
            problem = FieldError(field=exc.field or target, message=exc.message, code=exc.code, params=exc.params)
            record.errors.append(problem)
            continue
        if is_blank(value):
            record.empty.append(target)
            if field is not None and field.required:
                message = "the field is required but came out empty"
                record.errors.append(FieldError(field=target, message=message, code="field_required_empty"))
        else:
            record.values[target] = value
    return record


async def _lookup(
    rule: MappingRule,
    display: str,
    resolver: LookupResolver | None,
    resolved: dict[tuple[str, str, str, bool], str | None],
    record: MappedRecord,
) -> str | None:
    spec = rule.lookup
    assert spec is not None
    if resolver is None:
        raise MappingError(rule.target, "lookups cannot be resolved here (no connection given)")
    key = (spec.entity, spec.by, display, spec.create_if_missing)
    if key not in resolved:  # the same lookup in two rules asks bpm'online once
        resolved[key] = await resolver(spec.entity, spec.by, display, spec.create_if_missing)
    found = resolved[key]
    if found is None:
        record.warnings.append(
            FieldError(field=rule.target, message=f"no {spec.entity} with {spec.by} {show_value(display)}")
        )
    return found
