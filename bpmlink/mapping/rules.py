"""The mapping of a bundle: one rule per target field, as the bundle JSON has it.

    {"target": "Email", "source": "email", "convert": ["trim", "lower"]}
    {"target": "Name", "template": "{{ first_name }} {{ last_name }}"}
    {"target": "TypeId", "constant": "60733efc-f36b-1410-a883-16d83cab0980"}
    {"target": "AccountId", "lookup": {"entity": "Account", "by": "Name",
                                       "value": "{{ company }}", "create_if_missing": true}}

Each rule has exactly one of ``source`` (a field path, see `paths`), ``template``,
``constant`` or ``lookup``. ``convert`` runs after the value is taken; on a lookup
rule it runs on the display value before the lookup (e.g. ``trim``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    field_validator,
    model_serializer,
    model_validator,
)

from bpmlink.mapping.conversions import Conversion, ToDate, normalize_step
from bpmlink.mapping.errors import FieldError
from bpmlink.mapping.paths import parse_path
from bpmlink.mapping.templates import TemplateError, check_template
from bpmlink.mapping.types import TargetField

_KINDS = ("source", "template", "constant", "lookup")


class LookupSpec(BaseModel):
    """Find the `entity` record whose column `by` equals the rendered `value`; use its Id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    entity: str = Field(min_length=1)
    by: str = Field(default="Name", min_length=1)
    value: str = Field(min_length=1, description="a template over the item, e.g. {{ company }}")
    create_if_missing: bool = False

    @field_validator("value")
    @classmethod
    def _valid_template(cls, value: str) -> str:
        _template_or_value_error(value)
        return value


class MappingRule(BaseModel):
    """How one target field's value is built."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field(min_length=1)
    source: str | None = None
    template: str | None = None
    constant: Any = None
    lookup: LookupSpec | None = None
    convert: list[Conversion] = []

    @field_validator("convert", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [normalize_step(step) for step in value]
        return value

    @field_validator("source")
    @classmethod
    def _valid_path(cls, value: str | None) -> str | None:
        if value is not None:
            parse_path(value)  # PathSyntaxError is a ValueError: pydantic reports it here
        return value

    @field_validator("template")
    @classmethod
    def _valid_template(cls, value: str | None) -> str | None:
        if value is not None:
            _template_or_value_error(value)
        return value

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> MappingRule:
        given = self._given_kinds()
        if len(given) != 1:
            got = ", ".join(given) if given else "none"
            raise ValueError(
                f"the rule for {self.target!r} must have exactly one of source, template, "
                f"constant or lookup (it has {got})"
            )
        return self

    @property
    def kind(self) -> str:
        """Which of source/template/constant/lookup this rule uses."""
        return self._given_kinds()[0]

    def _given_kinds(self) -> list[str]:
        given = [kind for kind in _KINDS if getattr(self, kind) is not None]
        # A null constant is a kind of its own only when nothing else is given,
        # so that a dumped rule (with constant: null) validates again.
        if not given and "constant" in self.model_fields_set:
            given = ["constant"]
        return given

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Dump only the rule's own kind, as the bundle JSON writes it."""
        data: dict[str, Any] = handler(self)
        kind = self.kind
        return {k: v for k, v in data.items() if k not in _KINDS or k == kind}


def _template_or_value_error(source: str) -> None:
    try:
        check_template(source)
    except TemplateError as exc:
        raise ValueError(str(exc)) from None


class MappingSpec(BaseModel):
    """A whole mapping: the rules, each target at most once."""

    rules: list[MappingRule]

    @field_validator("rules")
    @classmethod
    def _unique_targets(cls, rules: list[MappingRule]) -> list[MappingRule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.target in seen:
                raise ValueError(f"the field {rule.target!r} is mapped twice")
            seen.add(rule.target)
        return rules


_RULES = TypeAdapter(list[MappingRule])


def parse_mapping(data: Sequence[Any]) -> list[MappingRule]:
    """Validate the bundle's ``mapping`` JSON list; raises pydantic.ValidationError."""
    return MappingSpec(rules=_RULES.validate_python(list(data))).rules


def with_default_timezone(rules: Sequence[MappingRule], timezone: str) -> list[MappingRule]:
    """The rules with `timezone` written into every ``date`` step that names none.

    Steps with a zone of their own are left alone. A bundle is saved with the saving
    user's profile zone made explicit this way, so what it does never depends on whose
    profile is read later or on a later profile change. Conversions live only in a rule's
    ``convert`` (a lookup rule's included; lookups, filters and dedup have none).
    `timezone` is an IANA name the caller has checked (the profile API only takes those).
    """

    def stamped(step: Any) -> Any:
        if isinstance(step, ToDate) and step.timezone is None:
            return step.model_copy(update={"timezone": timezone})
        return step

    return [
        rule.model_copy(update={"convert": [stamped(step) for step in rule.convert]}) if rule.convert else rule
        for rule in rules
    ]


def check_rules(rules: Sequence[MappingRule], fields: Mapping[str, TargetField]) -> list[FieldError]:
    """Problems of a mapping against the entity's fields, for saving a bundle.

    Target fields must exist; a lookup rule must go to a lookup field of the same
    entity when `$metadata` says which one. (Whether required fields must be
    mapped depends on the action; see `unmapped_required`.)
    """
    errors: list[FieldError] = []
    for rule in rules:
        field = fields.get(rule.target)
        if field is None:
            params = {"field": rule.target}
            errors.append(
                FieldError(
                    field=rule.target, message="the entity has no such field", code="field_unknown", params=params
                )
            )
            continue
        if rule.lookup is not None and field.lookup_entity and field.lookup_entity != rule.lookup.entity:
            message = f"the field refers to {field.lookup_entity}, but the lookup searches {rule.lookup.entity}"
            params = {"field": rule.target, "lookup_entity": field.lookup_entity, "searched": rule.lookup.entity}
            errors.append(FieldError(field=rule.target, message=message, code="lookup_entity_mismatch", params=params))
    return errors


def unmapped_required(rules: Sequence[MappingRule], fields: Mapping[str, TargetField]) -> list[FieldError]:
    """Required fields no rule fills (a create needs them; an update does not)."""
    mapped = {rule.target for rule in rules}
    return [
        FieldError(
            field=name, message="the field is required but not mapped", code="field_required", params={"field": name}
        )
        for name, field in fields.items()
        if field.required and name not in mapped
    ]
