import pytest

from bpmlink.mapping.engine import apply_mapping, build_value
from bpmlink.mapping.errors import ConversionError, MappingError
from bpmlink.mapping.rules import parse_mapping
from bpmlink.mapping.templates import TemplateTimeout
from bpmlink.mapping.types import TargetField

FIELDS = {
    f.name: f
    for f in [
        TargetField("Name", "Edm.String", required=True, max_length=250),
        TargetField("Email", "Edm.String", max_length=250),
        TargetField("MobilePhone", "Edm.String", max_length=250),
        TargetField("AccountId", "Edm.Guid", lookup_entity="Account"),
        TargetField("LeadSourceId", "Edm.Guid", lookup_entity="LeadSource"),
        TargetField("BirthDate", "Edm.DateTimeOffset"),
        TargetField("Age", "Edm.Int32"),
        TargetField("Budget", "Edm.Decimal"),
        TargetField("DoNotUseEmail", "Edm.Boolean"),
    ]
}
ACCOUNT_ID = "5a1b2c3d-0000-4000-8000-000000000001"
SITE_ID = "a1b2c3d4-0000-4000-8000-0000000000aa"


class Resolver:
    def __init__(self, known=None):
        self.known = known or {}
        self.calls = []

    async def __call__(self, entity, by, value, create_if_missing):
        self.calls.append((entity, by, value, create_if_missing))
        if (entity, value) in self.known:
            return self.known[(entity, value)]
        return "6f000000-0000-4000-8000-000000000099" if create_if_missing else None


ITEM = {
    "first_name": "Иван",
    "last_name": "O'Brien",
    "email": "  Ivan.OBrien@Example.COM ",
    "phone": "8 (916) 123-45-67",
    "company": " Acme ",
    "source": "site",
    "birthday": "01.02.1990",
    "age": "35",
    "budget": "1 234,50",
    "unsubscribed": "да",
}

RULES = parse_mapping(
    [
        {"target": "Name", "template": "{{ first_name }} {{ last_name }}"},
        {"target": "Email", "source": "email", "convert": ["trim", "lower"]},
        {"target": "MobilePhone", "source": "phone", "convert": ["phone_e164"]},
        {"target": "AccountId", "lookup": {"entity": "Account", "value": "{{ company }}"}, "convert": ["trim"]},
        {"target": "LeadSourceId", "source": "source", "convert": [{"name": "value_map", "map": {"site": SITE_ID}}]},
        {"target": "BirthDate", "source": "birthday", "convert": [{"name": "date", "format": "%d.%m.%Y"}]},
        {"target": "Age", "source": "age"},
        {"target": "Budget", "source": "budget"},
        {"target": "DoNotUseEmail", "source": "unsubscribed"},
    ]
)


async def test_full_mapping_builds_the_record():
    resolver = Resolver({("Account", "Acme"): ACCOUNT_ID})
    record = await apply_mapping(RULES, ITEM, FIELDS, resolver, default_phone_region="RU")
    assert record.ok, record.errors
    assert record.values == {
        "Name": "Иван O'Brien",
        "Email": "ivan.obrien@example.com",
        "MobilePhone": "+79161234567",
        "AccountId": ACCOUNT_ID,
        "LeadSourceId": SITE_ID,
        "BirthDate": "1990-02-01T00:00:00Z",
        "Age": 35,
        "Budget": 1234.5,
        "DoNotUseEmail": True,
    }
    assert resolver.calls == [("Account", "Name", "Acme", False)]


async def test_all_field_errors_are_collected():
    item = {**ITEM, "phone": "12", "birthday": "31.02.1990", "age": "много", "source": "radio"}
    record = await apply_mapping(RULES, item, FIELDS, Resolver(), default_phone_region="RU")
    assert not record.ok
    by_field = {e.field: e.message for e in record.errors}
    assert set(by_field) == {"MobilePhone", "BirthDate", "Age", "LeadSourceId"}
    assert "'31.02.1990' is not a date in the format %d.%m.%Y" in by_field["BirthDate"]
    assert "'много' is not a number" in by_field["Age"]
    assert "'radio' is not in the value map" in by_field["LeadSourceId"]
    assert record.values["Email"] == "ivan.obrien@example.com"  # the good fields are still mapped


async def test_lookup_not_found_leaves_the_field_empty_with_a_warning():
    record = await apply_mapping(RULES, ITEM, FIELDS, Resolver(), default_phone_region="RU")
    assert "AccountId" not in record.values
    assert "AccountId" in record.empty
    assert record.warnings[0].field == "AccountId"
    assert "no Account with Name 'Acme'" in record.warnings[0].message


async def test_lookup_with_create_if_missing():
    rules = parse_mapping(
        [{"target": "AccountId", "lookup": {"entity": "Account", "value": "{{ company }}", "create_if_missing": True}}]
    )
    resolver = Resolver()
    record = await apply_mapping(rules, ITEM, FIELDS, resolver)
    assert record.values == {"AccountId": "6f000000-0000-4000-8000-000000000099"}
    assert resolver.calls == [("Account", "Name", "Acme", True)]


