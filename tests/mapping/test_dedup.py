import pytest
from pydantic import ValidationError

from bpmlink.mapping.dedup import (
    EMPTY_DATETIME,
    EMPTY_GUID,
    DedupMode,
    DedupPolicy,
    UpdateRule,
    check_policy,
    is_creatio_empty,
    match_keys,
    merge_for_update,
    values_equal,
)
from bpmlink.mapping.rules import parse_mapping

RULES = parse_mapping(
    [
        {"target": "Name", "source": "name"},
        {"target": "Email", "source": "email"},
        {"target": "MobilePhone", "source": "phone"},
    ]
)


def test_design_example_policy_parses():
    policy = DedupPolicy.model_validate(
        {
            "mode": "update_if_found",
            "match_fields": ["Email"],
            "update_rules": {"Name": "overwrite", "MobilePhone": "fill_if_empty"},
        }
    )
    assert policy.mode is DedupMode.UPDATE_IF_FOUND and policy.updates
    assert policy.update_rules["MobilePhone"] is UpdateRule.FILL_IF_EMPTY


def test_default_policy_always_creates():
    assert DedupPolicy().mode is DedupMode.ALWAYS_CREATE


@pytest.mark.parametrize("mode", ["skip_if_found", "update_if_found", "update_only"])
def test_modes_that_search_need_match_fields(mode):
    with pytest.raises(ValidationError, match="needs at least one match field"):
        DedupPolicy(mode=mode)


def test_unknown_mode_is_rejected():
    with pytest.raises(ValidationError):
        DedupPolicy.model_validate({"mode": "merge"})


def test_match_fields_must_be_mapped():
    policy = DedupPolicy(mode="skip_if_found", match_fields=["Email", "Phone"])
    assert [(e.field, e.message) for e in check_policy(policy, RULES)] == [
        ("Phone", "only a mapped field can be a match field")
    ]


def test_update_rules_only_for_mapped_fields():
    policy = DedupPolicy(mode="update_if_found", match_fields=["Email"], update_rules={"Owner": "keep"})
    assert [e.field for e in check_policy(policy, ["Email", "Name"])] == ["Owner"]


def test_validation_context_checks_mapped_targets():
    with pytest.raises(ValidationError, match="only a mapped field can be a match field"):
        DedupPolicy.model_validate(
            {"mode": "skip_if_found", "match_fields": ["Phone"]}, context={"mapped_targets": ["Email"]}
        )


@pytest.mark.parametrize(
    "value",
    [None, "", "  ", EMPTY_GUID, EMPTY_GUID.upper(), EMPTY_DATETIME, "0001-01-01T00:00:00.000Z", "0001-01-01", []],
)
def test_creatio_empty_values(value):
    assert is_creatio_empty(value)


@pytest.mark.parametrize("value", ["x", 0, False, "5a1b2c3d-0000-4000-8000-000000000001", "2026-11-27T00:00:00Z"])
def test_real_values_are_not_empty(value):
    assert not is_creatio_empty(value)


def test_merge_overwrite_by_default_sends_only_changes():
    existing = {"Name": "Иван", "Email": "a@example.com"}
    mapped = {"Name": "Иван Петров", "Email": "a@example.com"}
    assert merge_for_update(existing, mapped, {}) == {"Name": "Иван Петров"}


def test_merge_nothing_changed_is_empty():
    assert merge_for_update({"Name": "O'Brien"}, {"Name": "O'Brien"}, {}) == {}


@pytest.mark.parametrize("empty", ["", EMPTY_GUID, EMPTY_DATETIME, None])
def test_merge_fill_if_empty_fills_creatio_empties(empty):
    rules = {"Field": UpdateRule.FILL_IF_EMPTY}
    assert merge_for_update({"Field": empty}, {"Field": "new"}, rules) == {"Field": "new"}


def test_merge_fill_if_empty_keeps_a_value():
    assert merge_for_update({"MobilePhone": "+79160000000"}, {"MobilePhone": "+79161234567"}, {
        "MobilePhone": "fill_if_empty"
    }) == {}


def test_merge_keep_never_sends():
    assert merge_for_update({"Name": ""}, {"Name": "new"}, {"Name": "keep"}) == {}


def test_merge_never_blanks_with_none():
    assert merge_for_update({"Name": "Иван"}, {"Name": None}, {}) == {}


def test_merge_field_missing_from_existing_counts_as_empty():
    assert merge_for_update({}, {"Name": "x"}, {"Name": "fill_if_empty"}) == {"Name": "x"}


def test_merge_ignores_guid_case_date_form_and_number_form():
    existing = {
        "AccountId": "5A1B2C3D-0000-4000-8000-000000000001",
        "BirthDate": "1990-02-01T00:00:00.000+00:00",
        "Budget": 1234.5,
        "Age": 35.0,
    }
    mapped = {
        "AccountId": "5a1b2c3d-0000-4000-8000-000000000001",
        "BirthDate": "1990-02-01T00:00:00Z",
        "Budget": 1234.50,
        "Age": 35,
    }
    assert merge_for_update(existing, mapped, {}) == {}


def test_merge_overwrite_replaces_empty_guid():
    new = "5a1b2c3d-0000-4000-8000-000000000001"
    assert merge_for_update({"AccountId": EMPTY_GUID}, {"AccountId": new}, {}) == {"AccountId": new}


def test_values_equal_boolean_is_not_number():
    assert not values_equal(True, 1)
    assert values_equal(False, False)


def test_match_key_normalises_and_refuses_empty():
    policy = DedupPolicy(mode="update_if_found", match_fields=["Email", "MobilePhone"])
    # A phone's key is its last ten digits: every written form of the number takes one lock.
    assert match_keys(policy, {"Email": " Ivan@Example.COM", "MobilePhone": "+79161234567"}) == [
        (("Email", "ivan@example.com"), ("MobilePhone", "9161234567")),
    ]
    assert match_keys(policy, {"Email": "", "MobilePhone": "+79161234567"}) == []
    assert match_keys(policy, {"MobilePhone": "+79161234567"}) == []
