import pytest
from pydantic import ValidationError

from bpmlink.mapping.rules import MappingRule, check_rules, parse_mapping, unmapped_required, with_default_timezone
from bpmlink.mapping.types import TargetField

DESIGN_EXAMPLE = [
    {"target": "Name", "template": "{{ first_name }} {{ last_name }}"},
    {"target": "Email", "source": "email", "convert": ["trim", "lower"]},
    {"target": "MobilePhone", "source": "phone", "convert": ["phone_e164"]},
    {
        "target": "AccountId",
        "lookup": {"entity": "Account", "by": "Name", "value": "{{ company }}", "create_if_missing": True},
    },
    {"target": "TypeId", "constant": "60733efc-f36b-1410-a883-16d83cab0980"},
    {
        "target": "BirthDate",
        "source": "birthday",
        "convert": [{"name": "date", "format": "%d.%m.%Y", "timezone": "Europe/Moscow"}],
    },
]


def test_design_example_parses():
    rules = parse_mapping(DESIGN_EXAMPLE)
    assert [r.kind for r in rules] == ["template", "source", "source", "lookup", "constant", "source"]


def test_dump_and_parse_round_trip():
    rules = parse_mapping(DESIGN_EXAMPLE)
    dumped = [r.model_dump(mode="json") for r in rules]
    assert "template" not in dumped[1] and "constant" not in dumped[0]
    assert parse_mapping(dumped) == rules


def test_null_constant_is_a_rule():
    assert MappingRule.model_validate({"target": "X", "constant": None}).kind == "constant"


@pytest.mark.parametrize(
    "rule",
    [
        {"target": "Email"},
        {"target": "Email", "source": "email", "template": "{{ email }}"},
        {"target": "Email", "source": "email", "constant": "x"},
    ],
)
def test_rule_needs_exactly_one_kind_and_names_the_field(rule):
    with pytest.raises(ValidationError, match="the rule for 'Email' must have exactly one of"):
        MappingRule.model_validate(rule)


def test_bad_path_is_rejected():
    with pytest.raises(ValidationError, match="neither an index nor a quoted key"):
        MappingRule.model_validate({"target": "Email", "source": "a[b]"})


def test_bad_template_is_rejected():
    with pytest.raises(ValidationError, match="template syntax error"):
        MappingRule.model_validate({"target": "Name", "template": "{{ first_name "})


def test_bad_lookup_template_is_rejected():
    with pytest.raises(ValidationError, match="template syntax error"):
        MappingRule.model_validate({"target": "AccountId", "lookup": {"entity": "Account", "value": "{% if %}"}})


def test_unknown_rule_key_is_rejected():
    with pytest.raises(ValidationError, match="convrt"):
        MappingRule.model_validate({"target": "Email", "source": "email", "convrt": ["trim"]})


def test_target_mapped_twice_is_rejected():
    with pytest.raises(ValidationError, match="mapped twice"):
        parse_mapping([{"target": "Email", "source": "a"}, {"target": "Email", "source": "b"}])


def test_check_rules_against_metadata():
    fields = {
        "Email": TargetField("Email", "Edm.String"),
        "AccountId": TargetField("AccountId", "Edm.Guid", lookup_entity="Account"),
        "Name": TargetField("Name", "Edm.String", required=True),
    }
    rules = parse_mapping(
        [
            {"target": "Email", "source": "email"},
            {"target": "Nope", "source": "x"},
            {"target": "AccountId", "lookup": {"entity": "Contact", "value": "{{ c }}"}},
        ]
    )
    problems = {(e.field, e.message) for e in check_rules(rules, fields)}
    assert ("Nope", "the entity has no such field") in problems
    assert any(f == "AccountId" and "refers to Account" in m for f, m in problems)
    assert [e.field for e in unmapped_required(rules, fields)] == ["Name"]


def test_default_timezone_fills_only_date_steps_without_one():
    rules = parse_mapping(
        [
            {"target": "MeetingDate", "source": "when", "convert": ["trim", {"name": "date", "format": "%d.%m.%Y"}]},
            {"target": "DueDate", "source": "due", "convert": [{"name": "to_date", "timezone": "Asia/Tokyo"}]},
            {"target": "Notes", "template": "{{ when }}", "convert": ["datetime", "trim"]},
            {"target": "OwnerId", "lookup": {"entity": "Contact", "value": "{{ o }}"}, "convert": ["date"]},
            {"target": "Email", "source": "email"},
        ]
    )
    stamped = with_default_timezone(rules, "Europe/Moscow")
    dumped = [r.model_dump(mode="json", exclude_none=True) for r in stamped]
    assert dumped[0]["convert"] == [
        {"name": "trim"},
        {"name": "date", "format": "%d.%m.%Y", "timezone": "Europe/Moscow"},
    ]
    assert dumped[1]["convert"] == [{"name": "date", "timezone": "Asia/Tokyo"}]  # its own zone is kept
    assert dumped[2]["convert"] == [{"name": "date", "timezone": "Europe/Moscow"}, {"name": "trim"}]
    assert dumped[3]["convert"] == [{"name": "date", "timezone": "Europe/Moscow"}]
    assert stamped[4] is rules[4]
    assert parse_mapping(dumped) == stamped  # what is stored reads back the same