async def test_lookup_of_empty_value_asks_nobody():
    resolver = Resolver()
    rules = parse_mapping([{"target": "AccountId", "lookup": {"entity": "Account", "value": "{{ company }}"}}])
    record = await apply_mapping(rules, {"company": "  "}, FIELDS, resolver)
    assert resolver.calls == [] and record.values == {} and record.empty == ["AccountId"]


async def test_same_lookup_in_two_rules_resolves_once():
    fields = {**FIELDS, "ParentAccountId": TargetField("ParentAccountId", "Edm.Guid", lookup_entity="Account")}
    rules = parse_mapping(
        [
            {"target": "AccountId", "lookup": {"entity": "Account", "value": "{{ company }}"}},
            {"target": "ParentAccountId", "lookup": {"entity": "Account", "value": "{{ company }}"}},
        ]
    )
    resolver = Resolver({("Account", "Acme"): ACCOUNT_ID})
    record = await apply_mapping(rules, ITEM, fields, resolver)
    assert len(resolver.calls) == 1
    assert record.values == {"AccountId": ACCOUNT_ID, "ParentAccountId": ACCOUNT_ID}


async def test_lookup_resolver_mapping_error_is_shown_on_the_field():
    async def failing(entity, by, value, create):
        raise MappingError(None, "several Accounts have this name")

    rules = parse_mapping([{"target": "AccountId", "lookup": {"entity": "Account", "value": "{{ company }}"}}])
    record = await apply_mapping(rules, ITEM, FIELDS, failing)
    assert [(e.field, e.message) for e in record.errors] == [("AccountId", "several Accounts have this name")]


async def test_lookup_resolver_transient_error_propagates():
    async def down(entity, by, value, create):
        raise ConnectionError("bpm'online unreachable")

    rules = parse_mapping([{"target": "AccountId", "lookup": {"entity": "Account", "value": "{{ company }}"}}])
    with pytest.raises(ConnectionError):
        await apply_mapping(rules, ITEM, FIELDS, down)


async def test_required_field_that_comes_out_empty_is_an_error():
    rules = parse_mapping([{"target": "Name", "source": "missing"}])
    record = await apply_mapping(rules, ITEM, FIELDS, None)
    assert [(e.field, e.message) for e in record.errors] == [("Name", "the field is required but came out empty")]


async def test_unknown_target_field_is_an_error():
    rules = parse_mapping([{"target": "Nope", "source": "email"}])
    record = await apply_mapping(rules, ITEM, FIELDS, None)
    assert [(e.field, e.message) for e in record.errors] == [("Nope", "the entity has no such field")]


async def test_template_failure_names_the_field():
    rules = parse_mapping([{"target": "Name", "template": "{{ ''.__class__ }}"}])
    record = await apply_mapping(rules, ITEM, FIELDS, None)
    assert record.errors[0].field == "Name" and "not allowed" in record.errors[0].message


async def test_too_long_value_names_the_field():
    fields = {"Email": TargetField("Email", "Edm.String", max_length=5)}
    rules = parse_mapping([{"target": "Email", "source": "email", "convert": ["trim"]}])
    record = await apply_mapping(rules, ITEM, fields, None)
    assert record.errors[0].field == "Email" and "at most 5" in record.errors[0].message


async def test_without_fields_values_are_only_made_json_ready():
    rules = parse_mapping([{"target": "Budget", "source": "budget", "convert": ["number"]}])
    record = await apply_mapping(rules, ITEM, None)
    assert record.values == {"Budget": 1234.5}


async def test_constant_value():
    rules = parse_mapping([{"target": "LeadSourceId", "constant": SITE_ID.upper()}])
    record = await apply_mapping(rules, {}, FIELDS, None)
    assert record.values == {"LeadSourceId": SITE_ID}


async def test_lookup_without_resolver_is_a_field_error():
    rules = parse_mapping([{"target": "AccountId", "lookup": {"entity": "Account", "value": "{{ company }}"}}])
    record = await apply_mapping(rules, ITEM, FIELDS, None)
    assert record.errors[0].field == "AccountId"


def test_conversion_failure_is_a_mapping_error_naming_the_target():
    rule = parse_mapping([{"target": "Age", "source": "age", "convert": ["number"]}])[0]
    with pytest.raises(MappingError) as info:
        build_value(rule, {"age": "сорок"})
    assert isinstance(info.value, ConversionError)
    assert info.value.field == "Age"
    assert info.value.message == "number: 'сорок' is not a number"
    assert str(info.value) == "Age: number: 'сорок' is not a number"


def test_template_timeout_keeps_its_type_and_names_the_target():
    loops = "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}"
    rule = parse_mapping([{"target": "Name", "template": loops}])[0]
    with pytest.raises(TemplateTimeout) as info:
        build_value(rule, {}, template_time_limit=0.2)
    assert info.value.field == "Name"
